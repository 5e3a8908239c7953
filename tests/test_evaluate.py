"""`python -m reasongym.evaluate` end to end: scripted oracles with known error rates, resuming, held-out
integrity checks against a run folder (tiny HF model), the report files, and bad command lines."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reasongym.cli import ConfigError
from reasongym.evaluate import main
from reasongym.evaluation.samples import SampleStore
from reasongym.evaluation.suites import load_suite
from tests.fixtures.tiny_model import build_tiny_tokenizer


def evaluate(tmp_path: Path, *args: str, out: str = "ev") -> dict:
    folder = main([*args, f"out={tmp_path / out}", "progress=false"])
    return json.loads((folder / "results.json").read_text())


def test_oracles_score_what_they_should_and_the_paired_test_separates_them(tmp_path):
    res = evaluate(tmp_path, 'policy=[oracle,"oracle:wrong=0.5,seed=3"]', "env=math-heldout", "limit=60",
                   "samples=8")
    perfect, noisy = (res["results"][p]["math-heldout"]["metrics"] for p in ("oracle", "oracle:wrong=0.5,seed=3"))
    for metric in ("greedy", "pass@1", "pass@8", "maj@8"):
        assert perfect[metric]["mean"] == 1.0, metric
    assert perfect["format_failure"]["mean"] == 0.0 and perfect["reward"]["mean"] == 1.0
    assert 0.4 < noisy["pass@1"]["mean"] < 0.6 and noisy["pass@1"]["lo"] < 0.5 < noisy["pass@1"]["hi"]
    assert noisy["pass@8"]["mean"] > 0.95  # 1 - 0.5^8 per task
    assert noisy["pass@1"]["mean"] < noisy["maj@8"]["mean"] < noisy["pass@8"]["mean"]  # wrong answers split votes
    by_metric = {c["metric"]: c for c in res["comparisons"]}
    assert set(by_metric) == {"greedy", "pass@1"}
    for c in by_metric.values():
        assert c["significant"] and c["diff"] < 0 and c["hi"] < 0
        assert c["statement"].startswith("oracle beats oracle:wrong=0.5,seed=3")
    assert by_metric["greedy"]["test"] == "McNemar exact" and by_metric["greedy"]["a_only"] > 10
    kinds = res["results"]["oracle"]["math-heldout"]["breakdown"]["kind"]
    assert sum(g["n"] for g in kinds.values()) == 60 and len(kinds) >= 4
    env = res["envs"]["math-heldout"]
    assert env["n_tasks"] == 60 and len(env["tasks_sha"]) == 32 and len(env["task_ids"]) == 60
    assert res["seed"] == 0 and "python" in res["versions"] and res["config"]["samples"] == 8
    folder = tmp_path / "ev"
    board = (folder / "leaderboard.md").read_text()
    assert "| oracle | 100.0 [100.0, 100.0]" in board and "Paired comparisons" in board
    assert (folder / "leaderboard.png").stat().st_size > 10_000
    rows = [json.loads(line) for line in (folder / "samples.jsonl").read_text().splitlines()]
    assert len(rows) == 2 * 60 * (1 + 8)
    row = rows[0]
    assert row["prompt"][-1]["role"] == "user" and "\\boxed" in row["completion"]
    assert row["verdict"]["extracted"] == row["extracted"] and row["vote"]


def test_two_equally_good_oracles_are_not_called_different(tmp_path):
    res = evaluate(tmp_path, 'policy=["oracle:wrong=0.3,seed=1","oracle:wrong=0.3,seed=2"]', "env=math-heldout",
                   "limit=80", "samples=4")
    for c in res["comparisons"]:
        assert not c["significant"] and c["lo"] < 0 < c["hi"], c
        assert "no significant difference" in c["statement"]


def test_an_interrupted_run_resumes_without_redoing_finished_samples(tmp_path):
    args = ('policy=[oracle,"oracle:wrong=0.4,silent=0.2"]', "env=math-heldout", "limit=20", "samples=3",
            "batch_size=7")
    evaluate(tmp_path, *args)
    path = tmp_path / "ev" / "samples.jsonl"
    lines = path.read_text().splitlines()
    kept = lines[: len(lines) // 2]
    path.write_text("\n".join(kept) + "\n" + lines[len(kept)][:25])  # a kill mid-write: a torn last line
    with pytest.warns(UserWarning, match="incomplete last line"):
        res = evaluate(tmp_path, *args)
    after = path.read_text().splitlines()
    assert after[: len(kept)] == kept  # finished samples are untouched
    keys = [(r["policy"], r["env"], r["task_id"], r["mode"], r["sample"]) for r in map(json.loads, after)]
    assert len(keys) == len(set(keys)) == 2 * 20 * 4
    assert res["results"]["oracle"]["math-heldout"]["n_tasks"] == 20
    silent = res["results"]['oracle:wrong=0.4,silent=0.2']["math-heldout"]["metrics"]["format_failure"]
    assert 0.05 < silent["mean"] < 0.4
    # a third run finds everything done and writes the same numbers
    again = evaluate(tmp_path, *args)
    assert again["results"] == {**res["results"], **{p: {e: {**v, "seconds_this_session": 0.0} for e, v in envs.items()}
                                                      for p, envs in res["results"].items()}}


def test_sampling_is_reproducible_and_a_resumed_run_draws_the_same_samples(tmp_path, tiny_model_dir):
    args = (f"policy={tiny_model_dir}", "env=math-heldout", "limit=4", "samples=3", "max_new_tokens=6",
            "temperature=1.0", "batch_size=5", "precision=fp32")

    def completions(folder: str) -> dict:
        rows = map(json.loads, (tmp_path / folder / "samples.jsonl").read_text().splitlines())
        return {(r["task_id"], r["mode"], r["sample"]): r["completion"] for r in rows}

    evaluate(tmp_path, *args, out="a")
    evaluate(tmp_path, *args, out="b")
    assert completions("a") == completions("b") and len(completions("a")) == 4 * 4
    assert len({v for (_, mode, _), v in completions("a").items() if mode == "sample"}) > 6  # real sampling
    path = tmp_path / "b" / "samples.jsonl"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:6]) + "\n")  # killed after the first batches
    evaluate(tmp_path, *args, out="b")
    assert completions("a") == completions("b")


def test_resuming_with_other_sampling_settings_is_refused(tmp_path):
    evaluate(tmp_path, "policy=oracle", "env=math-heldout", "limit=5", "samples=1")
    with pytest.raises(ValueError, match="temperature=0.6, not 1.0"):
        evaluate(tmp_path, "policy=oracle", "env=math-heldout", "limit=5", "samples=1", "temperature=1.0")


def write_run(root: Path, model_dir: Path, questions: list[tuple[str, str]]) -> Path:
    """A run folder as reasongym.train leaves it: config.yaml, train_tasks.jsonl, final/ (a HF model)."""
    run = root / "runs" / "math-001"
    shutil.copytree(model_dir, run / "final")
    (run / "config.yaml").write_text("model: smollm2\n")
    rows = [{"phase": "grpo", "id": task_id, "question": q} for task_id, q in questions]
    (run / "train_tasks.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return run


def test_contamination_from_the_policys_run_is_reported_loudly(tmp_path, tiny_model_dir, capsys):
    heldout = load_suite("math-heldout", limit=12).tasks
    train = load_suite("math", limit=30).tasks  # the train split: disjoint from held-out by construction
    leaked = [(t.id, t.question) for t in heldout[:2]]  # shared task ids
    word = next(t for t in heldout[2:] if t.meta["kind"] == "word")  # a long question, reworded in training
    near = ("another-id", "Please solve this. " + word.question)
    run = write_run(tmp_path, tiny_model_dir, [(t.id, t.question) for t in train] + leaked + [near])
    args = (f"policy={run / 'final'}", "env=math-heldout", "limit=12", "samples=0", "max_new_tokens=4")
    res = evaluate(tmp_path, *args)
    c = res["contamination"][str(run / "final")]["math-heldout"]
    assert res["contaminated"] and not c["clean"] and c["checked"]
    assert (c["shared_ids"], c["contaminated_tasks"]) == (2, 3) and c["near_duplicates"] >= 1
    assert set(c["flagged_task_ids"]) == {t.id for t in heldout[:2]} | {word.id}
    assert c["source"].endswith("train_tasks.jsonl") and c["train_tasks"] == 33
    assert "CONTAMINATION" in capsys.readouterr().err
    assert "⚠ CONTAMINATION" in (tmp_path / "ev" / "leaderboard.md").read_text()
    clean = evaluate(tmp_path, *args, "decontaminate=true", out="ev-clean")
    assert clean["results"][str(run / "final")]["math-heldout"]["n_tasks"] == 9
    with pytest.raises(SystemExit, match="contaminated"):
        evaluate(tmp_path, *args, "strict=true", out="ev-strict")


def test_policy_entries_resolve_run_folders_and_trainer_checkpoints(tmp_path, tiny_model_dir):
    import torch

    from reasongym.evaluation.policies import load_policy, parse_policy

    run = write_run(tmp_path, tiny_model_dir, [])
    assert parse_policy(str(run)).target == str(run / "final")  # a run folder means its final model
    assert parse_policy(str(run)).record == run / "train_tasks.jsonl"
    assert parse_policy("base").kind == "hf" and parse_policy("oracle:wrong=0.2").kind == "oracle"
    (run / "config.yaml").write_text(f"model: {tiny_model_dir}\nagent:\n  lora_r: 0\n")
    ckpt = run / "checkpoints" / "step-grpo-00002"
    ckpt.mkdir(parents=True)
    (ckpt / "state.json").write_text('{"stage": "grpo", "step": 2}')
    name = "model.embed_tokens.weight"
    torch.save({name: torch.full((len(build_tiny_tokenizer()), 64), 0.5)}, ckpt / "model.pt")
    spec = parse_policy(str(ckpt))
    assert spec.checkpoint == ckpt and spec.record == run / "train_tasks.jsonl"
    policy = load_policy(spec, [], device="cpu", precision="fp32")
    assert torch.all(dict(policy.model.named_parameters())[name] == 0.5)  # the checkpoint's weights
    shutil.rmtree(run / "final")
    with pytest.raises(FileNotFoundError, match="without final/.*step-grpo-00002"):
        parse_policy(str(run))


def test_a_lora_adapter_folder_evaluates_over_its_base(tmp_path, tiny_model_dir):
    from reasongym.agents.policies.hf import HFPolicy

    run = write_run(tmp_path, tiny_model_dir, [])
    shutil.rmtree(run / "final")
    HFPolicy.load(str(tiny_model_dir), lora_r=4, precision="fp32").save(str(run / "final"))
    adapter = run / "final" / "adapter"
    assert (adapter / "adapter_config.json").exists()
    res = evaluate(tmp_path, f"policy={adapter}", "env=math-heldout", "limit=2", "samples=0", "max_new_tokens=3")
    assert res["results"][str(adapter)]["math-heldout"]["n_tasks"] == 2
    assert res["policies"][str(adapter)]["training_record"] == str(run / "train_tasks.jsonl")


def test_clean_training_record_passes_and_extra_records_apply_to_any_policy(tmp_path):
    train = load_suite("math", limit=40).tasks
    record = tmp_path / "train_tasks.jsonl"
    record.write_text("".join(json.dumps({"id": t.id, "question": t.question}) + "\n" for t in train))
    res = evaluate(tmp_path, "policy=oracle", "env=math-heldout", "limit=10", "samples=0", f"train_tasks=[{record}]")
    assert res["contamination"]["oracle"]["math-heldout"]["clean"] and not res["contaminated"]
    res = evaluate(tmp_path, "policy=oracle", "env=math-heldout", "limit=10", "samples=0", out="unchecked")
    assert res["contamination"]["oracle"]["math-heldout"]["checked"] is False


def test_file_benchmarks_come_from_the_bundled_data(tmp_path):
    res = evaluate(tmp_path, "policy=oracle", "env=[gsm8k,math500]", "limit=12", "samples=0")
    gsm, m500 = res["envs"]["gsm8k"], res["envs"]["math500"]
    assert gsm["n_tasks"] == m500["n_tasks"] == 12
    from reasongym.data import data_file

    assert list(gsm["files"]) == [str(data_file("gsm8k_test.jsonl"))]
    assert "reasongym/datasets" in list(gsm["files"])[0]  # the copy that ships with the package
    assert res["results"]["oracle"]["gsm8k"]["metrics"]["greedy"]["mean"] == 1.0  # worked solutions verify
    assert "difficulty" in res["results"]["oracle"]["math500"]["breakdown"]


def test_code_benchmarks_score_tests_and_count_missing_code_as_format_failures(tmp_path, shared_data):
    import reasongym.registry as registry

    if "reasongym/HumanEval-v0" not in registry.ENVS:
        pytest.skip("code environments are not registered in this checkout")
    res = evaluate(tmp_path, 'policy=[oracle,"oracle:silent=1"]', "env=[humaneval,mbpp]", "limit=3", "samples=0")
    assert res["envs"]["mbpp"]["kwargs"]["split"] == "heldout"  # the MBPP benchmark is its test split
    for env in ("humaneval", "mbpp"):
        assert res["results"]["oracle"][env]["metrics"]["greedy"]["mean"] == 1.0  # canonical solutions pass
        silent = res["results"]["oracle:silent=1"][env]["metrics"]
        assert silent["greedy"]["mean"] == 0.0 and silent["format_failure"]["mean"] == 1.0


def test_bad_command_lines_say_what_to_do(tmp_path):
    with pytest.raises(ValueError, match="quote entries"):
        main(["policy=[base,openai:http://h:1/v1,model=m]", f"out={tmp_path}"])
    with pytest.raises(ConfigError, match="Did you mean samples"):
        main(["sample=4"])
    with pytest.raises(ValueError, match="nothing to evaluate"):
        main(["samples=0", "greedy=false"])
    with pytest.raises(FileNotFoundError, match="runs/a/final: no such folder"):
        main(["policy=[oracle,runs/a/final]", f"out={tmp_path}"])  # found before any policy runs
    with pytest.raises(ValueError, match="same name twice"):
        main(["policy=[oracle,oracle]"])


def test_oracle_evaluation_needs_no_torch(tmp_path):
    code = ("import sys; from reasongym.evaluate import main; "
            f"main(['policy=oracle', 'env=math-heldout', 'limit=3', 'samples=1', 'out={tmp_path}', 'progress=false']); "
            "assert 'torch' not in sys.modules, 'torch was imported'")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_samples_store_ignores_nothing_silently(tmp_path):
    path = tmp_path / "samples.jsonl"
    path.write_text('{"policy": "a"\n{"policy": "b"}\n')
    with pytest.raises(ValueError, match="samples.jsonl:1: not valid JSON"):
        SampleStore(path)


def test_tool_envs_report_calls_errors_and_success_with_and_without_the_tool(tmp_path):
    """Per-task tool metrics and the success split, from rows as a tool env's verdicts write them."""
    from reasongym.evaluation.scoring import tool_success, tool_values

    res = evaluate(tmp_path, "policy=oracle", "env=jagged-heldout", "limit=4", "samples=0")
    r = res["results"]["oracle"]["jagged-heldout"]
    assert r["tools"] is None and "tool_calls" not in r["metrics"]  # no tool: no tool numbers
    rows = [{"correct": True, "verdict": {"tool_calls": 2, "tool_errors": 1, "tool_used": True}},
            {"correct": False, "verdict": {"tool_calls": 0, "tool_errors": 0, "tool_used": False}}]
    assert tool_values(rows) == {"tool_calls": 1.0, "tool_error": 0.5, "tool_used": 0.5}
    assert tool_values([{"verdict": {}}]) == {}  # not a tool env: no tool metrics
    assert tool_success({"t": {"sample": rows}}) == {"with_tool": {"episodes": 1, "success": 1.0},
                                                     "without_tool": {"episodes": 1, "success": 0.0}}
    res = evaluate(tmp_path, "policy=oracle", "env=jagged-tool-heldout", "limit=3", "samples=0", out="tool")
    r = res["results"]["oracle"]["jagged-tool-heldout"]  # the oracle answers at once, without a call
    assert r["metrics"]["tool_used"]["mean"] == 0.0 and r["tools"]["without_tool"] == {"episodes": 3, "success": 1.0}
    board = (tmp_path / "tool" / "leaderboard.md").read_text()
    assert "| used the tool | tool calls | a call failed |" in board
    assert "- oracle: success without tool 100.0% of 3" in board
