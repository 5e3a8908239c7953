"""HFPolicy: a Hugging Face causal LM as a reasongym Policy: chat template, sampling through its sampler, saving.

    from reasongym.agents.policies.hf import HFPolicy
    policy = HFPolicy.load("smollm2", lora_r=16)                 # embedded default + a fresh LoRA adapter
    [c] = policy.act([[{"role": "user", "content": "2+2?"}]], SamplingParams(temperature=0))
    c.text, c.token_ids, c.prompt_ids                            # the answer, its ids, the prompt's ids

The policy owns the weights and the chat template; generation goes through the sampler it is given
(`sampler=`: a name, a "module:Class" path or a Sampler; see sampler.py), built on first use and told to
sync after every optimiser step.

Per-token log-probabilities for training are reasongym/lm/logprobs.py's; precision is lm/precision.py's.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from reasongym.agents.policies.sampler import Sampler, make_sampler
from reasongym.core import Completion, Messages, SamplingParams
from reasongym.lm.logprobs import causal_lm
from reasongym.lm.models import load_model_and_tokenizer, resolve_model
from reasongym.lm.precision import resolve_precision


class HFPolicy:
    """A causal LM with its tokenizer. `model` may be a peft model (LoRA) or a plain one."""

    def __init__(self, model: nn.Module, tokenizer, *, name: str = "", device: str | torch.device = "cpu",
                 precision: str = "fp32", sampler: str | Sampler | Callable[..., Sampler] = "static"):
        self.model, self.tokenizer, self.name = model, tokenizer, name
        self.device, self.precision = torch.device(device), precision
        self.eos_ids = self._eos_ids()
        self.sampler_spec = sampler
        self._sampler: Sampler | None = None
        self._stale = False

    @classmethod
    def load(cls, name: str | None = None, *, device: str | torch.device = "cpu", precision: str = "auto",
             sampler: str | Sampler | Callable[..., Sampler] = "static", **lora) -> HFPolicy:
        """Load by name or path (None / 'smollm2': the embedded default); lora_r=... adds an adapter.

        With LoRA and bf16, the frozen base weights are stored in bf16 (half the memory, no cast at every
        matmul); the adapter trains in fp32. Full fine-tuning keeps fp32 master weights under autocast.
        """
        precision = resolve_precision(precision, device)
        adapter = lora.get("lora_r", 0) > 0 or (Path(resolve_model(name)) / "adapter_config.json").exists()
        dtype = torch.bfloat16 if precision == "bf16" and adapter else torch.float32
        model, tokenizer = load_model_and_tokenizer(name, dtype=dtype, **lora)
        for p in model.parameters():  # adapters train in fp32 whatever the base is stored in
            if p.requires_grad and p.dtype != torch.float32:
                p.data = p.data.float()
        if precision == "bf16":  # under autocast, peft's cast of activations to the fp32 adapter is a waste
            for module in model.modules():
                if hasattr(module, "cast_input_dtype_enabled"):
                    module.cast_input_dtype_enabled = False
        return cls(model.to(device), tokenizer, name=resolve_model(name), device=device, precision=precision,
                   sampler=sampler)

    def _eos_ids(self) -> list[int]:
        gen = getattr(causal_lm(self.model), "generation_config", None)
        eos = getattr(gen, "eos_token_id", None) or self.tokenizer.eos_token_id
        return sorted(set(eos if isinstance(eos, list) else [eos]))

    # -- text <-> tokens ----------------------------------------------------------------------------
    def encode_chat(self, messages: Messages) -> list[int]:
        """Token ids of the chat template applied to the messages, ready for the assistant's reply."""
        enc = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
        return list(enc["input_ids"] if hasattr(enc, "keys") else enc)

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode([i for i in ids if i not in self.eos_ids], skip_special_tokens=True)

    # -- sampling -----------------------------------------------------------------------------------
    def act(self, observations: list[Messages], sampling: SamplingParams) -> list[Completion]:
        prompts = [self.encode_chat(obs) for obs in observations]
        return self.generate([p for p in prompts for _ in range(sampling.n)], sampling)

    def mark_updated(self) -> None:
        """The trained weights changed: the sampling copy re-syncs before the next generation."""
        self._stale = True

    def sampler(self) -> Sampler:
        """The sampler, built on first use, synced when the weights changed since the last round."""
        if self._sampler is None:
            dtype = torch.bfloat16 if self.precision == "bf16" else torch.float32
            self._sampler = make_sampler(self.sampler_spec, getattr(self.model, "module", self.model),
                                         eos_ids=self.eos_ids, pad_id=self.tokenizer.pad_token_id, dtype=dtype)
        elif self._stale:
            self._sampler.sync(getattr(self.model, "module", self.model))
        self._stale = False
        return self._sampler

    def generate(self, prompts: list[list[int]], sampling: SamplingParams,
                 batch_size: int = 256) -> list[Completion]:
        """Sample one completion per prompt; stops at EOS or max_new_tokens (see sampler.py)."""
        sampler, out = self.sampler(), []
        for i in range(0, len(prompts), batch_size):
            batch = prompts[i:i + batch_size]
            rows = sampler.sample(batch, temperature=sampling.temperature,
                                  top_p=sampling.top_p, max_new_tokens=sampling.max_new_tokens)
            for prompt, ids in zip(batch, rows):
                ended = bool(ids) and ids[-1] in self.eos_ids
                out.append(Completion(text=self.decode(ids), token_ids=ids, prompt_ids=list(prompt),
                                      finish_reason="stop" if ended else "length"))
        return out

    # -- saving -------------------------------------------------------------------------------------
    def save(self, path: str, *, merged: bool = True) -> None:
        """Save in Hugging Face format. A LoRA policy writes its adapter to `path/adapter` and, with
        merged=True, the merged full model to `path` itself (loadable by any HF tool)."""
        model = getattr(self.model, "module", self.model)
        if hasattr(model, "merge_and_unload"):
            model.save_pretrained(f"{path}/adapter")
            self.tokenizer.save_pretrained(f"{path}/adapter")
            if merged:
                import copy

                copy.deepcopy(model).merge_and_unload().save_pretrained(path)
        else:
            model.save_pretrained(path)
        self.tokenizer.save_pretrained(path)
