r"""Which part of a model's completion is its final answer.

Conventions (../shared/cases/README.md): the answer is the last `\boxed{}` (or `\fbox{}`, `\boxed 5`)
outside any `<think>...</think>` block. Boxes joined only by connectors (`\boxed{1} and \boxed{2}`,
`\boxed{1},\boxed{2}`) form one list answer; boxes separated by prose are successive attempts and only the
last counts. A `final answer is $X$` statement after the last box overrides it. Without a box:

1. the whole completion, when it is a bare answer (`$\frac12$`, `28 percent`, `x = 3`);
2. the text after the last "final answer": its first math span, or its first number if it has no math;
3. the last answer-like math span (`$...$`, `\(...\)`, `\[...\]`, `$$...$$`) or plain number in the text.

An inline span may not cross a line (as in Markdown), so a broken span yields nothing.

    from reasongym.verifiers.math.extract import extract_answer
    extract_answer(r"<think>\boxed{7}</think> so \boxed{8}")   # '8'
    extract_answer("I am not sure.")                           # None
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reasongym.verifiers.math.normalize import unicode_to_latex

BOX_CMD = re.compile(r"\\(?:boxed|fbox)(?![a-zA-Z])")
CHAT_END = re.compile(r"<\|im_end\|>|<\|eot_id\|>|<\|endoftext\|>|<\|im_start\|>(?:user|system)|</s>")
CHAT_TOKEN = re.compile(r"<\|[a-z_]+\|>(?:assistant\n?)?|<\|start_header_id\|>.*?<\|end_header_id\|>")
DELIMITER = re.compile(r"\$\$|\$|\\\[|\\\]|\\\(|\\\)")
CLOSER = {"$$": "$$", "$": "$", "\\[": "\\]", "\\(": "\\)"}
NUMBER = re.compile(r"(?<![A-Za-z\d.,_^])[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+|,\d{2}(?![\d,]))?(?:/\d+)?\s*%?")
FINAL = re.compile(r"final answer", re.I)
FINAL_SPAN = re.compile(r"final answer(?: is)?\s*:?\s*(?:\$\$(.{1,500}?)\$\$|\$(.{1,500}?)\$|\\\((.{1,500}?)\\\)|"
                        r"\\\[(.{1,500}?)\\\])", re.I | re.S)
CHOICE = re.compile(r"answer(?: is|:)\s*\(?([A-E])\)?(?![A-Za-z])")
CONNECTOR_WORDS = {"and", "or"}
MAX_JOINED_BOXES = 100
PROSE = re.compile(r"[A-Za-z]{2,}")
BARE_WORDS = {"and", "or", "pct", "cm", "km", "mm", "kg", "ft", "in", "percent", "percentage", "units", "unit",
              "degrees", "degree", "meters", "inches", "miles", "dollars", "cents", "hours", "minutes", "seconds",
              "days", "years", "square", "feet", "yuan", "euros"}  # words a bare answer may contain


@dataclass(frozen=True)
class Box:
    start: int
    end: int
    content: str


def strip_reasoning(text: str) -> str:
    """The final-answer part of a completion: first chat turn only, think blocks removed.

    An unclosed `<think>` hides everything after it; a lone `</think>` (the opening tag was in the
    prompt) hides everything before it.
    """
    for m in CHAT_END.finditer(text):  # the first turn ends at the first end-of-turn token after some content
        if text[:m.start()].strip() and CHAT_TOKEN.sub("", text[:m.start()]).strip():
            text = text[:m.start()]
            break
    text = CHAT_TOKEN.sub(" ", text)
    if "</think>" in text:
        text = text.rsplit("</think>", 1)[1]  # every block (and a lone closing tag) ends before this
    return text.split("<think>")[0]


def find_boxes(text: str) -> list[Box]:
    r"""Every `\boxed{...}` / `\fbox{...}` / `\boxed 5` with balanced braces (escaped `\{ \}` skipped).

    An unclosed box (a truncated completion) runs to the end of the text.
    """
    boxes, pos = [], 0
    while (m := BOX_CMD.search(text, pos)) is not None:
        i = m.end()
        while i < len(text) and text[i] in " \t":
            i += 1
        if i < len(text) and text[i] == "{":
            depth, j = 0, i
            while j < len(text):
                c = text[j]
                if c == "\\":
                    j += 2
                    continue
                depth += c == "{"
                depth -= c == "}"
                if depth == 0:
                    break
                j += 1
            end = min(j, len(text))
            boxes.append(Box(m.start(), end + 1, text[i + 1:end]))
            pos = end + 1
        else:
            t = re.match(r"[^\s$]+", text[i:])
            if t and i > m.end():
                boxes.append(Box(m.start(), i + t.end(), t.group(0).rstrip(".,")))
            pos = i + (t.end() if t else 0) or m.end()
    return boxes


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


def unboxed_answer(text: str) -> str | None:
    """Answer of a completion without any box (see the module docstring for the order)."""
    text = text.replace(r"\$", r"\dollar ").replace("**", "")
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
        good = [c for _, _, c in inside if c and answer_like(c)]
        if good:
            return good[0]
        if not inside:
            nums = plain_numbers(text, spans, lo)
            if nums:
                return nums[0][1]
    candidates = [(s, c) for s, _, c in spans if s < lo and c and answer_like(c)]
    candidates += plain_numbers(text, spans, 0, lo)
    if candidates:
        return max(candidates)[1]
    nums = plain_numbers(text, spans, lo)
    if nums:
        return nums[0][1]
    choice = CHOICE.findall(text)  # "The answer is (B)."
    return choice[-1] if choice else None


def extract_answer(text: str) -> str | None:
    """The final answer of a model completion (raw LaTeX, not normalised), or None when there is none."""
    text = re.sub(r"\\\\(?=(?:boxed|fbox)\b)", r"\\", unicode_to_latex(text))
    visible = strip_reasoning(text)
    boxes = [b for b in find_boxes(visible)]
    if boxes:
        after = visible[boxes[-1].end:]
        override = FINAL_SPAN.search(after)
        if override:
            content = next(g for g in override.groups() if g is not None).strip()
            if content and "\n" not in content:
                return content
        answer = last_box_answer(visible, boxes)
        return answer if answer.strip() else None
    return unboxed_answer(visible)


def extract_gold(gold: str) -> str:
    """The reference answer: the last box group when the gold is a worked solution, else the whole string."""
    text = re.sub(r"\\\\(?=(?:boxed|fbox)\b)", r"\\", gold)
    boxes = find_boxes(text)
    if boxes:
        return last_box_answer(text, boxes)
    prose = len(PROSE.findall(re.sub(r"\\[a-zA-Z]+|\$[^$]*\$", " ", text))) >= 8
    if not prose and not FINAL.search(text):
        return gold.strip()
    return unboxed_answer(text) or gold.strip()
