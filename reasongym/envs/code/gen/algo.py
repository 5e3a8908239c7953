"""The procedural code families of levels 3-5: runs, brackets, intervals, matrices, dynamic programming and
graph search. Same contract as `code_families.py` (which collects these into FAMILIES)."""

from __future__ import annotations

import numpy as np

from reasongym.envs.code.gen.families import Spec, int_list, ints, letters

BRACKETS = ("()[]", "()[]{}", "()<>", "[]{}", "(){}<>")


def grid(rng: np.random.Generator, d: int, p_one: float) -> list[list[int]]:
    rows, cols = int(rng.integers(1, 2 + d)), int(rng.integers(1, 3 + d))
    return [[int(rng.random() < p_one) for _ in range(cols)] for _ in range(rows)]


def matrix(rng: np.random.Generator, d: int) -> list[list[int]]:
    cols = int(rng.integers(1, 2 + d))
    return [ints(rng, cols, 0, 9) for _ in range(int(rng.integers(1, 2 + d)))]


def bracket_text(rng: np.random.Generator, d: int, pairs: str) -> str:
    """Half the time a balanced, nested string (with filler), otherwise one with a random slip."""
    out, stack = [], []
    for _ in range(int(rng.integers(1, 3 + 2 * d))):
        if stack and rng.random() < 0.5:
            out.append(stack.pop())
        else:
            i = 2 * int(rng.integers(len(pairs) // 2))
            out.append(pairs[i])
            stack.append(pairs[i + 1])
        if rng.random() < 0.2:
            out.append("x")
    out += stack[::-1]
    if rng.random() < 0.5 and out:
        i = int(rng.integers(len(out)))
        out[i] = [pairs[int(rng.integers(len(pairs)))], ""][int(rng.integers(2))]
    return "".join(out)


# -- level 3 ------------------------------------------------------------------------------------------
def longest_run(rng, d):
    op, words = [("<", "strictly increasing"), ("<=", "non-decreasing"), (">", "strictly decreasing")][int(rng.integers(3))]
    return Spec("longest_run", "longest_run(nums: list[int]) -> int",
                "Return the length of the longest contiguous $words run in `nums` (0 for an empty list).",
                "def longest_run(nums):\n    best = cur = 0\n    for i, x in enumerate(nums):\n"
                "        cur = cur + 1 if i and nums[i - 1] $op x else 1\n        best = max(best, cur)\n    return best\n",
                lambda r, d: [ints(r, int(r.integers(0, 5 + 3 * d)), -d * 3, d * 3)], {"op": op, "words": words},
                [[[]], [[5]]])


def balanced(rng, d):
    pairs = BRACKETS[int(rng.integers(len(BRACKETS)))]
    shown = ", ".join(pairs[i:i + 2] for i in range(0, len(pairs), 2))
    return Spec("balanced", "balanced(s: str) -> bool",
                "Return True if the brackets $shown in `s` are balanced and properly nested; every other "
                "character is ignored.",
                "def balanced(s):\n    pairs = $pairs\n    closing = {pairs[i + 1]: pairs[i] for i in range(0, len(pairs), 2)}\n"
                "    stack = []\n    for c in s:\n        if c in closing:\n"
                "            if not stack or stack.pop() != closing[c]:\n                return False\n"
                "        elif c in pairs:\n            stack.append(c)\n    return not stack\n",
                lambda r, d, p=pairs: [bracket_text(r, d, p)],
                {"pairs": repr(pairs), "shown": shown}, [[""], [pairs[1]]])


def merge_intervals(rng, d):
    touch = bool(rng.random() < 0.5)
    return Spec("merge_intervals", "merge_intervals(intervals: list[list[int]]) -> list[list[int]]",
                "Each interval is [start, end] with start <= end. Merge overlapping intervals and return them "
                "sorted by start. Intervals that only touch (like [1, 2] and [2, 3]) $how.",
                "def merge_intervals(intervals):\n    out = []\n    for a, b in sorted(intervals):\n"
                "        if out and a $cmp out[-1][1]:\n            out[-1][1] = max(out[-1][1], b)\n"
                "        else:\n            out.append([a, b])\n    return out\n",
                lambda r, d: [[sorted(ints(r, 2, 0, 6 * d + 4)) for _ in range(int(r.integers(0, 2 + 2 * d)))]],
                {"how": "are merged" if touch else "stay separate", "cmp": "<=" if touch else "<"}, [[[]]])


def rotate(rng, d):
    k = int(rng.integers(1, 4))
    return Spec("rotate", "rotate(matrix: list[list[int]]) -> list[list[int]]",
                "Return `matrix` (a non-empty rectangular list of rows) rotated clockwise by $deg degrees.",
                "def rotate(matrix):\n    for _ in range($k):\n        matrix = [list(row) for row in zip(*matrix[::-1])]\n"
                "    return matrix\n",
                lambda r, d: [matrix(r, d)],
                {"k": k, "deg": 90 * k})


# -- level 4 ------------------------------------------------------------------------------------------
def lis(rng, d):
    strict = bool(rng.random() < 0.5)
    return Spec("lis", "lis(nums: list[int]) -> int",
                "Return the length of the longest $kind subsequence of `nums` (not necessarily contiguous).",
                "from bisect import $fn\n\ndef lis(nums):\n    tails = []\n    for x in nums:\n"
                "        i = $fn(tails, x)\n        tails[i:i + 1] = [x]\n    return len(tails)\n",
                lambda r, d: [int_list(r, d, -3, 3)],
                {"kind": "strictly increasing" if strict else "non-decreasing",
                 "fn": "bisect_left" if strict else "bisect_right"}, [[[]]])


def coin_ways(rng, d):
    coins = sorted({int(c) for c in rng.integers(1, 12, size=int(rng.integers(2, 5)))})
    return Spec("coin_ways", "coin_ways(amount: int) -> int",
                "Return the number of ways to pay `amount` with unlimited coins of values $coins; the order "
                "of coins does not matter, and there is one way to pay 0.",
                "def coin_ways(amount):\n    ways = [1] + [0] * amount\n    for c in $coins:\n"
                "        for v in range(c, amount + 1):\n            ways[v] += ways[v - c]\n    return ways[amount]\n",
                lambda r, d: [int(r.integers(0, 15 * d))], {"coins": coins}, [[0]])


def edit_distance(rng, d):
    ins, sub = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    return Spec("edit_distance", "edit_distance(a: str, b: str) -> int",
                "Return the cheapest cost of turning `a` into `b`, where inserting or deleting a character "
                "costs $ins and replacing one character by another costs $sub.",
                "def edit_distance(a, b):\n    prev = [j * $ins for j in range(len(b) + 1)]\n"
                "    for i in range(1, len(a) + 1):\n        cur = [i * $ins]\n        for j in range(1, len(b) + 1):\n"
                "            same = prev[j - 1] + (0 if a[i - 1] == b[j - 1] else $sub)\n"
                "            cur.append(min(same, prev[j] + $ins, cur[j - 1] + $ins))\n        prev = cur\n"
                "    return prev[-1]\n",
                lambda r, d: [letters(r, int(r.integers(0, 3 + 2 * d)), "abcd"), letters(r, int(r.integers(0, 3 + 2 * d)), "abcd")],
                {"ins": ins, "sub": sub}, [["", ""], ["abc", ""]])


def islands(rng, d):
    diag = bool(rng.random() < 0.5)
    return Spec("islands", "islands(grid: list[list[int]]) -> int",
                "`grid` is a list of rows of 0 (water) and 1 (land). Count the islands: groups of land cells "
                "connected $how.",
                "def islands(grid):\n    seen, count = set(), 0\n    steps = $steps\n"
                "    for r0, row in enumerate(grid):\n        for c0, v in enumerate(row):\n"
                "            if v != 1 or (r0, c0) in seen:\n                continue\n"
                "            count += 1\n            stack = [(r0, c0)]\n            seen.add((r0, c0))\n"
                "            while stack:\n                r, c = stack.pop()\n                for dr, dc in steps:\n"
                "                    nr, nc = r + dr, c + dc\n"
                "                    if 0 <= nr < len(grid) and 0 <= nc < len(grid[nr]) and grid[nr][nc] == 1 "
                "and (nr, nc) not in seen:\n                        seen.add((nr, nc))\n"
                "                        stack.append((nr, nc))\n    return count\n",
                lambda r, d: [grid(r, d + 1, 0.45)],
                {"how": "horizontally, vertically or diagonally" if diag else "horizontally or vertically",
                 "steps": [(a, b) for a in (-1, 0, 1) for b in (-1, 0, 1) if (a or b) and (diag or not (a and b))]},
                [[[]], [[[1]]]])


# -- level 5 ------------------------------------------------------------------------------------------
def shortest_path(rng, d):
    return Spec("shortest_path", "shortest_path(grid: list[list[int]]) -> int",
                "`grid` is a non-empty list of equal-length rows of 0 (free) and 1 (wall). Return the fewest "
                "moves (up, down, left, right) from the top-left cell to the bottom-right cell through free "
                "cells, or -1 if there is no way or either cell is a wall.",
                "from collections import deque\n\ndef shortest_path(grid):\n    rows, cols = len(grid), len(grid[0])\n"
                "    if grid[0][0] or grid[-1][-1]:\n        return -1\n    dist = {(0, 0): 0}\n    queue = deque([(0, 0)])\n"
                "    while queue:\n        r, c = queue.popleft()\n        if (r, c) == (rows - 1, cols - 1):\n"
                "            return dist[r, c]\n        for nr, nc in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):\n"
                "            if 0 <= nr < rows and 0 <= nc < cols and not grid[nr][nc] and (nr, nc) not in dist:\n"
                "                dist[nr, nc] = dist[r, c] + 1\n                queue.append((nr, nc))\n    return -1\n",
                lambda r, d: [grid(r, d, 0.25)], {}, [[[[0]]], [[[1]]]])


def knapsack(rng, d):
    cap = int(rng.integers(5, 25))
    return Spec("knapsack", "knapsack(items: list[list[int]]) -> int",
                "Each item is [weight, value] (positive integers). Return the largest total value of a set of "
                "items (each used at most once) whose total weight is at most $cap.",
                "def knapsack(items):\n    best = [0] * ($cap + 1)\n    for w, v in items:\n"
                "        for c in range($cap, w - 1, -1):\n            best[c] = max(best[c], best[c - w] + v)\n"
                "    return best[$cap]\n",
                lambda r, d: [[ints(r, 2, 1, 12) for _ in range(int(r.integers(0, 2 + 2 * d)))]], {"cap": cap}, [[[]]])


def palindrome_subseq(rng, d):
    return Spec("palindrome_subseq", "palindrome_subseq(s: str) -> int",
                "Return the length of the longest subsequence of `s` that reads the same backwards (0 for an "
                "empty string).",
                "def palindrome_subseq(s):\n    n = len(s)\n    best = [[0] * (n + 1) for _ in range(n + 1)]\n"
                "    t = s[::-1]\n    for i in range(n):\n        for j in range(n):\n"
                "            best[i + 1][j + 1] = best[i][j] + 1 if s[i] == t[j] else max(best[i][j + 1], best[i + 1][j])\n"
                "    return best[n][n]\n",
                lambda r, d: [letters(r, int(r.integers(0, 4 + 3 * d)), "abc")], {}, [[""]])


def subarrays_with_sum(rng, d):
    return Spec("subarrays_with_sum", "subarrays_with_sum(nums: list[int]) -> int",
                "Return how many non-empty contiguous subarrays of `nums` have a sum of exactly $k.",
                "def subarrays_with_sum(nums):\n    seen, total, count = {0: 1}, 0, 0\n    for x in nums:\n"
                "        total += x\n        count += seen.get(total - $k, 0)\n        seen[total] = seen.get(total, 0) + 1\n"
                "    return count\n",
                lambda r, d: [ints(r, int(r.integers(0, 5 + 3 * d)), -3, 5)], {"k": int(rng.integers(-2, 8))}, [[[]]])


ALGO_FAMILIES = {f.__name__: (level, f) for level, fs in (
    (3, (longest_run, balanced, merge_intervals, rotate)),
    (4, (lis, coin_ways, edit_distance, islands)),
    (5, (shortest_path, knapsack, palindrome_subseq, subarrays_with_sum))) for f in fs}
