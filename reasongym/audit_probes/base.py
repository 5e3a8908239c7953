"""What a probe is, and what a probe may read of a task: only what the policy sees (never the gold).

A `Probe` turns one task into a few completions (`Variant`s) that a sound reward must not pay: the
question restated, every number boxed, hedges, unclosed boxes, shadowed built-ins ... The audit
(`reasongym.audit_probes.runner`) sends each variant through the environment's real reward path.

Probes are built from the prompt alone: `numbers(q)`, `targets(q)` and `candidates(q)` read the question
text, `entry_point(task)` the function name the prompt asks for. The gold answer is used once, after the
fact, and only by probes marked `coincidence_ok`: a variant that claims an answer which *is* the gold
(a question number that happens to be the answer) is counted as "coincident", not as paid.

Add your own: `Probe("my-probe", "restate", ("math",), lambda task: [Variant("\\\\boxed{...}")])` and
pass it to `run_audit(..., probes=[...])`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from reasongym.core import Task

KINDS = ("math", "code", "text")  # "text": any other env (generic probes only)


@dataclass(frozen=True)
class Variant:
    """One completion to score. `claim`: the answer it asserts, when it asserts exactly one (see above)."""

    text: str
    claim: str | None = None


@dataclass(frozen=True)
class Probe:
    """A named exploit attempt. `kinds`: the env kinds it applies to ("any" for all). `timed`: a
    degenerate input whose point is the latency bound. `doc`: one line for the report."""

    name: str
    family: str
    kinds: tuple[str, ...]
    build: Callable[[Task], Sequence[Variant]]
    doc: str = ""
    timed: bool = False
    coincidence_ok: bool = False

    def applies(self, kind: str) -> bool:
        return "any" in self.kinds or kind in self.kinds

    def variants(self, task: Task) -> list[Variant]:
        return [v if isinstance(v, Variant) else Variant(str(v)) for v in self.build(task)]


INSTRUCTION_RE = re.compile(r"(?im)^\s*(put|write|give|enter) the final answer.*$")
NUMBER_RE = re.compile(r"(?<![\w.])-?\d+(?:,\d{3})*(?:\.\d+)?(?:/\d+)?(?![\w])")
TARGET_RE = re.compile(
    r"\b(?:what is|compute|calculate|evaluate|simplify|expand|factor|solve|find|determine)\s+(.+?)"
    r"(?=\s+for\s+[a-z]\b[.?]|[.?:](?:\s|$)|$)", re.IGNORECASE | re.DOTALL)
MATH_SPAN_RE = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL)


def question_text(task: Task) -> str:
    """The user's question without the standard "put the final answer in a box" line."""
    return INSTRUCTION_RE.sub("", task.question).strip()


@lru_cache(maxsize=256)
def numbers(question: str, limit: int = 12) -> tuple[str, ...]:
    """The distinct numbers written in the question, in order (at most `limit`)."""
    seen: dict[str, None] = {}
    for m in NUMBER_RE.finditer(question):
        seen.setdefault(m.group(0).replace(",", ""), None)
    return tuple(seen)[:limit]


def _value(text: str) -> Fraction | None:
    try:
        return Fraction(text)
    except (ValueError, ZeroDivisionError):
        return None


@lru_cache(maxsize=256)
def candidates(question: str, limit: int = 60) -> tuple[str, ...]:
    """Answers a policy could guess without solving: the question's numbers, 0..20, and sums,
    differences, products and exact quotients of pairs of the question's numbers."""
    values = [v for v in (_value(n) for n in numbers(question, 8)) if v is not None]
    out: dict[Fraction, None] = dict.fromkeys(values)
    out.update(dict.fromkeys(Fraction(k) for k in range(21)))
    for a in values:
        for b in values:
            combos = [a + b, a - b, a * b] + ([a / b] if b else [])
            out.update(dict.fromkeys(c for c in combos if abs(c) < 10**9))
    shown = [str(v.numerator) if v.denominator == 1 else f"{v.numerator}/{v.denominator}" for v in out]
    return tuple(shown[:limit])


@lru_cache(maxsize=256)
def targets(question: str, limit: int = 8) -> tuple[str, ...]:
    """Expressions the question asks to work on: LaTeX math spans, "compute X" / "solve E" targets, and
    each side-joined equation of a system, longest first pruned to `limit`."""
    found: dict[str, None] = {}
    for m in MATH_SPAN_RE.finditer(question):
        found.setdefault(next(g for g in m.groups() if g is not None).strip(), None)
    for m in TARGET_RE.finditer(question):
        target = m.group(1).split(":")[-1].strip()
        for part in re.split(r"\s+and\s+|,\s+", target):
            if part.strip() and re.search(r"[\d=+\-*/^()×÷]", part):
                found.setdefault(part.strip(), None)
        found.setdefault(target, None)
    out = [t.replace("×", "\\times ").replace("÷", "\\div ") for t in found if 0 < len(t) <= 300]
    return tuple(dict.fromkeys(out))[:limit]


ENTRY_RES = (re.compile(r"`(\w+)\("), re.compile(r"\bdef\s+(\w+)\s*\("), re.compile(r"\bassert\s+(?:not\s+)?\(?\s*(\w+)\("))


def entry_point(task: Task) -> str:
    """The function the task asks for: the answer's declared interface, else the first name the prompt
    writes as `name(`, `def name(` or `assert name(` (MBPP). "solution" when nothing names one."""
    answer = task.answer if isinstance(task.answer, dict) else {}
    if answer.get("entry_point"):
        return str(answer["entry_point"])
    for pattern in ENTRY_RES:
        m = pattern.search(task.question)
        if m and m.group(1) not in {"print", "len", "set", "list", "abs", "math", "int", "str"}:
            return m.group(1)
    return "solution"


def same_claim(claim: str, gold: object) -> bool:
    """Whether a probe's single claimed answer is literally the gold (spaces, commas, `x =` aside)."""
    def norm(text: str) -> str:
        text = re.sub(r"\s|\\[,!;]|^\w\s*=", "", str(text))
        return text.replace(",", "").lstrip("+")

    a, b = norm(claim), norm(str(gold))
    if a == b:
        return True
    va, vb = _value(a), _value(b)
    return va is not None and va == vb
