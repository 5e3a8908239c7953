"""Which policy a `policy=` entry means, and loading it.

    base | smollm2 | default          the embedded default policy (SmolLM2-135M-Instruct)
    Qwen/Qwen2.5-0.5B-Instruct        a Hugging Face name (needs the network or the HF cache) or local folder
    runs/math-001                     a training run: its final/ model; its train_tasks.jsonl is checked
    runs/math-001/final/adapter       a LoRA adapter folder: loaded over its base model
    runs/math-001/checkpoints/step-grpo-00010   a trainer checkpoint: the run's model + those weights
    oracle | oracle:wrong=0.3,silent=0.1,seed=1 the scripted oracle (reasongym.agents.policies.scripted)
    openai:http://host:8000/v1,model=NAME      an OpenAI-compatible server (reasongym.agents.policies.remote)

The label written on the command line names the policy everywhere (samples.jsonl keys, tables, plots).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reasongym.core import Policy, Task
from reasongym.evaluation.contamination import training_record


@dataclass(frozen=True)
class PolicySpec:
    label: str  # as the user wrote it
    kind: str  # "hf", "oracle" or "openai"
    target: str  # what gets loaded: model name or folder, or the spec string
    record: Path | None = None  # train_tasks.jsonl of the run it came from
    checkpoint: Path | None = None  # trainer checkpoint folder (model.pt) to load over the run's model

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "target": self.target, "training_record": str(self.record or ""),
                "checkpoint": str(self.checkpoint or "")}


def parse_policy(label: str) -> PolicySpec:
    label = str(label).strip()
    if not label:
        raise ValueError("empty policy name; use base, a model name or folder, a run folder, oracle or openai:URL")
    if re.fullmatch(r"[A-Za-z_]+=.*", label) and not Path(label).exists():
        raise ValueError(f"policy {label!r} looks like an option cut off from the entry before it: a list splits at "
                         'commas, so quote entries that have them: policy=[base,"openai:http://h:8000/v1,model=m"]')
    if label.startswith("openai:"):
        return PolicySpec(label, "openai", label)
    if label == "oracle" or label.startswith("oracle:"):
        return PolicySpec(label, "oracle", label)
    path = Path(label)
    if not path.is_dir():
        if label.startswith(("/", ".", "~")) or label.count("/") > 1:  # a hub id is at most owner/name
            raise FileNotFoundError(f"policy {label}: no such folder (a local path; a Hugging Face hub name "
                                    "looks like owner/name)")
        return PolicySpec(label, "hf", label)  # the embedded default or a hub name: models.py explains failures
    record = training_record(path)
    if (path / "model.pt").is_file() and (path / "state.json").is_file():
        run = path.resolve().parents[1]
        if not (run / "config.yaml").is_file():
            raise FileNotFoundError(f"policy {label}: a trainer checkpoint, but {run}/config.yaml (which names "
                                    "its model) is missing")
        return PolicySpec(label, "hf", str(run), record, checkpoint=path)
    if (path / "config.yaml").is_file() and not (path / "config.json").is_file():
        final = path / "final"
        if not final.is_dir():
            ckpts = sorted((path / "checkpoints").glob("step-*"))
            hint = f"; name a checkpoint, e.g. policy={ckpts[-1]}" if ckpts else ""
            raise FileNotFoundError(f"policy {label}: a run folder without final/ (still training?){hint}")
        return PolicySpec(label, "hf", str(final), record)
    return PolicySpec(label, "hf", str(path), record)


def load_policy(spec: PolicySpec, tasks: list[Task], *, device: str = "auto", precision: str = "auto") -> Policy:
    """Build the policy. The oracle is given every task of the evaluation (it answers from their gold)."""
    if spec.kind == "oracle":
        from reasongym.agents.policies.scripted import ScriptedPolicy

        return ScriptedPolicy.from_spec(spec.target, tasks)
    if spec.kind == "openai":
        from reasongym.agents.policies.remote import RemotePolicy

        return RemotePolicy.from_spec(spec.target)
    import torch

    from reasongym.agents.policies.hf import HFPolicy

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if spec.checkpoint is None:
        return HFPolicy.load(spec.target, device=device, precision=precision)
    return _load_checkpoint(spec, device, precision)


def _load_checkpoint(spec: PolicySpec, device: str, precision: str) -> Policy:
    import torch
    from omegaconf import OmegaConf

    from reasongym.agents.policies.hf import HFPolicy

    assert spec.checkpoint is not None
    cfg = OmegaConf.load(Path(spec.target) / "config.yaml")
    agent = cfg.get("agent", {})
    lora_r = int(agent.get("lora_r", 0) or 0)
    policy = HFPolicy.load(cfg.get("model", "smollm2"), device=device, precision=precision, lora_r=lora_r,
                           lora_alpha=int(agent.get("lora_alpha", 0) or 2 * lora_r),
                           lora_dropout=float(agent.get("lora_dropout", 0.0)))
    weights = torch.load(spec.checkpoint / "model.pt", map_location="cpu")
    params = dict(policy.model.named_parameters())
    unknown = [n for n in weights if n not in params]
    if unknown:
        raise ValueError(f"checkpoint {spec.checkpoint}: weights {unknown[:3]} do not exist in the run's model "
                         f"({cfg.get('model')}, lora_r={lora_r}); was the run's config.yaml changed?")
    with torch.no_grad():
        for name, value in weights.items():
            params[name].copy_(value)
    return policy
