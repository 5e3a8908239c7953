"""GRPO, the whole algorithm on one screen (DeepSeekMath / DeepSeek-R1), with its common variants.

For each prompt, G completions o_1..o_G get rewards r_1..r_G. No value network: the baseline is the
group mean, so the advantage of every token of o_i is

    A_i = (r_i - mean(r)) / (std(r) + eps)          # GRPO;  Dr. GRPO drops the std: A_i = r_i - mean(r)

and the loss per sampled token t of o_i, with ratio rho = pi(t) / pi_old(t) and reference pi_ref, is

    -min(rho * A_i, clip(rho, 1 - eps_low, 1 + eps_high) * A_i) + beta * KL_k3(pi || pi_ref)

where KL_k3 = exp(ref - logp) - (ref - logp) - 1 (non-negative, unbiased). eps_high > eps_low is DAPO's
clip-higher. Tokens are averaged over the batch ("token", DAPO), per sequence then over sequences
("sequence", the original GRPO), or divided by a constant ("constant", Dr. GRPO: no length bias).

Only torch is imported here. Tests: tests/test_grpo.py checks each line against hand-computed values.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


def group_advantages(rewards: torch.Tensor, scale: bool = True, eps: float = 1e-4) -> torch.Tensor:
    """rewards (N, G) -> advantages (N, G). A group whose rewards are all equal gets zeros."""
    centred = rewards - rewards.mean(dim=1, keepdim=True)
    if not scale:
        return centred
    std = rewards.std(dim=1, keepdim=True, unbiased=True)
    return torch.where(std > 0, centred / (std + eps), torch.zeros_like(centred))


def kl_k3(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    """Per-token k3 estimate of KL(pi || pi_ref); zero where logp == ref_logp."""
    delta = ref_logp - logp
    return torch.exp(delta) - delta - 1


@dataclass(frozen=True)
class LossConfig:
    clip_low: float = 0.2
    clip_high: float = 0.2
    beta: float = 0.0
    norm: str = "token"  # "token" | "sequence" | "constant"
    max_tokens: int = 256  # the constant of norm="constant" (use max_new_tokens)


def policy_loss(logp: torch.Tensor, old_logp: torch.Tensor, adv: torch.Tensor, mask: torch.Tensor,
                cfg: LossConfig, ref_logp: torch.Tensor | None = None,
                n_tokens: float | None = None, n_seqs: float | None = None):
    """Clipped GRPO loss of a micro-batch, and statistics.

    logp, old_logp, ref_logp, mask: (B, T) over completion positions; adv: (B,) per sequence.
    n_tokens / n_seqs: the totals of the *whole* optimisation batch (all micro-batches, all processes),
    so that summing micro-batch losses gives the batch mean (defaults: this micro-batch's own counts).
    """
    mask = mask.to(logp.dtype)
    ratio = torch.exp(logp - old_logp)  # (B, T)
    a = adv.unsqueeze(1)  # (B, 1)
    unclipped = ratio * a
    clipped = torch.clamp(ratio, 1 - cfg.clip_low, 1 + cfg.clip_high) * a
    per_token = -torch.min(unclipped, clipped)  # (B, T)
    kl = kl_k3(logp, ref_logp) if ref_logp is not None else torch.zeros_like(logp)
    if cfg.beta and ref_logp is not None:
        per_token = per_token + cfg.beta * kl
    n_tokens = float(mask.sum()) if n_tokens is None else n_tokens
    n_seqs = float(mask.shape[0]) if n_seqs is None else n_seqs
    if cfg.norm == "token":
        loss = (per_token * mask).sum() / max(n_tokens, 1.0)
    elif cfg.norm == "sequence":
        loss = ((per_token * mask).sum(1) / mask.sum(1).clamp(min=1)).sum() / max(n_seqs, 1.0)
    elif cfg.norm == "constant":
        loss = (per_token * mask).sum() / (max(n_seqs, 1.0) * cfg.max_tokens)
    else:
        raise ValueError(f"unknown loss norm {cfg.norm!r}: use token, sequence or constant")
    with torch.no_grad():
        was_clipped = (unclipped != clipped).to(mask.dtype)
        stats = {
            "clip_frac": float((was_clipped * mask).sum()),  # sums: the caller divides by n_tokens
            "kl": float((kl * mask).sum()),
            "ratio": float((ratio * mask).sum()),
            "tokens": float(mask.sum()),
        }
    return loss, stats
