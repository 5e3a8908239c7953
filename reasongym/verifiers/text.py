r"""Which part of a completion is its answer: think-stripping, closed boxes, code fences. THE place for it.

Every verifier reads answers through this module, so one set of rules holds everywhere:

- `strip_think`: text inside `<think>...</think>` is reasoning, never an answer. An unclosed `<think>`
  hides everything after it (a completion cut at max tokens while thinking has no answer); a lone
  `</think>` (its opening tag was in the prompt) hides everything before it.
- `code_fences` / `outside_code`: fenced blocks (a run of 3+ backticks, or `~~~` at a line start, up to
  the next run at least as long; an unclosed fence runs to the end) and inline code spans. Nothing in
  code is prose.
- `find_boxes` / `last_boxed`: closed `\boxed{...}` / `\fbox{...}` (also `\boxed 5`) outside think and
  code. A box that is never closed (`The answer is \boxed{12`) is no answer.
- `last_code_block`: the body of the last closed fenced block outside think.

Every function is one linear pass (str.find or a regex of fixed tokens, no backtracking over the
text), so a 1 MB degenerate completion costs milliseconds, not minutes.

    from reasongym.verifiers.text import last_boxed, last_code_block, strip_think
    last_boxed(r"<think>\boxed{7}</think> so \boxed{8}")   # '8'
    last_boxed(r"The answer is \boxed{12")                  # None
    last_code_block("```python\nprint(1)\n```")             # 'print(1)\n'

Tests: `python -m pytest -q tests/verifiers/test_text.py`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

OPEN_THINK, CLOSE_THINK = "<think>", "</think>"
THINK_TAGS = re.compile(r"</?think>")
# Tokens of the box scanner: a box command (also double-escaped `\\boxed`) with its opening brace (group 2)
# or its brace-less argument `\boxed 5` (group 3), an escaped brace or backslash, a brace (group 4).
BOX_TOKENS = re.compile(r"(\\+(?:boxed|fbox))(?![A-Za-z])(?:[ \t]*(\{)|[ \t]+([^\s${}]{1,200}))?|\\[{}\\]|([{}])")
INLINE_CODE = re.compile(r"`[^`\n]{1,500}`")
FENCE = re.compile(r"`{3,}|(?:(?<=\n)|^)[ \t]{0,3}~{3,}")


@dataclass(frozen=True)
class Box:
    """One closed box: where it starts and ends in the scanned text, and its content (stripped)."""

    start: int
    end: int
    content: str


def strip_think(text: str) -> str:
    """The part of a completion outside `<think>...</think>` blocks (see the module docstring)."""
    out: list[str] = []
    pos, inside = 0, False
    for m in THINK_TAGS.finditer(text):
        if inside:
            if m.group(0) == CLOSE_THINK:
                inside, pos = False, m.end()
        elif m.group(0) == OPEN_THINK:
            out.append(text[pos:m.start()])
            inside = True
        else:  # a closing tag with no opening one: everything before it was thinking
            out, pos = [], m.end()
    if not inside:
        out.append(text[pos:])
    return " ".join(out)


class Fence(NamedTuple):
    """One fenced block: its span, its body's span, and whether a closing fence was found."""

    start: int
    end: int
    body_start: int
    body_end: int
    closed: bool


def code_fences(text: str) -> list[Fence]:
    """Every fenced block in order; an unclosed one runs to the end of the text."""
    if "```" not in text and "~~~" not in text:
        return []
    runs = [(m.start(), m.end(), m.group(0).strip()) for m in FENCE.finditer(text)]
    blocks: list[Fence] = []
    i = 0
    while i < len(runs):
        start, end, marker = runs[i]
        line_end = text.find("\n", end)
        body_start = len(text) if line_end == -1 else line_end + 1
        j = i + 1
        while j < len(runs) and not (runs[j][0] >= body_start and runs[j][2][0] == marker[0]
                                     and len(runs[j][2]) >= len(marker)):
            j += 1
        if j == len(runs):
            blocks.append(Fence(start, len(text), body_start, len(text), False))
            return blocks
        blocks.append(Fence(start, runs[j][1], body_start, runs[j][0], True))
        i = j + 1
    return blocks


def outside_code(text: str) -> str:
    """text with every fenced block and inline code span (`` `...` `` on one line) blanked out (same
    length, so positions still line up)."""
    parts, pos = [], 0
    for f in code_fences(text):
        parts += [text[pos:f.start], " " * (f.end - f.start)]
        pos = f.end
    parts.append(text[pos:])
    return INLINE_CODE.sub(lambda m: " " * len(m.group(0)), "".join(parts))


def find_boxes(text: str, last: int | None = None) -> list[Box]:
    r"""Every closed, outermost box of `text` in order (no think-stripping or fence-masking here);
    `last`: only the last that many."""
    if "boxed" not in text and "fbox" not in text:
        return []
    found: list[tuple[int, int, int, int]] = []  # (start, content start, content end, box end)
    stack: list[tuple[int, int, int]] = []  # open boxes: (start, content start, brace depth inside)
    depth = 0
    for m in BOX_TOKENS.finditer(text):
        brace = m.group(4)
        if brace == "{":
            depth += 1
        elif brace == "}":
            if stack and stack[-1][2] == depth:
                start, inner, _ = stack.pop()
                found.append((start, inner, m.start(), m.end()))
            depth -= 1
        elif m.group(2):  # `\boxed{`: the box's own brace opens a level
            depth += 1
            stack.append((m.start(), m.end(), depth))
        elif m.group(3):  # `\boxed 5`
            found.append((m.start(), m.start(3), m.end(3), m.end(3)))
    outer, reach = [], -1
    for box in sorted(found):
        if box[0] >= reach:  # not inside a box already taken
            outer.append(box)
            reach = box[3]
    boxes = []
    for start, inner, inner_end, end in outer[-last if last else 0:]:
        content = text[inner:inner_end].strip()
        boxes.append(Box(start, end, content if end > inner_end else content.rstrip(".,")))
    return boxes


def answer_text(completion: str) -> str:
    """What may hold a final answer: outside think blocks and outside code fences."""
    return outside_code(strip_think(completion))


def last_boxed(completion: str) -> str | None:
    """Content of the last closed box outside think and code, or None when there is none."""
    boxes = find_boxes(answer_text(completion), last=1)
    return boxes[-1].content if boxes else None


def last_code_block(completion: str, closed_only: bool = True) -> str | None:
    """Body of the last fenced code block outside think (closed_only=False: an unclosed one counts too)."""
    text = strip_think(completion)
    blocks = [f for f in code_fences(text) if f.closed or not closed_only]
    return text[blocks[-1].body_start:blocks[-1].body_end] if blocks else None
