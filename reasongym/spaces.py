"""Unicode text and chat-message spaces for Gymnasium.

Gymnasium's `Text` space only holds characters from a fixed charset, so it rejects LaTeX, code and any
non-ASCII math. These spaces hold any Python `str` (up to a length), and chat transcripts as a list of
`{"role", "content"}` dicts, which is what a chat LLM reads. `sample()` draws printable unicode text so
`gymnasium.utils.env_checker.check_env` can exercise an environment with random actions.

Vector environments (`gymnasium.make_vec`) batch them as tuples, through the generic `Space` rules.

    from reasongym.spaces import UnicodeText, Chat
    UnicodeText().contains("\\frac{1}{2} ≈ 0.5")   # True
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

ROLES = ("system", "user", "assistant", "tool")
# What sample() draws from: ASCII printable, plus a little math and LaTeX so random actions look alien.
_SAMPLE_ALPHABET = [chr(c) for c in range(32, 127)] + list("αβγπ√∞≤≥≠±×÷½\n")


class UnicodeText(spaces.Space[str]):
    """Any `str` of at most `max_length` characters."""

    def __init__(self, max_length: int = 1_000_000, seed: int | np.random.Generator | None = None):
        self.max_length = int(max_length)
        super().__init__(shape=None, dtype=str, seed=seed)

    @property
    def is_np_flattenable(self) -> bool:
        return False

    def sample(self, mask: Any = None, probability: Any = None) -> str:
        length = int(self.np_random.integers(0, min(self.max_length, 64) + 1))
        idx = self.np_random.integers(0, len(_SAMPLE_ALPHABET), size=length)
        return "".join(_SAMPLE_ALPHABET[i] for i in idx)

    def contains(self, x: Any) -> bool:
        return isinstance(x, str) and len(x) <= self.max_length

    def __repr__(self) -> str:
        return f"UnicodeText(max_length={self.max_length})"

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, UnicodeText) and other.max_length == self.max_length

    def to_jsonable(self, sample_n: list[str]) -> list[str]:
        return list(sample_n)

    def from_jsonable(self, sample_n: list[str]) -> list[str]:
        return list(sample_n)


class Chat(spaces.Space[list]):
    """A chat transcript: a non-empty list of `{"role": one of ROLES, "content": str}` dicts."""

    def __init__(self, max_messages: int = 256, max_length: int = 1_000_000, seed=None):
        self.max_messages = int(max_messages)
        self.text = UnicodeText(max_length)
        super().__init__(shape=None, dtype=None, seed=seed)

    @property
    def is_np_flattenable(self) -> bool:
        return False

    def seed(self, seed: int | None = None) -> list[int]:
        return super().seed(seed) + self.text.seed(None if seed is None else seed + 1)

    def sample(self, mask: Any = None, probability: Any = None) -> list[dict[str, str]]:
        n = int(self.np_random.integers(1, 4))
        roles = self.np_random.choice(ROLES[:3], size=n)
        return [{"role": str(r), "content": self.text.sample()} for r in roles]

    def contains(self, x: Any) -> bool:
        return (
            isinstance(x, list)
            and 0 < len(x) <= self.max_messages
            and all(
                isinstance(m, dict)
                and set(m) >= {"role", "content"}
                and m["role"] in ROLES
                and self.text.contains(m["content"])
                for m in x
            )
        )

    def __repr__(self) -> str:
        return f"Chat(max_messages={self.max_messages})"

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, Chat) and other.max_messages == self.max_messages

    def to_jsonable(self, sample_n: list) -> list:
        return [list(s) for s in sample_n]

    def from_jsonable(self, sample_n: list) -> list:
        return [list(s) for s in sample_n]
