r"""Which part of a model's completion is its final answer.

Conventions (../shared/cases/README.md): the answer is the last closed `\boxed{}` (or `\fbox{}`,
`\boxed 5`) outside any `<think>...</think>` block and outside code (found by `verifiers/text.py`, the
one place for that). A box that never closes is no answer, and neither is anything else then. Boxes
joined only by connectors (`\boxed{1} and \boxed{2}`, `\boxed{1},\boxed{2}`) form one list answer;
boxes separated by prose are successive attempts and only the last counts. A `final answer is $X$`
statement after the last box overrides it. Where the prompt asks for a box (`require_box=True`, every
environment) that is all. Otherwise, without a box:

1. the whole completion, when it is a bare answer (`$\frac12$`, `28 percent`, `x = 3`);
2. the text after the last "final answer": its first math span, or its first number if it has no math;
3. the last answer-like math span (`$...$`, `\(...\)`, `\[...\]`, `$$...$$`) or plain number in the text.

An inline span may not cross a line (as in Markdown), so a broken span yields nothing. A prose answer
in a hedging sentence (`It could be 12, 13 or 14.`) is no answer. Everything here is linear in the
length of the completion; boxes are looked for in the last ANSWER_WINDOW characters outside think and
code (a degenerate 1 MB completion is judged by its end), the prose fallback in the last PROSE_WINDOW.

    from reasongym.verifiers.math.extract import extract_answer
    extract_answer(r"<think>\boxed{7}</think> so \boxed{8}")   # '8'
    extract_answer("I am not sure.")                           # None
"""

from __future__ import annotations

import re

from reasongym.verifiers.math.normalize import unicode_to_latex
from reasongym.verifiers.text import Box, answer_text, find_boxes

BOX_CMD = re.compile(r"\\+(?:boxed|fbox)(?![a-zA-Z])")
CHAT_END = re.compile(r"<\|im_end\|>|<\|eot_id\|>|<\|endoftext\|>|<\|im_start\|>(?:user|system)|</s>")
CHAT_TOKEN = re.compile(r"<\|[a-z_]{1,40}\|>(?:assistant\n?)?|<\|start_header_id\|>.{0,80}?<\|end_header_id\|>")
DELIMITER = re.compile(r"\$\$|\$|\\\[|\\\]|\\\(|\\\)")
CLOSER = {"$$": "$$", "$": "$", "\\[": "\\]", "\\(": "\\)"}
NUMBER = re.compile(r"(?<![A-Za-z\d.,_^])[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+|,\d{2}(?![\d,]))?(?:/\d+)?\s*%?")
FINAL = re.compile(r"final answer", re.I)
FINAL_SPAN = re.compile(r"final answer(?: is)?\s*:?\s*(?:\$\$(.{1,500}?)\$\$|\$(.{1,500}?)\$|\\\((.{1,500}?)\\\)|"
                        r"\\\[(.{1,500}?)\\\])", re.I | re.S)
CHOICE = re.compile(r"answer(?: is|:)\s*\(?([A-E])\)?(?![A-Za-z])")
CONNECTOR_WORDS = {"and", "or"}
HEDGE = re.compile(r"\b(?:or|could|might|maybe|perhaps|possibly|either|probably|likely|guess|between|unsure)\b", re.I)
SENTENCE_END = re.compile(r"[.!?](?!\d)|\n")
PROSE_WINDOW = 20_000  # the prose fallback reads the end of a completion only
ANSWER_WINDOW = 100_000  # a final answer is looked for in the last this many characters outside think/code
MAX_JOINED_BOXES = 100
PROSE = re.compile(r"[A-Za-z]{2,}")
BARE_WORDS = {"and", "or", "pct", "cm", "km", "mm", "kg", "ft", "in", "percent", "percentage", "units", "unit",
              "degrees", "degree", "meters", "inches", "miles", "dollars", "cents", "hours", "minutes", "seconds",
              "days", "years", "square", "feet", "yuan", "euros"}  # words a bare answer may contain


def strip_reasoning(text: str) -> str:
    """The final-answer part of a completion: first chat turn only, think blocks and code fences removed
    (`text.answer_text`: an unclosed `<think>` hides the rest, a lone `</think>` what is before it)."""
    last = 0
    for m in CHAT_END.finditer(text):  # the first turn ends at the first end-of-turn token after some content
        if CHAT_TOKEN.sub("", text[last:m.start()]).strip():
            text = text[:m.start()]
            break
        last = m.end()
    return answer_text(CHAT_TOKEN.sub(" ", text))


def is_connector(sep: str) -> bool:
    """True when the text between two boxes only joins them (`, `, ` and `, `\\quad\\text{or}\\quad`, `y_2 =`)."""
    crosses_math = bool(re.search(r"\$|\\[()\[\]]", sep))  # `$$\boxed{20}$$ \boxed{143}`: a new display
    sep = re.sub(r"[A-Za-z](?:_\{?\w+\}?)?\s*=", " ", sep)  # the name of the next assignment
    sep = re.sub(r"\\(?:text|textbf|mbox|mathrm)\s*\{([^{}]*)\}", r" \1 ", sep)
    sep = re.sub(r"\\[a-zA-Z]+|\$|\\[()\[\],;!]", " ", sep)
    words = re.findall(r"[A-Za-z]+", sep)
    if re.search(r"\d", sep) or len(words) > 6:
        return False
    if any(w.lower() in CONNECTOR_WORDS for w in words):
        return True
    return not words and (not crosses_math or bool(re.search(r"[,;]", sep)))


def last_box_answer(text: str, boxes: list[Box]) -> str:
    """The last box, joined with the boxes before it that only connectors separate."""
    group = [boxes[-1]]
    for prev in reversed(boxes[:-1][-MAX_JOINED_BOXES:]):
        if not is_connector(text[prev.end:group[0].start]):
            break
        group.insert(0, prev)
    if len(group) == 1:
        return group[0].content.strip()
    return ", ".join(b.content.strip() for b in group)


def math_spans(text: str) -> list[tuple[int, int, str]]:
    """Math spans (start, end, content) found in one linear pass; an inline `$..$`/`\\(..\\)` across a
    newline is consumed but yields no content (Markdown does not render it either)."""
    spans, opened = [], None  # opened: (delimiter, content start, span start)
    for m in DELIMITER.finditer(text):
        tok = m.group(0)
        if opened is None:
            if tok in CLOSER:
                opened = (tok, m.end(), m.start())
            continue
        kind, begin, start = opened
        if tok == CLOSER[kind] or (kind == "$" and tok == "$$"):
            end = m.start() + 1 if tok == "$$" and kind == "$" else m.end()
            content = text[begin:end - len(kind)]
            inline = kind in ("$", "\\(")
            spans.append((start, end, "" if inline and "\n" in content else content.strip()))
            opened = ("$", m.end(), m.start() + 1) if tok == "$$" and kind == "$" else None
    return spans


def mask_spans(text: str, spans: list[tuple[int, int, str]]) -> str:
    """text with every math span blanked out (positions kept)."""
    chars = list(text)
    for s, e, _ in spans:
        chars[s:e] = " " * (e - s)
    return "".join(chars)


def answer_like(span: str) -> bool:
    """A math span that could be an answer: holds a digit or a numeric symbol, not just a name like `$f(x)$`."""
    return bool(re.search(r"\d|\\infty|\\pi|\\sqrt|\\frac|\\begin", span))


def plain_numbers(text: str, spans: list[tuple[int, int, str]], lo: int = 0, hi: int | None = None) -> list[tuple[int, str]]:
    """Numbers written in prose (outside every math span) between lo and hi."""
    hi = len(text) if hi is None else hi
    return [(m.start(), m.group(0).strip()) for m in NUMBER.finditer(mask_spans(text, spans), lo, hi)]


def is_bare(text: str) -> bool:
    """The whole text is an answer, not prose: no ordinary words outside math spans and `\\text{}`
    (a one- or two-word text such as `odd` or `not 10` still counts as bare)."""
    if len(text) > 300:
        return False
    t = mask_spans(text, math_spans(text)) if text.count("$") % 2 == 0 else text
    t = re.sub(r"\\(?:text|textbf|mbox|mathrm|textnormal)\s*\{[^{}]*\}", " ", t)
    t = re.sub(r"\\(?:begin|end)\{[a-z*]+\}|\\[a-zA-Z]+", " ", t)
    words = [w for w in PROSE.findall(t) if w.lower() not in BARE_WORDS]
    return not words or len(text.split()) <= 2


def sentence_at(text: str, pos: int) -> str:
    """The sentence around position pos (at most 300 characters each side)."""
    lo = max(0, pos - 300)
    ends = list(SENTENCE_END.finditer(text, lo, pos))
    start = ends[-1].end() if ends else lo
    m = SENTENCE_END.search(text, pos, min(len(text), pos + 300))
    return text[start:m.start() if m else min(len(text), pos + 300)]


def unhedged(text: str, pos: int, answer: str | None) -> str | None:
    """answer, unless the sentence it sits in hedges (`It could be 12, 13 or 14.`): then None."""
    return None if answer is None or HEDGE.search(sentence_at(text, pos)) else answer


def unboxed_answer(text: str) -> str | None:
    """Answer of a completion without any box (see the module docstring for the order)."""
    text = unicode_to_latex(text[-PROSE_WINDOW:]).replace(r"\$", r"\dollar ").replace("**", "")
    text = re.sub(r"^\s*(?:final )?answer\s*:", "", text, flags=re.I)  # "**Answer:** 42" is bare
    stripped = text.strip()
    if not stripped:
        return None
    if is_bare(stripped):
        return stripped.replace(r"\dollar ", r"\$")
    spans = math_spans(text)
    final = list(FINAL.finditer(text))
    lo = final[-1].end() if final else len(text)
    if final:
        inside = [s for s in spans if s[0] >= lo]
        good = [(s, c) for s, _, c in inside if c and answer_like(c)]
        if good:
            return unhedged(text, lo, good[0][1])
        if not inside:
            nums = plain_numbers(text, spans, lo)
            if nums:
                return unhedged(text, lo, nums[0][1])
    candidates = [(s, c) for s, _, c in spans if s < lo and c and answer_like(c)]
    candidates += plain_numbers(text, spans, 0, lo)
    if candidates:
        return unhedged(text, *max(candidates))
    nums = plain_numbers(text, spans, lo)
    if nums:
        return unhedged(text, *nums[0])
    choice = list(CHOICE.finditer(text))  # "The answer is (B)."
    return unhedged(text, choice[-1].start(), choice[-1].group(1)) if choice else None


def extract_answer(text: str, require_box: bool = False) -> str | None:
    """The final answer of a model completion (raw LaTeX, not normalised), or None when there is none.

    require_box: only a closed box counts (the prompt asked for one); no prose fallback, no override.
    """
    whole = strip_reasoning(text)
    visible = whole[-ANSWER_WINDOW:]
    boxes = find_boxes(visible, last=MAX_JOINED_BOXES + 1)
    if boxes:
        after = visible[boxes[-1].end:boxes[-1].end + 2000]
        override = None if require_box else FINAL_SPAN.search(after)
        if override:
            content = next(g for g in override.groups() if g is not None).strip()
            if content and "\n" not in content:
                return unicode_to_latex(content)
        answer = last_box_answer(visible, boxes)
        return unicode_to_latex(answer) if answer.strip() else None
    if require_box or BOX_CMD.search(whole):  # a box that never closed: a truncated answer is no answer
        return None
    return unboxed_answer(visible)


def extract_gold(gold: str) -> str:
    """The reference answer: the last box group when the gold is a worked solution, else the whole string."""
    boxes = find_boxes(gold)
    if boxes:
        return last_box_answer(gold, boxes)
    opened = list(BOX_CMD.finditer(gold))
    if opened:  # a gold is trusted: a box left open (a data-entry slip) runs to the end
        return gold[opened[-1].end():].lstrip(" {").strip()
    prose = len(PROSE.findall(re.sub(r"\\[a-zA-Z]+|\$[^$]*\$", " ", gold))) >= 8
    if not prose and not FINAL.search(gold):
        return gold.strip()
    return unboxed_answer(gold) or gold.strip()
