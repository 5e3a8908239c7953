"""The sampler seam of HFPolicy: a `Sampler` protocol, `make_sampler`, and the plain KV-cache loop on token ids.

The default sampler is `static` (static_sampler.py: a shared prefill per distinct prompt, a preallocated
cache, a lean decode step; built on this file's KVCacheSampler, same tokens). `kv_cache` is the plain loop.

A sampler knows only token ids (nanochat's engine is the model): `sample(prompts, ...)` returns the new
ids of each prompt (ending with an EOS id when one was sampled), `sync(model)` is called after every
optimiser step so it samples from the current weights. HFPolicy builds its sampler from a spec:
`static`, `kv_cache` (below), or "module:Class" of your own (a vLLM engine, speculative decoding, ...), built as
`Class(model, eos_ids=..., pad_id=..., dtype=...)`. Adding a sampler is one new file and one config value:
`python -m reasongym.train agent.sampler=my_pkg.vllm_sampler:VLLMSampler`.

Why not `model.generate`? On a CPU the decode step of a small model is bound by
per-operation overhead and memory traffic, not arithmetic. Two things help: (1) rows that reached EOS
leave the batch (and the KV cache) at once, instead of being padded to the longest rollout; (2) sampling
runs on a bf16 copy of the weights where bf16 is fast (AMX / CUDA), synchronised from the trained weights
before each round (LoRA deltas merged in), while training keeps fp32 master weights.

Memory: where the sampling precision is the trained weights' own, no copy is made. A plain model samples
from itself; a LoRA model gets its adapter merged into the fp32 base weights for the round and taken out
again after it (peft's merge_adapter/unmerge_adapter; the round trip moves a weight by a rounding error),
so the sampling weights cost nothing beyond the model's own.

    sampler = KVCacheSampler(model, eos_ids=[2], pad_id=2, dtype=torch.bfloat16)
    sampler.sync(model)                                # after an optimiser step
    rows = sampler.sample([[1, 5, 9], [1, 7]], temperature=1.0, top_p=1.0, max_new_tokens=64)
"""

from __future__ import annotations

import copy
import ctypes
import importlib
import sys
from typing import Protocol, runtime_checkable

import torch
from torch import nn
from transformers import DynamicCache

from reasongym.lm.models import cache_keyword


def _plain_name(name: str) -> str:
    """peft parameter names -> the plain model's ('base_model.model.x.base_layer.weight' -> 'x.weight')."""
    name = name.removeprefix("base_model.model.")
    return name.replace(".base_layer.", ".")


def release_memory() -> None:
    """Hand freed heap memory back to the OS (glibc keeps it by default, so a phase's peak would stay
    resident through the next phase: a training step's activations under the next round's KV cache)."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):  # not glibc (musl): nothing to trim
            pass


@runtime_checkable
class Sampler(Protocol):
    """What HFPolicy needs from a generation backend."""

    def sample(self, prompts: list[list[int]], *, temperature: float, top_p: float,
               max_new_tokens: int) -> list[list[int]]:
        """New token ids for each prompt (ending with an EOS id when one was sampled)."""
        ...

    def sync(self, model: nn.Module) -> None:
        """The trained weights changed: sample from `model`'s current weights from now on."""
        ...


SAMPLERS = {"kv_cache": "reasongym.agents.policies.sampler:KVCacheSampler",
            "static": "reasongym.agents.policies.static_sampler:StaticCacheSampler",
            "static_compiled": "reasongym.agents.policies.static_sampler:CompiledStaticSampler"}


def make_sampler(spec, model: nn.Module, *, eos_ids: list[int], pad_id: int, dtype: torch.dtype) -> Sampler:
    """A sampler from a spec: a built-in name (kv_cache), a "module:Class" path, a class or factory called
    as `spec(model, eos_ids=, pad_id=, dtype=)`, or a ready Sampler (used as it is)."""
    if isinstance(spec, str):
        path = SAMPLERS.get(spec, spec)
        module, sep, name = path.partition(":")
        if not sep:
            raise ValueError(f"sampler {spec!r}: use one of {sorted(SAMPLERS)} or a 'module:Class' path")
        try:
            spec = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError) as exc:
            raise ValueError(f"sampler {spec!r}: cannot import {name} from {module} ({exc})") from exc
    if isinstance(spec, Sampler) and not isinstance(spec, type):
        return spec
    if not callable(spec):
        raise TypeError(f"sampler {spec!r} is neither a Sampler (sample and sync) nor a class that builds one")
    sampler = spec(model, eos_ids=eos_ids, pad_id=pad_id, dtype=dtype)
    if not isinstance(sampler, Sampler):
        raise TypeError(f"sampler {spec!r} built a {type(sampler).__name__}, which lacks sample() or sync()")
    return sampler


class KVCacheSampler:
    """The default sampler: batched decoding with a KV cache that drops finished rows."""

    def __init__(self, model: nn.Module, *, eos_ids: list[int], pad_id: int, dtype: torch.dtype | None = None):
        self.eos_ids, self.pad_id = list(eos_ids), pad_id
        self.device = next(model.parameters()).device
        dtype = dtype or next(model.parameters()).dtype
        same = dtype == next(model.parameters()).dtype
        lora = hasattr(model, "get_base_model")
        self.shared = same and not lora  # sample from the trained model itself, no copy
        self.merge = model if same and lora else None  # sample from the base with the adapter merged in
        if self.shared or self.merge is not None:
            self.model = model.get_base_model() if lora else model
            return
        if lora:
            # a plain copy of the architecture without the LoRA wrappers, weights filled in by sync()
            plain = type(model.get_base_model())(model.get_base_model().config)
        else:
            plain = copy.deepcopy(model)
        self.model = plain.to(device=self.device, dtype=dtype).eval().requires_grad_(False)
        self.sync(model)

    @torch.no_grad()
    def sync(self, model: nn.Module) -> None:
        """Copy the trained weights (with any LoRA delta merged) into the sampling copy."""
        if self.shared or self.merge is not None:
            return
        target = dict(self.model.named_parameters())
        if hasattr(model, "get_base_model"):
            base = model.get_base_model()
            for name, p in base.named_parameters():
                if "lora_" in name or _plain_name(name) not in target:
                    continue
                target[_plain_name(name)].copy_(p)
            for name, module in base.named_modules():  # one delta at a time: no second model in memory
                if hasattr(module, "get_delta_weight") and hasattr(module, "base_layer"):
                    for adapter in getattr(module, "active_adapters", []):
                        target[f"{name}.weight"].add_(module.get_delta_weight(adapter))
        else:
            for name, p in model.named_parameters():
                target[name].copy_(p)

    @torch.inference_mode()
    def sample(self, prompts: list[list[int]], *, temperature: float, top_p: float,
               max_new_tokens: int) -> list[list[int]]:
        """New token ids for each prompt (ending with an EOS id when one was sampled)."""
        was_training = self.model.training
        self.model.eval()
        if self.merge is not None:
            self.merge.merge_adapter()
        try:
            return self._sample(prompts, temperature, top_p, max_new_tokens)
        finally:
            if self.merge is not None:
                self.merge.unmerge_adapter()
            self.model.train(was_training)
            release_memory()

    def _sample(self, prompts: list[list[int]], temperature: float, top_p: float,
                max_new_tokens: int) -> list[list[int]]:
        n = len(prompts)
        width = max(len(p) for p in prompts)
        ids = torch.full((n, width), self.pad_id, dtype=torch.long)
        attn = torch.zeros((n, width), dtype=torch.long)
        for r, p in enumerate(prompts):
            ids[r, width - len(p):], attn[r, width - len(p):] = torch.tensor(p), 1
        ids, attn = ids.to(self.device), attn.to(self.device)
        pos = (attn.cumsum(-1) - 1).clamp(min=0)
        cache, keyword = DynamicCache(), cache_keyword(self.model)
        out = self.model(input_ids=ids, attention_mask=attn, position_ids=pos, **{keyword: cache},
                         use_cache=True, logits_to_keep=1)
        rows = list(range(n))  # original index of each live batch row
        result: list[list[int]] = [[] for _ in range(n)]
        eos = torch.tensor(self.eos_ids, device=self.device)
        last_pos = pos[:, -1:]
        for _ in range(max_new_tokens):
            nxt = self._choose(out.logits[:, -1].float(), temperature, top_p)  # (b,)
            for r, tok in zip(rows, nxt.tolist()):
                result[r].append(tok)
            done = torch.isin(nxt, eos)
            if done.all():
                break
            if done.any():  # finished rows leave the batch and the cache
                keep = (~done).nonzero().squeeze(1)
                rows = [rows[i] for i in keep.tolist()]
                cache.batch_select_indices(keep)
                nxt, attn, last_pos = nxt[keep], attn[keep], last_pos[keep]
            attn = torch.cat([attn, torch.ones_like(attn[:, :1])], dim=1)
            last_pos = last_pos + 1
            out = self.model(input_ids=nxt.unsqueeze(1), attention_mask=attn, position_ids=last_pos,
                             **{keyword: cache}, use_cache=True)
        return result

    @staticmethod
    def _choose(logits: torch.Tensor, temperature: float, top_p: float) -> torch.Tensor:
        if temperature <= 0:
            return logits.argmax(-1)
        probs = torch.softmax(logits / temperature, dim=-1)
        if top_p < 1.0:
            sorted_p, order = probs.sort(dim=-1, descending=True)
            outside = sorted_p.cumsum(-1) - sorted_p > top_p  # keep the smallest set reaching top_p
            sorted_p = sorted_p.masked_fill(outside, 0.0)
            probs = torch.zeros_like(probs).scatter(-1, order, sorted_p)
        # inverse-CDF draw: one uniform per row (torch.multinomial costs ~8x more over a 49k vocabulary)
        cdf = probs.cumsum(-1)
        u = torch.rand(cdf.shape[0], 1, device=cdf.device, dtype=cdf.dtype) * cdf[:, -1:]
        return torch.searchsorted(cdf, u, right=True).squeeze(1).clamp(max=probs.shape[-1] - 1)
