"""The reward model: losses against hand-computed values, a tiny model learning a known preference rule,
HF-format save/load with identical scores, padding invariance, LoRA merge, resume, 2 processes = 1, the CLI."""

import json
import math
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from reasongym.reward import main as reward_main
from reasongym.rlhf.model import RewardModel, bradley_terry_loss, plackett_luce_loss
from reasongym.runs.log import read_jsonl

ROOT = Path(__file__).resolve().parents[2]
WORDS = "apple river stone cloud bread green quiet music paper light window garden".split()


def case_rankings(path: Path, n: int = 160, k: int = 2, seed: int = 0) -> Path:
    """A known rule: lowercase replies beat Titlecase ones, which beat UPPERCASE ones."""
    rng = random.Random(seed)
    with open(path, "w") as f:
        for i in range(n):
            reply = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 5)))
            versions = [reply, reply.title(), reply.upper()][:k]
            if k == 2:
                f.write(json.dumps({"prompt": f"Say something {i}", "chosen": versions[0], "rejected": versions[1]}) + "\n")
            else:
                order = rng.sample(range(k), k)  # listed shuffled, ranked by `ranks`
                f.write(json.dumps({"prompt": f"Say something {i}", "responses": [versions[j] for j in order],
                                    "ranks": [j + 1 for j in order]}) + "\n")
    return path


def rm_args(model_dir, data, run_dir, *extra):
    return ["train", f"data={data}", f"base={model_dir}", "trainable=full", "lr=3e-3", "batch_size=8",
            "micro_batch_size=8", "precision=fp32", f"run_dir={run_dir}", "plots=false", "warmup_frac=0", *extra]


def test_bradley_terry_and_plackett_luce_match_hand_computed_values():
    bt = bradley_terry_loss(torch.tensor([2.0, 0.0]), torch.tensor([1.0, 0.0]))
    assert bt.tolist() == pytest.approx([math.log(1 + math.exp(-1)), math.log(2)])
    s = torch.tensor([0.5, -0.3])
    assert float(plackett_luce_loss(s)) == pytest.approx(float(bradley_terry_loss(s[:1], s[1:])))
    s = torch.tensor([2.0, 1.0, 0.0])  # P(order) = e^2/(e^2+e+1) * e/(e+1)
    nll = -math.log(math.exp(2) / (math.exp(2) + math.e + 1)) - math.log(math.e / (math.e + 1))
    assert float(plackett_luce_loss(s)) == pytest.approx(nll / 2)


def test_tiny_model_learns_a_known_preference_rule(tiny_model_dir, tmp_path):
    data = case_rankings(tmp_path / "pairs.jsonl")
    folder = reward_main(rm_args(tiny_model_dir, data, tmp_path, "epochs=1", "eval_every=4"))
    metrics = read_jsonl(folder / "metrics.jsonl")
    train = [r for r in metrics if r["phase"] == "train"]
    held = [r for r in metrics if r["phase"] == "heldout"]
    assert train[0]["loss"] > 0.5 and train[-1]["loss"] < 0.3, [round(r["loss"], 3) for r in train]
    assert held[0]["step"] == 0 and held[0]["heldout_accuracy"] < 0.8  # the untrained head
    assert held[-1]["heldout_accuracy"] >= 0.95 and held[-1]["heldout_loss"] < held[0]["heldout_loss"]
    split = json.loads((folder / "split.json").read_text())
    assert split["train_rankings"] + split["heldout_rankings"] == 160
    assert (folder / "final" / "reward_model.json").exists() and (folder / "summary.json").exists()


def test_k_rankings_train_with_plackett_luce(tiny_model_dir, tmp_path):
    data = case_rankings(tmp_path / "ranked.jsonl", n=120, k=3)
    folder = reward_main(rm_args(tiny_model_dir, data, tmp_path, "loss=plackett-luce", "epochs=1"))
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["heldout_accuracy"] > 0.9 and summary["split"]["train_pairs"] == 3 * summary["split"]["train_rankings"]


def test_saved_model_loads_in_plain_transformers_with_the_same_scores(tiny_model_dir, tmp_path):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    rm = RewardModel.from_backbone(str(tiny_model_dir), trainable="lora", lora_r=4)
    with torch.no_grad():  # make the LoRA update non-zero so merging matters
        for n, p in rm.named_parameters():
            if "lora_B" in n or "score" in n:
                p.normal_(0, 0.5)
    prompts = [[{"role": "user", "content": "hi"}]] * 3
    replies = ["hello there", "no", "a much longer reply with many words in it"]
    before = rm.score(prompts, replies)
    alone = [rm.score(prompts[:1], [r])[0] for r in replies]
    assert before == pytest.approx(alone, abs=1e-5)  # padding in a batch changes nothing
    rm.save(tmp_path / "rm")
    assert not (tmp_path / "rm" / "adapter_config.json").exists()  # merged: a plain HF model
    assert RewardModel.load(tmp_path / "rm", precision="fp32").score(prompts, replies) == pytest.approx(before, abs=1e-4)
    tok = AutoTokenizer.from_pretrained(tmp_path / "rm")
    hf = AutoModelForSequenceClassification.from_pretrained(tmp_path / "rm").eval()
    texts = [tok.apply_chat_template(p + [{"role": "assistant", "content": r}], tokenize=False)
             for p, r in zip(prompts, replies)]
    enc = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False)
    with torch.no_grad():
        assert hf(**enc).logits.squeeze(-1).tolist() == pytest.approx(before, abs=1e-4)


def test_top_layers_and_truncated_backbone(tiny_model_dir):
    rm = RewardModel.from_backbone(str(tiny_model_dir), trainable="top", top_layers=1)
    trainable = {n for n, p in rm.named_parameters() if p.requires_grad}
    assert trainable and all(".layers.1." in n or "norm" in n or "score" in n for n in trainable)
    assert not any(".layers.0." in n for n in trainable)
    small = RewardModel.from_backbone(str(tiny_model_dir), trainable="full", layers=1)
    assert len(small.backbone.layers) == 1 and small.hf.config.num_hidden_layers == 1
    with pytest.raises(ValueError, match="layers=5: the backbone has 2"):
        RewardModel.from_backbone(str(tiny_model_dir), layers=5)


def test_resume_continues_the_same_curve(tiny_model_dir, tmp_path):
    data = case_rankings(tmp_path / "pairs.jsonl", n=100)
    common = rm_args(tiny_model_dir, data, tmp_path, "epochs=1", "save_every=5", "keep_checkpoints=5", "seed=3")
    straight = reward_main(common + ["name=straight"])
    cut = reward_main(common + ["name=cut"])
    steps = [r["step"] for r in read_jsonl(cut / "metrics.jsonl") if r["phase"] == "train"]
    last = max(steps)
    assert last > 5
    for p in (cut / "checkpoints").glob("step-*"):  # as if killed right after the step-5 checkpoint
        if int(p.name.split("-")[1]) > 5:
            shutil.rmtree(p)
    shutil.rmtree(cut / "final")
    reward_main(["train", f"resume={cut}"])
    a = [r["loss"] for r in read_jsonl(straight / "metrics.jsonl") if r["phase"] == "train"]
    b = [r["loss"] for r in read_jsonl(cut / "metrics.jsonl") if r["phase"] == "train"]
    assert len(b) == last and b == pytest.approx(a, abs=1e-6)


def test_eval_cli_reports_accuracy_interval_and_length_baselines(tiny_model_dir, tmp_path):
    data = case_rankings(tmp_path / "pairs.jsonl", n=80)
    folder = reward_main(rm_args(tiny_model_dir, data, tmp_path, "epochs=1"))
    res = subprocess.run([sys.executable, "-m", "reasongym.reward", "eval", f"rm={folder / 'final'}", f"data={data}",
                          "precision=fp32"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    report = json.loads((folder / "final" / "eval-pairs-heldout.json").read_text())
    assert report["ci95"][0] <= report["pairwise_accuracy"] <= report["ci95"][1]
    assert report["longer_wins_accuracy"] + report["shorter_wins_accuracy"] == pytest.approx(1.0)
    assert report["pairs"] == report["rankings"] and "pairwise accuracy" in res.stdout


def test_cli_without_a_command_says_what_to_run():
    res = subprocess.run([sys.executable, "-m", "reasongym.reward", "data=x"], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 2 and "first argument must be a command: train or eval" in res.stderr


def test_two_processes_follow_the_same_curve_as_one(tiny_model_dir, tmp_path):
    data = case_rankings(tmp_path / "pairs.jsonl", n=100)
    args = rm_args(tiny_model_dir, data, tmp_path, "eval_every=5")[1:]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    for name, launcher in (("one", []), ("two", ["-m", "torch.distributed.run", "--nproc_per_node", "2"])):
        res = subprocess.run([sys.executable, *launcher, "-m", "reasongym.reward", "train", *args, f"name={name}"],
                             cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
        assert res.returncode == 0, res.stderr[-2000:]
    one, two = (read_jsonl(tmp_path / n / "metrics.jsonl") for n in ("one", "two"))
    assert [r["step"] for r in one] == [r["step"] for r in two]
    for a, b in zip(one, two):
        assert a.get("loss", a.get("heldout_loss")) == pytest.approx(b.get("loss", b.get("heldout_loss")), abs=1e-4)


def test_a_bad_row_is_one_clear_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "p", "responses": ["a", "b"]}\n{"chosen": "x"}\n')
    res = subprocess.run([sys.executable, "-m", "reasongym.reward", "train", f"data={bad}", "base=/nowhere"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "bad.jsonl:2: missing field 'rejected'" in res.stderr
