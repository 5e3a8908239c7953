"""Where benchmark data files come from: one lookup for every loader, so a plain `pip install` works offline.

GSM8K test, MATH-500, HumanEval and MBPP ship inside the package (`reasongym/datasets/`, gzipped, with
their licences and SOURCES.md). A file is looked for, in order:

    1. the explicit path the caller passes (`gym.make(..., path=...)`, `env.path=`)
    2. $REASONGYM_DATA/<name>                     (a folder of your own copies)
    3. the package data, reasongym/datasets/<name>[.gz]
    4. ../shared/data/<name> beside the checkout   (this project's machines only; files too big to ship)

Each folder is searched for `<name>` and for `<name>.gz` (or without `.gz`), so `gsm8k_test.jsonl` finds the
shipped `gsm8k_test.jsonl.gz`. $REASONGYM_SHARED_DATA replaces the folder of step 4 (tests point it at an
empty folder to play a user who has no `../shared`).

    from reasongym.data import data_file
    data_file("gsm8k_test.jsonl")                   # Path to the shipped gsm8k_test.jsonl.gz
    data_file("mbpp.jsonl", path="my/mbpp.jsonl")   # the explicit path wins (it must exist)
    python -m reasongym.data                        # where each shipped file resolves on this machine

It also holds the two constants every split and held-out list agrees on: `split_of_key` (a hash of a
key, 20% held out: tasks split by id, rankings by their first user message) and HELDOUT_SEED (the seed
of the fixed held-out list that both the trainer's evaluations and `reasongym.evaluate` draw).
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

HELDOUT_PERCENT = 20  # share of every task space (procedural, files, rankings) held out for evaluation
HELDOUT_SEED = 12345  # seed of the fixed held-out task list of procedural envs (train and evaluate use it)


def split_of_key(key: str, heldout_percent: int = HELDOUT_PERCENT) -> str:
    """'heldout' or 'train' from a hash of `key`: stable across runs, machines and file order."""
    bucket = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % 100
    return "heldout" if bucket < heldout_percent else "train"

PACKAGE_DATA = Path(__file__).resolve().parent / "datasets"
SHIPPED = ("gsm8k_test.jsonl", "math500_test.jsonl", "HumanEval.jsonl.gz", "mbpp.jsonl")
SOURCES = {
    "gsm8k_test.jsonl": "https://github.com/openai/grade-school-math (grade_school_math/data/test.jsonl)",
    "math500_test.jsonl": "https://github.com/openai/prm800k (prm800k/math_splits/test.jsonl)",
    "HumanEval.jsonl.gz": "https://github.com/openai/human-eval (data/HumanEval.jsonl.gz)",
    "mbpp.jsonl": "https://github.com/google-research/google-research (mbpp/mbpp.jsonl)",
}


def shared_data_dir() -> Path:
    """This project's shared data folder (../shared/data beside the checkout), or $REASONGYM_SHARED_DATA."""
    if os.environ.get("REASONGYM_SHARED_DATA"):
        return Path(os.environ["REASONGYM_SHARED_DATA"])
    return Path(__file__).resolve().parents[2] / "shared" / "data"


def data_dirs() -> list[Path]:
    """The folders searched after an explicit path, in order (steps 2-4 of the module docstring)."""
    user = [Path(os.environ["REASONGYM_DATA"])] if os.environ.get("REASONGYM_DATA") else []
    return [*user, PACKAGE_DATA, shared_data_dir()]


def _variants(name: str) -> tuple[str, ...]:
    return (name, name[:-3]) if name.endswith(".gz") else (name, name + ".gz")


def find_data_file(name: str) -> Path | None:
    """The first `name` (or its gzipped / plain twin) in `data_dirs()`, or None."""
    for folder in data_dirs():
        for variant in _variants(name):
            if (folder / variant).is_file():
                return folder / variant
    return None


def data_file(name: str, path: str | Path | None = None) -> Path:
    """`path` if given (it must exist), else the first match in `data_dirs()`; a clear error otherwise."""
    if path is not None:
        found = Path(path)
        if not found.is_file():
            raise FileNotFoundError(f"{found}: no such file (passed as path= for {name}). Check the path, or "
                                    f"leave path= out to use the copy that ships with reasongym.")
        return found
    found = find_data_file(name)
    if found is None:
        looked = ", ".join(str(d) for d in data_dirs())
        origin = f" (from {SOURCES[name]})" if name in SOURCES else ""
        raise FileNotFoundError(f"{name}: not found in {looked}. Pass path= to a copy of it{origin}, or set "
                                "REASONGYM_DATA to the folder that holds it.")
    return found


def main(argv: list[str] | None = None) -> int:
    names = list(argv if argv is not None else sys.argv[1:]) or list(SHIPPED)
    for name in names:
        print(f"{name:24s} {find_data_file(name) or 'NOT FOUND'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
