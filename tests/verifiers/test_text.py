"""Tests of reasongym/verifiers/text.py: think-stripping, closed boxes, code fences, in linear time.

    python -m pytest -q tests/verifiers/test_text.py
"""

import time

import pytest

from reasongym.verifiers.text import code_fences, last_boxed, last_code_block, outside_code, strip_think


@pytest.mark.parametrize("text, expected", [
    (r"<think>\boxed{7}</think> so \boxed{8}", "8"),
    (r"The answer is \boxed{12", None),                         # never closed: no answer
    (r"\boxed{\frac{1}{2}} then \boxed{3", r"\frac{1}{2}"),     # the last CLOSED box
    (r"\boxed{\frac{1}{2} and \boxed{3}", "3"),
    ("The answer is \\boxed{7}.\n```python\nprint(r'\\boxed{8}')\n```", "7"),  # code is not prose
    ("```\n\\boxed{8}\n", None),                                # an unclosed fence hides the rest
    ("so \\boxed{7}, not `\\boxed{8}`", "7"),                    # inline code is code too
    (r"<think> \boxed{5}", None),                               # unclosed think hides the rest
    (r"\boxed{5} </think> no box", None),                       # a lone closing tag hides what is before
    (r"\fbox{x^{2}}", "x^{2}"),
    (r"\boxed 5.", "5"),
    (r"\\boxed{\{1, 2\}}", r"\{1, 2\}"),                        # double-escaped command, escaped braces
    (r"\boxed{a} \boxed{\boxed{4}}", r"\boxed{4}"),             # outermost box only
    ("nothing here", None),
])
def test_last_boxed(text, expected):
    assert last_boxed(text) == expected


def test_strip_think():
    assert strip_think("a <think> b </think> c <think> d").split() == ["a", "c"]
    assert strip_think("x </think> y").strip() == "y"
    assert strip_think("<think>" * 1000 + r"\boxed{1}").strip() == ""


def test_code_blocks():
    text = "x\n```python\na = 1\n```\ny\n~~~\nb = 2\n~~~\n```py\nc = 3"
    assert last_code_block(text) == "b = 2\n"
    assert last_code_block(text, closed_only=False) == "c = 3"
    assert [f.closed for f in code_fences(text)] == [True, True, False]
    assert outside_code(text).split() == ["x", "y"]
    assert last_code_block("<think>```\nz\n```</think> no code") is None


@pytest.mark.parametrize("text", [
    "The answer is \\boxed{" + "\\frac{1}{" * 100_000,
    "<think>" * 100_000 + "\\boxed{1}",
    "\\boxed 1 " * 100_000,
    "{" * 1_000_000,
    "```" * 300_000,
    "</think>" * 100_000,
    "<think>x</think>" * 100_000,
], ids=["unclosed-fracs", "think-opens", "bare-boxes", "braces", "fences", "think-closes", "think-pairs"])
def test_linear_time(text):
    start = time.perf_counter()
    last_boxed(text), last_code_block(text), strip_think(text)
    assert time.perf_counter() - start < 1.5
