"""OpenRLHF adapter: `reward_func(queries, prompts, labels)` for `--reward.remote_url <this file>`.

OpenRLHF loads a reward function from a Python file (`spec_from_file_location("reward_func", path)`, then
`module.reward_func`) and calls it with lists of strings: `queries` (prompt + response decoded with the
special tokens kept), `prompts` (the prompt as rendered) and `labels` (the dataset's `--data.label_key`
column). Here each label is a reasongym row as JSON (`labels_for` / `jsonl` write them), so one file
serves every env:

    python -m reasongym.integrations.openrlhf export env=math out=data/math.jsonl n=5000
    python -m openrlhf.cli.train_ppo_ray --data.prompt_dataset data/math.jsonl --data.input_key prompt \\
        --data.label_key label --data.apply_chat_template \\
        --reward.remote_url $(python -c "import reasongym.integrations.openrlhf as m; print(m.__file__)") ...

The response is the query after its prompt: an exact prefix match first, else the text after the last
occurrence of the prompt's tail; trailing end-of-turn / padding special tokens are cut. A query whose
prompt cannot be found scores 0.0 (never the whole query: the prompt could hold an answer-shaped
string). Rewards and scores are torch tensors as OpenRLHF's example returns (lists without torch).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from reasongym.core import Task
from reasongym.integrations.common import rows, scorer, task_from_json, task_to_json

END_TOKENS = ("<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end_of_text|>", "</s>", "<eos>", "<|end|>",
              "<end_of_turn>", "<｜end▁of▁sentence｜>", "<|end▁of▁sentence|>", "<pad>", "<|pad|>")
TAIL = 64  # characters of the prompt's end used to find it when the decoded prefix differs


def response_of(query: str, prompt: str) -> str | None:
    """The response part of `query` (prompt + response), or None when the prompt is not found in it."""
    if query.startswith(prompt):
        response = query[len(prompt):]
    else:
        tail = prompt.strip()[-TAIL:]
        at = query.rfind(tail) if tail else -1
        if at < 0:
            return None
        response = query[at + len(tail):]
    changed = True
    while changed:
        stripped = response.rstrip()
        changed = False
        for token in END_TOKENS:
            if stripped.endswith(token):
                response, changed = stripped[: -len(token)], True
    return response


def labels_for(env_id: str, task: Task | str, **env_kwargs: Any) -> str:
    """The label string of one task (what the dataset's label column must hold)."""
    task_json = task if isinstance(task, str) else task_to_json(task)
    return json.dumps({"env_id": env_id, "env_kwargs": env_kwargs, "task": task_json}, ensure_ascii=False)


def score_one(query: str, prompt: str, label: str) -> tuple[float, float, bool]:
    """(reward, correct, located) for one sample; never raises."""
    try:
        response = response_of(query, prompt)
        if response is None:
            return 0.0, 0.0, False
        row = json.loads(label)
        reward, verdict = scorer(row["env_id"], row.get("env_kwargs") or {}).verdict(task_from_json(row["task"]),
                                                                                   response)
        return float(reward), float(bool(verdict.correct)), True
    except Exception:  # noqa: BLE001 - a reward path never raises
        return 0.0, 0.0, True


def reward_func(queries: list[str], prompts: list[str], labels: list[str]) -> dict[str, Any]:
    """OpenRLHF's contract: {"rewards", "scores", "extra_logs"}, one reward per query."""
    results = [score_one(q, p, lab) for q, p, lab in zip(queries, prompts, labels)]
    rewards = [r for r, _, _ in results]
    n = max(len(results), 1)
    logs = {"reasongym_correct": sum(c for _, c, _ in results) / n,
            "reasongym_unlocated": sum(1.0 for _, _, ok in results if not ok) / n}
    try:
        import torch

        as_tensor = torch.tensor(rewards, dtype=torch.float32)
        return {"rewards": as_tensor, "scores": as_tensor.clone(), "extra_logs": logs}
    except ImportError:
        return {"rewards": rewards, "scores": list(rewards), "extra_logs": logs}


def score(env_id: str, task: Task | str, completion_text: str, **env_kwargs: Any) -> float:
    """The audit's entry: a completion scored through `reward_func` on a chat-rendered query."""
    prompt = "<|im_start|>user\nsolve<|im_end|>\n<|im_start|>assistant\n"
    out = reward_func([prompt + completion_text + "<|im_end|>"], [prompt], [labels_for(env_id, task, **env_kwargs)])
    return float(out["rewards"][0])


def export(env: str, out: str | Path, *, n: int | None = 1000, seed: int = 0, **env_kwargs: Any) -> Path:
    """A JSONL prompt dataset for OpenRLHF: `prompt` (chat messages) and `label` (the reasongym row)."""
    from reasongym.registry import resolve

    env_id, defaults = resolve(env)
    kwargs = {**defaults, **env_kwargs}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as fh:
        for row in rows(env_id, n, seed=seed, **kwargs):
            fh.write(json.dumps({"prompt": row["prompt"], "label": labels_for(env_id, row["task"], **kwargs)},
                                ensure_ascii=False) + "\n")
    return out


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    opts = dict(a.split("=", 1) for a in args[1:] if "=" in a)
    if not args or args[0] != "export" or not {"env", "out"} <= set(opts):
        raise SystemExit("usage: python -m reasongym.integrations.openrlhf export env=<id|alias> out=<file.jsonl> "
                         "[n=1000] [seed=0] [env.<kwarg>=<json value> ...]")
    env_kwargs = {k[4:]: _json_or_str(v) for k, v in opts.items() if k.startswith("env.")}
    n = None if opts.get("n") == "all" else int(opts.get("n", 1000))
    path = export(opts["env"], opts["out"], n=n, seed=int(opts.get("seed", 0)), **env_kwargs)
    print(f"{sum(1 for _ in open(path))} rows -> {path}")
    return 0


def _json_or_str(value: str) -> Any:
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value if not re.fullmatch(r"\s*", value) else None


if __name__ == "__main__":
    raise SystemExit(main())
