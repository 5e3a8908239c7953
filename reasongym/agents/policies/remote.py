"""RemotePolicy: any OpenAI-compatible chat-completions server as a reasongym Policy (vLLM, llama.cpp, SGLang).

Standard library only (urllib), so evaluating a served model needs neither torch nor an SDK.

    python -m vllm.entrypoints.openai.api_server --model Qwen/Qwen2.5-1.5B-Instruct --port 8000
    python -m reasongym.evaluate policy=openai:http://localhost:8000/v1,model=Qwen/Qwen2.5-1.5B-Instruct env=gsm8k

    policy = RemotePolicy("http://localhost:8000/v1", model="Qwen/Qwen2.5-1.5B-Instruct", concurrency=16)
    policy.act([[{"role": "user", "content": "2+2?"}]], SamplingParams(temperature=0.6, n=4))

Spec options after the URL (comma separated): model= (default: the server's only model, from GET /models),
concurrency= (parallel requests, default 8), timeout= (seconds per request, default 600), retries=
(on 429/5xx/timeouts, default 3), api_key_env= (the environment variable holding a bearer token, default
OPENAI_API_KEY; nothing is sent when it is unset). In a list of policies, quote a spec that has commas:
`policy=[base,"openai:http://localhost:8000/v1,model=qwen"]`.

Each observation is one POST /chat/completions with n, temperature, top_p and max_tokens. Servers that
ignore n (llama.cpp returns one choice) are asked again for the rest. A `reasoning_content` field (vLLM
reasoning parsers) is put back in front of the answer as `<think>...</think>`, so verifiers see what a
local model would have written.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from reasongym.core import Completion, Messages, SamplingParams

RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


class RemoteError(RuntimeError):
    """A request to the server failed for good; the message has the URL, the status and the server's words."""


class RemotePolicy:
    def __init__(self, base_url: str, model: str | None = None, *, concurrency: int = 8, timeout: float = 600.0,
                 retries: int = 3, api_key_env: str = "OPENAI_API_KEY"):
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"RemotePolicy: base URL {base_url!r} must start with http:// or https:// "
                             "(e.g. http://localhost:8000/v1)")
        self.base_url = base_url.rstrip("/")
        self.concurrency, self.timeout, self.retries = max(1, int(concurrency)), float(timeout), int(retries)
        self.api_key = os.environ.get(api_key_env) or None
        self.model = model or self._only_model()
        self.name = f"openai:{self.base_url},model={self.model}"

    @classmethod
    def from_spec(cls, spec: str) -> RemotePolicy:
        """`openai:http://host:port/v1,model=NAME,concurrency=8,timeout=600,retries=3,api_key_env=VAR`."""
        if not spec.startswith("openai:"):
            raise ValueError(f"not an OpenAI-compatible policy spec: {spec!r} (expected openai:http://...)")
        url, *options = spec[len("openai:"):].split(",")
        kwargs: dict[str, Any] = {}
        types = {"model": str, "concurrency": int, "timeout": float, "retries": int, "api_key_env": str}
        for option in options:
            key, sep, value = option.partition("=")
            if not sep or key not in types:
                raise ValueError(f"policy {spec!r}: bad option {option!r}; use key=value with key one of "
                                 f"{', '.join(types)}")
            try:
                kwargs[key] = types[key](value)
            except ValueError as exc:
                raise ValueError(f"policy {spec!r}: {key}={value!r} is not a {types[key].__name__}") from exc
        return cls(url, **kwargs)

    # -- HTTP ---------------------------------------------------------------------------------------
    def _request(self, method: str, path: str, body: dict | None = None) -> dict:
        url = f"{self.base_url}{path}"
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        data = json.dumps(body).encode() if body is not None else None
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(min(2 ** (attempt - 1), 30))
            request = urllib.request.Request(url, data=data, headers=headers, method=method)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return json.loads(response.read().decode())
            except urllib.error.HTTPError as exc:
                detail = exc.read().decode(errors="replace")[:500]
                last = f"HTTP {exc.code}: {detail}"
                if exc.code not in RETRY_STATUS:
                    break
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                last = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
            except json.JSONDecodeError as exc:
                last = f"the reply is not JSON ({exc.msg})"
                break
        raise RemoteError(f"{method} {url} failed after {attempt + 1} attempt(s): {last}. Is an OpenAI-compatible "
                          "server running there (e.g. vLLM's api_server), and is the model name right?")

    def _only_model(self) -> str:
        models = [m.get("id") for m in self._request("GET", "/models").get("data", [])]
        if len(models) != 1:
            raise ValueError(f"{self.base_url} serves {len(models)} models ({', '.join(map(str, models))}); "
                             "name one: policy=openai:URL,model=NAME")
        return str(models[0])

    # -- the Policy protocol ------------------------------------------------------------------------
    def act(self, observations: list[Messages], sampling: SamplingParams) -> list[Completion]:
        with ThreadPoolExecutor(max_workers=min(self.concurrency, max(1, len(observations)))) as pool:
            groups = list(pool.map(lambda obs: self.chat(obs, sampling), observations))
        return [c for group in groups for c in group]

    def chat(self, messages: Messages, sampling: SamplingParams) -> list[Completion]:
        """sampling.n completions of one conversation (asking again when the server returns fewer)."""
        out: list[Completion] = []
        for _ in range(2 * sampling.n):
            want = sampling.n - len(out)
            if want <= 0:
                break
            body = {"model": self.model, "messages": messages, "n": want, "max_tokens": sampling.max_new_tokens,
                    "temperature": max(0.0, sampling.temperature),
                    "top_p": sampling.top_p if sampling.temperature > 0 else 1.0}
            reply = self._request("POST", "/chat/completions", body)
            choices = reply.get("choices") or []
            usage = (reply.get("usage") or {}).get("completion_tokens")
            for choice in choices[:want]:
                out.append(self._completion(choice, usage if len(choices) == 1 else None))
        if len(out) < sampling.n:
            raise RemoteError(f"{self.base_url}/chat/completions returned {len(out)} of {sampling.n} completions")
        return out

    @staticmethod
    def _completion(choice: dict, tokens: int | None) -> Completion:
        message = choice.get("message") or {}
        text = message.get("content") or ""
        reasoning = message.get("reasoning_content") or message.get("reasoning")
        if reasoning:
            text = f"<think>{reasoning}</think>{text}"
        finish = "length" if choice.get("finish_reason") == "length" else "stop"
        return Completion(text=text, finish_reason=finish, meta={"completion_tokens": tokens})
