r"""Final form: an answer must be worked out, not the question restated.

Equivalence alone is hackable. `58 - 21` *is* 37 to sympy, `x - 20 = -18` has the solution x = 2, and
`7(x - 2)` expands to `7x - 14`; a policy trained on plain equivalence learns to copy the question into
the box (it happened here: GRPO on Math-v0 reached "72%" that way). A human grader would mark those
wrong, so environments whose gold answers are in their simplest form (the procedural generators,
GSM8K's integers) turn this check on: the prediction may not carry more operations than the gold.

Operations are counted on normalised strings (`math_normalize`): a binary + or -, a product of two
numbers (`10 \times 8`, not `8x` or `8*x`), a division or fraction, a power, a root or function, and a
bracket opened right after an operand (`7(x - 2)`). Signs are not operations. `0.5` against `1/2`,
`-4 - 12x` against `-12x - 4`, `x = 17` against `17` all pass.

    from reasongym.verifiers.math.form import operations
    operations("58 - 21"), operations("37")    # (1, 0)
"""

from __future__ import annotations

import re

_COMMANDS = re.compile(r"\\(frac|dfrac|tfrac|sqrt|sin|cos|tan|log|ln|exp|binom|div)\b")
_PRODUCT = re.compile(r"\\times|\\cdot|×|\*|÷")
OPERAND_END = set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ)}.")


def operations(text: str) -> int:
    """How many operations a normalised answer still has (see the module docstring)."""
    s = text.replace(" ", "")
    count = len(_COMMANDS.findall(s))
    s = _COMMANDS.sub("", s)
    for m in _PRODUCT.finditer(s):
        before, after = s[:m.start()], s[m.end():]
        if before[-1:].isdigit() and after[:1].isdigit():
            count += 1
    s = _PRODUCT.sub("", s)
    for i, ch in enumerate(s):
        prev = s[i - 1] if i else ""
        if ch in "/^" or (ch in "+-(" and prev in OPERAND_END):  # binary +/-, or a bracket after an operand
            count += 1
    return count


def final_form_problem(pred_norm: str, gold_norm: str) -> str | None:
    """Why `pred_norm` is not in final form compared with `gold_norm`, or None when it is."""
    p, g = operations(pred_norm), operations(gold_norm)
    if p > g:
        return (f"not worked out: the answer still has {p} operation(s) where the gold "
                f"has {g} (final_form=True)")
    return None
