r"""The shape of a normalised answer: a list of items, and what each item says (value or equation).

Pure standard library, shared by the caller's fast path and the worker's sympy comparison.

- `split_items`: `1, 2 and 3`, `\{3,2,1\}`, `{1,3}`, `(11,7) or (7,11)`, `p=5,q=2; p=7,q=2` become item lists;
  `\pm` expands into two items. Commas inside brackets stay (tuples, intervals).
- `read_item`: `x = 3` and `(p,q) = (3,2)` are assignments (the value counts), `1 = \zzz = x = 0` and
  `5 \times 6 = 30` are chains (the last value counts), `2x + 4y = 3` is an equation.

    split_items(r"x = \frac{1 \pm \sqrt5}{2}")   # (['x=\frac{1+\sqrt5}{2}', 'x=\frac{1-\sqrt5}{2}'], 'list')
"""

from __future__ import annotations

import re
from dataclasses import dataclass

OPEN, CLOSE = "([{", ")]}"
OR_SEP = r"(?<=[\d)\]}\s])or(?=[\s(\[A-Z\d\\-])"
LIST_SEP = re.compile(r",|\\text\{\s*(?:and|or)\s*\}|\band\b|" + OR_SEP)
GROUP_SEP = re.compile(r";|\\text\{\s*(?:and|or)\s*\}|\band\b|" + OR_SEP)
THOUSANDS = re.compile(r"(?<![\d.])(\d{1,3})((?:,\d{3})+)(?![\d])")


def depths(s: str) -> list[int]:
    """Bracket depth before each character (`\\{` counts as a bracket, `\\left` is already gone)."""
    out, d = [], 0
    for ch in s:
        if ch in CLOSE:
            d = max(0, d - 1)
        out.append(d)
        if ch in OPEN:
            d += 1
    return out


def max_depth(s: str) -> int:
    return max(depths(s), default=0)


def split_top(s: str, sep: re.Pattern) -> list[str]:
    """Split s at the matches of sep that sit at bracket depth 0."""
    d, parts, last = depths(s), [], 0
    for m in sep.finditer(s):
        if m.start() < len(d) and d[m.start()] == 0 and m.end() > m.start():
            parts.append(s[last:m.start()])
            last = m.end()
    parts.append(s[last:])
    return [p.strip() for p in parts]


def enclosed(s: str, left: str, right: str) -> bool:
    """s is one bracket group from first to last character (`(1,2)` yes, `(1)(2)` no)."""
    if not (s.startswith(left) and s.endswith(right)):
        return False
    d = depths(s)
    return all(x > 0 for x in d[len(left):len(s) - 1])


def join_thousands(s: str) -> str:
    """`7,425,000` -> `7425000` at depth 0 only (`(1,234)` stays a pair); `1,22` alone is a decimal comma."""
    if re.fullmatch(r"-?\d+,\d{2}|-?0,\d+|-?\d{4,},\d{1,2}", s):
        return s.replace(",", ".")
    d = depths(s)
    return THOUSANDS.sub(lambda m: m.group(0).replace(",", "") if d[m.start()] == 0 else m.group(0), s)


def expand_pm(item: str) -> list[str]:
    r"""`1 \pm \sqrt2` -> [`1+\sqrt2`, `1-\sqrt2`] (all signs together, `\mp` opposite)."""
    if r"\pm" not in item and r"\mp" not in item:
        return [item]
    plus = item.replace(r"\pm", "+").replace(r"\mp", "-")
    minus = item.replace(r"\pm", "-").replace(r"\mp", "+")
    return [re.sub(r"^\+", "", p).replace("(+", "(").replace("{+", "{").replace("=+", "=") for p in (plus, minus)]


def unwrap_collection(s: str) -> tuple[str, str]:
    r"""`\{1,2\}` -> ('1,2', 'set'); `{1,3}` (plain LaTeX grouping) -> ('1,3', 'list'); else (s, 'list')."""
    if enclosed(s, r"\{", r"\}") and "\\cup" not in s:
        inner = s[2:-2]
        if "|" not in inner and ":" not in inner:  # not set-builder notation
            return inner, "set"
    if enclosed(s, "{", "}") and not s.startswith(r"\{"):
        return s[1:-1], "list"
    return s, "list"


def split_items(s: str) -> tuple[list[str], str]:
    """Items of an answer and its kind: 'single', 'list' (compare as a set), 'set'."""
    s = join_thousands(s.strip())
    inner, kind = unwrap_collection(s)
    groups = [g for g in split_top(inner, GROUP_SEP) if g]
    tuples = [[p for p in split_top(g, re.compile(",")) if p] for g in groups]
    if len(groups) > 1 and all(len(t) > 1 and all(read_item(p).assignment for p in t) for t in tuples):
        items = ["(" + ",".join(value_of(p) for p in t) + ")" for t in tuples]  # p=5,q=2; p=7,q=2
    elif len(groups) > 1 and ";" in inner:
        items = [p for g in groups for p in split_top(g, LIST_SEP) if p]
    else:
        items = [p for p in split_top(inner, LIST_SEP) if p]
    expanded = [x.strip() for it in items for x in expand_pm(re.sub(r"(?<!\.)\.$", "", it.strip(" ;")))]
    expanded = [x for x in expanded if x]
    if kind == "list" and len(expanded) == 1:
        kind = "single"
    return expanded, kind


@dataclass(frozen=True)
class Item:
    """One item: `value` is what it equals; `equation` holds (lhs, rhs) when it is a relation to keep."""

    value: str
    equation: tuple[str, str] | None = None  # genuine equation, or the assignment it came from
    assignment: bool = False


def is_name(p: str) -> bool:
    r"""A left-hand side that names the answer: `x`, `f(x)`, `a_{37}`, `(p,q)`, `|AB|`, `A:B`, `\frac{NO}{BO}`."""
    p = re.sub(r"_\{[^{}]*\}|_\\?\w|\^\{?-1\}?|'", "", p)  # subscripts, f^{-1}, f'
    p = re.sub(r"\\(?:frac|left|right|mathrm|text|operatorname|angle|overline|triangle)", "", p)
    if not re.search(r"[A-Za-z]", p) or re.search(r"\d", p):
        return False
    d = depths(p)
    return not any(ch in "+-" and d[i] == 0 for i, ch in enumerate(p))


def is_constant(p: str) -> bool:
    r"""No letters outside LaTeX commands: `5 \times 6`, `\frac{1}{2}`, `\sqrt{3}`."""
    return not re.search(r"[A-Za-z]", re.sub(r"\\[a-zA-Z]+", "", p)) and bool(p.strip())


def value_of(item: str) -> str:
    return read_item(item).value


def read_item(item: str) -> Item:
    r"""What one item says: a value, an assignment `name = value`, or an equation `lhs = rhs`."""
    item = item.strip()
    parts = split_top(item, re.compile(r"\\approx|\\simeq"))
    if len(parts) > 1:  # x = 1/3 \approx 0.33 -> x = 1/3;  x \approx 11 -> 11
        item = parts[0] if not is_name(parts[0]) else parts[-1]
    m = split_top(item, re.compile(r"\\in(?![a-zA-Z])"))
    if len(m) == 2 and is_name(m[0]):
        return Item(m[1], None, True)
    parts = [p for p in split_top(item, re.compile(r"(?<![<>!\\])=")) if p != ""]
    if len(parts) < 2:
        return Item(item)
    if is_name(parts[0]):
        return Item(parts[-1], (parts[0], parts[-1]), True)
    if len(parts) > 2 or (is_constant(parts[0]) and is_constant(parts[-1])):
        return Item(parts[-1])
    return Item(item, (parts[0], parts[1]))


def name_key(item: Item) -> str | None:
    """The name an assignment item assigns (`a_{37} = 19` -> `a_37`), or None for any other item."""
    if not item.assignment or item.equation is None:
        return None
    return re.sub(r"[{}\s]", "", item.equation[0])
