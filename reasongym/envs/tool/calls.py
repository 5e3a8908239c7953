"""Which part of a policy's message is a call to the Python tool, in the three forms policies write one.

1. A fenced block tagged python (```python, ```py, ```python3), closed; an untagged or unclosed fence
   is not a call (it may be quoted output, or a reply cut off at max_new_tokens mid-program).
2. A `<tool_call>{"name": "python", "arguments": {"code": "..."}}</tool_call>` block: the text that
   Hermes-style chat templates (Qwen2.5, Qwen3, SmolLM3, ...) render an OpenAI `tool_calls` message as,
   so a model trained on its template's tool format calls the tool in its own words.
3. The whole message as an OpenAI assistant message in JSON, `{"tool_calls": [{"function": {"name":
   "python", "arguments": "{\\"code\\": ...}"}}]}`: what an OpenAI-compatible server returns for a
   tool call, passed on as text.

Anything inside `<think>...</think>` is reasoning, not a call (reasongym.verifiers.text.strip_think).
Several calls in one message run as one cell, in order. `PYTHON_TOOL` is the OpenAI function schema
to hand a chat template (`apply_chat_template(..., tools=[PYTHON_TOOL])`) or an API server.

    find_call("Let me check.\\n```python\\nprint(2**10)\\n```")   # ToolCall(code='print(2**10)\\n', form='fence')
    find_call("The answer is \\\\boxed{1024}.")                   # None: a final answer
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from reasongym.verifiers.text import code_fences, strip_think

TOOL_NAME = "python"
PYTHON_TOOL = {
    "type": "function",
    "function": {
        "name": TOOL_NAME,
        "description": "Run Python 3 code in a sandbox (no network, no files of yours) and return what it "
                       "prints; a last expression is shown as in a REPL. Variables persist across calls.",
        "parameters": {"type": "object", "properties": {"code": {"type": "string", "description": "Python code"}},
                       "required": ["code"]},
    },
}
FENCE_TAGS = {"python", "py", "python3"}
TOOL_CALL = re.compile(r"<tool_call>(.*?)</tool_call>", re.S)


@dataclass(frozen=True)
class ToolCall:
    code: str
    form: str  # "fence", "tool_call" or "openai"


def find_call(message: str) -> ToolCall | None:
    """The tool call in a policy message, or None when the message is a final answer."""
    text = strip_think(message)
    return _openai(text) or _tool_call_blocks(text) or _fences(text)


def _fences(text: str) -> ToolCall | None:
    cells = []
    for f in code_fences(text):
        tag = text[f.start:f.body_start].strip().strip("`~").strip().lower()
        if f.closed and tag in FENCE_TAGS:
            cells.append(text[f.body_start:f.body_end])
    return ToolCall("\n".join(cells), "fence") if cells else None


def _code_of(name: object, arguments: object) -> str | None:
    """The code of one function call, or None when it is not a well-formed call of the python tool."""
    if name != TOOL_NAME:
        return None
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError:
            return None
    code = arguments.get("code") if isinstance(arguments, dict) else None
    return code if isinstance(code, str) and code.strip() else None


def _tool_call_blocks(text: str) -> ToolCall | None:
    cells = []
    for body in TOOL_CALL.findall(text):
        try:
            call = json.loads(body.strip())
        except ValueError:
            continue
        code = _code_of(call.get("name"), call.get("arguments")) if isinstance(call, dict) else None
        if code is not None:
            cells.append(code)
    return ToolCall("\n".join(cells), "tool_call") if cells else None


def _openai(text: str) -> ToolCall | None:
    stripped = text.strip()
    if not (stripped.startswith("{") and '"tool_calls"' in stripped):
        return None
    try:
        message = json.loads(stripped)
    except ValueError:
        return None
    calls = message.get("tool_calls") if isinstance(message, dict) else None
    cells = []
    for call in calls if isinstance(calls, list) else []:
        fn = call.get("function") if isinstance(call, dict) else None
        code = _code_of(fn.get("name"), fn.get("arguments")) if isinstance(fn, dict) else None
        if code is not None:
            cells.append(code)
    return ToolCall("\n".join(cells), "openai") if cells else None
