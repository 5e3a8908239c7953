"""A faster sampler (`agent.sampler=static`): one prefill per distinct prompt, a preallocated KV cache, and
a hand-written decode step over the model's own weights.

    sampler = StaticCacheSampler(model, eos_ids=[2], pad_id=2, dtype=torch.float32)
    rows = sampler.sample(prompts, temperature=1.0, top_p=1.0, max_new_tokens=128)
    python benchmarks/sampler.py        # tokens/s against KVCacheSampler, and the machine's roofline

Why it is faster than KVCacheSampler on a CPU (same weights, same arithmetic, same random draws):
- GRPO asks for G samples of each prompt. The prompt is prefilled once (Hugging Face's own forward), and
  its keys and values are copied into the G rows of the cache.
- The cache is one tensor per layer, (rows, kv_heads, prompt + max_new_tokens, head_dim), allocated once;
  a decode step writes one column instead of concatenating a DynamicCache per layer per token.
- The decode step is ~10 torch calls per layer on the weight tensors (no module hooks, no mask building,
  no cache objects); the query heads of one KV head attend as a group (no repeat of K and V for GQA).
- On a CPU the decode step is ~3/4 matrix products of a few dozen rows by every weight, and a plain
  `F.linear` re-lays out (packs) the weight on every call. The round's weights are packed once into
  oneDNN's blocked layout (`to_mkldnn`, ~0.6 s and one weight copy for 135M parameters, freed after the
  round) and multiplied with `mkldnn._linear_pointwise`: 1.2-1.5x on the products at 8-128 rows here.
- Finished rows stop being sampled at once; the cache drops them when a quarter of its rows are finished
  (a compaction copies the cache, so it is not done for every finished row).
- `agent.sampler=static_compiled` (CompiledStaticSampler, below) compiles the decode step with torch.compile:
  slower to start (compiling), then faster per token at 32 rows (not at 128); for long runs.

The random stream is KVCacheSampler's (one uniform per live row per step, rows in prompt order), so with
the same seed both samplers draw the same tokens wherever their logits agree (tests/agents/test_sampler.py).
Architectures: Llama, Mistral (no sliding window), Qwen2, Qwen3; others fall back to KVCacheSampler's loop.
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F
from transformers import DynamicCache

from reasongym.agents.policies.sampler import KVCacheSampler
from reasongym.lm.models import cache_keyword

SUPPORTED = ("llama", "mistral", "qwen2", "qwen3")


def _linear(module) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Weight and bias of a Linear, or of the base layer of a peft LoRA wrapper (merged while sampling)."""
    base = getattr(module, "base_layer", module)
    return base.weight, base.bias


def _packs(weight: torch.Tensor) -> bool:
    """Whether this build can multiply by a oneDNN-packed copy of `weight` (CPU, fp32/bf16, oneDNN)."""
    return (weight.device.type == "cpu" and weight.dtype in (torch.float32, torch.bfloat16)
            and torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_linear_pointwise"))


def _packed_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    return torch.ops.mkldnn._linear_pointwise(x, weight, bias, "none", [], "")


class Weights:
    """The weight tensors of a decoder-only transformer: references (no copies), or with `pack`, oneDNN-packed
    copies of the matrices the decode step multiplies by (where `_packs` says the build can)."""

    def __init__(self, model, pack: bool = False):
        inner = model.model
        self.linear = F.linear
        if pack and _packs(inner.embed_tokens.weight):
            try:
                _packed_linear(inner.embed_tokens.weight[:1], inner.embed_tokens.weight[:2].to_mkldnn(), None)
                self.linear = _packed_linear
            except RuntimeError:  # a oneDNN build without this op's kernels: plain products
                pass
        linear = _linear if self.linear is F.linear else _packed
        self.cfg = cfg = model.config
        self.embed = inner.embed_tokens.weight
        self.norm, self.norm_eps = inner.norm.weight, inner.norm.variance_epsilon
        self.lm_head, self.lm_bias = linear(model.get_output_embeddings())
        self.rotary = inner.rotary_emb
        self.heads = cfg.num_attention_heads
        self.kv_heads = getattr(cfg, "num_key_value_heads", None) or self.heads
        self.head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // self.heads
        self.layers = []
        for layer in inner.layers:
            a, m = layer.self_attn, layer.mlp
            self.layers.append({
                "ln1": layer.input_layernorm.weight, "ln2": layer.post_attention_layernorm.weight,
                "q": linear(a.q_proj), "k": linear(a.k_proj), "v": linear(a.v_proj), "o": linear(a.o_proj),
                "gate": linear(m.gate_proj), "up": linear(m.up_proj), "down": linear(m.down_proj),
                "act": m.act_fn, "q_norm": getattr(a, "q_norm", None), "k_norm": getattr(a, "k_norm", None)})
        self.eps = inner.layers[0].input_layernorm.variance_epsilon


def _packed(module) -> tuple[torch.Tensor, torch.Tensor | None]:
    weight, bias = _linear(module)
    return weight.detach().to_mkldnn(), bias


def supported(model) -> bool:
    cfg = getattr(model, "config", None)
    if getattr(cfg, "model_type", None) not in SUPPORTED or not hasattr(model, "model"):
        return False
    return not getattr(cfg, "sliding_window", None) or getattr(cfg, "use_sliding_window", True) is False


def _rms(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """Hugging Face's RMSNorm, same operations in the same order (so the same rounding)."""
    h = x.to(torch.float32)
    h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + eps)
    return weight * h.to(x.dtype)


def _rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return x * cos + torch.cat((-x[..., half:], x[..., :half]), dim=-1) * sin


class StaticCacheSampler(KVCacheSampler):
    """KVCacheSampler's weights, sync and random stream; a shared prefill, a static cache, a lean step."""

    pack = True  # multiply by oneDNN-packed weights where the build can

    def _sample(self, prompts: list[list[int]], temperature: float, top_p: float,
                max_new_tokens: int) -> list[list[int]]:
        if not supported(self.model) or max_new_tokens < 1:
            return super()._sample(prompts, temperature, top_p, max_new_tokens)
        w = Weights(self.model, pack=self.pack)
        cache, logits, valid, pos = self._prefill(w, prompts, max_new_tokens)
        n = len(prompts)
        owner = list(range(n))  # original row of each cache row
        live = torch.arange(n, device=self.device)  # cache rows still sampling
        result: list[list[int]] = [[] for _ in range(n)]
        eos = torch.tensor(self.eos_ids, device=self.device)
        tokens = torch.full((n,), self.pad_id, dtype=torch.long, device=self.device)
        column = valid.shape[1] - max_new_tokens
        for step in range(max_new_tokens):
            nxt = self._choose(logits.float(), temperature, top_p)  # (live,)
            for r, tok in zip(live.tolist(), nxt.tolist()):
                result[owner[r]].append(tok)
            done = torch.isin(nxt, eos)
            live, nxt = live[~done], nxt[~done]
            if len(live) == 0 or step == max_new_tokens - 1:
                break
            if len(live) <= 0.75 * len(owner):  # drop finished rows from the cache (one copy)
                cache = [(k.index_select(0, live), v.index_select(0, live)) for k, v in cache]
                valid, pos, tokens = valid[live], pos[live], tokens[live]
                owner = [owner[r] for r in live.tolist()]
                live = torch.arange(len(owner), device=self.device)
            tokens[live] = nxt
            valid[:, column + step] = True
            hidden = self._decode(w, cache, tokens, pos, valid, column + step)
            logits = self._head(w, hidden[live])
            pos = pos + 1
        return result

    def _decode(self, w: Weights, cache, tokens: torch.Tensor, pos: torch.Tensor, valid: torch.Tensor,
                column: int) -> torch.Tensor:
        """One decode step, writing at `column` and attending to the columns before it."""
        return self._step(w, cache, tokens, pos, valid[:, : column + 1], column)

    @staticmethod
    def _head(w: Weights, hidden: torch.Tensor) -> torch.Tensor:
        return w.linear(_rms(hidden, w.norm, w.norm_eps), w.lm_head, w.lm_bias)

    def _prefill(self, w: Weights, prompts: list[list[int]], max_new_tokens: int):
        """Hugging Face's forward over each distinct prompt once; its keys and values copied into a
        preallocated cache row for every prompt that shares it. Returns the cache (one (K, V) pair per
        layer, each (rows, kv_heads, width + max_new_tokens, head_dim)), the first logits (rows, vocab),
        the valid-position mask (rows, width + max_new_tokens) and the next position of each row."""
        distinct: dict[tuple[int, ...], int] = {}
        which = [distinct.setdefault(tuple(p), len(distinct)) for p in prompts]
        uniq = list(distinct)
        width = max(len(p) for p in uniq)
        ids = torch.full((len(uniq), width), self.pad_id, dtype=torch.long)
        attn = torch.zeros((len(uniq), width), dtype=torch.long)
        for r, p in enumerate(uniq):
            ids[r, width - len(p):], attn[r, width - len(p):] = torch.tensor(p, dtype=torch.long), 1
        ids, attn = ids.to(self.device), attn.to(self.device)
        position = (attn.cumsum(-1) - 1).clamp(min=0)
        dyn = DynamicCache()
        out = self.model(input_ids=ids, attention_mask=attn, position_ids=position, **{cache_keyword(self.model): dyn},
                         use_cache=True, logits_to_keep=1)
        idx = torch.tensor(which, device=self.device)
        n, total = len(prompts), width + max_new_tokens
        cache = []
        for layer in dyn.layers:
            keys, values = layer.keys, layer.values  # (uniq, kv_heads, width, head_dim)
            k = keys.new_zeros((n, keys.shape[1], total, keys.shape[3]))  # zeros: a full-width step reads
            v = values.new_zeros((n, values.shape[1], total, values.shape[3]))  # the columns it masks
            k[:, :, :width], v[:, :, :width] = keys[idx], values[idx]
            cache.append((k, v))
        valid = torch.zeros((n, total), dtype=torch.bool, device=self.device)
        valid[:, :width] = attn[idx].bool()
        return cache, out.logits[idx, -1], valid, attn.sum(-1)[idx]

    @staticmethod
    def _step(w: Weights, cache, tokens: torch.Tensor, pos: torch.Tensor, valid: torch.Tensor,
              column: int | torch.Tensor, full: bool = False) -> torch.Tensor:
        """One decode step for every cache row: token (rows,) at position pos (rows,), written at `column`.
        Returns the last hidden state (rows, hidden), before the final norm. `full`: column is a (1,) tensor,
        valid covers the whole cache and attention reads all of it, masked (shapes that do not change from
        step to step, for torch.compile)."""
        b, hq, hk, d, lin = tokens.shape[0], w.heads, w.kv_heads, w.head_dim, w.linear
        x = F.embedding(tokens, w.embed)  # (b, hidden)
        cos, sin = w.rotary(x, pos[:, None])  # (b, 1, d)
        mask = valid[:, None, None, :]  # (b, 1, 1, T)
        for layer, (k_cache, v_cache) in zip(w.layers, cache):
            h = _rms(x, layer["ln1"], w.eps)
            q = lin(h, *layer["q"]).view(b, hq, d)
            k = lin(h, *layer["k"]).view(b, hk, d)
            v = lin(h, *layer["v"]).view(b, hk, d)
            if layer["q_norm"] is not None:
                q, k = layer["q_norm"](q), layer["k_norm"](k)
            q, k = _rotate(q, cos, sin), _rotate(k, cos, sin)
            # the hq // hk query heads of one kv head are that head's queries: (b, hk, hq // hk, d)
            if full:  # plain products: torch.compile specialises scaled_dot_product_attention's key length
                k_cache.index_copy_(2, column, k[:, :, None])
                v_cache.index_copy_(2, column, v[:, :, None])
                scores = torch.matmul(q.view(b, hk, hq // hk, d), k_cache.transpose(-1, -2)) * d ** -0.5
                o = torch.matmul(scores.masked_fill(~mask, float("-inf")).softmax(-1), v_cache)
            else:
                k_cache[:, :, column], v_cache[:, :, column] = k, v
                o = F.scaled_dot_product_attention(q.view(b, hk, hq // hk, d), k_cache[:, :, : column + 1],
                                                   v_cache[:, :, : column + 1], attn_mask=mask)
            x = x + lin(o.reshape(b, hq * d), *layer["o"])
            h = _rms(x, layer["ln2"], w.eps)
            x = x + lin(layer["act"](lin(h, *layer["gate"])) * lin(h, *layer["up"]), *layer["down"])
        return x


class CompiledStaticSampler(StaticCacheSampler):
    """`agent.sampler=static_compiled`: the static sampler with its decode step compiled by torch.compile
    (inductor; one graph with dynamic rows and cache width, compiled on the first round of a process and
    kept in inductor's on-disk cache). The step attends over the whole preallocated cache so its shapes do
    not change from token to token, and multiplies by the plain weights (oneDNN-packed ones cannot be
    traced); inductor fuses the work between the products. On the 2-core CPU of the README: ~50 s to
    compile SmolLM2's step (~10 s from the disk cache), then 1.05-1.17x the tokens/s of `static` at
    32 rows and none at 128 (benchmarks/sampler_variants.py --compile, benchmarks/sampler.py), so it pays
    off on long runs with small rounds, not on the quick start.
    Where compiling fails (no C++ compiler, an unsupported op) it warns once and runs the step uncompiled."""

    pack = False
    _compiled = None  # one compiled step per process, shared by every instance

    def _decode(self, w: Weights, cache, tokens: torch.Tensor, pos: torch.Tensor, valid: torch.Tensor,
                column: int) -> torch.Tensor:
        cls = CompiledStaticSampler
        if cls._compiled is None:
            cls._compiled = torch.compile(StaticCacheSampler._step, dynamic=True)
        col = torch.tensor([column], device=tokens.device)
        if cls._compiled is not False:
            try:
                return cls._compiled(w, cache, tokens, pos, valid, col, True)
            except Exception as exc:  # noqa: BLE001 - any compiler failure: sample uncompiled instead
                warnings.warn(f"static_compiled: torch.compile failed ({type(exc).__name__}: {exc}); "
                              "the decode step runs uncompiled", RuntimeWarning, stacklevel=2)
                cls._compiled = False
        return self._step(w, cache, tokens, pos, valid, col, True)
