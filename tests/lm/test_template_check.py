"""The multi-turn template check on tiny tokenizers built here: ChatML keeps every transcript a prefix of the
next; a Qwen3-like template that drops past <think> blocks does not; one without a tool role raises on it.

    OMP_NUM_THREADS=1 python -m pytest -q tests/lm/test_template_check.py      # ~10 s
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from reasongym.check_template import main
from reasongym.lm.template_check import (
    TemplateError,
    check_template,
    delta_text,
    render,
    require_multiturn_template,
)
from tests.fixtures.tiny_model import CHAT_TEMPLATE, build_tiny_tokenizer

# Qwen3's rule, reduced: an assistant turn before the last user message loses its <think> block.
QWEN3_LIKE = (
    "{%- set ns = namespace(last=0) -%}{%- for m in messages -%}{%- if m['role'] == 'user' -%}"
    "{%- set ns.last = loop.index0 -%}{%- endif -%}{%- endfor -%}"
    "{%- for m in messages -%}{%- set c = m['content'] -%}"
    "{%- if m['role'] == 'assistant' and loop.index0 < ns.last and '</think>' in c -%}"
    "{%- set c = c.split('</think>')[-1].lstrip('\\n') -%}{%- endif -%}"
    "<|im_start|>{{ m['role'] }}\n{{ c }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
NO_TOOL_ROLE = (
    "{%- for m in messages -%}{%- if m['role'] not in ['system', 'user', 'assistant'] -%}"
    "{{ raise_exception('Only user, assistant and system roles are supported') }}{%- endif -%}"
    "<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def tokenizer(template: str):
    tok = build_tiny_tokenizer()
    tok.chat_template = template
    return tok


def test_chatml_is_prefix_preserving_and_its_delta_is_the_true_suffix():
    tok = tokenizer(CHAT_TEMPLATE)
    report = check_template(tok, name="chatml")
    assert report.ok and not report.problems and len(report.scenarios) == 6
    assert require_multiturn_template(tok) == "prefix"
    first = [{"role": "user", "content": "2+2?"}]
    reply, tool = "```python\nprint(2+2)\n```", {"role": "tool", "content": "4"}
    assert render(tok, first) + reply + delta_text(tok, [tool]) == render(tok, [*first, {"role": "assistant",
                                                                                           "content": reply}, tool])


def test_a_template_that_drops_past_think_blocks_is_caught():
    tok = tokenizer(QWEN3_LIKE)
    report = check_template(tok, name="qwen3-like")
    assert not report.ok
    failing = {p.scenario for p in report.problems if p.kind == "prefix"}
    assert failing == {"user+think"}  # tool results after the last user turn keep the thinking, as in Qwen3
    assert "next rendering" in str(report) and "NOT prefix-preserving" in str(report)
    assert check_template(tok, think=False).ok  # without think blocks the same template is fine
    assert require_multiturn_template(tok, env_roles=["tool"]) == "prefix"
    with pytest.raises(TemplateError, match="user\\+think"):
        require_multiturn_template(tok, env_roles=["user"])
    assert require_multiturn_template(tok, fallback="delta") == "delta"


def test_a_template_without_a_tool_role_is_caught_and_the_user_role_passes():
    tok = tokenizer(NO_TOOL_ROLE)
    report = check_template(tok)
    assert {(p.scenario, p.kind) for p in report.problems} == {("tool", "render_error"), ("tool+think", "render_error"),
                                                              ("tool+system", "render_error")}
    assert "Only user, assistant and system" in str(report)
    assert check_template(tok, env_roles=["user"]).ok


def test_the_cli_exit_status_says_whether_the_template_is_safe(tmp_path, capsys):
    good, bad = tmp_path / "good", tmp_path / "bad"
    tokenizer(CHAT_TEMPLATE).save_pretrained(good)
    tokenizer(QWEN3_LIKE).save_pretrained(bad)
    assert main([str(good)]) == 0 and "prefix-preserving" in capsys.readouterr().out
    assert main([str(bad), "--json"]) == 1 and '"kind": "prefix"' in capsys.readouterr().out
    assert main([str(bad), "--roles", "tool"]) == 0
    assert main([str(tmp_path / "missing")]) == 2
    out = subprocess.run([sys.executable, "-m", "reasongym.check_template", str(bad)], capture_output=True,
                         text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"}, timeout=120)
    assert out.returncode == 1 and "user+think" in out.stdout


def test_a_generation_prompt_that_differs_from_the_rendered_turn_is_caught():
    # `{%- endif %}` eats the newline after `assistant`: generation starts on the header line, history does not
    tok = tokenizer(CHAT_TEMPLATE.replace("assistant\n{% endif %}", "assistant\n{%- endif %}"))
    report = check_template(tok, think=False, system=False)
    assert {p.scenario for p in report.problems if p.kind == "prefix"} == {"user", "tool"}
    assert "<|im_start|>assistant```python" in str(report)


def test_the_trainer_refuses_a_multiturn_env_with_a_non_prefix_template_and_accepts_chatml():
    import gymnasium as gym

    from reasongym.cli import ConfigError
    from reasongym.train import check_multiturn_template

    class Policy:
        name = "tiny"

        def __init__(self, template):
            self.tokenizer = tokenizer(template)

    multi = gym.make("reasongym/CodeMultiTurn-v0").unwrapped
    single = gym.make("reasongym/Math-v0").unwrapped
    check_multiturn_template(Policy(CHAT_TEMPLATE), multi, "tiny")  # prefix-preserving: accepted
    check_multiturn_template(Policy(QWEN3_LIKE), single, "tiny")    # one turn: nothing to check
    with pytest.raises(ConfigError, match="prefix of the next"):
        check_multiturn_template(Policy(QWEN3_LIKE), multi, "tiny")
