"""GRPO's pieces against hand-computed values."""

import math

import pytest
import torch

from reasongym.agents.grpo import LossConfig, group_advantages, kl_k3, policy_loss, trains


def test_group_advantages_by_hand():
    r = torch.tensor([[1.0, 0.0, 0.0, 1.0], [2.0, 2.0, 2.0, 2.0]])
    std = math.sqrt(4 * 0.25 / 3)  # unbiased std of [1, 0, 0, 1]
    adv = group_advantages(r, scale=True, eps=0.0)
    assert torch.allclose(adv[0], torch.tensor([0.5, -0.5, -0.5, 0.5]) / std)
    assert torch.equal(adv[1], torch.zeros(4))  # a zero-variance group teaches nothing
    assert torch.allclose(group_advantages(r, scale=False)[0], torch.tensor([0.5, -0.5, -0.5, 0.5]))


def test_zero_advantage_gives_zero_gradient():
    logp = torch.randn(3, 5, requires_grad=True)
    loss, _ = policy_loss(logp, logp.detach(), torch.zeros(3), torch.ones(3, 5), LossConfig())
    loss.backward()
    assert torch.count_nonzero(logp.grad) == 0


def test_ratio_one_reduces_to_reinforce():
    logp = torch.randn(2, 4, requires_grad=True)
    mask = torch.tensor([[1, 1, 1, 0], [1, 1, 0, 0]], dtype=torch.float32)
    adv = torch.tensor([1.5, -0.5])
    loss, stats = policy_loss(logp, logp.detach(), adv, mask, LossConfig(loss_norm="token"))
    loss.backward()
    # REINFORCE with token-mean: d/dlogp of -(A * logp) summed over tokens / n_tokens
    expected = -(adv.unsqueeze(1) * mask) / mask.sum()
    assert torch.allclose(logp.grad, expected)
    assert stats["clip_frac"] == 0.0


def test_clipping_engages_where_it_should():
    old = torch.zeros(1, 4)
    # ratios e^x: 1.5 (above 1.28), 0.5 (below 0.8), 1.1 (inside), 1.5 with negative advantage below
    logp = torch.log(torch.tensor([[1.5, 0.5, 1.1, 1.0]])).requires_grad_()
    cfg = LossConfig(clip_low=0.2, clip_high=0.28)
    loss, stats = policy_loss(logp, old, torch.tensor([1.0]), torch.ones(1, 4), cfg)
    loss.backward()
    # positive advantage: ratio 1.5 is clipped at 1.28 (no gradient); ratio 0.5 is not clipped
    # (min picks the unclipped, smaller term); 1.1 and 1.0 are inside the range.
    assert logp.grad[0, 0] == 0
    assert logp.grad[0, 1] == pytest.approx(-0.5 / 4)
    assert logp.grad[0, 2] == pytest.approx(-1.1 / 4)
    assert stats["clip_frac"] == 2.0  # two tokens have clipped != unclipped (1.5 and 0.5)
    logp2 = torch.log(torch.tensor([[0.5]])).requires_grad_()
    loss2, _ = policy_loss(logp2, torch.zeros(1, 1), torch.tensor([-1.0]), torch.ones(1, 1), cfg)
    loss2.backward()
    assert logp2.grad[0, 0] == 0  # negative advantage, ratio below 1 - eps_low: clipped


def test_kl_is_zero_against_itself_and_positive_otherwise():
    logp = torch.randn(4, 6)
    assert torch.equal(kl_k3(logp, logp), torch.zeros_like(logp))
    assert (kl_k3(logp, logp + 0.3) > 0).all()
    # k3 at delta: e^d - d - 1
    assert kl_k3(torch.zeros(1), torch.tensor([0.5])).item() == pytest.approx(math.exp(0.5) - 1.5)


def test_beta_adds_the_kl_gradient():
    logp = torch.zeros(1, 2, requires_grad=True)
    ref = torch.full((1, 2), 0.5)
    loss, stats = policy_loss(logp, logp.detach(), torch.zeros(1), torch.ones(1, 2), LossConfig(beta=0.1), ref)
    loss.backward()
    # d/dlogp of beta * (e^(ref-logp) - (ref-logp) - 1) / 2 = beta * (-e^0.5 + 1) / 2
    assert torch.allclose(logp.grad, torch.full((1, 2), 0.1 * (1 - math.exp(0.5)) / 2))
    assert stats["kl"] == pytest.approx(2 * (math.exp(0.5) - 1.5))


def test_loss_norms():
    logp = torch.zeros(2, 4)
    mask = torch.tensor([[1, 1, 1, 1], [1, 0, 0, 0]], dtype=torch.float32)
    adv = torch.tensor([1.0, 1.0])
    token, _ = policy_loss(logp, logp, adv, mask, LossConfig(loss_norm="token"))
    seq, _ = policy_loss(logp, logp, adv, mask, LossConfig(loss_norm="sequence"))
    const, _ = policy_loss(logp, logp, adv, mask, LossConfig(loss_norm="constant", max_new_tokens=8))
    assert token.item() == pytest.approx(-5 / 5)
    assert seq.item() == pytest.approx(-(4 / 4 + 1 / 1) / 2)
    assert const.item() == pytest.approx(-5 / (2 * 8))
    with pytest.raises(ValueError, match="unknown loss norm"):
        policy_loss(logp, logp, adv, mask, LossConfig(loss_norm="nope"))


def test_loss_config_is_the_one_declaration_of_every_loss_knob():
    from dataclasses import fields

    from reasongym.cli import parse_cli
    from reasongym.config import AgentConfig, TrainConfig

    agent = AgentConfig()
    assert {f.name for f in fields(LossConfig)} <= {f.name for f in fields(AgentConfig)}
    assert LossConfig.of(agent) == LossConfig()  # one default per knob (clip_high was 0.28 here, 0.2 there)
    cfg = parse_cli(TrainConfig, ["agent.clip_high=0.3", "agent.loss_norm=sequence", "agent.scale_rewards=false"])
    assert LossConfig.of(cfg.agent) == LossConfig(clip_high=0.3, loss_norm="sequence", scale_rewards=False)
    with pytest.raises(TypeError):
        LossConfig(0.2, 0.28)  # knobs by keyword: a positional list silently swaps them when a field is added


@pytest.mark.parametrize("bad, key", [({"loss_norm": "tokens"}, "agent.loss_norm='tokens'"),
                                      ({"clip_low": 1.0}, "agent.clip_low=1.0"), ({"beta": -1}, "agent.beta=-1"),
                                      ({"max_new_tokens": 0}, "agent.max_new_tokens=0")])
def test_loss_config_validation_names_the_key(bad, key):
    LossConfig().validate()
    with pytest.raises(ValueError, match=key.replace(".", r"\.").replace("(", r"\(")):
        LossConfig(**bad).validate()


def test_rows_carry_their_advantage_and_the_skip_rule():
    from reasongym.agents.rollout import Row, set_advantages

    rows = [Row([1, 2], [0, 1], reward=r) for r in (1.0, 0.0, 0.0, 1.0, 2.0, 2.0, 2.0, 2.0)]
    assert set_advantages(rows, group_size=4, scale=False) is rows
    assert [r.advantage for r in rows] == [0.5, -0.5, -0.5, 0.5, 0.0, 0.0, 0.0, 0.0]
    expected = group_advantages(torch.tensor([[1.0, 0.0, 0.0, 1.0]]))[0].tolist()
    assert [r.advantage for r in set_advantages(rows, 4)][:4] == pytest.approx(expected)
    assert [trains(r.advantage, LossConfig()) for r in rows] == [True] * 4 + [False] * 4
    assert all(trains(r.advantage, LossConfig(beta=0.1)) for r in rows)  # the KL term moves every row
    with pytest.raises(ValueError, match="8 rows do not split into groups of 3"):
        set_advantages(rows, 3)
