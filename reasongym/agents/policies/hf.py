"""HFPolicy: a Hugging Face causal LM as a reasongym Policy: chat template, batched sampling, log-probs.

    from reasongym.agents.policies.hf import HFPolicy
    policy = HFPolicy.load("smollm2", lora_r=16)                 # embedded default + a fresh LoRA adapter
    [c] = policy.act([[{"role": "user", "content": "2+2?"}]], SamplingParams(temperature=0))
    c.text, c.token_ids, c.prompt_ids                            # the answer, its ids, the prompt's ids

The policy owns the weights and the chat template; generation goes through the sampler it is given
(`sampler=`: a name, a "module:Class" path or a Sampler; see sampler.py), built on first use and told to
sync after every optimiser step.

Per-token log-probabilities (`token_logprobs`) run the decoder once and the output head in chunks of
positions under activation checkpointing, so the full-vocabulary float32 logits of a batch never exist
at once (the vocabulary is 49k for SmolLM2: 8 x 200 tokens of float32 logits alone would be 315 MB).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from reasongym.agents.models import load_model_and_tokenizer, resolve_model
from reasongym.agents.policies.sampler import Sampler, make_sampler
from reasongym.core import Completion, Messages, SamplingParams


def bf16_supported(device: torch.device | str = "cpu") -> bool:
    """Whether bf16 matmuls are fast here (CUDA with bf16, or a CPU with AVX512-BF16/AMX)."""
    if torch.device(device).type == "cuda":
        return torch.cuda.is_bf16_supported()
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def autocast(device: torch.device | str, precision: str):
    """bf16 autocast when precision is 'bf16', a no-op for 'fp32'."""
    dev = torch.device(device).type
    return torch.autocast(dev, dtype=torch.bfloat16) if precision == "bf16" else nullcontext()


def causal_lm(model: nn.Module) -> nn.Module:
    """The underlying *ForCausalLM (inside DDP and peft wrappers); LoRA layers stay active in it."""
    model = getattr(model, "module", model)
    return model.get_base_model() if hasattr(model, "get_base_model") else model


class TokenLogProbs(nn.Module):
    """forward(input_ids, attention_mask, targets=None) -> (logprobs, entropy), (B, T-1): log p(x_t | x_<t).

    `targets` (B, T-1), optional: only those positions are scored (the sampled tokens); the rest are 0.
    Skipping prompt positions saves a third of the output-head work. The head runs over at most `chunk`
    positions at a time; when there are several chunks each is checkpointed (recomputed in backward) so
    that only one chunk's logits are alive at once.
    A module of its own so accelerate/DDP can wrap it and synchronise gradients as usual.
    """

    def __init__(self, model: nn.Module, chunk: int = 1024):
        super().__init__()
        self.model, self.chunk = model, chunk

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                targets: torch.Tensor | None = None):
        lm = causal_lm(self.model)
        hidden = lm.get_decoder()(input_ids=input_ids, attention_mask=attention_mask,
                                  use_cache=False).last_hidden_state  # no KV cache: nothing decodes next
        B, T, H = hidden.shape
        flat_h = hidden[:, :-1].reshape(B * (T - 1), H)  # position t predicts token t+1
        flat_t = input_ids[:, 1:].reshape(B * (T - 1))
        where = targets.reshape(-1).nonzero().squeeze(1) if targets is not None else None
        if where is not None:
            flat_h, flat_t = flat_h[where], flat_t[where]
        head, n = lm.get_output_embeddings(), flat_h.shape[0]
        logps, ents = [], []
        for i in range(0, max(n, 1), self.chunk):  # n == 0 still runs once: the graph stays connected
            h, t = flat_h[i:i + self.chunk], flat_t[i:i + self.chunk]
            if torch.is_grad_enabled() and n > self.chunk:
                lp, ent = checkpoint(_head_logprobs, head, h, t, use_reentrant=False)
            else:
                lp, ent = _head_logprobs(head, h, t)
            logps.append(lp)
            ents.append(ent)
        logp, ent = torch.cat(logps), torch.cat(ents)
        if where is None:
            return logp.view(B, T - 1), ent.view(B, T - 1)
        out_lp = torch.zeros(B * (T - 1), dtype=logp.dtype, device=logp.device).index_put((where,), logp)
        out_ent = torch.zeros(B * (T - 1), dtype=ent.dtype, device=ent.device).index_put((where,), ent)
        return out_lp.view(B, T - 1), out_ent.view(B, T - 1)


def _head_logprobs(head: nn.Module, h: torch.Tensor, t: torch.Tensor):
    logits = head(h).float()  # (chunk, V): the only full-vocabulary tensor, one chunk at a time
    lse = torch.logsumexp(logits, dim=-1)
    logp = logits.gather(-1, t.unsqueeze(-1)).squeeze(-1) - lse
    with torch.no_grad():
        probs = torch.softmax(logits, dim=-1)
        entropy = lse - (probs * logits).sum(-1)
    return logp, entropy


class HFPolicy:
    """A causal LM with its tokenizer. `model` may be a peft model (LoRA) or a plain one."""

    def __init__(self, model: nn.Module, tokenizer, *, name: str = "", device: str | torch.device = "cpu",
                 precision: str = "fp32", sampler: str | Sampler | Callable[..., Sampler] = "kv_cache"):
        self.model, self.tokenizer, self.name = model, tokenizer, name
        self.device, self.precision = torch.device(device), precision
        self.eos_ids = self._eos_ids()
        self.sampler_spec = sampler
        self._sampler: Sampler | None = None
        self._stale = False

    @classmethod
    def load(cls, name: str | None = None, *, device: str | torch.device = "cpu", precision: str = "auto",
             sampler: str | Sampler | Callable[..., Sampler] = "kv_cache", **lora) -> HFPolicy:
        """Load by name or path (None / 'smollm2': the embedded default); lora_r=... adds an adapter.

        With LoRA and bf16, the frozen base weights are stored in bf16 (half the memory, no cast at every
        matmul); the adapter trains in fp32. Full fine-tuning keeps fp32 master weights under autocast.
        """
        if precision == "auto":
            precision = "bf16" if bf16_supported(device) else "fp32"
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
