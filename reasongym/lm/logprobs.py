"""Per-token log-probabilities of a causal LM, without the full-vocabulary logits of a batch at once.

    logp, entropy = TokenLogProbs(model)(input_ids, attention_mask, targets)   # (B, T-1) each
    logp, entropy = TokenLogProbs(model)(input_ids, attention_mask, targets, shared=70)  # rows share 70 tokens

The decoder runs once; the output head runs in chunks of positions under activation checkpointing, so
the float32 logits of a whole batch never exist together (the vocabulary is 49k for SmolLM2: 8 x 200
tokens of float32 logits alone would be 315 MB). Used by the learner (policy, old and reference
log-probs) and the reward-hacking guard (KL to the reference).

`shared=p`: the rows of a GRPO group begin with the same prompt (the G samples of one task), which is
often more than half of each row. The decoder then runs those p tokens once, for one row, and the B rows'
own tokens attend to its keys and values (repeated B times, so gradients from every row flow back into
the one prompt pass): the same log-probs and gradients as the full batch (to float rounding) for about
p * (B - 1) fewer token positions through the decoder. Under activation checkpointing transformers drops
the KV cache of a checkpointed layer, because the recompute in backward would write it a second time;
there the prompt runs without checkpointing (one row: little memory), and the rows read its keys and values
through a read-only view of the cache, which a layer may keep (`_can_checkpoint_with_cache` of the
installed transformers) since the recompute reads the same states. Where the installed transformers has no such switch,
or its cache is not the plain kind, rows run whole.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from reasongym.lm.models import cache_keyword


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

    def __init__(self, model: nn.Module, chunk: int = 1024, temperature: float = 1.0):
        super().__init__()
        self.model, self.chunk, self.temperature = model, chunk, float(temperature)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                targets: torch.Tensor | None = None, shared: int = 0):
        lm = causal_lm(self.model)
        decoder = lm.get_decoder()
        if 0 < shared < input_ids.shape[1] and input_ids.shape[0] > 1 and can_share(lm):
            hidden = shared_prefix_hidden(decoder, input_ids, attention_mask, shared)
        else:  # no KV cache: nothing decodes next
            hidden = decoder(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).last_hidden_state
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
                lp, ent = checkpoint(_head_logprobs, head, h, t, self.temperature, use_reentrant=False)
            else:
                lp, ent = _head_logprobs(head, h, t, self.temperature)
            logps.append(lp)
            ents.append(ent)
        logp, ent = torch.cat(logps), torch.cat(ents)
        if where is None:
            return logp.view(B, T - 1), ent.view(B, T - 1)
        out_lp = torch.zeros(B * (T - 1), dtype=logp.dtype, device=logp.device).index_put((where,), logp)
        out_ent = torch.zeros(B * (T - 1), dtype=ent.dtype, device=ent.device).index_put((where,), ent)
        return out_lp.view(B, T - 1), out_ent.view(B, T - 1)


def can_share(lm: nn.Module) -> bool:
    """Whether the prompt pass may hand its KV cache on: always without activation checkpointing, with it
    where the checkpointed layers can be told to keep a cache they only read."""
    on = getattr(lm, "is_activation_checkpointing", None)  # transformers 5's name; 4.x has only the other
    if not (on if on is not None else getattr(lm, "is_gradient_checkpointing", False)):
        return True
    layers = checkpointed_layers(lm.get_decoder())  # none where the decoder checkpoints them itself (4.x)
    return bool(layers) and all(hasattr(type(m), "_can_checkpoint_with_cache") for m in layers)


def checkpointed_layers(decoder: nn.Module) -> list[nn.Module]:
    """The decoder's layers that activation checkpointing recomputes in backward (none when it is off)."""
    return [m for m in decoder.modules() if m is not decoder and getattr(m, "gradient_checkpointing", False) is True
            and decoder.training]


def shared_prefix_hidden(decoder: nn.Module, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                         shared: int) -> torch.Tensor:
    """(B, T, H) last hidden states of rows whose first `shared` tokens are equal and unpadded: the prefix
    runs once (batch 1) with a KV cache, the cache is repeated to B rows, the rest of the rows runs on it."""
    B = input_ids.shape[0]
    key, layers = cache_keyword(decoder), checkpointed_layers(decoder)
    unchecked = layers + [decoder] if layers and getattr(decoder, "gradient_checkpointing", False) is True else layers
    with layer_flags(unchecked, gradient_checkpointing=False):  # one row, kept for backward; it fills the cache
        first = decoder(input_ids=input_ids[:1, :shared], attention_mask=attention_mask[:1, :shared], use_cache=True)
    cache = getattr(first, "cache", None)  # transformers 5.2x's name of the field
    cache = first.past_key_values if cache is None else cache
    cache.batch_repeat_interleave(B)  # differentiable: repeat_interleave sums the B rows' gradients back
    if layers:
        cache = read_only(cache)
        if cache is None:  # a cache this code does not know how to read without writing: rows run whole
            return decoder(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).last_hidden_state
    with layer_flags(layers, _can_checkpoint_with_cache=True):
        rest = decoder(input_ids=input_ids[:, shared:], attention_mask=attention_mask, use_cache=True, **{key: cache})
    return torch.cat([first.last_hidden_state.expand(B, -1, -1), rest.last_hidden_state], dim=1)


def read_only(cache):
    """The cache, made to answer `update` with its states followed by the new ones without storing them:
    a checkpointed layer's recompute then sees what its first run saw. None for a cache other than plain
    per-layer keys and values (sliding windows, quantised or static caches)."""
    states = [(getattr(layer, "keys", None), getattr(layer, "values", None)) for layer in getattr(cache, "layers", [])]
    if not states or any(type(layer).__name__ != "DynamicLayer" for layer in cache.layers) or \
            any(k is None or not torch.is_tensor(k) for k, _ in states):
        return None

    def update(key_states, value_states, layer_idx, *args, **kwargs):
        keys, values = states[layer_idx]
        return torch.cat([keys, key_states], dim=-2), torch.cat([values, value_states], dim=-2)

    cache.update = update
    return cache


@contextmanager
def layer_flags(layers: list[nn.Module], **flags):
    """Set attributes on some modules for the duration, then put back what each had (or drop it)."""
    missing = object()
    saved = [{k: m.__dict__.get(k, missing) for k in flags} for m in layers]
    try:
        for m in layers:
            for k, v in flags.items():
                setattr(m, k, v)
        yield
    finally:
        for m, old in zip(layers, saved):
            for k, v in old.items():
                if v is missing:
                    delattr(m, k)
                else:
                    setattr(m, k, v)


def _head_logprobs(head: nn.Module, h: torch.Tensor, t: torch.Tensor, temperature: float = 1.0):
    logits = head(h).float()  # (chunk, V): the only full-vocabulary tensor, one chunk at a time
    if temperature != 1.0:  # the distribution the sampler drew from
        logits = logits / temperature
    lse = torch.logsumexp(logits, dim=-1)
    logp = logits.gather(-1, t.unsqueeze(-1)).squeeze(-1) - lse
    with torch.no_grad():
        probs = torch.softmax(logits, dim=-1)
        entropy = lse - (probs * logits).sum(-1)
    return logp, entropy
