"""verl adapter: a reasongym env's tasks as verl parquet rows, scored by `compute_score` (pip install "reasongym[verl]").

    python -m reasongym.integrations.verl export env=math out=data/math            # train.parquet + test.parquet
    python -m reasongym.integrations.verl export env=gsm8k out=data/gsm8k           # file env: test.parquet only
    python -m reasongym.integrations.verl export env=math out=d n=5000 test_n=500 env.difficulty=2

    python -m verl.trainer.main_ppo data.train_files=data/math/train.parquet data.val_files=data/math/test.parquet \\
        reward.custom_reward_function.path=$(python -c "import reasongym.integrations.verl as m; print(m.__file__)") \\
        reward.custom_reward_function.name=compute_score ...
    (older verl: custom_reward_function.path=... custom_reward_function.name=compute_score at the top level)

Rows follow verl's data_preprocess examples: `data_source` (the reasongym env id), `prompt` (chat messages),
`ability` ("math" / "code"), `reward_model` ({"style": "rule", "ground_truth": the task as JSON}) and
`extra_info` (split, index, task_id, env_kwargs as JSON). verl loads this file by path
(`load_extern_object(path, "compute_score")`), so it imports nothing relative; `compute_score` rebuilds the
env from `data_source` + `extra_info` and scores with one `env.step`, returning {"score", "acc"} (verl logs
the extra keys). It never raises: a row that is not reasongym's, or a crashed grader, scores 0.0.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from reasongym.core import Task
from reasongym.integrations.common import rows, scorer, task_from_json, task_to_json


def compute_score(data_source: str, solution_str: str, ground_truth: str, extra_info: dict | None = None,
                  **kwargs: Any) -> dict[str, float]:
    """verl's reward-function contract; `data_source` is the env id, `ground_truth` the task JSON."""
    try:
        env_kwargs = json.loads((extra_info or {}).get("env_kwargs") or "{}")
        reward, verdict = scorer(data_source, env_kwargs).verdict(task_from_json(ground_truth), solution_str or "")
        return {"score": float(reward), "acc": float(bool(verdict.correct))}
    except Exception:  # noqa: BLE001 - a reward path never raises
        return {"score": 0.0, "acc": 0.0}


def score(env_id: str, task: Task | str, completion_text: str, **env_kwargs: Any) -> float:
    """The audit's entry: a completion scored through `compute_score`, as verl's reward manager calls it."""
    truth = task if isinstance(task, str) else task_to_json(task)
    extra = {"env_kwargs": json.dumps(env_kwargs, sort_keys=True, default=str)}
    return compute_score(env_id, completion_text, truth, extra)["score"]


def ability(env_id: str) -> str:
    from reasongym.registry import ENVS

    info = ENVS.get(env_id)
    return "code" if info is not None and "code" in info.verifier else "math"


def verl_rows(env_id: str, part: str, n: int | None, *, seed: int = 0, **env_kwargs: Any) -> list[dict]:
    """verl parquet rows for n tasks of the env built with env_kwargs; `part` ("train"/"test") -> extra_info.split."""
    kind = ability(env_id)
    return [{"data_source": env_id, "prompt": row["prompt"], "ability": kind,
             "reward_model": {"style": "rule", "ground_truth": row["task"]},
             "extra_info": {"split": part, "index": i, "task_id": row["task_id"], "env_kwargs": row["env_kwargs"]}}
            for i, row in enumerate(rows(env_id, n, seed=seed, **env_kwargs))]


def plan(env_id: str, env_kwargs: dict, n: int, test_n: int | None) -> dict[str, tuple[dict, int | None]]:
    """{file stem: (env kwargs, n)}: train + test for envs with train/held-out splits, else the env's tasks
    as test only (the shipped GSM8K / MATH-500 / HumanEval files are test sets)."""
    from reasongym.registry import ENVS

    splits = ENVS[env_id].splits if env_id in ENVS else ()
    if "split" in env_kwargs or not {"train", "heldout"} <= set(splits):
        return {"test": (env_kwargs, test_n)}
    return {"train": ({**env_kwargs, "split": "train"}, n), "test": ({**env_kwargs, "split": "heldout"}, test_n)}


def export(env: str, out: str | Path, *, n: int = 1000, test_n: int | None = 200, seed: int = 0,
           **env_kwargs: Any) -> dict[str, Path]:
    """Write <out>/train.parquet and/or <out>/test.parquet; returns the files written."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from reasongym.registry import resolve

    env_id, defaults = resolve(env)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for stem, (kwargs, count) in plan(env_id, {**defaults, **env_kwargs}, n, test_n).items():
        try:
            table = pa.Table.from_pylist(verl_rows(env_id, stem, count, seed=seed, **kwargs))
        except RuntimeError as exc:  # a procedural env with fewer distinct tasks than asked
            raise SystemExit(f"{env_id} {stem}: {exc}") from None
        pq.write_table(table, out / f"{stem}.parquet")
        written[stem] = out / f"{stem}.parquet"
    return written


def parse_args(argv: list[str]) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """`export key=value ...` -> (command, options, env kwargs); `env.X=V` go to the env, values as JSON."""
    if not argv or argv[0] != "export":
        raise SystemExit("usage: python -m reasongym.integrations.verl export env=<id|alias> out=<dir> "
                         "[n=1000] [test_n=200] [seed=0] [env.<kwarg>=<value> ...]")
    opts: dict[str, Any] = {}
    env_kwargs: dict[str, Any] = {}
    for arg in argv[1:]:
        key, sep, value = arg.partition("=")
        if not sep:
            raise SystemExit(f"argument {arg!r} is not key=value (e.g. env=math out=data/math)")
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = value
        (env_kwargs if key.startswith("env.") else opts)[key.removeprefix("env.")] = parsed
    unknown = set(opts) - {"env", "out", "n", "test_n", "seed"}
    if unknown or not {"env", "out"} <= set(opts):
        raise SystemExit(f"export needs env= and out= (and takes n=, test_n=, seed=, env.<kwarg>=); got {sorted(opts)}")
    return argv[0], opts, env_kwargs


def main(argv: list[str] | None = None) -> int:
    _, opts, env_kwargs = parse_args(list(sys.argv[1:] if argv is None else argv))
    test_n = opts.get("test_n", 200)
    written = export(str(opts["env"]), opts["out"], n=int(opts.get("n", 1000)),
                     test_n=None if test_n in (None, 0, "all") else int(test_n), seed=int(opts.get("seed", 0)),
                     **env_kwargs)
    for stem, path in written.items():
        import pyarrow.parquet as pq

        print(f"{stem}: {pq.read_metadata(path).num_rows} rows -> {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
