"""Ranking data for reward models: pairs and full K-rankings from JSONL, hh-rlhf dialogues as chat messages.

A `Ranking` is one prompt (chat messages) and K >= 2 responses ordered best first, as a human ranked them
(a pair is K = 2; ties are allowed through explicit `ranks`). Accepted JSONL rows (plain or .gz):

    {"chosen": "\\n\\nHuman: hi\\n\\nAssistant: hello!", "rejected": "\\n\\nHuman: hi\\n\\nAssistant: go away"}
    {"prompt": "Tell a joke", "chosen": "...", "rejected": "..."}             # prompt string or messages
    {"chosen": [{"role": "user", ...}, {"role": "assistant", ...}], "rejected": [...]}   # conversations
    {"prompt": "Tell a joke", "responses": ["best", "second", "worst"]}       # a full ranking, best first
    {"prompt": "...", "responses": ["a", "b", "c"], "ranks": [2, 1, 2]}      # 1 = best; equal = tie

hh-rlhf rows hold two whole dialogues that share every turn but the last Assistant one: the prompt is the
longest common prefix cut back to its last "\\n\\nAssistant:" (so a reply that itself contains a fake
"Human:" turn stays one reply), parsed into user/assistant messages.

    rankings = load_rankings("../shared/data/hh_rlhf_harmless_base_test.jsonl.gz")
    train, heldout = split_rankings(rankings)       # deterministic, by prompt (first user message)
    pairs = [p for r in train for p in r.pairs()]   # every ordered (better, worse) pair of each ranking

Bad rows raise `PreferenceDataError` naming the file, line and field. Standard library only.
"""

from __future__ import annotations

import gzip
import json
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reasongym.core import Messages
from reasongym.data import HELDOUT_PERCENT, split_of_key

HUMAN, ASSISTANT = "\n\nHuman:", "\n\nAssistant:"
_TURN = re.compile(r"\n\n(Human|Assistant):[ \t]?")
ROLES = {"Human": "user", "Assistant": "assistant"}


class PreferenceDataError(ValueError):
    """A ranking file or row that cannot be read; the message says file, line, field and what to do."""


@dataclass(frozen=True)
class Ranking:
    """A prompt and its responses, best first. ranks[i] is response i's place (1 = best; equal = tie)."""

    prompt: tuple[dict[str, str], ...]
    responses: tuple[str, ...]
    ranks: tuple[int, ...]
    source: str = ""  # "file:line", for error messages and reports

    @property
    def messages(self) -> Messages:
        return [dict(m) for m in self.prompt]

    @property
    def key(self) -> str:
        return prompt_key(self.prompt)

    def pairs(self) -> list[tuple[int, int]]:
        """Every ordered (better, worse) index pair; ties give none. K responses: up to K(K-1)/2 pairs."""
        k = len(self.responses)
        return [(i, j) for i in range(k) for j in range(k) if self.ranks[i] < self.ranks[j]]

    @property
    def strict(self) -> bool:
        """True when the order is total (no ties): what a Plackett-Luce loss needs."""
        return len(set(self.ranks)) == len(self.ranks)


def prompt_key(prompt: Sequence[dict[str, str]]) -> str:
    """The split key of a prompt: its first user message, normalised (case, spacing, unicode form)."""
    first = next((m["content"] for m in prompt if m["role"] == "user"), "")
    return " ".join(unicodedata.normalize("NFKC", first).lower().split())


def split_rankings(rankings: Sequence[Ranking], heldout_percent: int = HELDOUT_PERCENT
                   ) -> tuple[list[Ranking], list[Ranking]]:
    """(train, heldout): rankings whose prompts open with the same user message land on the same side."""
    train = [r for r in rankings if split_of_key(r.key, heldout_percent) == "train"]
    heldout = [r for r in rankings if split_of_key(r.key, heldout_percent) == "heldout"]
    return train, heldout


# -- hh-rlhf dialogues ----------------------------------------------------------------------------------
def parse_dialogue(text: str, where: str = "dialogue") -> Messages:
    """'\\n\\nHuman: a\\n\\nAssistant: b ...' -> [{"role": "user", ...}, {"role": "assistant", ...}, ...]."""
    if not text.startswith("\n\n"):
        text = "\n\n" + text
    parts = _TURN.split(text)
    if parts[0].strip() or len(parts) < 3:
        raise PreferenceDataError(f"{where}: not an hh-rlhf dialogue; expected text that opens with "
                                  f"'Human: ' and alternates '\\n\\nHuman: ' / '\\n\\nAssistant: ' turns, "
                                  f"got {text[:60]!r}")
    msgs = [{"role": ROLES[parts[i]], "content": parts[i + 1]} for i in range(1, len(parts), 2)]
    if msgs[0]["role"] != "user":
        raise PreferenceDataError(f"{where}: the dialogue must open with a Human turn, got {text[:60]!r}")
    return msgs


def split_pair(chosen: str, rejected: str, where: str) -> tuple[Messages, str, str]:
    """Two hh-rlhf dialogues -> (shared prompt messages, chosen reply, rejected reply)."""
    common = 0
    for a, b in zip(chosen, rejected):
        if a != b:
            break
        common += 1
    if chosen == rejected:
        raise PreferenceDataError(f"{where}: chosen and rejected are the same text; drop the row")
    cut = chosen.rfind(ASSISTANT, 0, common + 1)
    if cut < 0:
        raise PreferenceDataError(f"{where} fields 'chosen'/'rejected': not two hh-rlhf dialogues sharing a "
                                  "prompt up to the last '\\n\\nAssistant:'; for plain replies add a 'prompt' field")
    prompt = parse_dialogue(chosen[:cut], where)
    if prompt[-1]["role"] != "user":
        raise PreferenceDataError(f"{where}: the prompt before the final Assistant turn ends with an "
                                  "Assistant turn; the row is not a dialogue pair")
    start = cut + len(ASSISTANT)
    return prompt, chosen[start:].removeprefix(" "), rejected[start:].removeprefix(" ")


# -- rows -> rankings -----------------------------------------------------------------------------------
def _prompt(value: Any, where: str) -> Messages:
    if isinstance(value, str):
        if value.lstrip("\n").startswith("Human:"):
            msgs = parse_dialogue(value, where)
            return msgs[:-1] if msgs[-1]["role"] == "assistant" and not msgs[-1]["content"].strip() else msgs
        return [{"role": "user", "content": value}]
    if isinstance(value, list) and value and all(isinstance(m, dict) and {"role", "content"} <= set(m)
                                                 for m in value):
        return [{"role": str(m["role"]), "content": str(m["content"])} for m in value]
    raise PreferenceDataError(f"{where}: expected a string or a list of {{role, content}} messages, "
                              f"got {type(value).__name__}")


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise PreferenceDataError(f"{where}: expected the response text (a string), got {type(value).__name__}")
    return value


def _conversation_pair(chosen: list, rejected: list, where: str) -> tuple[Messages, str, str]:
    c, r = _prompt(chosen, f"{where} field 'chosen'"), _prompt(rejected, f"{where} field 'rejected'")
    if c[-1]["role"] != "assistant" or r[-1]["role"] != "assistant":
        raise PreferenceDataError(f"{where}: conversations in 'chosen'/'rejected' must end with the "
                                  "assistant reply being judged")
    if c[:-1] != r[:-1]:
        raise PreferenceDataError(f"{where}: 'chosen' and 'rejected' differ before their last message; "
                                  "they must share the prompt")
    return c[:-1], c[-1]["content"], r[-1]["content"]


def ranking_from_row(row: Any, where: str) -> Ranking:
    """One JSON row (any accepted shape) -> Ranking; `where` ("file:line") goes into every error."""
    if not isinstance(row, dict):
        raise PreferenceDataError(f"{where}: expected a JSON object, got {type(row).__name__}")
    if "responses" in row:
        if "prompt" not in row:
            raise PreferenceDataError(f"{where}: missing field 'prompt' (a ranking row needs prompt + responses)")
        prompt = _prompt(row["prompt"], f"{where} field 'prompt'")
        resp = row["responses"]
        if not isinstance(resp, list) or len(resp) < 2:
            raise PreferenceDataError(f"{where} field 'responses': expected a list of at least 2 responses, "
                                      "best first")
        texts = tuple(_text(x, f"{where} field 'responses'[{i}]") for i, x in enumerate(resp))
        ranks = row.get("ranks", list(range(1, len(texts) + 1)))
        if (not isinstance(ranks, list) or len(ranks) != len(texts)
                or not all(isinstance(x, int) and not isinstance(x, bool) for x in ranks)):
            raise PreferenceDataError(f"{where} field 'ranks': expected {len(texts)} integers (1 = best), "
                                      f"got {ranks!r}")
        if len(set(ranks)) == 1:
            raise PreferenceDataError(f"{where} field 'ranks': every response has the same rank; nothing "
                                      "to learn from the row")
        return Ranking(tuple(prompt), texts, tuple(ranks), where)
    for name in ("chosen", "rejected"):
        if name not in row:
            raise PreferenceDataError(f"{where}: missing field {name!r} (a pair row needs chosen and rejected, "
                                      "a ranking row prompt and responses)")
    chosen, rejected = row["chosen"], row["rejected"]
    if "prompt" in row:
        prompt = _prompt(row["prompt"], f"{where} field 'prompt'")
        pair = (prompt, _text(chosen, f"{where} field 'chosen'"), _text(rejected, f"{where} field 'rejected'"))
    elif isinstance(chosen, list) and isinstance(rejected, list):
        pair = _conversation_pair(chosen, rejected, where)
    else:
        pair = split_pair(_text(chosen, f"{where} field 'chosen'"), _text(rejected, f"{where} field 'rejected'"),
                          where)
    return Ranking(tuple(pair[0]), (pair[1], pair[2]), (1, 2), where)


def read_rows(path: str | Path) -> Iterator[tuple[int, Any]]:
    """(line number, parsed JSON) for every non-empty line of a JSONL or JSONL.gz file."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"ranking file {path} does not exist")
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    yield n, json.loads(line)
                except json.JSONDecodeError as exc:
                    raise PreferenceDataError(f"{path}:{n}: not valid JSON ({exc.msg} at column {exc.colno})") from exc


def load_rankings(path: str | Path, limit: int | None = None) -> list[Ranking]:
    """Every ranking of a JSONL file (first `limit` rows when given)."""
    out = []
    for n, row in read_rows(path):
        out.append(ranking_from_row(row, f"{path}:{n}"))
        if limit is not None and len(out) >= limit:
            break
    if not out:
        raise PreferenceDataError(f"{path}: no rows; expected JSONL with chosen/rejected or prompt/responses")
    return out


@dataclass(frozen=True)
class PromptRow:
    """One prompt of a prompt file: messages, an optional gold answer and worked reply, and its place."""

    prompt: Messages
    answer: Any = None
    solution: str | None = None  # a good reply, for a supervised cold start
    source: str = ""


def load_prompts(path: str | Path, limit: int | None = None) -> list[PromptRow]:
    """The prompts of a file, for environments that generate replies.

    A row is {"prompt": str | messages, "answer": optional, "solution": optional}, or any ranking row (its
    prompt is taken, its best response is the solution), so the hh-rlhf file itself is a prompt file.
    """
    out = []
    for n, row in read_rows(path):
        where = f"{path}:{n}"
        if isinstance(row, dict) and "prompt" in row and "responses" not in row and "chosen" not in row:
            solution = row.get("solution")
            if solution is not None and not isinstance(solution, str):
                raise PreferenceDataError(f"{where} field 'solution': expected a string, got {type(solution).__name__}")
            out.append(PromptRow(_prompt(row["prompt"], f"{where} field 'prompt'"), row.get("answer"), solution, where))
        else:
            r = ranking_from_row(row, where)
            best = r.responses[min(range(len(r.ranks)), key=lambda i: r.ranks[i])]
            out.append(PromptRow(r.messages, None, best, where))
        if limit is not None and len(out) >= limit:
            break
    if not out:
        raise PreferenceDataError(f"{path}: no prompts; expected JSONL rows with a 'prompt' field")
    return out


def write_rankings(path: str | Path, rankings: Sequence[Ranking]) -> None:
    """Write rankings as prompt/responses/ranks rows (the loader reads them back unchanged)."""
    with open(path, "w", encoding="utf-8") as f:
        for r in rankings:
            f.write(json.dumps({"prompt": r.messages, "responses": list(r.responses), "ranks": list(r.ranks)},
                               ensure_ascii=False) + "\n")
