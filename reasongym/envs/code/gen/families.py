"""The procedural code families, levels 1-2 (list and string basics); levels 3-5 are in
`code_families_algo.py`. Each family is `make(rng, difficulty) -> Spec`: the signature, the behaviour in
words and the reference source (both `string.Template`s over `params`), an input sampler and edge cases.

Params are stored already formatted as Python source (strings quoted), so one substitution serves the
prompt and the reference. Inputs are plain Python values (no numpy types), so expected outputs are too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

LETTERS = "abcdefghijklmnopqrstuvwxyz"
WORDS = ("apple", "stone", "river", "cloud", "tiger", "lamp", "sun", "a", "book", "green", "quiet", "moon",
         "fox", "bridge", "paper", "wind", "echo", "silver", "tree", "at")


@dataclass
class Spec:
    entry: str
    signature: str
    text: str
    source: str
    sample: Callable[[np.random.Generator, int], list]
    params: dict[str, Any] = field(default_factory=dict)
    edge_cases: list[list] = field(default_factory=list)


# -- input samplers -----------------------------------------------------------------------------------
def ints(rng: np.random.Generator, n: int, lo: int, hi: int) -> list[int]:
    return [int(x) for x in rng.integers(lo, hi + 1, size=n)]


def int_list(rng: np.random.Generator, d: int, lo_scale: int = -20, hi_scale: int = 20) -> list[int]:
    return ints(rng, int(rng.integers(0, 4 + 3 * d)), lo_scale * d, hi_scale * d)


def word_text(rng: np.random.Generator, d: int, sep: str = " ") -> str:
    words = [WORDS[int(i)] for i in rng.integers(0, len(WORDS), size=int(rng.integers(1, 3 + 2 * d)))]
    return sep.join(w.upper() if rng.random() < 0.2 else w for w in words)


def letters(rng: np.random.Generator, n: int, alphabet: str = LETTERS) -> str:
    return "".join(alphabet[int(i)] for i in rng.integers(0, len(alphabet), size=n))


# -- level 1 ------------------------------------------------------------------------------------------
def sum_multiples(rng, d):
    k = int(rng.integers(2, 10))
    return Spec("sum_multiples", "sum_multiples(nums: list[int]) -> int",
                "Return the sum of the numbers in `nums` that are divisible by $k (0 for an empty list).",
                "def sum_multiples(nums):\n    return sum(x for x in nums if x % $k == 0)\n",
                lambda r, d, k=k: [[x * (k if r.random() < 0.5 else 1) for x in int_list(r, d, -5, 5)]],
                {"k": k}, [[[]], [[0, -3]]])


def count_chars(rng, d):
    chars = "".join(sorted(set(letters(rng, int(rng.integers(2, 5))))))
    pool = chars + chars.upper() + "xyz "
    return Spec("count_chars", "count_chars(s: str) -> int",
                "Return how many characters of `s` are one of the characters in $chars (case-sensitive).",
                "def count_chars(s):\n    return sum(c in $chars for c in s)\n",
                lambda r, d, pool=pool: [letters(r, int(r.integers(0, 6 + 4 * d)), pool)],
                {"chars": repr(chars)}, [[""]])


def clamp(rng, d):
    lo = int(rng.integers(-10, 5))
    return Spec("clamp", "clamp(nums: list[int]) -> list[int]",
                "Return a new list in which every number below $lo becomes $lo and every number above $hi "
                "becomes $hi; other numbers stay as they are.",
                "def clamp(nums):\n    return [min(max(x, $lo), $hi) for x in nums]\n",
                lambda r, d: [int_list(r, d)], {"lo": lo, "hi": lo + int(rng.integers(3, 20))}, [[[]]])


def every_nth(rng, d):
    n = int(rng.integers(2, 6))
    return Spec("every_nth", "every_nth(items: list) -> list",
                "Return the elements of `items` at indexes $start, $start + $n, $start + 2*$n, ... in order.",
                "def every_nth(items):\n    return items[$start::$n]\n",
                lambda r, d: [int_list(r, d)], {"n": n, "start": int(rng.integers(0, n))}, [[[]]])


def count_in_range(rng, d):
    lo = int(rng.integers(-20, 20))
    return Spec("count_in_range", "count_in_range(nums: list[int]) -> int",
                "Return how many numbers x in `nums` satisfy $lo <= x <= $hi.",
                "def count_in_range(nums):\n    return sum($lo <= x <= $hi for x in nums)\n",
                lambda r, d: [int_list(r, d)], {"lo": lo, "hi": lo + int(rng.integers(0, 30))}, [[[]]])


def capitalize_words(rng, d):
    sep = [" ", "-", "_", ", "][int(rng.integers(4))]
    return Spec("capitalize_words", "capitalize_words(text: str) -> str",
                "`text` is words separated by $sep. Return it with the first letter of every word in upper "
                "case and the other letters in lower case, separators unchanged.",
                "def capitalize_words(text):\n    return $sep.join(w[:1].upper() + w[1:].lower() "
                "for w in text.split($sep))\n",
                lambda r, d, sep=sep: [word_text(r, d, sep)], {"sep": repr(sep)}, [[""]])


# -- level 2 ------------------------------------------------------------------------------------------
def caesar(rng, d):
    return Spec("caesar", "caesar(text: str) -> str",
                "Shift every letter of `text` $k places forward in the alphabet, wrapping from z to a, keeping "
                "its case; other characters stay unchanged.",
                "def caesar(text):\n    out = []\n    for c in text:\n        if c.isalpha() and c.isascii():\n"
                "            base = ord('a') if c.islower() else ord('A')\n"
                "            c = chr((ord(c) - base + $k) % 26 + base)\n        out.append(c)\n"
                "    return ''.join(out)\n",
                lambda r, d: [word_text(r, d) + "!"], {"k": int(rng.integers(1, 26))}, [[""], ["xyz XYZ"]])


def run_length(rng, d):
    count_first = bool(rng.random() < 0.5)
    piece = "str(n) + c" if count_first else "c + str(n)"
    eg = "'3a1b'" if count_first else "'a3b1'"
    return Spec("run_length", "run_length(s: str) -> str",
                "Run-length encode `s`: each maximal run of one character becomes the character and the run "
                f"length, written {'count first' if count_first else 'character first'} (so 'aaab' gives "
                f"{eg}).",
                "def run_length(s):\n    out, i = [], 0\n    while i < len(s):\n        j = i\n"
                "        while j < len(s) and s[j] == s[i]:\n            j += 1\n"
                f"        c, n = s[i], j - i\n        out.append({piece})\n        i = j\n    return ''.join(out)\n",
                lambda r, d: ["".join(c * int(r.integers(1, 4)) for c in letters(r, int(r.integers(0, 3 + 2 * d)), "abc"))],
                {"first": count_first}, [[""], ["z"]])


def second_distinct(rng, d):
    which = ["largest", "smallest"][int(rng.integers(2))]
    return Spec("second_distinct", "second_distinct(nums: list[int]) -> int | None",
                "Return the second $which distinct value in `nums`, or None when it has fewer than two "
                "distinct values.",
                "def second_distinct(nums):\n    values = sorted(set(nums), reverse=$rev)\n"
                "    return values[1] if len(values) > 1 else None\n",
                lambda r, d: [ints(r, int(r.integers(0, 4 + 3 * d)), -5 * d, 5 * d)],
                {"which": which, "rev": which == "largest"}, [[[]], [[4, 4]]])


def digit_power_sum(rng, d):
    return Spec("digit_power_sum", "digit_power_sum(n: int) -> int",
                "Return the sum of the decimal digits of `n` (ignore its sign), each raised to the power $p.",
                "def digit_power_sum(n):\n    return sum(int(c) ** $p for c in str(abs(n)))\n",
                lambda r, d: [int(r.integers(-10 ** (2 + d), 10 ** (2 + d)))], {"p": int(rng.integers(1, 5))},
                [[0]])


def long_words(rng, d):
    return Spec("long_words", "long_words(text: str) -> dict[str, int]",
                "Return a dict that maps every word of `text` (split on whitespace) longer than $k characters "
                "to its length.",
                "def long_words(text):\n    return {w: len(w) for w in text.split() if len(w) > $k}\n",
                lambda r, d: [word_text(r, d)], {"k": int(rng.integers(2, 6))}, [[""]])


def max_window(rng, d):
    return Spec("max_window", "max_window(nums: list[int]) -> int | None",
                "Return the largest sum of $k consecutive elements of `nums`, or None if it has fewer than "
                "$k elements.",
                "def max_window(nums):\n    if len(nums) < $k:\n        return None\n"
                "    return max(sum(nums[i:i + $k]) for i in range(len(nums) - $k + 1))\n",
                lambda r, d: [int_list(r, d)], {"k": int(rng.integers(2, 5))}, [[[]], [[1]]])


def _families() -> dict[str, tuple[int, Callable[[np.random.Generator, int], Spec]]]:
    from reasongym.envs.code.gen.algo import ALGO_FAMILIES
    basic = {f.__name__: (1, f) for f in (sum_multiples, count_chars, clamp, every_nth, count_in_range,
                                          capitalize_words)}
    basic |= {f.__name__: (2, f) for f in (caesar, run_length, second_distinct, digit_power_sum, long_words,
                                           max_window)}
    return basic | ALGO_FAMILIES


FAMILIES = _families()
