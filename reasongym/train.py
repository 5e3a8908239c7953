"""`python -m reasongym.train env=math`: cold start, then GRPO, on any reasongym environment.

    python -m reasongym.train env=math name=math-001              # the embedded default policy, CPU is fine
    python -m reasongym.train env=math model=Qwen/Qwen2.5-0.5B-Instruct agent.lora_r=16 agent.group_size=8
    python -m reasongym.train resume=runs/math-001                # after a crash, SIGKILL or Ctrl-C
    torchrun --nproc_per_node 2 -m reasongym.train env=math       # or `accelerate launch`: N processes
    python -m reasongym.train --help                              # every field, its doc and default

Read top to bottom: check every setting, the environment and the model name (one line naming the key on
any mistake, before a model loads or a folder is made) -> open the run (reasongym/runs: folder, resume,
seeding, checkpoints) -> load the policy -> stage 1, the supervised cold start (agents/cold_start.py) ->
stage 2, GRPO (agents/grpo_stage.py) -> final/, summary.json, plots and a summary table. The newest complete
checkpoint decides where a resumed run continues. A run leaves runs/<name>/: config.yaml, metrics.jsonl,
samples.jsonl, train_tasks.jsonl (for contamination checks), checkpoints/, plots/, final/, summary.json.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from reasongym.cli import ConfigError, parse_cli, run_cli, to_yaml
from reasongym.config import TrainConfig, check_train_config
from reasongym.lm.models import check_model
from reasongym.registry import make, resolve
from reasongym.runs.progress import accuracy_line

COMMAND = "python -m reasongym.train"
# The learner, the policy and accelerate (transformers, ~10 s to import on a busy machine) are imported
# after the preflight, so a mistake on the command line is reported in about the time torch takes to load.


def main(argv: list[str] | None = None) -> Path:
    return run(parse_cli(TrainConfig, argv, prog="reasongym.train"))


def preflight(cfg: TrainConfig, sft_only: bool = False) -> tuple[TrainConfig, str, dict]:
    """Everything that can be checked before a model loads or a folder is made (one line per mistake)."""
    from reasongym.runs.run import load_resumed

    cfg = load_resumed(cfg, TrainConfig)
    check_train_config(cfg, sft_only=sft_only)
    env_id, env_kwargs = resolve(cfg.env.name)
    env_kwargs.update(cfg.env.kwargs)
    check_env("env", env_id, env_kwargs)
    if cfg.env.eval_name:
        check_env("env.eval_name", *resolve(cfg.env.eval_name))
    check_model(cfg.model)
    return cfg, env_id, env_kwargs


def run(cfg: TrainConfig, *, stages: tuple[str, ...] = ("sft", "grpo"), command: str = COMMAND) -> Path:
    cfg, env_id, env_kwargs = preflight(cfg, sft_only="grpo" not in stages)
    from reasongym.agents.cold_start import cold_start
    from reasongym.agents.grpo_stage import grpo
    from reasongym.runs.run import open_run

    with open_run(cfg, prefix=cfg.env.name, stages=("sft", "grpo"), command=command,
                  config_yaml=to_yaml(cfg)) as session:
        r = set_up(cfg, session, env_id, env_kwargs)
        where = session.state  # the newest complete checkpoint: {"stage", "step", ...} or None
        if "sft" in stages and cfg.sft.steps > 0 and (where is None or where["stage"] == "sft"):
            cold_start(r, session.latest if where else None, then_grpo="grpo" in stages,
                       evaluate="grpo" in stages or cfg.sft_eval)
            where = None  # GRPO starts from the weights in memory
        if "grpo" in stages:
            grpo(r, session.latest if where and where["stage"] == "grpo" else None)
        return finish(r)


def check_env(key: str, env_id: str, kwargs: dict) -> None:
    """Make the environment once (no model is loaded): a wrong argument or missing file is one line."""
    try:
        make(env_id, **kwargs).close()
    except (TypeError, ValueError, FileNotFoundError, KeyError) as exc:
        raise ConfigError(f"{key}: {env_id} {kwargs} cannot be made: {str(exc).splitlines()[0]} "
                          f"(see `python -m reasongym.envs` for its arguments)") from None


def set_up(cfg: TrainConfig, session, env_id: str, env_kwargs: dict):
    from reasongym.agents.policies.hf import HFPolicy
    from reasongym.agents.rollout import EnvPool
    from reasongym.agents.stages import Heldout, Recipe, heldout_tasks

    a, world = cfg.agent, session.acc.num_processes
    if a.prompts_per_step % world:
        raise ConfigError(f"agent.prompts_per_step={a.prompts_per_step} must divide evenly over {world} processes")
    policy = HFPolicy.load(cfg.model, device=session.acc.device, precision=cfg.precision, lora_r=a.lora_r,
                           lora_alpha=a.lora_alpha or 2 * a.lora_r, lora_dropout=a.lora_dropout, sampler=a.sampler)
    pool = EnvPool(env_id, env_kwargs, size=a.prompts_per_step // world * a.group_size)
    check_contract(pool.envs[0], cold_start=cfg.sft.steps > 0)
    check_multiturn_template(policy, pool.envs[0].unwrapped, cfg.model)
    eval_pool, eval_tasks = heldout_tasks(cfg, env_id, env_kwargs)
    session.say(f"reasongym.train: {env_id} {env_kwargs} | policy {policy.name} ({policy.precision}, "
                f"{f'LoRA r={a.lora_r}' if a.lora_r else 'full fine-tuning'}) | {world} process(es) | {session.folder}")
    heldout = Heldout(cfg, policy, eval_pool, eval_tasks, session, a.max_new_tokens)
    return Recipe(cfg, session, policy, env_id, pool, heldout, {"run": str(session.folder), "env": env_id,
                                                                 "env_kwargs": env_kwargs, "model": policy.name})


def check_contract(env, cold_start: bool) -> None:
    """What the trainer needs of an environment (envs/checker.py), checked before the first step."""
    from reasongym.envs.checker import EnvContractError, check_text_env

    try:
        check_text_env(env, cold_start=cold_start)
    except EnvContractError as exc:
        raise ConfigError(f"env: {exc}") from None


def check_multiturn_template(policy, env, model: str | None) -> None:
    """Multi-turn rows are the chat template re-rendered after every turn, so they are the sampled tokens
    only when each transcript renders as a prefix of the next (lm/template_check.py). Refuse otherwise."""
    if getattr(env, "max_turns", 1) <= 1:
        return
    from reasongym.lm.template_check import check_template

    report = check_template(policy.tokenizer, env_roles=getattr(env, "env_roles", ("user",)), think=True,
                            name=str(model or policy.name))
    if not report.ok:
        first = next(p for p in report.problems if p.kind != "tokens")
        raise ConfigError(f"model: the chat template of {policy.name} does not render each multi-turn transcript "
                          f"as a prefix of the next ({first.scenario}, turn {first.turn}: {first.detail}); GRPO "
                          "would score tokens the policy never sampled. Use a prefix-preserving template "
                          "(`python -m reasongym.check_template MODEL` shows the problems; for a tool env try "
                          "env.tool_role=user)")


def finish(r) -> Path:
    cfg, session, folder, summary = r.cfg, r.run, r.run.folder, r.summary
    session.acc.wait_for_everyone()
    if session.main:
        r.policy.save(str(folder / "final"))
        evals = [row for row in session.log.history if "heldout_accuracy" in row]
        grpo_evals = [row for row in evals if row.get("phase") == "grpo" and row.get("step")]
        if grpo_evals:
            summary["final_heldout_accuracy"] = grpo_evals[-1]["heldout_accuracy"]
        summary["minutes_total"] = session.minutes()
        summary["config"] = asdict(cfg)
        (folder / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
        if cfg.plots:
            session.log.plot()
        print(summary_table(evals, session.minutes(), folder, session.command.split()[-1]))
    session.acc.wait_for_everyone()
    return folder


def summary_table(evals: list[dict], minutes: float, folder: Path, prog: str = "reasongym.train") -> str:
    """Base, cold start, best and final GRPO held-out accuracy, the time, and where the files are."""
    first = {}
    for row in evals:
        first.setdefault("base" if row.get("phase") == "base" else "cold start" if row.get("phase") == "sft"
                         else "GRPO start" if not row.get("step") else "", row)
    grpo = [row for row in evals if row.get("phase") == "grpo" and row.get("step")]
    lines = {k: v for k, v in first.items() if k}
    if grpo:
        best = max(grpo, key=lambda row: row["heldout_accuracy"])
        lines[f"best GRPO (step {best['step']})"] = best
        lines[f"final GRPO (step {grpo[-1]['step']})"] = grpo[-1]
    out = ["", f"{prog}: done"]
    for name, row in lines.items():
        out.append("  " + accuracy_line(name, row["heldout_accuracy"], int(row.get("eval_tasks", 0)))
                   .replace("held-out accuracy ", "held-out ", 1))
    out += [f"  time: {minutes:.1f} min over all sessions",
            f"  files: {folder}/final (the policy), " + ", ".join(
                p.name + ("/" if p.is_dir() else "") for p in sorted(folder.iterdir()) if p.name != "final")]
    return "\n".join(out)


if __name__ == "__main__":
    run_cli(main, "reasongym.train")
