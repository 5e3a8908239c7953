"""File and Hugging Face loaders: presets on the shared GSM8K / MATH-500 data, formats, and error messages.

    python -m pytest -q tests/envs/math/test_files.py
"""

import json
from pathlib import Path

import gymnasium
import pytest

import reasongym  # noqa: F401 - registers the ids
from reasongym.envs.math.files import DataError, Fields, gsm8k_answer, last_boxed, load_hf, load_tasks
from reasongym.verifiers.math.verifier import MathVerifier

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
GSM8K, MATH500 = DATA / "gsm8k_test.jsonl", DATA / "math500_test.jsonl"
needs_data = pytest.mark.skipif(not GSM8K.exists(), reason=f"shared data not found at {DATA}")


@needs_data
def test_gsm8k_preset_on_the_shared_test_set():
    tasks = load_tasks(GSM8K, "gsm8k")
    assert len(tasks) == 1319
    first = tasks[0]
    assert first.answer == "18" and first.question.startswith("Janet")
    assert first.question.endswith("Put the final answer in \\boxed{}.")
    assert first.meta["row"] == f"{GSM8K}, line 1" and first.meta["kind"] == "gsm8k"
    assert "<<" not in first.meta["solution"] and first.meta["solution"].endswith("\\boxed{18}.")
    assert all("," not in t.answer and t.answer.lstrip("-").replace(".", "").isdigit() for t in tasks)
    # The converted rationales are correct worked solutions (GSM8K's own), so they verify.
    verdicts = MathVerifier().verify_batch(tasks.take(100), [t.meta["solution"] for t in tasks.take(100)])
    assert all(v.correct for v in verdicts)


@needs_data
def test_math_preset_on_math500_keeps_level_and_subject():
    tasks = load_tasks(MATH500, "math")
    assert len(tasks) == 500
    first = tasks[0]
    assert first.answer == "\\left( 3, \\frac{\\pi}{2} \\right)"
    assert first.meta["difficulty"] == 2 and first.meta["category"] == "Precalculus"
    assert first.meta["source_id"] == "test/precalculus/807.json"
    assert {t.meta["difficulty"] for t in tasks} == {1, 2, 3, 4, 5}


def test_math_preset_falls_back_to_the_last_box_of_the_solution(tmp_path):
    rows = [{"problem": "1+1?", "solution": "It is \\boxed{1} no, \\boxed{\\frac{4}{2}}.", "level": "Level 3",
             "subject": "Algebra"}]
    path = tmp_path / "math.json"
    path.write_text(json.dumps(rows))
    task = load_tasks(path, "math")[0]
    assert task.answer == "\\frac{4}{2}" and task.meta["difficulty"] == 3


def test_field_mapping_with_parquet_and_custom_names(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{"q": "What is 6 x 7?", "target": "The result is \\boxed{42}", "uid": 7, "topic": "times"}]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "t.parquet")
    fields = {"question": "q", "answer": "target", "extract": "boxed", "id": "uid", "meta": {"topic": "category"}}
    task = load_tasks(tmp_path / "t.parquet", fields, instruction=None)[0]
    assert (task.question, task.answer) == ("What is 6 x 7?", "42")
    assert task.meta["source_id"] == 7 and task.meta["category"] == "times"
    env = gymnasium.make("reasongym/MathFile-v0", path=str(tmp_path / "t.parquet"), fields=fields)
    env.reset(seed=0)
    assert env.step("\\boxed{42}")[1] == 1.0


def test_extractors():
    assert gsm8k_answer("so 5 + 5 = 10\n#### 1,234") == "1234"
    assert gsm8k_answer("no marker") is None
    assert last_boxed("a \\boxed{1} b \\boxed{\\frac{1}{2}} c") == "\\frac{1}{2}"
    assert last_boxed("\\fbox{x^{2}}") == "x^{2}" and last_boxed("nothing") is None


def write(tmp_path: Path, name: str, lines: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def test_bad_json_line_names_the_file_and_line(tmp_path):
    path = write(tmp_path, "bad.jsonl", ['{"question": "a", "answer": "#### 1"}', '{"question": "b", "answer": '])
    with pytest.raises(DataError, match=r"bad\.jsonl, line 2: not valid JSON.*Fix or delete that line"):
        load_tasks(path, "gsm8k")


def test_missing_field_names_the_file_line_and_field(tmp_path):
    path = write(tmp_path, "nofield.jsonl", ['{"question": "a", "answer": "#### 1"}', '{"question": "b"}'])
    with pytest.raises(DataError, match=r"nofield\.jsonl, line 2: field 'answer' is missing \(the row has: "
                                        r"question\)\. .*fields=\{'answer': \.\.\.\}"):
        load_tasks(path, "gsm8k")
    path = write(tmp_path, "nohash.jsonl", ['{"question": "a", "answer": "just 5"}'])
    with pytest.raises(DataError, match=r"nohash\.jsonl, line 1, field 'answer': gsm8k found no answer"):
        load_tasks(path, "gsm8k")
    path = write(tmp_path, "nobox.jsonl", ['{"problem": "a", "solution": "no box here"}'])
    with pytest.raises(DataError, match=r"nobox\.jsonl, line 1: no answer field 'answer' and no \\boxed"):
        load_tasks(path, "math")


def test_missing_file_wrong_format_and_unknown_mapping_keys(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope\.jsonl: no such file"):
        load_tasks(tmp_path / "nope.jsonl", "gsm8k")
    with pytest.raises(DataError, match="unknown format"):
        load_tasks(write(tmp_path, "data.csv", ["question,answer"]), "gsm8k")
    with pytest.raises(DataError, match=r"expected a JSON list"):
        load_tasks(write(tmp_path, "obj.json", ['{"question": "a"}']), "gsm8k")
    with pytest.raises(DataError, match="did you mean"):
        Fields.of({"questoin": "q"})
    with pytest.raises(DataError, match="unknown preset"):
        Fields.of("gsm9k")


def test_envs_without_a_path_say_what_to_pass():
    with pytest.raises(ValueError, match=r"path= \(a JSONL file with question and answer fields\)"):
        gymnasium.make("reasongym/MathFile-v0")
    with pytest.raises(ValueError, match=r"exactly one of path="):
        gymnasium.make("reasongym/GSM8K-v0", path="x.jsonl", hf="openai/gsm8k")


@needs_data
def test_file_envs_on_the_shared_data():
    env = gymnasium.make("reasongym/GSM8K-v0", path=str(GSM8K), limit=20)
    assert len(env.unwrapped.tasks) == 20
    obs, info = env.reset(seed=0)
    _, reward, terminated, _, _ = env.step(info["task"].meta["solution"])
    assert (reward, terminated) == (1.0, True)
    easy = gymnasium.make("reasongym/MATH500-v0", path=str(MATH500), levels=[1])
    assert {t.meta["difficulty"] for t in easy.unwrapped.tasks} == {1} and len(easy.unwrapped.tasks) > 20


@needs_data
def test_hugging_face_path_offline(tmp_path):
    datasets = pytest.importorskip("datasets")
    rows = [json.loads(line) for line in GSM8K.read_text().splitlines()[:4]]
    datasets.DatasetDict({"test": datasets.Dataset.from_list(rows)}).save_to_disk(str(tmp_path / "dd"))
    tasks = load_hf(str(tmp_path / "dd"), "gsm8k", split="test")
    assert [t.answer for t in tasks] == [gsm8k_answer(r["answer"]) for r in rows]
    assert tasks[0].meta["row"] == f"{tmp_path / 'dd'}[test] row 0"
    with pytest.raises(DataError, match=r"no split 'train'; it has \['test'\]"):
        load_hf(str(tmp_path / "dd"), "gsm8k", split="train")
    env = gymnasium.make("reasongym/GSM8K-v0", hf=str(tmp_path / "dd"), hf_split="test")
    assert len(env.unwrapped.tasks) == 4
    # load_dataset's packaged builders read local files without the network.
    (tmp_path / "m.jsonl").write_text(MATH500.read_text().split("\n", 3)[0] + "\n")
    tasks = load_hf("json", "math", split="train", data_files=str(tmp_path / "m.jsonl"),
                    cache_dir=str(tmp_path / "cache"))
    assert tasks[0].meta["source_id"] == "test/precalculus/807.json"
