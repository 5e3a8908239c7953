"""The learner on `accelerate`: runs the algorithm of grpo.py on token rows (micro-batches, old and
reference log-probs, gradient accumulation, the optimiser step) and checkpoints it.

What to optimise is decided elsewhere: each `Row` carries its advantage (rollout.set_advantages), which rows
are worth a forward pass is `grpo.trains`, the loss is `grpo.policy_loss` with the knobs of `LossConfig`.
One `Learner` serves both stages of the recipe: `sft_step` (cold start: negative log-likelihood of worked
solutions) and `grpo_step`. Each process owns whole groups; the loss of every micro-batch is divided by
the token (or sequence) count of the whole step over all processes, so N processes give the same update
as one process on the same data (DDP averages gradients, hence the factor `num_processes`). Reference
log-probs come from the base weights with the LoRA adapter disabled, or from a frozen copy when all
weights train; with beta=0 no reference forward is run. Schedule, accumulation and the clipped step are
runs/optim.py's (shared with the reward-model trainer).

Checkpoints (`save`/`load`) hold the trainable weights, optimizer, scheduler, every process's RNG states
and a JSON state (stage, step, data position), written atomically, so a SIGKILLed run resumes exactly.
Tests: tests/agents/test_policy.py (bf16 LoRA, gradient checkpointing), tests/test_trainer.py (two processes).
"""

from __future__ import annotations

import copy
import warnings
from contextlib import nullcontext
from pathlib import Path

import torch
from accelerate import Accelerator

from reasongym.agents.grpo import LossConfig, policy_loss, trains
from reasongym.agents.policies.hf import HFPolicy
from reasongym.agents.policies.sampler import release_memory
from reasongym.agents.rollout import Row
from reasongym.lm.logprobs import TokenLogProbs, causal_lm
from reasongym.lm.precision import autocast
from reasongym.runs.checkpoints import load_checkpoint, save_checkpoint, trainable_state
from reasongym.runs.optim import accumulating, lr_lambda, optimizer_step


class Learner:
    """Optimises a policy's trainable weights from token rows."""

    def __init__(self, policy: HFPolicy, accelerator: Accelerator, *, lr: float, total_steps: int,
                 warmup_steps: int = 0, schedule: str = "constant", weight_decay: float = 0.0,
                 max_grad_norm: float = 1.0, micro_batch_size: int = 8, loss: LossConfig | None = None,
                 gradient_checkpointing: bool = False):
        self.policy, self.acc = policy, accelerator
        # an AgentConfig will do; without one (the cold start) tokens are scored at temperature 1: NLL of the data
        self.loss_cfg = LossConfig.of(loss) if loss is not None else LossConfig(temperature=1.0)
        self.max_grad_norm, self.micro = max_grad_norm, micro_batch_size
        params = [p for p in policy.model.parameters() if p.requires_grad]
        if gradient_checkpointing:  # HF's decoder layers recompute in backward, in train mode only
            lm = causal_lm(policy.model)  # transformers 5 renamed the switch; older releases have only the first
            enable = getattr(lm, "activation_checkpointing_enable", None) or lm.gradient_checkpointing_enable
            enable({"use_reentrant": False})
            policy.model.train()
        if not params:
            raise ValueError("the policy has no trainable parameters")
        optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(warmup_steps, total_steps, schedule))
        # The scheduler stays unprepared: accelerate would step it once per process.
        scorer = TokenLogProbs(policy.model, temperature=self.loss_cfg.temperature)
        self.module, self.optimizer = accelerator.prepare(scorer, optimizer)
        self.scheduler = scheduler
        self.params = params
        self.ref: TokenLogProbs | None = None
        self.is_lora = hasattr(policy.model, "disable_adapter")
        if self.loss_cfg.beta > 0 and not self.is_lora:
            frozen = copy.deepcopy(policy.model).eval().requires_grad_(False)
            self.ref = TokenLogProbs(frozen, temperature=self.loss_cfg.temperature)

    # -- batches -----------------------------------------------------------------------------------
    def _tensors(self, rows: list[Row]):
        """Right-padded (B, T) ids and attention mask, the (B, T-1) mask of sampled targets, and how many
        leading tokens every row shares (a group's prompt: the decoder runs them once; 0 for none)."""
        width = max(len(r.input_ids) for r in rows)
        pad = self.policy.tokenizer.pad_token_id
        ids = torch.full((len(rows), width), pad, dtype=torch.long)
        attn = torch.zeros_like(ids)
        target = torch.zeros((len(rows), width), dtype=torch.float32)
        for i, r in enumerate(rows):
            n = len(r.input_ids)
            ids[i, :n], attn[i, :n] = torch.tensor(r.input_ids), 1
            target[i, :n] = torch.tensor(r.mask, dtype=torch.float32)
        prompts = {tuple(r.input_ids[:prompt_length(r)]) for r in rows}
        shared = len(next(iter(prompts))) if len(rows) > 1 and len(prompts) == 1 else 0
        dev = self.acc.device
        return ids.to(dev), attn.to(dev), target[:, 1:].to(dev), shared

    def _chunks(self, rows: list[Row]) -> list[list[Row]]:
        """Micro-batches of at most `micro` rows; the rows of one prompt (a GRPO group) go together, so that
        their prompt runs through the decoder once (lm/logprobs.py, `shared`); rows whose prompt no other
        row has are batched in order as they come."""
        by_prompt: dict[tuple[int, ...], list[Row]] = {}
        for r in rows:
            by_prompt.setdefault(tuple(r.input_ids[:prompt_length(r)]), []).append(r)
        groups = [g for g in by_prompt.values() if len(g) > 1]
        singles = [g[0] for g in by_prompt.values() if len(g) == 1]
        chunks = [g[i:i + self.micro] for g in groups for i in range(0, len(g), self.micro)]
        return chunks + [singles[i:i + self.micro] for i in range(0, len(singles), self.micro)]

    def _padded(self, chunks: list[list[Row]]) -> list[list[Row]]:
        """Pad with empty rows (mask 0: no gradient) up to the most micro-batches of any process, so that
        every process runs the same number of backward passes (DDP synchronises on each)."""
        at_least = int(self._global(len(chunks), "max"))
        return chunks + [[Row([self.policy.tokenizer.pad_token_id] * 2, [0, 0])]] * (at_least - len(chunks))

    def _global(self, value: float, op: str = "sum") -> float:
        if self.acc.num_processes == 1:
            return value
        t = torch.tensor([value], dtype=torch.float64, device=self.acc.device)
        return float(self.acc.gather(t).max()) if op == "max" else float(self.acc.reduce(t, reduction="sum"))

    @torch.no_grad()
    def logprobs(self, chunks: list[list[Row]], reference: bool = False) -> list[torch.Tensor]:
        """Per-micro-batch (B, T-1) log-probs without gradients (old policy, or the reference)."""
        out = []
        inner = self.acc.unwrap_model(self.module)
        for chunk in chunks:
            ids, attn, mask, shared = self._tensors(chunk)
            if reference and self.ref is not None:
                ctx, module = nullcontext(), self.ref
            else:
                ctx = self.policy.model.disable_adapter() if reference else nullcontext()
                module = inner
            with ctx, autocast(self.acc.device, self.policy.precision):
                out.append(module(ids, attn, mask, shared)[0].float())
        return out

    # -- the two objectives ------------------------------------------------------------------------
    def sft_step(self, rows: list[Row]) -> dict[str, float]:
        """One step of token-mean negative log-likelihood on the masked (assistant) tokens."""
        n_tokens = self._global(sum(sum(r.mask) for r in rows))

        def loss_fn(k, logp, ent, mask):
            nll = -(logp * mask).sum() / max(n_tokens, 1.0)
            return nll, {"nll": float(nll.detach()) * n_tokens, "tokens": float(mask.sum())}

        chunks = self._padded(self._chunks(rows))
        stats = self._accumulate(chunks, loss_fn)
        finish = self._finish()
        self.scheduler.step()
        return {"loss": stats["nll"] / max(n_tokens, 1), **finish}

    def grpo_step(self, rows: list[Row], mu: int = 1) -> dict[str, float]:
        """mu optimisation passes of the clipped GRPO loss over this process's rows, each with its
        `advantage` (agents/rollout.py's set_advantages).

        The loss is normalised by the token (or sequence) count of all rows of the step. Rows that cannot
        move the weights (grpo.trains: zero advantage without a KL term) are not run at all; a step where
        no row has signal leaves the weights unchanged.
        """
        n_tokens = self._global(sum(sum(r.mask) for r in rows))
        n_seqs = self._global(len(rows))
        chunks = self._padded(self._chunks([r for r in rows if trains(r.advantage, self.loss_cfg)]))
        if not chunks:
            with warnings.catch_warnings():  # the schedule advances although no optimizer step ran
                warnings.filterwarnings("ignore", message="Detected call of `lr_scheduler.step()`")
                self.scheduler.step()
            return {"loss": 0.0, "clip_frac": 0.0, "kl": 0.0, "ratio": 1.0, "entropy": 0.0, "grad_norm": 0.0,
                    "lr": self.scheduler.get_last_lr()[0], "tokens": n_tokens, "trained_tokens": 0.0}
        adv = [torch.tensor([r.advantage for r in c], dtype=torch.float32, device=self.acc.device)
               for c in chunks]  # (B,) per micro-batch; padding rows have advantage 0 and mask 0
        ref = self.logprobs(chunks, reference=True) if self.loss_cfg.beta > 0 else None
        old = self.logprobs(chunks) if mu > 1 else None
        for _ in range(mu):

            def loss_fn(k, logp, ent, mask):
                old_k = old[k] if old is not None else logp.detach()
                loss, stats = policy_loss(logp, old_k, adv[k], mask, self.loss_cfg,
                                          ref_logp=ref[k] if ref is not None else None,
                                          n_tokens=n_tokens, n_seqs=n_seqs)
                stats["entropy"] = float((ent * mask).sum())
                stats["loss"] = float(loss.detach())  # already divided by the step's token/sequence count
                return loss, stats

            stats = self._accumulate(chunks, loss_fn)
            finish = self._finish()
        self.scheduler.step()
        trained = self._global(stats["tokens"])
        totals = {key: self._global(stats[key]) / max(trained, 1) for key in ("clip_frac", "kl", "ratio", "entropy")}
        loss = self._global(stats["loss"])  # the step's loss (last of the mu passes), summed over processes
        return {"loss": loss, **totals, **finish, "tokens": n_tokens, "trained_tokens": trained}

    def _accumulate(self, chunks: list[list[Row]], loss_fn) -> dict[str, float]:
        """Forward/backward every micro-batch; gradients synchronise on the last one only."""
        self.optimizer.zero_grad(set_to_none=True)
        sums: dict[str, float] = {}
        for k, chunk in enumerate(chunks):
            ids, attn, mask, shared = self._tensors(chunk)
            with accumulating(self.acc, self.module, last=k == len(chunks) - 1):
                with autocast(self.acc.device, self.policy.precision):
                    logp, ent = self.module(ids, attn, mask, shared)
                loss, stats = loss_fn(k, logp.float(), ent, mask)
                self.acc.backward(loss * self.acc.num_processes)
            for key, v in stats.items():
                sums[key] = sums.get(key, 0.0) + v
        return sums

    def _finish(self) -> dict[str, float]:
        """Clip, step, zero (the schedule advances once per step, in the callers); the sampler re-syncs."""
        done = optimizer_step(self.acc, self.params, self.optimizer, self.scheduler, self.max_grad_norm,
                              step_scheduler=False)
        self.policy.mark_updated()
        release_memory()
        return done

    # -- checkpoints -------------------------------------------------------------------------------
    def trainable_state(self) -> dict[str, torch.Tensor]:
        return trainable_state(self.policy.model)

    def save(self, folder: Path, state: dict) -> None:
        save_checkpoint(self.acc, folder, self.policy.model, self.optimizer, self.scheduler, state)

    def load(self, folder: Path, *, weights_only_model: bool = False) -> dict:
        """Restore a checkpoint; weights_only_model keeps this learner's fresh optimizer (a new stage)."""
        self.policy.mark_updated()
        if weights_only_model:
            return load_checkpoint(self.acc, folder, self.policy.model)
        return load_checkpoint(self.acc, folder, self.policy.model, self.optimizer, self.scheduler)


def prompt_length(row: Row) -> int:
    """Tokens before the first sampled one: the prompt the row's group shares."""
    return next((i for i, m in enumerate(row.mask) if m), len(row.mask))
