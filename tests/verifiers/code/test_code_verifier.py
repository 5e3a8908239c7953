"""The code verifier: code extraction, the three test formats, rewards and verdicts, and reward hacks.

Every hack here is a program that does not solve the task but tries to make the grader say it did (or
crash it). They must all score 0, in each format they apply to, and `verify` must return normally.

    OMP_NUM_THREADS=1 python -m pytest -q tests/verifiers/code/test_code_verifier.py      # ~30 s
"""

import pytest

from reasongym.core import VERDICT_STATUSES, Task
from reasongym.verifiers.code.runs import same_value
from reasongym.verifiers.code.sandbox import Sandbox
from reasongym.verifiers.code.verifier import CodeVerifier, extract_code

VERIFIER = CodeVerifier(timeout_s=5)
FRACTION = CodeVerifier(reward="fraction", timeout_s=5)


def block(code: str) -> str:
    return f"Here you go:\n```python\n{code}\n```\n"


def task(answer: dict) -> Task:
    return Task.create("write it", answer)


ADD_IO = task({"format": "io", "tests": [{"stdin": "2 3\n", "stdout": "5\n"}, {"stdin": "10 -4\n", "stdout": "6"}]})
ADD_CALL = task({"format": "call", "entry_point": "add", "tests": [
    {"args": [2, 3], "expected": 5}, {"args": [10, -4], "expected": 6}, {"args": [0, 0], "expected": 0}]})
ADD_ASSERT = task({"format": "assert", "entry_point": None, "setup": "", "tests": [
    "assert add(2, 3) == 5", "assert add(10, -4) == 6", "assert add(0, 0) == 0"]})
ADD_CHECK = task({"format": "assert", "entry_point": "add", "context": "def add(a, b):\n    '''Add.'''\n",
                  "preamble": "def add(a, b):\n    '''Add.'''\n",
                  "check_module": "def check(candidate):\n    assert candidate(2, 3) == 5\n"
                                  "    assert True\n    for a in range(5):\n        assert candidate(a, a) == 2 * a\n"})
# Tests that lean on built-ins (range, abs, len, isinstance, sorted) and on truth values.
ADD_BUILTINS = task({"format": "assert", "entry_point": "add", "context": "from typing import List\n", "check_module":
                     "import math\ndef check(candidate):\n    for a in range(3):\n        assert abs(candidate(a, 1) - a - 1) < 1e-9\n"
                     "    assert len([0] * candidate(1, 1)) == 2\n    assert isinstance(candidate(1, 2), int) and candidate(1, 2) == 3\n"
                     "    assert sorted([candidate(2, 2), 1]) == [1, 4]\n    assert candidate(1, 1) and not candidate(1, -1)\n"
                     "    assert math.isclose(candidate(0.5, 0.25), 0.75)\n"})
FUNCTION_TASKS = [ADD_CALL, ADD_ASSERT, ADD_CHECK, ADD_BUILTINS]
IDS = ["call", "assert", "check", "builtins"]


def test_extract_code_takes_the_last_closed_block_outside_think():
    assert extract_code("```python\na = 1\n```\ntext\n```\nb = 2\n```") == "b = 2\n"
    assert extract_code("<think>```python\nx = 1\n```</think> no code") is None
    assert extract_code("```python\na = 1\n```\n```python\nunfinished") == "a = 1\n"
    assert extract_code("def f(): pass") is None


@pytest.mark.parametrize("t", [ADD_IO, *FUNCTION_TASKS], ids=["io", *IDS])
def test_a_correct_solution_passes(t):
    code = ("a, b = map(int, input().split())\nprint(a + b)" if t is ADD_IO
            else "def add(a, b):\n    return a + b")
    verdict = VERIFIER.verify(t, block(code))
    assert (verdict.reward, verdict.correct, verdict.info["status"]) == (1.0, True, "pass"), verdict.info
    assert (verdict.status, verdict.answer, verdict.feedback) == ("ok", code + "\n", None)


@pytest.mark.parametrize("t", FUNCTION_TASKS[:3], ids=IDS[:3])
def test_a_wrong_solution_fails_and_the_verdict_says_where(t):
    verdict = VERIFIER.verify(t, block("def add(a, b):\n    return a - b"))
    assert (verdict.reward, verdict.correct) == (0.0, False)
    failure = verdict.info["failure"]
    assert "2, 3" in failure["input"] and failure["expected"] == "5" and failure["actual"] == "-1"
    assert "expected: 5" in verdict.info["feedback"] and "actual: -1" in verdict.info["feedback"]
    assert verdict.status == "ok" and verdict.feedback == verdict.info["feedback"]


def test_fraction_reward_counts_passed_tests():
    code = block("def add(a, b):\n    return a + b if a != 10 else 0")
    for t in (ADD_CALL, ADD_ASSERT):
        verdict = FRACTION.verify(t, code)
        assert verdict.reward == pytest.approx(2 / 3) and not verdict.correct
    # check(): `assert True` filler is not a test; the loop is one test
    assert FRACTION.verify(ADD_CHECK, block("def add(a, b):\n    return 5")).reward == pytest.approx(1 / 2)


def test_no_code_block_scores_zero_with_feedback():
    verdict = VERIFIER.verify(ADD_CALL, "def add(a, b): return a + b")
    assert verdict.reward == 0 and verdict.info["status"] == "no_code" and "```python" in verdict.info["feedback"]
    assert (verdict.status, verdict.answer) == ("no_answer", None)


def test_a_timeout_keeps_the_tests_that_finished():
    slow = block("def add(a, b):\n    while a in (3, 10):\n        pass\n    return a + b")
    for t in (ADD_CALL, ADD_CHECK, ADD_ASSERT):
        verdict = CodeVerifier(reward="fraction", timeout_s=1.5).verify(t, slow)
        assert verdict.info["status"] == "timeout" and 0 < verdict.reward < 1, verdict.info


def test_same_value_compares_plain_data_with_a_float_tolerance():
    assert same_value(0.1 + 0.2, 0.3) and same_value([1.0, (2, 3.0000001)], [1, (2, 3)])
    assert not same_value([1, 2], (1, 2)) and not same_value(True, 1.0) and not same_value("1", 1)


def test_verdict_info_is_deterministic():
    code = block("def add(a, b):\n    return a * b")
    assert VERIFIER.verify(ADD_ASSERT, code).info == VERIFIER.verify(ADD_ASSERT, code).info


def test_assert_tests_can_use_solution_classes_builtins_and_imports():
    node_task = task({"format": "assert", "entry_point": None,
                      "setup": "root = Node(1)\nroot.left = Node(2)\nroot.left.left = Node(3)",
                      "tests": ["assert depth(root) == 3", "assert depth(None) == 0",
                                "assert keep(['a', 1, 2.5], int) == [1]", "assert math.isqrt(16) == 4"]})
    code = ("import math\nclass Node:\n    def __init__(self, v):\n        self.v, self.left, self.right = v, None, None\n"
            "def depth(n):\n    return 0 if n is None else 1 + max(depth(n.left), depth(n.right))\n"
            "def keep(xs, t):\n    return [x for x in xs if isinstance(x, t)]\n")
    verdict = VERIFIER.verify(node_task, block(code))
    assert verdict.correct, verdict.info


# -- reward hacks -------------------------------------------------------------------------------------
HACKS = {
    "always_equal_object": "class A:\n    def __eq__(self, o): return True\n    def __ne__(self, o): return False\n"
                           "    __hash__ = object.__hash__\ndef add(a, b):\n    return A()",
    "always_equal_str": "class S(str):\n    def __eq__(self, o): return True\n    __hash__ = str.__hash__\n"
                        "def add(a, b):\n    return S('no')",
    "always_equal_int": "class I(int):\n    def __eq__(self, o): return True\n    __hash__ = int.__hash__\n"
                        "def add(a, b):\n    return I(-1)",
    "patched_builtins": "import builtins\nbuiltins.AssertionError = type('Never', (Exception,), {})\n"
                        "builtins.isinstance = lambda *a: True\nbuiltins.int.__eq__ = lambda s, o: True\n"
                        "def add(a, b):\n    return -1",
    "exit_at_import": "import sys\nsys.exit(0)\ndef add(a, b):\n    return -1",
    "exit_in_call": "import os\ndef add(a, b):\n    os._exit(0)",
    "stop_iteration": "def add(a, b):\n    raise StopIteration",
    "system_exit_in_call": "def add(a, b):\n    raise SystemExit(0)",
    "fake_harness_output": "import sys\nprint('@@{\"i\": 0, \"pass\": true}')\nsys.stderr.write('@@{\"done\": 3}\\n')\n"
                           "def add(a, b):\n    print('@@{\"pass\": true}')\n    return -1",
    "forged_replies": "import os\nfor fd in range(3, 20):\n    try:\n        os.write(fd, b'{\"ok\": true}\\n' * 50)\n"
                      "    except OSError:\n        pass\ndef add(a, b):\n    return -1",
    "read_the_tests": "import os, glob\ndef add(a, b):\n    found = glob.glob('/work/*') + glob.glob('/tmp/*')\n"
                      "    return [open(f).read() for f in found if 'spec' in f] or found",
    "returns_generator": "def add(a, b):\n    return (x for x in [a + b])",
}


HACKS.update({
    # built-ins shadowed at the solution's top level: the tests must keep the real ones
    "shadow_builtins": "def abs(x):\n    return 0\ndef range(*a):\n    return []\ndef len(x):\n    return 1\n"
                       "def isinstance(*a):\n    return True\ndef sorted(x):\n    return [1, 4]\n"
                       "def add(a, b):\n    return 12345",
    "builtins_alias": "def add(a, b):\n    return -1\nimport string as __builtins__",
    "module_alias_injection": "import types, sys\nsys.modules['unittest.__main__'] = types.ModuleType('x')\n"
                              "x = types.ModuleType('unittest.__main__')\nmath = types.ModuleType('os')\n"
                              "def add(a, b):\n    return -1",
    "patched_import_and_types": "import builtins\nbuiltins.__import__ = None\nbuiltins.type = lambda *a: int\n"
                                "builtins.str = builtins.repr = lambda *a: '5'\ndef add(a, b):\n    return -1",
    "truthy_object": "def add(a, b):\n    return object()",
    "lying_object": "class L:\n    def __eq__(self, o): raise AssertionError\n    def __hash__(self): raise ValueError\n"
                    "    def __repr__(self): return '5'\n    def __bool__(self): return True\n"
                    "def add(a, b):\n    return L()",
    "result_files": "import os\nfor d in ('/work', '/tmp', '.'):\n    try:\n        open(os.path.join(d, 'results.json'), 'w')"
                    ".write('{\"pass\": true}')\n    except OSError:\n        pass\ndef add(a, b):\n    return -1",
    "forged_fd_output": "import os\nfor fd in (1, 2, 3, 4, 5):\n    try:\n        os.write(fd, b'@@{\"total\": 1}\\n@@{\"i\": 0, "
                        "\"pass\": true, \"src\": \"x\"}\\n@@{\"done\": 1}\\n{\"names\": {}}\\n')\n    except OSError:\n"
                        "        pass\ndef add(a, b):\n    return -1",
})


@pytest.mark.parametrize("hack", HACKS)
@pytest.mark.parametrize("t", FUNCTION_TASKS, ids=IDS)
def test_reward_hacks_score_zero(t, hack):
    verdict = FRACTION.verify(t, block(HACKS[hack]))
    assert verdict.reward == 0 and not verdict.correct, verdict.info
    assert verdict.status in VERDICT_STATUSES and verdict.answer == HACKS[hack] + "\n"


def test_a_returned_object_has_no_truth_value_in_the_tests():
    positive = task({"format": "assert", "entry_point": "is_pos", "check_module":
                     "def check(candidate):\n    assert candidate(1)\n    assert candidate(7)\n"})
    assert VERIFIER.verify(positive, block("def is_pos(x):\n    return x > 0")).correct
    for hack in ("object()", "type('T', (), {'__bool__': lambda s: True})()", "[0]"):
        verdict = VERIFIER.verify(positive, block(f"def is_pos(x):\n    return x < 0 and {hack}"))
        assert verdict.reward == 0, verdict.info
        verdict = FRACTION.verify(positive, block(f"def is_pos(x):\n    return {hack}"))
        assert verdict.reward == (1.0 if hack == "[0]" else 0.0), verdict.info  # a plain list is plain truth


def test_lone_surrogates_and_junk_score_zero_without_raising():
    for text in ("```python\ndef add(a, b):\n    return '\ud800'\n```", "\ud800", "```python\n\udfff\x00\n```",
                 "```python\n" + "\x00" * 100 + "\n```", "```\n\u202e\ufeff\n```",
                 "```python\ndef add(a, b):\n    raise ValueError(chr(0xd800) + 'x')\n```"):
        for t in (ADD_IO, *FUNCTION_TASKS):
            verdict = VERIFIER.verify(t, text)
            assert verdict.reward == 0 and verdict.status in ("ok", "no_answer"), verdict.info
            assert verdict.feedback.encode("utf-8")  # it goes back to the policy's tokenizer


BROKEN_TASKS = {
    "no tests": task({"format": "call", "entry_point": "add", "tests": []}),
    "no asserts": task({"format": "assert", "entry_point": "add", "check_module": "def check(candidate):\n    pass\n"}),
    "test asserts nothing": task({"format": "assert", "entry_point": None, "tests": ["add(1, 2)"]}),
    "context raises": task({"format": "assert", "entry_point": "add", "context": "raise KeyError('prompt')",
                            "check_module": "def check(candidate):\n    assert candidate(1, 2) == 3\n"}),
    "unknown format": task({"format": "nope"}),
}


@pytest.mark.parametrize("name", BROKEN_TASKS)
def test_a_grader_failure_is_reward_zero_with_status_harness_error_and_counted(name):
    verifier = CodeVerifier(reward="fraction", timeout_s=5)
    verdict = verifier.verify(BROKEN_TASKS[name], block("def add(a, b):\n    return a + b"))
    assert (verdict.reward, verdict.correct, verdict.status) == (0.0, False, "harness_error"), verdict.info
    assert verifier.harness_errors == 1 and verdict.feedback and verdict.info["reason"]


def test_a_sandbox_that_cannot_start_is_a_harness_error_not_an_exception():
    verifier = CodeVerifier(sandbox=Sandbox("bwrap", bwrap="/bin/false"))
    for t in (ADD_IO, *FUNCTION_TASKS):
        verdict = verifier.verify(t, block("def add(a, b):\n    return a + b"))
        assert (verdict.reward, verdict.status) == (0.0, "harness_error"), verdict.info
    assert verifier.harness_errors == 5


def test_io_hacks_from_the_corpus_score_zero():
    for code in ("class Any(str):\n    def __eq__(self, other): return True\nprint(Any('I did not solve it'))",
                 "import sys\nsys.exit(0)\nprint(5)", "print(open('/work/expected.txt').read())"):
        verdict = FRACTION.verify(ADD_IO, block(code))
        assert verdict.reward == 0, verdict.info
