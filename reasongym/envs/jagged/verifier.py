r"""The exact verifier of the jagged tasks: one closed box, no hedge, the gold answer after light normalisation.

These tasks have one exact answer each (a count, a date, a spelling), so the check is strict and owns its
rules instead of borrowing the math verifier's equivalence (which another part of reasongym tunes):

- the answer is the one `\boxed{...}` (or `\fbox{...}`) outside `<think>...</think>` and outside code
  fences (reasongym.verifiers.text.answer_text: text after an unclosed `<think>` is not read). No box,
  an unclosed box, or two or more boxes (even equal ones) never pay: statuses `no_answer`, `no_answer`,
  `wrong_form`;
- a hedge inside the box (`3 or 4`, `about 9`, `\approx`, `±`, a question mark) never pays (`wrong_form`);
- light normalisation by the task's `meta["answer_type"]`: `$`, `\text{}`, quotes and a final period go;
  int: digits with an optional sign and thousands commas (`1,234`); decimal: equal as decimals (`9.90`
  is `9.9`), optionally followed by the task's unit (`2500 g`); list: comma-separated decimals in order;
  word / weekday: case-insensitive; letters: single letters separated by hyphens, commas or spaces
  (`s-t-a-r`, not `star`); date: `YYYY-MM-DD` (one-digit month or day allowed), equal as dates.

    v = JaggedVerifier()
    v.verify(task, "... \\boxed{9.9}")         # Verdict(reward=1.0, correct=True, answer='9.9', status='ok')
    v.verify(task, "\\boxed{9.9} or \\boxed{9.11}")   # reward 0, status 'wrong_form' (several boxes)

A reward path never raises: an internal failure is a zero-reward verdict with status `harness_error`.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from reasongym.core import Task, Verdict, Verifier
from reasongym.envs.jagged.common import INSTRUCTION
from reasongym.verifiers.text import answer_text

BOX = re.compile(r"\\(?:boxed|fbox)\s*\{")
HEDGE = re.compile(r"\b(?:or|maybe|perhaps|about|approximately|approx|around|roughly|either|probably)\b|"
                   r"\\approx|\\sim|\\pm|≈|±|~|\?", re.I)
WRAPPER = re.compile(r"\\(?:text|textbf|mathrm|mathbf|textrm)\s*\{([^{}]*)\}")
INT = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)")
NUMBER = re.compile(r"([-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[-+]?\.\d+)\s*([A-Za-z]*)")
DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
MAX_ANSWER = 2000


def boxes(text: str) -> tuple[list[str], bool]:
    """The contents of every box in the text, and whether some box was left unclosed."""
    found, pos = [], 0
    while (m := BOX.search(text, pos)) is not None:
        depth, i = 1, m.end()
        while i < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        if depth:
            return found, True
        found.append(text[m.end():i - 1])
        pos = i
    return found, False


def clean(content: str) -> str:
    """Strip the wrapping a model puts around an answer: $, \\text{}, quotes, spacing commands, final period."""
    s = content.replace("$", "").replace("\\,", "").replace("\\!", "").replace("{,}", ",")
    s = s.replace("\\ ", " ").replace("\\%", "%")
    for _ in range(3):
        s = WRAPPER.sub(r"\1", s)
    s = " ".join(s.split()).strip().rstrip(".").strip()
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "\"'`":
        s = s[1:-1].strip()
    return s


def canonical(answer: str, answer_type: str, unit: str | None = None) -> str | None:
    """The normal form two answers are compared in; None when the answer is not of the asked type."""
    s = clean(answer)
    if answer_type == "int":
        return str(int(s.replace(",", ""))) if INT.fullmatch(s) else None
    if answer_type == "decimal":
        m = NUMBER.fullmatch(s)
        if not m or (m.group(2) and (unit is None or m.group(2).lower() != unit.lower())):
            return None
        return _decimal(m.group(1))
    if answer_type == "list":
        parts = [_decimal(p.strip()) for p in s.split(",")]
        return None if any(p is None for p in parts) else ", ".join(parts)  # type: ignore[arg-type]
    if answer_type in ("word", "weekday"):
        return s.lower() if s and re.fullmatch(r"[A-Za-z]+", s) else None
    if answer_type == "letters":
        tokens = [t for t in re.split(r"[-,\s]+", s) if t]
        return "".join(tokens).lower() if len(tokens) > 1 and all(re.fullmatch(r"[A-Za-z]", t) for t in tokens) \
            else None
    if answer_type == "date":
        m = DATE.fullmatch(s)
        try:
            return dt.date(*map(int, m.groups())).isoformat() if m else None
        except ValueError:
            return None
    raise ValueError(f"unknown answer_type {answer_type!r}; expected one of int, decimal, list, word, "
                     "letters, date, weekday")


def _decimal(s: str) -> str | None:
    if not re.fullmatch(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[-+]?\.\d+", s):
        return None
    try:
        value = Decimal(s.replace(",", ""))
    except InvalidOperation:
        return None
    return f"{value.normalize():f}" if value != 0 else "0"


class JaggedVerifier(Verifier):
    """Exact answers for the jagged tasks (see the module docstring for the rules)."""

    def verify(self, task: Task, completion: str) -> Verdict:
        try:
            return self._verify(task, completion)
        except Exception as e:  # noqa: BLE001 - a reward path never raises
            return Verdict(0.0, False, {"extracted": None, "reason": f"verifier error: {e!r}"},
                           status="harness_error", feedback=f"I could not check that answer. {INSTRUCTION}")

    def _verify(self, task: Task, completion: str) -> Verdict:
        kind = task.meta.get("answer_type", "word")
        found, unclosed = boxes(answer_text(completion))
        if unclosed or not found:
            why = "an unclosed \\boxed{" if unclosed else "no \\boxed{} answer"
            return self._no(task, None, "no_answer", why, f"I could not find a final answer. {INSTRUCTION}")
        if len(found) > 1:
            return self._no(task, found[-1], "wrong_form", f"{len(found)} boxes; give exactly one answer",
                            f"Give exactly one final answer in one \\boxed{{}}. {INSTRUCTION}")
        got = found[0][:MAX_ANSWER]
        if HEDGE.search(clean(got)) and not HEDGE.search(str(task.answer)):
            return self._no(task, got, "wrong_form", "a hedged answer", "Commit to one answer, without hedging.")
        unit = task.meta.get("unit")
        mine, gold = canonical(got, kind, unit), canonical(str(task.answer), kind, unit)
        if gold is None:
            raise ValueError(f"task {task.id}: gold answer {task.answer!r} is not a valid {kind!r} answer")
        ok = mine == gold
        info = {"extracted": got, "normalized": mine, "gold": str(task.answer), "answer_type": kind,
                "reason": "exact match" if ok else ("not a " + kind + " answer" if mine is None else "different")}
        feedback = None if ok else f"{got} is not correct. Check your work and try again. {INSTRUCTION}"
        return Verdict(float(ok), ok, info, answer=got, feedback=feedback, status="ok")

    def _no(self, task: Task, got: str | None, status: str, reason: str, feedback: str) -> Verdict:
        info = {"extracted": got, "gold": str(task.answer), "reason": reason,
                "answer_type": task.meta.get("answer_type")}
        return Verdict(0.0, False, info, answer=got, feedback=feedback, status=status)

    def vote_key(self, verdict: Verdict) -> str | None:
        if verdict.answer is None:
            return None
        kind = verdict.info.get("answer_type") or "word"
        return verdict.info.get("normalized") or canonical(verdict.answer, kind) or verdict.answer
