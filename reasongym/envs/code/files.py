"""Loading HumanEval and MBPP files as code tasks ("assert" format, see `reasongym.verifiers.code.verifier`).

HumanEval (openai/human-eval `HumanEval.jsonl.gz`): the prompt (signature + docstring) is shown; the
test module's `check(candidate)` runs against the solution, with the prompt as trusted context (helpers
such as `poly` used by the tests) and as a preamble of the solution (imports, helper functions). A
solution that does not define the entry point itself is read as the body continuing the prompt.
meta["solution"] is prompt + canonical solution in a code block.

MBPP (google-research `mbpp.jsonl`): the problem text and its three test asserts are shown (the usual MBPP
prompt, which fixes the function name); test_setup_code runs before them; meta["solution"] is the
reference code. The entry point is the function the tests call that the reference code defines (so a
task whose function is named `sum` binds the candidate's `sum`, not the built-in). Splits by task id as published: prompt 1-10, heldout (MBPP's "test") 11-510, validation
511-600, train 601-974.

    from reasongym.envs.code.files import load_humaneval, load_mbpp
    tasks = load_humaneval()                     # the shipped HumanEval.jsonl.gz, or path=...
    tasks = load_mbpp(split="heldout", limit=50)

A row whose tests assert nothing (a HumanEval `test` without `check()` asserts, an MBPP test that is not
an assert, an empty test list) is a load error naming the file and line: it would pay any solution.
"""

from __future__ import annotations

import ast
import gzip
import json
import warnings
from collections.abc import Iterator
from pathlib import Path

from reasongym.core import Task
from reasongym.data import data_file as find_data
from reasongym.envs.tasks import TaskList
from reasongym.verifiers.code.asserts import test_plan

HUMANEVAL_FILE, MBPP_FILE = "HumanEval.jsonl.gz", "mbpp.jsonl"
SOURCES = {HUMANEVAL_FILE: "https://github.com/openai/human-eval (data/HumanEval.jsonl.gz)",
           MBPP_FILE: "https://github.com/google-research/google-research (mbpp/mbpp.jsonl)"}
MBPP_SPLITS = {"prompt": range(1, 11), "heldout": range(11, 511), "validation": range(511, 601),
               "train": range(601, 975)}
HUMANEVAL_INSTRUCTION = ("Complete this Python function. Answer with the whole function, including its "
                         "signature and any imports it needs, in one ```python code block.")
MBPP_INSTRUCTION = "Answer with the function (and any imports it needs) in one ```python code block."


def data_file(name: str, path: str | Path | None) -> Path:
    """`path`, else $REASONGYM_DATA, the copy shipped in the package, ../shared/data (`reasongym.data`)."""
    return find_data(name, path)


def jsonl_rows(path: Path) -> Iterator[tuple[str, dict]]:
    """(where, row) for each non-blank line of a .jsonl or .jsonl.gz file."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if line.strip():
                where = f"{path}, line {n}"
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as e:
                    raise ValueError(f"{where}: not valid JSON ({e.msg}, column {e.colno})") from None
                if not isinstance(row, dict):
                    raise ValueError(f"{where}: expected a JSON object, got {type(row).__name__}")
                yield where, row


def _get(row: dict, key: str, where: str, kind: type = str):
    value = row.get(key)
    if not isinstance(value, kind):
        raise ValueError(f"{where}: field {key!r} should be a {kind.__name__}, got {type(value).__name__}. "
                        "Is this the right file?")
    return value


def check_tests(where: str, answer: dict) -> None:
    """Raise, naming the row, unless the task's test code parses and asserts something."""
    try:
        plan = test_plan(answer.get("context") or "", answer.get("setup") or "", tuple(answer.get("tests") or ()),
                         answer.get("check_module") or "", answer.get("entry_point"))
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None
    if not plan.total:
        raise ValueError(f"{where}: the row's tests assert nothing (HumanEval needs a `def check(candidate):` "
                         "with asserts, MBPP a non-empty test_list of asserts), so any solution would pass; "
                         "fix or drop the row")


def mbpp_entry(code: str, tests: list[str]) -> str | None:
    """The function every test calls that the reference code defines at top level, or None."""
    try:
        with warnings.catch_warnings():  # MBPP's '\d' in plain strings
            warnings.simplefilter("ignore", (DeprecationWarning, SyntaxWarning))
            defined = {n.name for n in ast.parse(code).body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
            calls = [{n.func.id for n in ast.walk(ast.parse(t))
                      if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)} for t in tests]
    except SyntaxError:
        return None
    common = sorted(defined.intersection(*calls))
    return common[0] if len(common) == 1 else None


def load_humaneval(path: str | Path | None = None, *, limit: int | None = None) -> TaskList:
    """HumanEval problems as tasks (first `limit`)."""
    file = data_file(HUMANEVAL_FILE, path)
    tasks = []
    for where, row in jsonl_rows(file):
        prompt, entry = _get(row, "prompt", where), _get(row, "entry_point", where)
        answer = {"format": "assert", "entry_point": entry, "context": prompt, "preamble": prompt,
                  "check_module": _get(row, "test", where)}
        check_tests(where, answer)
        question = f"{HUMANEVAL_INSTRUCTION}\n\n```python\n{prompt.rstrip()}\n```"
        solution = f"```python\n{prompt}{row.get('canonical_solution', '')}```"
        tasks.append(Task.create(question, answer, kind="humaneval", source=str(file), row=where,
                                 source_id=_get(row, "task_id", where), solution=solution))
        if limit is not None and len(tasks) >= limit:
            break
    return TaskList(tasks, name="humaneval")


def load_mbpp(path: str | Path | None = None, *, split: str = "train", limit: int | None = None,
              challenge: bool = False) -> TaskList:
    """MBPP problems of one split as tasks; `challenge=True` adds the challenge_test_list asserts."""
    if split not in (*MBPP_SPLITS, "all"):
        raise ValueError(f"MBPP split must be one of {[*MBPP_SPLITS, 'all']}, got {split!r}")
    file = data_file(MBPP_FILE, path)
    tasks = []
    for where, row in jsonl_rows(file):
        task_id = _get(row, "task_id", where, int)
        if split != "all" and task_id not in MBPP_SPLITS[split]:
            continue
        tests = list(_get(row, "test_list", where, list))
        if not tests or not all(isinstance(t, str) for t in tests):
            raise ValueError(f"{where}: field 'test_list' should be a non-empty list of assert strings")
        shown = "\n".join(tests)
        if challenge:
            tests += list(row.get("challenge_test_list") or [])
        answer = {"format": "assert", "entry_point": mbpp_entry(row.get("code") or "", tests),
                  "setup": row.get("test_setup_code") or "", "tests": tests}
        check_tests(where, answer)
        question = f"{_get(row, 'text', where)}\nYour code should pass these tests:\n\n{shown}\n\n{MBPP_INSTRUCTION}"
        tasks.append(Task.create(question, answer, kind="mbpp", source=str(file), row=where, source_id=task_id,
                                 solution=f"```python\n{row.get('code', '')}\n```"))
        if limit is not None and len(tasks) >= limit:
            break
    if not tasks:
        raise ValueError(f"{file}: no MBPP rows in split {split!r}; is this the full 974-row mbpp.jsonl?")
    return TaskList(tasks, name=f"mbpp {split}")
