"""The rows of a GRPO group share their prompt: the learner runs it through the decoder once
(reasongym/lm/logprobs.py `shared`, agents/learner.py `_chunks`) and must get the same log-probs,
gradients and update as running every row whole."""

import pytest
import torch
from accelerate import Accelerator

import reasongym.lm.logprobs as logprobs
from reasongym.agents.learner import Learner
from reasongym.agents.policies.hf import HFPolicy
from reasongym.agents.rollout import Row
from reasongym.lm.logprobs import TokenLogProbs, causal_lm


def group_batch(policy, completions):
    """Right-padded ids, attention and target masks of one prompt with several completions."""
    prompt = policy.encode_chat([{"role": "user", "content": "What is 12 + 30?"}])
    width = len(prompt) + max(len(c) for c in completions)
    ids = torch.full((len(completions), width), policy.tokenizer.pad_token_id)
    attn = torch.zeros_like(ids)
    targets = torch.zeros(len(completions), width - 1)
    for i, c in enumerate(completions):
        ids[i, :len(prompt) + len(c)] = torch.tensor(prompt + c)
        attn[i, :len(prompt) + len(c)] = 1
        targets[i, len(prompt) - 1:len(prompt) + len(c) - 1] = 1
    return ids, attn, targets, len(prompt)


def positions_through_the_decoder(model) -> list[int]:
    seen = []
    causal_lm(model).get_decoder().embed_tokens.register_forward_hook(lambda m, a, out: seen.append(a[0].numel()))
    return seen


@pytest.mark.parametrize("lora,checkpointing", [(0, False), (4, False), (0, True), (4, True)])
def test_shared_prompt_gives_the_same_logprobs_and_gradients_for_fewer_positions(tiny_model_dir, lora, checkpointing):
    """Also under activation checkpointing, where the rows read the prompt's cache in a layer that is run
    again in backward: a dropped cache would leave the rows without their prompt (other log-probs), one
    written twice would give them the wrong one."""
    torch.manual_seed(0)
    policy = HFPolicy.load(str(tiny_model_dir), precision="fp32", lora_r=lora)
    if checkpointing:
        causal_lm(policy.model).gradient_checkpointing_enable({"use_reentrant": False})
        policy.model.train()
        assert logprobs.checkpointed_layers(causal_lm(policy.model).get_decoder())
    if lora:  # a fresh adapter is the identity (B = 0): make it act, so its gradients are not trivial
        with torch.no_grad():
            for n, p in policy.model.named_parameters():
                if "lora_B" in n:
                    p.normal_(0, 0.1)
    ids, attn, targets, p = group_batch(policy, [[40, 41, 42, 43, 44], [50, 51], [60, 61, 62, 63], [70]])
    scorer = TokenLogProbs(policy.model, chunk=3)
    seen = positions_through_the_decoder(policy.model)
    results = []
    for shared in (0, p):
        policy.model.zero_grad()
        logp, ent = scorer(ids, attn, targets, shared)
        (logp * torch.linspace(-1, 1, logp.shape[1])).sum().backward()  # unequal weights per position
        grads = {n: q.grad.clone() for n, q in policy.model.named_parameters() if q.requires_grad}
        results.append((logp.detach(), ent, grads))
    (full_lp, full_ent, full_g), (sh_lp, sh_ent, sh_g) = results
    torch.testing.assert_close(sh_lp, full_lp, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(sh_ent, full_ent, atol=1e-5, rtol=1e-5)
    assert torch.count_nonzero(sh_lp * (1 - targets)) == 0
    for n, g in full_g.items():
        torch.testing.assert_close(sh_g[n], g, atol=1e-5, rtol=1e-4, msg=n)
    rows, width = ids.shape
    assert seen == [rows * width, p, rows * (width - p)]  # the prompt ran once instead of 4 times


def test_learner_batches_each_group_together_and_updates_as_without_sharing(tiny_model_dir, monkeypatch):
    def rows_of(policy):
        out = []
        for k, question in enumerate(["2 + 2?", "3 * 7?", "10 - 4?"]):
            prompt = policy.encode_chat([{"role": "user", "content": question}])
            for j in range(3):
                c = [30 + k, 31 + j, 32 + k * j][: 1 + j]
                out.append(Row(prompt + c, [0] * len(prompt) + [1] * len(c), advantage=(j - 1) * (k + 1) / 2))
        lone = policy.encode_chat([{"role": "user", "content": "9 + 9?"}])
        out.append(Row(lone + [45, 46], [0] * len(lone) + [1, 1], advantage=0.7))  # a prompt of its own
        return out[::2] + out[1::2]  # the groups interleaved, as no sampler would hand them

    states, chunkings, norms = [], [], []
    for share in (True, False):
        if not share:
            monkeypatch.setattr(logprobs, "can_share", lambda lm: False)
        torch.manual_seed(0)
        policy = HFPolicy.load(str(tiny_model_dir), precision="fp32")
        learner = Learner(policy, Accelerator(cpu=True), lr=1e-2, total_steps=1, micro_batch_size=4)
        rows = rows_of(policy)
        chunkings.append([[rows.index(r) for r in c] for c in learner._chunks(rows)])
        norms.append(learner.grpo_step(rows)["grad_norm"])
        states.append(learner.trainable_state())
    # rows 0-2, 3-5, 6-8 are the three groups, row 9 the lone prompt (interleaved: 0,2,4,6,8,1,3,5,7,9)
    order = [0, 2, 4, 6, 8, 1, 3, 5, 7, 9]
    assert sorted(sorted(order[i] for i in c) for c in chunkings[0]) == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    assert norms[0] == pytest.approx(norms[1], rel=1e-5) and norms[0] > 0
    for name, value in states[1].items():
        # Adam's first step is lr * g / |g|: weights with gradients near 0 may move by up to lr either way
        torch.testing.assert_close(states[0][name], value, atol=1e-4, rtol=0, msg=name)
    torch.manual_seed(0)
    start = Learner(HFPolicy.load(str(tiny_model_dir), precision="fp32"), Accelerator(cpu=True), lr=1e-2,
                    total_steps=1).trainable_state()
    assert any(not torch.equal(v, start[n]) for n, v in states[0].items())  # the step did move the weights
