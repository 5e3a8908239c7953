"""Is multi-turn training token-exact with this chat template? Each transcript must render as a prefix of the next.

A multi-turn row (reasongym.agents.rollout.episode_row) is the first prompt, then per turn the tokens the
policy sampled and the template's rendering of what the environment said next. That row is what the
policy saw only if rendering transcript t+1 starts with rendering transcript t plus the reply, byte for
byte. Templates that re-render earlier turns break this silently: Qwen3's drops the `<think>` blocks
of past assistant turns, some templates reject or drop a `tool` role, some rewrite the system prompt
once there is history. Then the learner scores tokens the sampler never conditioned on and the
importance ratios are wrong. This module checks a template on small transcripts of user, tool and
assistant messages, with and without think blocks, and names the first place the renderings part.

    from reasongym.lm.template_check import check_template, require_multiturn_template
    report = check_template(tokenizer)               # TemplateReport; print(report) shows each problem
    mode = require_multiturn_template(tokenizer, env_roles=["tool"])   # "prefix", or raises TemplateError
    mode = require_multiturn_template(tokenizer, fallback="delta")   # "delta" when the template breaks

    python -m reasongym.check_template smollm2       # the same from the command line, any model

The documented fallback ("delta") keeps the sampled tokens verbatim: never re-render the transcript;
after each reply append only `delta_text(tokenizer, new_messages)`, the template's rendering of the new
environment messages and the next generation prompt as it would follow an assistant turn, and prompt
the policy with that same running token list. The policy then conditions on exactly the row's tokens,
at the price of seeing past think blocks a template would have hidden.

Only the tokenizer is needed (no model, no torch).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

SENTINEL = "Reply 7f3a."  # an assistant reply no template rewrites (no think block, plain text)
THOUGHT = "<think>\nLet me count carefully.\n</think>\n\n"
PROBLEM_KINDS = ("prefix", "render_error", "dropped", "tokens")
ENV_ROLES = ("user", "tool")  # the roles an environment's messages after a reply come in


@dataclass(frozen=True)
class Problem:
    """What went wrong where: kind is prefix (the next rendering does not start with this one plus the
    reply), render_error (the template raised), dropped (a message's text is missing from the rendering)
    or tokens (the text is a prefix, but tokenizing the whole differs from tokenizing the parts)."""

    scenario: str
    turn: int
    kind: str
    detail: str


@dataclass
class TemplateReport:
    name: str
    scenarios: list[str]
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Prefix-preserving on every scenario (token-boundary notes do not count: rows keep sampled ids)."""
        return not any(p.kind != "tokens" for p in self.problems)

    def __str__(self) -> str:
        verdict = "prefix-preserving: multi-turn rows are exact" if self.ok else "NOT prefix-preserving"
        lines = [f"chat template of {self.name or 'the tokenizer'}: {verdict}",
                 f"  scenarios checked: {', '.join(self.scenarios)}"]
        lines += [f"  [{p.kind}] {p.scenario}, assistant turn {p.turn}: {p.detail}" for p in self.problems]
        return "\n".join(lines)


class TemplateError(ValueError):
    """A chat template that would make multi-turn training inexact, with the report that says where."""


def scenarios(env_roles: Sequence[str] = ENV_ROLES, think: bool = True, system: bool = True) -> dict[str, list[dict]]:
    """Small transcripts, one per role the environment answers in (user feedback, tool results), each also
    with think blocks in the replies and with a system prompt."""
    def chat(env_role: str, thought: str, sys: bool) -> list[dict]:
        msgs = [{"role": "system", "content": "You are a careful assistant."}] if sys else []
        msgs.append({"role": "user", "content": 'How many r are in "strawberry"? Put the answer in \\boxed{}.'})
        for reply, env in [("```python\nprint('strawberry'.count('r'))\n```", "3"),
                           ("```python\nprint(len('strawberry'))\n```", "10")]:
            said = env if env_role == "tool" else f"Output of your code:\n{env}"
            msgs += [{"role": "assistant", "content": thought + reply}, {"role": env_role, "content": said}]
        return msgs + [{"role": "assistant", "content": thought + "The answer is \\boxed{3}."}]

    out = {}
    for role in env_roles:
        if role not in ENV_ROLES:
            raise ValueError(f"env_roles may hold {ENV_ROLES}, got {role!r}")
        out[role] = chat(role, "", False)
        if think:
            out[f"{role}+think"] = chat(role, THOUGHT, False)
        if system:
            out[f"{role}+system"] = chat(role, "", True)
    return out


def render(tokenizer, messages: Sequence[dict], generation_prompt: bool = True) -> str:
    return tokenizer.apply_chat_template(list(messages), add_generation_prompt=generation_prompt, tokenize=False)


def check_transcript(tokenizer, name: str, msgs: list[dict]) -> list[Problem]:
    """The problems of one transcript: at each assistant turn, does the next rendering extend this one?"""
    turns = [i for i, m in enumerate(msgs) if m["role"] == "assistant"]
    problems: list[Problem] = []
    for n, (k, nxt) in enumerate(zip(turns, turns[1:]), start=1):
        try:
            before, after = render(tokenizer, msgs[:k]), render(tokenizer, msgs[:nxt])
        except Exception as e:  # noqa: BLE001 - a template raising on a role is a finding, not a crash
            return problems + [Problem(name, n, "render_error", f"{type(e).__name__}: {str(e)[:200]}")]
        reply = msgs[k]["content"]
        for m in msgs[k + 1:nxt]:
            if m["content"] not in after:
                problems.append(Problem(name, n, "dropped", f"the {m['role']} message {m['content']!r} is not "
                                        "in the rendering (the template ignores this role)"))
        if not after.startswith(before + reply):
            problems.append(Problem(name, n, "prefix", divergence(before + reply, after)))
            continue
        rest = after[len(before) + len(reply):]
        whole = tokenizer.encode(after, add_special_tokens=False)
        parts = [tokenizer.encode(t, add_special_tokens=False) for t in (before, reply, rest)]
        if whole != parts[0] + parts[1] + parts[2]:
            problems.append(Problem(name, n, "tokens", "tokenizing the next prompt whole differs from tokenizing "
                                    "prompt, reply and environment text apart (a merge across a boundary)"))
    return problems


def divergence(expected: str, got: str) -> str:
    """Where two renderings part, with a little context of each."""
    i = next((j for j, (a, b) in enumerate(zip(expected, got)) if a != b), min(len(expected), len(got)))
    lo = max(0, i - 40)
    return (f"at character {i} the next rendering has {got[lo:i + 40]!r} where this rendering plus the reply "
            f"has {expected[lo:i + 40]!r}")


def check_template(tokenizer, *, env_roles: Sequence[str] = ENV_ROLES, think: bool = True, system: bool = True,
                   name: str = "") -> TemplateReport:
    """Check the tokenizer's chat template on every scenario (see `scenarios`)."""
    if getattr(tokenizer, "chat_template", None) is None:
        raise TemplateError(f"{name or 'the tokenizer'} has no chat template; set tokenizer.chat_template")
    cases = scenarios(env_roles, think, system)
    report = TemplateReport(name or getattr(tokenizer, "name_or_path", ""), list(cases))
    for case, msgs in cases.items():
        report.problems += check_transcript(tokenizer, case, msgs)
    return report


def require_multiturn_template(tokenizer, *, env_roles: Sequence[str] = ENV_ROLES, think: bool = True,
                               fallback: str = "error", name: str = "") -> str:
    """What a trainer calls at start-up for a multi-turn env: "prefix" when rows built by re-rendering are
    exact; otherwise raise TemplateError (fallback="error") or return "delta" (fallback="delta": build
    prompts and rows from the running token list with `delta_text`, see the module docstring)."""
    if fallback not in ("error", "delta"):
        raise ValueError(f"fallback must be 'error' or 'delta', got {fallback!r}")
    report = check_template(tokenizer, env_roles=env_roles, think=think, name=name)
    if report.ok:
        return "prefix"
    if fallback == "delta":
        return "delta"
    raise TemplateError(f"{report}\nMulti-turn rows would not be the tokens the policy sampled from. Use a "
                        "template that renders each transcript as a prefix of the next (for Qwen3: keep past "
                        "think blocks), use the tool env's tool_role='user' if only the tool role fails, or train with "
                        "fallback='delta' (sampled tokens kept verbatim).")


def delta_text(tokenizer, new_messages: Sequence[dict]) -> str:
    """The template's text for `new_messages` (and the next generation prompt) right after an assistant reply,
    rendered after a fixed two-message history so no earlier turn is re-rendered."""
    head = [{"role": "user", "content": "Hi."}, {"role": "assistant", "content": SENTINEL}]
    full = render(tokenizer, head + list(new_messages))
    end = full.rfind(SENTINEL)
    if end < 0:
        raise TemplateError("the chat template dropped an assistant reply; it cannot be used for multi-turn rows")
    return full[end + len(SENTINEL):]
