"""A tiny, untrained reward model and a prompt file, for tests that only need Preference-v0 to exist.

    kwargs = preference_env_kwargs()     # {"rm": <folder>, "prompts": <file>}, built once per process
"""

from __future__ import annotations

import json
import tempfile
from functools import cache
from pathlib import Path


def build_tiny_rm(folder: Path) -> Path:
    from reasongym.rlhf.model import RewardModel
    from tests.tiny_model import build_tiny_model

    base = build_tiny_model(Path(folder) / "base")
    RewardModel.from_backbone(str(base), trainable="full").save(Path(folder) / "rm")
    return Path(folder) / "rm"


@cache
def preference_env_kwargs() -> dict[str, str]:
    folder = Path(tempfile.mkdtemp(prefix="reasongym-tiny-rm-"))
    prompts = folder / "prompts.jsonl"
    prompts.write_text("".join(json.dumps({"prompt": f"Tell me something about the number {i}."}) + "\n"
                               for i in range(20)))
    return {"rm": str(build_tiny_rm(folder)), "prompts": str(prompts)}
