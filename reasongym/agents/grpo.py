"""GRPO, the whole algorithm on one screen (DeepSeekMath / DeepSeek-R1), with its common variants.

For each prompt, G completions o_1..o_G get rewards r_1..r_G. No value network: the baseline is the
group mean, so the advantage of every token of o_i is

    A_i = (r_i - mean(r)) / (std(r) + eps)          # GRPO;  Dr. GRPO drops the std: A_i = r_i - mean(r)

and the loss per sampled token t of o_i, with ratio rho = pi(t) / pi_old(t) and reference pi_ref, is

    -min(rho * A_i, clip(rho, 1 - eps_low, 1 + eps_high) * A_i) + beta * KL_k3(pi || pi_ref)

where KL_k3 = exp(ref - logp) - (ref - logp) - 1 (non-negative, unbiased). eps_high > eps_low is DAPO's
clip-higher. Tokens are averaged over the batch ("token", DAPO), per sequence then over sequences
("sequence", the original GRPO), or divided by a constant ("constant", Dr. GRPO: no length bias).

`LossConfig` is the one declaration of every knob of the algorithm: `AgentConfig` (reasongym/config.py)
derives from it, so `agent.clip_high=0.28` on the command line is this field. A new loss variant is a
field here, its few lines in `policy_loss`, and a test in tests/agents/test_grpo.py; nothing else changes.

Only torch is imported here. Tests: `python -m pytest -q tests/agents/test_grpo.py` checks each line against
hand-computed values.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch

LOSS_NORMS = ("token", "sequence", "constant")


@dataclass(kw_only=True)
class LossConfig:
    """The GRPO objective: advantages, clipping, KL penalty, token normalisation (knobs by keyword only)."""

    clip_low: float = 0.2
    """Lower clip of the importance ratio: 1 - clip_low."""
    clip_high: float = 0.28
    """Upper clip of the importance ratio: 1 + clip_high (DAPO clip-higher when > clip_low)."""
    beta: float = 0.0
    """Weight of the k3 KL penalty to the reference policy (0: no reference forward at all)."""
    loss_norm: str = "token"
    """How token losses are averaged: token (DAPO), sequence (original GRPO), constant (Dr. GRPO)."""
    max_new_tokens: int = 128
    """Longest completion sampled, in tokens; also the constant divisor of loss_norm=constant."""
    scale_rewards: bool = True
    """Divide advantages by the group std (GRPO); false: Dr. GRPO's centred rewards only."""
    temperature: float = 1.3
    """Sampling temperature of training rollouts. The learner scores tokens at the same temperature
    (logits / T), so ratio, entropy and KL are those of the distribution that sampled. 1.3: after the
    32-step cold start the policy's entropy is ~0.1 nat per token at 1.0, so a task's samples mostly agree;
    on the quick start 1.3 left 40% of groups all-equal against 48% at 1.0, and 0.7 more (README, Results)."""

    @classmethod
    def of(cls, cfg) -> LossConfig:
        """The loss knobs of any config that has them (an AgentConfig), as a LossConfig."""
        return cls(**{f.name: getattr(cfg, f.name) for f in fields(cls)})

    def validate(self, prefix: str = "agent.") -> None:
        """Raise ValueError naming the key when a knob is out of range (call before any model loads)."""
        if self.loss_norm not in LOSS_NORMS:
            raise ValueError(f"{prefix}loss_norm={self.loss_norm!r}: use one of {', '.join(LOSS_NORMS)}")
        if not (0 <= self.clip_low < 1 and self.clip_high >= 0):
            raise ValueError(f"{prefix}clip_low={self.clip_low}, {prefix}clip_high={self.clip_high}: need "
                             "0 <= clip_low < 1 and clip_high >= 0")
        if self.beta < 0:
            raise ValueError(f"{prefix}beta={self.beta}: the KL weight must be >= 0")
        if self.max_new_tokens < 1:
            raise ValueError(f"{prefix}max_new_tokens={self.max_new_tokens}: must be >= 1")


def group_advantages(rewards: torch.Tensor, scale: bool = True, eps: float = 1e-4) -> torch.Tensor:
    """rewards (N, G) -> advantages (N, G). A group whose rewards are all equal gets zeros."""
    centred = rewards - rewards.mean(dim=1, keepdim=True)
    if not scale:
        return centred
    std = rewards.std(dim=1, keepdim=True, unbiased=True)
    return torch.where(std > 0, centred / (std + eps), torch.zeros_like(centred))


def trains(advantage: float, cfg: LossConfig) -> bool:
    """Whether a row is worth a forward pass: with beta=0 a row whose advantage is exactly 0 (every row of
    a zero-variance group) has exactly zero gradient, so the learner skips it."""
    return advantage != 0 or cfg.beta > 0


def kl_k3(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    """Per-token k3 estimate of KL(pi || pi_ref); zero where logp == ref_logp."""
    delta = ref_logp - logp
    return torch.exp(delta) - delta - 1


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
    if cfg.loss_norm == "token":
        loss = (per_token * mask).sum() / max(n_tokens, 1.0)
    elif cfg.loss_norm == "sequence":
        loss = ((per_token * mask).sum(1) / mask.sum(1).clamp(min=1)).sum() / max(n_seqs, 1.0)
    elif cfg.loss_norm == "constant":
        loss = (per_token * mask).sum() / (max(n_seqs, 1.0) * cfg.max_new_tokens)
    else:
        raise ValueError(f"unknown loss norm {cfg.loss_norm!r}: use one of {', '.join(LOSS_NORMS)}")
    with torch.no_grad():
        was_clipped = (unclipped != clipped).to(mask.dtype)
        stats = {
            "clip_frac": float((was_clipped * mask).sum()),  # sums: the caller divides by n_tokens
            "kl": float((kl * mask).sum()),
            "ratio": float((ratio * mask).sum()),
            "tokens": float(mask.sum()),
        }
    return loss, stats
