"""The key=value CLI: shorthands, env kwargs, config files, and errors that name the key."""

import pytest

from reasongym.cli import ConfigError, field_docs, parse_cli
from reasongym.config import AgentConfig, TrainConfig


def test_overrides_shorthand_and_env_kwargs():
    cfg = parse_cli(TrainConfig, ["env=math", "env.difficulty=2", "agent.lr=3e-5", "agent.lora_r=16",
                                  "model=Qwen/Qwen2.5-0.5B-Instruct"])
    assert cfg.env.name == "math" and cfg.env.kwargs == {"difficulty": 2}
    assert cfg.agent.lr == 3e-5 and cfg.agent.lora_r == 16 and cfg.model == "Qwen/Qwen2.5-0.5B-Instruct"


def test_unknown_key_suggests_the_close_one():
    with pytest.raises(ConfigError, match="agent.group_size"):
        parse_cli(TrainConfig, ["agent.grop_size=4"])
    with pytest.raises(ConfigError, match="not key=value"):
        parse_cli(TrainConfig, ["env", "math"])


def test_wrong_type_names_the_key():
    with pytest.raises(ConfigError, match="group_size"):
        parse_cli(TrainConfig, ["agent.group_size=many"])


def test_config_file_then_command_line(tmp_path):
    f = tmp_path / "run.yaml"
    f.write_text("agent:\n  group_size: 4\n  lr: 1.0e-4\nenv:\n  name: math\n  difficulty: 3\nsteps: 7\n")
    cfg = parse_cli(TrainConfig, [f"config={f}", "steps=9"])
    assert cfg.agent.group_size == 4 and cfg.agent.lr == 1e-4 and cfg.steps == 9
    assert cfg.env.kwargs == {"difficulty": 3}
    bad = tmp_path / "bad.yaml"
    bad.write_text("agent:\n  learning_rate: 1\n")
    with pytest.raises(ConfigError, match="agent.learning_rate"):
        parse_cli(TrainConfig, [f"config={bad}"])
    with pytest.raises(ConfigError, match="not found"):
        parse_cli(TrainConfig, [f"config={tmp_path / 'missing.yaml'}"])


def test_every_field_is_documented():
    for cls in (TrainConfig, AgentConfig):
        docs = field_docs(cls)
        fields = [f for f in cls.__dataclass_fields__ if f not in ("env", "agent", "sft")]
        assert not [f for f in fields if not docs.get(f)], "undocumented config fields"


def test_the_quick_recipe_file_is_the_defaults_written_out():
    from pathlib import Path

    import yaml

    path = Path(__file__).parents[1] / "configs" / "recipes" / "quick.yaml"
    assert parse_cli(TrainConfig, [f"config={path}"]) == parse_cli(TrainConfig, [])
    written = yaml.safe_load(path.read_text())["agent"]
    assert {"curriculum", "curriculum_by_signal", "temperature", "replay"} <= set(written)  # the ones people change
