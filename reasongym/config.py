"""The training configuration: every knob of `python -m reasongym.train` and `python -m reasongym.sft`.

Each field has its documentation written under it; `python -m reasongym.train --help` prints them all.
Override any of them on the command line (`agent.lr=2e-5`), or in a YAML file passed as `config=FILE`.
The resolved config is saved as `runs/<name>/config.yaml`. The parser lives in `reasongym/cli.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reasongym.agents.grpo import LossConfig
from reasongym.cli import PRECISIONS, ConfigError, check_name, check_values


@dataclass
class EnvConfig:
    """The environment to train on (any registered id or alias; other env.* keys go to its constructor)."""

    _shorthand = "name"
    _extra = "kwargs"
    name: str = "math"
    """Environment id or alias: math, math-heldout, gsm8k, code, preference, or e.g. reasongym/Math-v0."""
    kwargs: dict[str, Any] = field(default_factory=dict)
    """Constructor arguments of the environment, usually written as env.<key>=value (env.difficulty=2)."""
    eval_name: str = ""
    """Environment for held-out evaluation during training; empty: the same one with split=heldout."""


@dataclass
class AgentConfig(LossConfig):
    """GRPO: sampling, the optimiser, and the loss knobs it inherits from agents/grpo.py's LossConfig
    (clip_low, clip_high, beta, loss_norm, max_new_tokens, scale_rewards: declared and documented there)."""

    group_size: int = 8
    """G: completions sampled per task; the group mean is the baseline of the advantage."""
    prompts_per_step: int = 6
    """Tasks per optimisation step (over all processes; each process owns whole groups). With
    dynamic_sampling these are groups with signal (refilled; a refill round that finds more than it needs
    trains on them all); without it, groups whose G rewards are all
    equal cost sampling only (no gradient). The long recipe (configs/recipes/long.yaml) uses 16."""
    top_p: float = 1.0
    """Nucleus sampling of training rollouts (1.0: off)."""
    sampler: str = "static"
    """Generation backend of the policy: static (a shared prefill, a preallocated KV cache and a lean decode
    step: agents/policies/static_sampler.py), static_compiled (the same with its decode step compiled by
    torch.compile: ~50 s to compile on 2 CPU cores, ~10 s from inductor's disk cache, then
    1.05-1.17x at 32 rows, none at 128: for long runs with small rounds), kv_cache (the plain loop),
    or module:Class of your own (see reasongym/agents/policies/sampler.py for the two methods it needs)."""
    pay_cut_off: bool = False
    """Pay a training reply that hit max_new_tokens without ending. false (default): it earns at most 0, so a
    policy cannot pad a boxed answer with junk up to the length limit (seen in the quick start at
    temperature 0.7: `\\boxed{3}}.}}.}}...` to 128 tokens); DAPO's overlong filtering, made a penalty."""
    dynamic_sampling: bool = True
    """DAPO's dynamic sampling: groups whose rewards are all equal (variance <= zero_var_eps) are not trained
    on, and the step is filled with groups that have signal by up to max_extra_rounds more rounds."""
    max_extra_rounds: int = 2
    """Budget of extra generation rounds per step for dynamic sampling (each at most prompts_per_step tasks)."""
    zero_var_eps: float = 1e-6
    """A group whose reward variance is at most this has no signal."""
    screen_size: int = 0
    """With dynamic_sampling: S samples of each new task first, the other group_size - S only for a task
    whose S rewards differ (0: off; 2..group_size-1). Tasks the policy always or never solves then cost S
    samples instead of G (agents/grpo_stage.py, _screened_rollouts)."""
    replay: int = 2
    """Tasks per step drawn again from those whose last group had signal (agents/replay.py), with fresh
    samples; the rest of the step is drawn as usual (0: off). A task on the policy's boundary usually
    still is one step later, so a replayed group has signal more often than a fresh one (two quick-start
    runs: 33 and 28 of 38 replayed groups had signal; 58% and 56% of generated tokens reached the loss,
    52% without replay)."""
    replay_max_uses: int = 2
    """Times one task may be drawn again (while its groups keep having signal)."""
    curriculum: bool = True
    """Pass-rate curriculum (agents/curriculum.py): ask the environment for tasks near curriculum_target,
    by (kind, difficulty) for procedural envs, by per-task history for file envs."""
    curriculum_by_signal: bool = False
    """Weigh a cell or task by the observed share of its groups that had signal, not by the chance its pass rate
    alone predicts (agents/curriculum.py). Off: on the quick start it gave 41% of groups without signal and 52% of
    tokens to the loss against 35% and 58% for the formula (one seed, same tasks; README Results)."""
    curriculum_target: float = 0.5
    """Pass rate an unseen cell or task is assumed to have; the curriculum weighs each by the chance that a
    group at its pass rate has signal (largest at 0.5)."""
    curriculum_max_difficulty: int = 0
    """Highest difficulty a procedural curriculum asks for (difficulties 1..this); 0: the environment's own
    difficulty (env.difficulty, 1 for reasongym/Math-v0), so training stays on the distribution the
    held-out split is drawn from. At 2 on the quick start, most difficulty-2 cells had a pass rate of 0
    and took a share of the draws without signal."""
    lr: float = 1e-5
    """Peak learning rate (AdamW). Full fine-tuning of 135M: ~1e-5..2e-5. 1e-5 is the quick start: 6 groups
    of 8 per step are noisy, and at 2e-5 a coin-flip reward cost 10 held-out points in 19 steps while the
    real one ended 5.5 below its cold start; at 1e-5 four seeds ended +2.0, +0.0, +1.5, +1.5 (README Results);
    at 5e-5 the noise cost 10 points by step 8. LoRA: ~1e-4..5e-4."""
    weight_decay: float = 0.0
    """AdamW weight decay."""
    warmup_steps: int = 0
    """Linear warm-up steps of the learning rate."""
    schedule: str = "constant"
    """Learning-rate schedule after warm-up: constant, linear or cosine (to zero at the last step)."""
    max_grad_norm: float = 1.0
    """Clip the gradient norm to this value (0: no clipping)."""
    micro_batch_size: int = 8
    """Sequences per forward/backward; gradients accumulate over micro-batches to the full step (the
    activations of one micro-batch are most of the memory: 4 x 200 tokens of SmolLM2 is about 1 GB)."""
    gradient_checkpointing: bool = False
    """Recompute each decoder layer's activations in backward instead of keeping them (about a third more
    training compute, a fraction of the activation memory). TRL's GRPOTrainer has it on by default."""
    mu: int = 1
    """Optimisation passes over each batch (mu > 1 reuses rollouts, with the stored old log-probs)."""
    lora_r: int = 0
    """LoRA rank; 0 trains all weights. With LoRA the reference is the base with the adapter disabled."""
    lora_alpha: int = 0
    """LoRA alpha; 0 means 2 * lora_r."""
    lora_dropout: float = 0.0
    """LoRA dropout."""


@dataclass
class SFTConfig:
    """The supervised cold start on the environment's worked solutions (DeepSeek-R1's first stage)."""

    steps: int = 32
    """Optimisation steps of the cold start before GRPO (0: skip it, e.g. when the model is already SFT).
    32 steps of 8 take SmolLM2 from 0% to 31% held-out (8 steps: 8.5%, its loss still falling fast); the
    price is a low sampling entropy (~0.1 nat per token), which is why rollouts sample at temperature 1.3 (agent.temperature)."""
    batch_size: int = 8
    """Worked solutions per step."""
    lr: float = 5e-5
    """Learning rate of the cold start."""
    seed: int = 1
    """Seed of the cold-start data (its tasks come from the training split)."""


@dataclass
class GuardConfig:
    """The reward-hacking guard (reasongym/agents/guard.py): on by default for learned rewards."""

    enabled: bool | None = None
    """true (any run), false, or unset: on exactly when the environment's reward is a learned reward model."""
    judge: str = ""
    """A second, held-out reward model (a folder) that scores every step's replies: an independent signal."""
    best_by: str = "auto"
    """Signal that picks best/: judge_score, verified_accuracy, reward (over healthy steps), or auto (first present)."""
    warmup: int = 3
    """First steps whose mean is the baseline of every signal."""
    window: int = 3
    """Steps in the trailing mean that is compared with the baseline."""
    patience: int = 3
    """Divergent steps in a row before the run stops."""
    stop: bool = True
    """Stop the run on divergence; false: only flag it and keep the best checkpoint."""
    min_reward_rise: float = 0.5
    """Divergence needs the reward up by this many baseline reply-stds while an independent signal collapses."""
    max_rep_rise: float = 0.25
    """Collapse: the share of repeated 3-grams in replies rises by more than this over the baseline."""
    min_distinct_ratio: float = 0.5
    """Collapse: distinct-2 of the step's replies falls below this fraction of the baseline."""
    max_len_ratio: float = 2.5
    """Collapse: reply length moves beyond this factor of the baseline, up or down."""
    max_kl: float = 0.0
    """Collapse: per-token KL to the reference above this budget (0: KL is measured and plotted, no limit)."""
    max_accuracy_drop: float = 0.5
    """Collapse: verified accuracy falls below its best by this share (and at least 5 points)."""
    max_judge_drop: float = 0.5
    """Collapse: the judge score falls below its best by this many of its baseline reply-stds."""
    kl_rows: int = 8
    """Rollouts per step whose KL to the reference is measured (0: none; full fine-tuning keeps a frozen copy)."""


@dataclass
class TrainConfig:
    """GRPO training of a causal LM on a reasongym environment (cold start first, then RL).

    python -m reasongym.train env=math name=math-001         # the embedded default policy, CPU is fine
    python -m reasongym.train env=math model=Qwen/Qwen2.5-0.5B-Instruct agent.lora_r=16
    python -m reasongym.train resume=runs/math-001           # continue a killed or stopped run
    """

    env: EnvConfig = field(default_factory=EnvConfig)
    agent: AgentConfig = field(default_factory=AgentConfig)
    sft: SFTConfig = field(default_factory=SFTConfig)
    guard: GuardConfig = field(default_factory=GuardConfig)
    """The reward-hacking guard: signals the reward cannot game, best checkpoint, stop on divergence."""
    model: str = "smollm2"
    """Policy to train: smollm2 (the embedded default), a Hugging Face name, or a local folder."""
    steps: int = 20
    """GRPO optimisation steps. The default is the quick start (about 30 minutes on 2 CPU cores, fp32);
    `config=configs/recipes/long.yaml` is the long recipe (60 steps of 16 tasks) for more time or a GPU."""
    time_budget_min: float = 34.0
    """Wall-clock budget of the whole run in minutes (0: none). GRPO takes no further step once one more step,
    the final held-out evaluation and the final save would not fit (estimated from this run's slowest of its
    last three steps, its last evaluation and its last checkpoint), so the quick start ends in time on a
    slower machine too, with fewer steps; at least one GRPO step always runs. The long recipe sets 0."""
    seed: int = 0
    """Seed of everything: task choice, sampling, initialisation of LoRA."""
    eval_every: int = 10
    """Held-out greedy evaluation every N steps (and before the first and after the last); 0: never."""
    eval_tasks: int = 200
    """Number of fixed held-out tasks in each evaluation."""
    save_every: int = 5
    """Checkpoint every N steps (model or adapter, optimizer, scheduler, RNG, step, data position)."""
    save_every_min: float = 0.0
    """Also checkpoint when this many minutes have passed since the last one (0: off), so an interrupted
    long run loses little. Each checkpoint of a full fine-tune of SmolLM2 is ~1.6 GB (weights + AdamW)."""
    keep_checkpoints: int = 2
    """How many recent checkpoints to keep on disk (the newest by stage, then step)."""
    precision: str = "auto"
    """Compute precision: auto (bf16 where the hardware is fast at it), bf16 or fp32."""
    run_dir: str = "runs"
    """Folder that holds the runs."""
    name: str = ""
    """Run name: the run goes to <run_dir>/<name> (letters, digits, . _ -); empty: <env>-NNN, the next free number."""
    resume: str = ""
    """Path of a run folder to continue from its last checkpoint (its config is reused)."""
    samples_to_log: int = 4
    """Completions written to samples.jsonl per step."""
    plots: bool = True
    """Write PNG plots of the curves at every evaluation and at the end."""
    sft_eval: bool = False
    """`python -m reasongym.sft` only: evaluate on the held-out tasks before and after the cold start."""


# ---- validation: every value checked before any model loads or any folder is made -------------------
SCHEDULES = ("constant", "linear", "cosine")


def check_train_config(cfg: TrainConfig, sft_only: bool = False) -> None:
    """Every TrainConfig value: ranges and choices (a ConfigError naming the key and what is allowed)."""
    a, s = cfg.agent, cfg.sft
    check_name(cfg.name)
    check_values([
        ("steps", cfg.steps, cfg.steps >= 1 or sft_only, "must be >= 1 (GRPO steps)"),
        ("sft.steps", s.steps, s.steps >= (1 if sft_only else 0), f"must be >= {1 if sft_only else 0}"),
        ("agent.group_size", a.group_size, a.group_size >= 2, "must be >= 2 (the group mean is the baseline)"),
        ("agent.prompts_per_step", a.prompts_per_step, a.prompts_per_step >= 1, "must be >= 1"),
        ("agent.mu", a.mu, a.mu >= 1, "must be >= 1 (passes over each batch)"),
        ("agent.max_extra_rounds", a.max_extra_rounds, a.max_extra_rounds >= 0, "must be >= 0 (0: no refill)"),
        ("agent.zero_var_eps", a.zero_var_eps, a.zero_var_eps >= 0, "must be >= 0"),
        ("agent.screen_size", a.screen_size, a.screen_size == 0 or 2 <= a.screen_size < a.group_size,
         "must be 0 (off) or 2..group_size-1 (samples that screen a task before the rest of its group)"),
        ("agent.replay", a.replay, 0 <= a.replay <= a.prompts_per_step,
         "must be 0 (off) or 1..prompts_per_step (tasks per step drawn again from the signal replay)"),
        ("agent.replay_max_uses", a.replay_max_uses, a.replay_max_uses >= 1, "must be >= 1"),
        ("agent.curriculum_target", a.curriculum_target, 0 < a.curriculum_target < 1, "must be in (0, 1)"),
        ("agent.curriculum_max_difficulty", a.curriculum_max_difficulty, 0 <= a.curriculum_max_difficulty <= 5,
         "must be in 1..5, or 0 (the environment's difficulty)"),
        ("agent.micro_batch_size", a.micro_batch_size, a.micro_batch_size >= 1, "must be >= 1"),
        ("agent.lr", a.lr, a.lr > 0, "must be > 0"), ("sft.lr", s.lr, s.lr > 0, "must be > 0"),
        ("sft.batch_size", s.batch_size, s.batch_size >= 1, "must be >= 1"),
        ("agent.temperature", a.temperature, a.temperature > 0, "must be > 0 for training rollouts"),
        ("agent.top_p", a.top_p, 0 < a.top_p <= 1, "must be in (0, 1]"),
        ("agent.weight_decay", a.weight_decay, a.weight_decay >= 0, "must be >= 0"),
        ("agent.warmup_steps", a.warmup_steps, a.warmup_steps >= 0, "must be >= 0"),
        ("agent.max_grad_norm", a.max_grad_norm, a.max_grad_norm >= 0, "must be >= 0 (0: no clipping)"),
        ("agent.schedule", a.schedule, a.schedule in SCHEDULES, f"use one of {', '.join(SCHEDULES)}"),
        ("agent.lora_r", a.lora_r, a.lora_r >= 0, "must be >= 0 (0: full fine-tuning)"),
        ("time_budget_min", cfg.time_budget_min, cfg.time_budget_min >= 0, "must be >= 0 (minutes; 0: no budget)"),
        ("save_every", cfg.save_every, cfg.save_every >= 1, "must be >= 1"),
        ("save_every_min", cfg.save_every_min, cfg.save_every_min >= 0, "must be >= 0 (0: off)"),
        ("keep_checkpoints", cfg.keep_checkpoints, cfg.keep_checkpoints >= 1, "must be >= 1"),
        ("eval_every", cfg.eval_every, cfg.eval_every >= 0, "must be >= 0 (0: never)"),
        ("eval_tasks", cfg.eval_tasks, cfg.eval_tasks >= 0, "must be >= 0"),
        ("samples_to_log", cfg.samples_to_log, cfg.samples_to_log >= 0, "must be >= 0"),
        ("precision", cfg.precision, cfg.precision in PRECISIONS, f"use one of {', '.join(PRECISIONS)}"),
        ("run_dir", cfg.run_dir, bool(cfg.run_dir), "must name a folder (e.g. runs)"),
    ])
    try:
        LossConfig.of(a).validate()
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
