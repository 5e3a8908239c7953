"""The sampler seam of HFPolicy: a sampler is injected by spec (a name, "module:Class", an instance), synced
after every update, one config value of `train` (agent.sampler=); bad specs say what to do.

    python -m pytest -q tests/test_sampler.py
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
    pol = HFPolicy.load(str(tiny_model_dir), precision="fp32", sampler="tests.test_sampler:Recording")
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
    train_main(toy_args(tiny_model_dir, tmp_path, "steps=2", "eval_every=0", "agent.sampler=tests.test_sampler:Recording"))
    [sampler] = Recording.built
    assert len(sampler.calls) == 2 and sampler.syncs == 1  # two rounds of rollouts, a sync after step 1


@pytest.mark.parametrize("spec, match", [("vllm", "use one of"), ("no.such.module:X", "cannot import"),
                                         ("tests.test_sampler:MSG", "neither a Sampler"),
                                         ("tests.test_sampler:NoSync", "lacks sample")])
def test_a_bad_sampler_spec_says_what_to_do(tiny_model_dir, spec, match):
    pol = HFPolicy.load(str(tiny_model_dir), precision="fp32", sampler=spec)
    with pytest.raises((ValueError, TypeError), match=match):
        pol.act([MSG], SamplingParams(temperature=0, max_new_tokens=2))
