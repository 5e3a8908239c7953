"""The sampler seam of HFPolicy: a sampler is injected by spec (a name, "module:Class", an instance), synced
after every update, one config value of `train` (agent.sampler=); bad specs say what to do.

    python -m pytest -q tests/agents/test_sampler.py
"""

import pytest
import torch

from reasongym.agents.policies.hf import HFPolicy
from reasongym.agents.policies.sampler import KVCacheSampler
from reasongym.core import SamplingParams

MSG = [{"role": "user", "content": "What is 2+2?"}]


class Recording:
    """A sampler of our own, built from a "module:Class" spec: wraps the default and records calls."""

    built: list = []  # every instance, so a test can find the one `train` built

    def __init__(self, model, *, eos_ids, pad_id, dtype):
        self.inner = KVCacheSampler(model, eos_ids=eos_ids, pad_id=pad_id, dtype=dtype)
        self.calls, self.syncs = [], 0
        Recording.built.append(self)

    def sample(self, prompts, *, temperature, top_p, max_new_tokens):
        self.calls.append([list(p) for p in prompts])
        return self.inner.sample(prompts, temperature=temperature, top_p=top_p, max_new_tokens=max_new_tokens)

    def sync(self, model):
        self.syncs += 1
        self.inner.sync(model)


def test_the_sampler_is_injected_by_spec_and_synced_after_updates(tiny_model_dir):
    pol = HFPolicy.load(str(tiny_model_dir), precision="fp32", sampler="tests.agents.test_sampler:Recording")
    greedy = SamplingParams(temperature=0, max_new_tokens=5)
    [c] = pol.act([MSG], greedy)
    sampler = pol.sampler()
    assert isinstance(sampler, Recording) and sampler.calls == [[pol.encode_chat(MSG)]]
    assert c.prompt_ids == pol.encode_chat(MSG)  # the prompt travels with the completion
    pol.mark_updated()
    pol.act([MSG], greedy)
    assert sampler.syncs == 1 and len(sampler.calls) == 2
    ready = Recording(pol.model, eos_ids=pol.eos_ids, pad_id=pol.tokenizer.pad_token_id, dtype=torch.float32)
    other = HFPolicy(pol.model, pol.tokenizer, sampler=ready)  # an instance is used as it is
    assert other.act([MSG], greedy)[0].token_ids == c.token_ids and len(ready.calls) == 1


class NoSync:
    def __init__(self, model, **kwargs):
        self.model = model


def test_a_sampler_is_one_config_value_of_train(tiny_model_dir, tmp_path):
    from reasongym.train import main as train_main
    from tests.test_trainer import toy_args

    Recording.built.clear()
    train_main(toy_args(tiny_model_dir, tmp_path, "steps=2", "eval_every=0", "agent.sampler=tests.agents.test_sampler:Recording",
                          "agent.dynamic_sampling=false"))
    [sampler] = Recording.built
    assert len(sampler.calls) == 2 and sampler.syncs == 1  # two rounds of rollouts, a sync after step 1


@pytest.mark.parametrize("spec, match", [("vllm", "use one of"), ("no.such.module:X", "cannot import"),
                                         ("tests.agents.test_sampler:MSG", "neither a Sampler"),
                                         ("tests.agents.test_sampler:NoSync", "lacks sample")])
def test_a_bad_sampler_spec_says_what_to_do(tiny_model_dir, spec, match):
    pol = HFPolicy.load(str(tiny_model_dir), precision="fp32", sampler=spec)
    with pytest.raises((ValueError, TypeError), match=match):
        pol.act([MSG], SamplingParams(temperature=0, max_new_tokens=2))


# -- the static-cache sampler (agent.sampler=static): same tokens, same logits, faster ------------------
class Tracing:
    """Records the logits every sampling step sees (rows in prompt order), for either sampler class."""

    @staticmethod
    def wrap(cls):
        class Traced(cls):
            def __init__(self, *a, **k):
                super().__init__(*a, **k)
                self.seen = []

            def _choose(self, logits, temperature, top_p):
                self.seen.append(logits.clone())
                return cls._choose(logits, temperature, top_p)
        return Traced


def _pair(pol, eos_ids, cls_a=KVCacheSampler, cls_b=None):
    from reasongym.agents.policies.static_sampler import StaticCacheSampler

    kw = {"eos_ids": eos_ids, "pad_id": pol.tokenizer.pad_token_id, "dtype": torch.float32}
    return cls_a(pol.model, **kw), (cls_b or StaticCacheSampler)(pol.model, **kw)


def _prompts(pol, groups=3, g=4):
    msgs = [[{"role": "user", "content": "What is " + "1+" * (3 * i) + "2?"}] for i in range(groups)]
    return [pol.encode_chat(m) for m in msgs for _ in range(g)]  # G copies, prompts of different lengths


@pytest.mark.parametrize("lora", [0, 4])
def test_static_sampler_draws_the_same_tokens_as_the_kv_cache_loop(tiny_model_dir, lora):
    pol = HFPolicy.load(str(tiny_model_dir), precision="fp32", lora_r=lora)
    prompts = _prompts(pol)
    eos = sorted(set(pol.eos_ids) | {pol.tokenizer.convert_tokens_to_ids(c) for c in "aeiou 1"})  # rows end early
    old, new = _pair(pol, eos)
    for temperature, top_p in [(0.0, 1.0), (1.0, 1.0), (0.8, 0.9)]:
        runs = []
        for sampler in (old, new):
            torch.manual_seed(3)
            runs.append(sampler.sample(prompts, temperature=temperature, top_p=top_p, max_new_tokens=24))
        assert runs[0] == runs[1], (temperature, top_p)
        lengths = {len(r) for r in runs[1]}
        assert temperature == 0 or (len(lengths) > 2 and max(lengths) == 24)  # rows left at different steps


def test_static_sampler_sees_the_same_logits_at_every_step(tiny_model_dir):
    from reasongym.agents.policies.static_sampler import StaticCacheSampler

    pol = HFPolicy.load(str(tiny_model_dir), precision="fp32")
    eos = sorted(set(pol.eos_ids) | {pol.tokenizer.convert_tokens_to_ids(c) for c in "ae "})
    old, new = _pair(pol, eos, Tracing.wrap(KVCacheSampler), Tracing.wrap(StaticCacheSampler))
    for sampler in (old, new):
        torch.manual_seed(0)
        sampler.sample(_prompts(pol), temperature=1.0, top_p=1.0, max_new_tokens=20)
    assert len(old.seen) == len(new.seen) > 5
    for a, b in zip(old.seen, new.seen):
        assert a.shape == b.shape
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-4)


def test_static_sampler_is_a_config_value_and_falls_back_on_other_architectures(tiny_model_dir):
    from transformers import GPT2Config, GPT2LMHeadModel

    from reasongym.agents.policies.static_sampler import StaticCacheSampler

    pol = HFPolicy.load(str(tiny_model_dir), precision="fp32", sampler="static")
    assert isinstance(pol.sampler(), StaticCacheSampler)
    gpt2 = GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=32, n_head=2, vocab_size=pol.tokenizer.vocab_size + 8))
    old, new = (cls(gpt2, eos_ids=[1], pad_id=0, dtype=torch.float32) for cls in (KVCacheSampler, StaticCacheSampler))
    prompts = _prompts(pol, groups=2, g=2)
    assert new.sample(prompts, temperature=0, top_p=1, max_new_tokens=6) == \
        old.sample(prompts, temperature=0, top_p=1, max_new_tokens=6)


def test_the_compiled_static_sampler_sees_the_static_logits_and_compiles_one_graph(tiny_model_dir):
    """agent.sampler=static_compiled: same logits as `static` at every step (within float rounding), the
    same greedy rows, and a second round with other prompt widths and another row count reuses the graph."""
    from torch._dynamo.utils import counters

    from reasongym.agents.policies.static_sampler import CompiledStaticSampler, StaticCacheSampler

    torch._dynamo.reset()
    CompiledStaticSampler._compiled = None
    pol = HFPolicy.load(str(tiny_model_dir), precision="fp32", sampler="static_compiled")
    assert isinstance(pol.sampler(), CompiledStaticSampler)
    eos = sorted(set(pol.eos_ids) | {pol.tokenizer.convert_tokens_to_ids(c) for c in "ae "})
    static, compiled = _pair(pol, eos, Tracing.wrap(StaticCacheSampler), Tracing.wrap(CompiledStaticSampler))
    graphs = counters["stats"]["unique_graphs"]
    rows = []
    for sampler in (static, compiled):
        torch.manual_seed(0)
        rows.append(sampler.sample(_prompts(pol), temperature=0.0, top_p=1.0, max_new_tokens=20))
    assert CompiledStaticSampler._compiled not in (None, False)  # compiled, not fallen back
    assert rows[0] == rows[1]
    assert len(static.seen) == len(compiled.seen) > 5
    for a, b in zip(static.seen, compiled.seen):
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-4)
    first = counters["stats"]["unique_graphs"] - graphs
    assert first >= 1
    other = _prompts(pol, groups=2, g=3)  # other widths, 6 rows instead of 12
    assert compiled.sample(other, temperature=0.0, top_p=1.0, max_new_tokens=12) == \
        static.sample(other, temperature=0.0, top_p=1.0, max_new_tokens=12)
    assert counters["stats"]["unique_graphs"] - graphs == first  # no recompilation
