"""Loading math tasks from files (JSONL, JSON, Parquet) and from Hugging Face datasets.

A `Fields` mapping says which field of a row holds the question, the answer (and how to pull the gold
answer out of it), an id, a worked solution and extra metadata. Two presets cover the common formats:

    gsm8k  question / answer, gold = the text after `####` with thousands commas removed; the answer's
           rationale becomes a worked solution ending in \\boxed{gold}
    math   MATH / MATH-500: problem / answer, or the last \\boxed{} of `solution` when there is no
           answer field; `level` -> meta["difficulty"], `subject` -> meta["category"]

    from reasongym.envs.math.files import load_tasks, load_hf
    tasks = load_tasks("grade_school_math/data/test.jsonl", "gsm8k")
    tasks = load_tasks("mine.parquet", {"question": "prompt", "answer": "target", "extract": "boxed"})
    tasks = load_hf("openai/gsm8k", "gsm8k", split="test", config="main")     # needs `datasets` and a network

Every bad row is an error naming the file, the line (JSONL) or row, the field, and what to do.
"""

from __future__ import annotations

import dataclasses
import difflib
import gzip
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reasongym.core import Task
from reasongym.envs.math.gen import INSTRUCTION
from reasongym.envs.tasks import TaskList
from reasongym.verifiers.text import last_boxed


class DataError(ValueError):
    """A data file or row that cannot be turned into tasks; the message says where and what to do."""


# -- answer extractors --------------------------------------------------------------------------------
def gsm8k_answer(text: str) -> str | None:
    """The gold number of a GSM8K answer: what follows `####`, thousands commas removed."""
    m = re.search(r"####\s*(.+?)\s*$", text.strip())
    return m.group(1).replace(",", "").strip() if m else None


def gsm8k_solution(text: str, answer: str) -> str:
    """A GSM8K rationale as a worked solution: calculator marks `<<...>>` dropped, `#### x` boxed."""
    body = re.sub(r"<<[^>]*>>", "", text.split("####")[0]).strip()
    return f"{body}\nThe answer is \\boxed{{{answer}}}."


EXTRACTORS: dict[str, Callable[[str], str | None]] = {"gsm8k": gsm8k_answer, "boxed": last_boxed,
                                                      "strip": lambda s: s.strip()}


# -- field mapping ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Fields:
    """Which row fields become which parts of a Task.

    question: field with the problem text.      answer: field with the gold answer (or its rationale).
    extract: turns the answer field into the gold: a name in EXTRACTORS or a function; None keeps it.
    box_from: when the answer field is absent or empty, take the last \\boxed{} of this field.
    solution: field with a worked solution (kept as meta["solution"]; must end in a box to be SFT data).
    id: field kept as meta["source_id"].        meta: row field -> meta key (e.g. {"level": "difficulty"}).
    """

    question: str = "question"
    answer: str = "answer"
    extract: str | Callable[[str], str | None] | None = None
    box_from: str | None = None
    solution: str | None = None
    id: str | None = None
    meta: Mapping[str, str] = field(default_factory=dict)
    kind: str = "file"  # meta["kind"] of the tasks

    @classmethod
    def of(cls, spec: Fields | str | Mapping[str, Any] | None) -> Fields:
        """A Fields from a preset name, a dict (optionally with "preset": name to start from), or itself."""
        if spec is None or isinstance(spec, Fields):
            return spec or cls()
        if isinstance(spec, str):
            if spec not in PRESETS:
                raise DataError(f"unknown preset {spec!r}; presets: {sorted(PRESETS)}")
            return PRESETS[spec]
        spec = dict(spec)
        base = cls.of(spec.pop("preset", None))
        names = {f.name for f in dataclasses.fields(cls)}
        for key in spec:
            if key not in names:
                close = difflib.get_close_matches(key, names, n=2)
                raise DataError(f"unknown field-mapping key {key!r}" + (f"; did you mean {close}?" if close else "")
                                + f" Keys: {sorted(names)}")
        return dataclasses.replace(base, **spec)


PRESETS: dict[str, Fields] = {
    "gsm8k": Fields("question", "answer", extract="gsm8k", solution="answer", kind="gsm8k"),
    "math": Fields("problem", "answer", box_from="solution", solution="solution", id="unique_id",
                   meta={"level": "difficulty", "subject": "category"}, kind="math"),
}


# -- reading rows ---------------------------------------------------------------------------------------
FORMATS = (".jsonl", ".jsonl.gz", ".json", ".parquet")


def read_rows(path: str | Path) -> Iterator[tuple[str, dict]]:
    """Yield (where, row) for every row of a JSONL / JSON / Parquet file; `where` is 'file, line n'."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file. Pass path= to an existing {'/'.join(FORMATS)} file.")
    name = path.name.lower()
    if name.endswith((".jsonl", ".jsonl.gz")):
        opener = gzip.open if name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as fh:
            for n, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DataError(f"{path}, line {n}: not valid JSON ({exc.msg}, column {exc.colno}). "
                                    f"Fix or delete that line.") from None
                yield f"{path}, line {n}", _as_object(row, f"{path}, line {n}")
    elif name.endswith(".json"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}, line {exc.lineno}: not valid JSON ({exc.msg}, column {exc.colno}).") from None
        if not isinstance(data, list):
            raise DataError(f"{path}: expected a JSON list of objects, got {type(data).__name__}. "
                            f"Use a list, or one object per line in a .jsonl file.")
        for i, row in enumerate(data):
            yield f"{path}, row {i} (0-based)", _as_object(row, f"{path}, row {i} (0-based)")
    elif name.endswith(".parquet"):
        import pyarrow.parquet as pq

        for i, row in enumerate(pq.read_table(path).to_pylist()):
            yield f"{path}, row {i} (0-based)", _as_object(row, f"{path}, row {i} (0-based)")
    else:
        raise DataError(f"{path}: unknown format; supported: {', '.join(FORMATS)}")


def _as_object(row: Any, where: str) -> dict:
    if not isinstance(row, dict):
        raise DataError(f"{where}: expected an object with named fields, got {type(row).__name__}.")
    return row


# -- rows to tasks ------------------------------------------------------------------------------------
def _field(row: dict, key: str, where: str, fields: Fields, required: bool = True) -> str | None:
    value = row.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if not required:
            return None
        have = ", ".join(sorted(row)) or "nothing"
        raise DataError(f"{where}: field {key!r} is {'empty' if key in row else 'missing'} (the row has: {have}). "
                        f"Fix the row, or map the right field, e.g. fields={{{_role(key, fields)!r}: ...}}.")
    return value if isinstance(value, str) else str(value)


def _role(key: str, fields: Fields) -> str:
    return next((f.name for f in dataclasses.fields(fields) if getattr(fields, f.name) == key), "question")


def _difficulty(value: Any) -> int | None:
    m = re.search(r"\d+", str(value))
    return int(m.group()) if m else None


def row_to_task(row: dict, where: str, fields: Fields, instruction: str | None, source: str) -> Task:
    """One row as a Task; raises DataError naming `where` and the field on any problem."""
    question = _field(row, fields.question, where, fields)
    raw = _field(row, fields.answer, where, fields, required=fields.box_from is None)
    if raw is None:
        text = _field(row, fields.box_from, where, fields)
        answer = last_boxed(text)
        if answer is None:
            raise DataError(f"{where}: no answer field {fields.answer!r} and no \\boxed{{}} in field "
                            f"{fields.box_from!r}. Add the answer or map another field.")
    else:
        extract = EXTRACTORS[fields.extract] if isinstance(fields.extract, str) else fields.extract
        answer = extract(raw) if extract else raw.strip()
        if not answer:
            how = fields.extract if isinstance(fields.extract, str) else "the extractor"
            raise DataError(f"{where}, field {fields.answer!r}: {how} found no answer in {raw[-80:]!r}. "
                            f"Is this the right preset for the file?")
    meta: dict[str, Any] = {"kind": fields.kind, "source": source, "row": where}
    if fields.id and row.get(fields.id) is not None:
        meta["source_id"] = row[fields.id]
    for key, name in fields.meta.items():
        if row.get(key) is not None:
            meta[name] = _difficulty(row[key]) if name == "difficulty" else row[key]
    if fields.solution and isinstance(row.get(fields.solution), str):
        text = row[fields.solution]
        meta["solution"] = gsm8k_solution(text, answer) if fields.extract == "gsm8k" else text
    prompt = f"{question}\n{instruction}" if instruction else question
    return Task.create(prompt, answer, **meta)


def to_tasks(rows: Iterable[tuple[str, dict]], fields: Fields | str | Mapping | None, *, source: str,
             limit: int | None = None, instruction: str | None = INSTRUCTION) -> TaskList:
    spec = Fields.of(fields)
    tasks = []
    for where, row in rows:
        if limit is not None and len(tasks) >= limit:
            break
        tasks.append(row_to_task(row, where, spec, instruction, source))
    if not tasks:
        raise DataError(f"{source}: no rows. Check the file (or the dataset split) is the one you meant.")
    return TaskList(tasks, name=source)


def load_tasks(path: str | Path, fields: Fields | str | Mapping | None = None, *, limit: int | None = None,
               instruction: str | None = INSTRUCTION) -> TaskList:
    """Tasks from a JSONL / JSON / Parquet file (first `limit` rows), mapped by `fields` (a preset name,
    a dict, or a Fields). Each prompt is the question followed by `instruction`."""
    return to_tasks(read_rows(path), fields, source=str(path), limit=limit, instruction=instruction)


def load_hf(name: str, fields: Fields | str | Mapping | None = None, *, split: str = "test",
            config: str | None = None, limit: int | None = None, instruction: str | None = INSTRUCTION,
            **load_kwargs: Any) -> TaskList:
    """Tasks from a Hugging Face dataset: a hub name (`openai/gsm8k`, config "main"), a local folder
    written by `Dataset.save_to_disk`, or a packaged builder with files (`load_hf("parquet", "math",
    split="train", data_files="x.parquet")`). Extra keyword arguments go to `datasets.load_dataset`.
    Needs `pip install datasets`."""
    try:
        import datasets
    except ImportError:
        raise ImportError("loading from Hugging Face needs the `datasets` package: pip install datasets") from None
    local = Path(name)
    if local.is_dir() and any((local / f).exists() for f in ("dataset_dict.json", "state.json")):
        ds = datasets.load_from_disk(str(local))
        if isinstance(ds, datasets.DatasetDict):
            if split not in ds:
                raise DataError(f"{name}: no split {split!r}; it has {sorted(ds)}. Pass split=...")
            ds = ds[split]
    else:
        ds = datasets.load_dataset(name, config, split=split, **load_kwargs)
    source = f"{name}[{split}]"
    return to_tasks(((f"{source} row {i}", row) for i, row in enumerate(ds)), fields, source=source,
                    limit=limit, instruction=instruction)
