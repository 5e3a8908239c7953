"""RemotePolicy against a small OpenAI-compatible server started by the test (http.server in a thread,
answering chat completions with the scripted oracle), and `reasongym.evaluate` through it end to end."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from reasongym.agents.policies.remote import RemoteError, RemotePolicy
from reasongym.agents.policies.scripted import ScriptedPolicy
from reasongym.core import SamplingParams, Task

TASKS = [Task.create(f"What is {i} + {i + 2}? Put the final answer in \\boxed{{}}.", str(2 * i + 2)) for i in range(6)]


class OracleServer(ThreadingHTTPServer):
    """Serves /v1/models and /v1/chat/completions; records every request body. Knobs for the tests:
    ignore_n (answer one choice, as llama.cpp does), fail_next (status codes to answer first), reasoning."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.oracle = ScriptedPolicy(TASKS, wrong_rate=0.0)
        self.requests: list[dict] = []
        self.ignore_n, self.fail_next, self.reasoning = False, [], ""
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class Handler(BaseHTTPRequestHandler):
    server: OracleServer

    def _send(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802 - http.server's naming
        if self.path == "/v1/models":
            return self._send(200, {"object": "list", "data": [{"id": "oracle-1", "object": "model"}]})
        self._send(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.server.lock:
            self.server.requests.append(body)
            failure = self.server.fail_next.pop(0) if self.server.fail_next else None
        if failure:
            return self._send(failure, {"error": {"message": f"simulated failure {failure}"}})
        if self.path != "/v1/chat/completions":
            return self._send(404, {"error": {"message": f"no route {self.path}"}})
        if body.get("model") != "oracle-1":
            return self._send(404, {"error": {"message": f"model {body.get('model')!r} does not exist"}})
        n = 1 if self.server.ignore_n else int(body.get("n", 1))
        sampling = SamplingParams(body["temperature"], body["top_p"], body["max_tokens"], n=n)
        completions = self.server.oracle.act([body["messages"]], sampling)
        choices = [{"index": i, "finish_reason": "stop",
                    "message": {"role": "assistant", "content": c.text,
                                **({"reasoning_content": self.server.reasoning} if self.server.reasoning else {})}}
                   for i, c in enumerate(completions)]
        tokens = sum(len(c.text.split()) for c in completions)
        self._send(200, {"id": "cmpl-1", "object": "chat.completion", "model": body["model"], "choices": choices,
                         "usage": {"prompt_tokens": 10, "completion_tokens": tokens, "total_tokens": 10 + tokens}})

    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture
def server():
    srv = OracleServer()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def boxed(text: str) -> str:
    return re.findall(r"\\boxed\{([^}]*)\}", text)[-1]


def test_n_completions_per_observation_grouped_in_order(server):
    policy = RemotePolicy(server.url, model="oracle-1", concurrency=4)
    out = policy.act([t.prompt for t in TASKS], SamplingParams(temperature=0.6, top_p=0.95, max_new_tokens=64, n=3))
    assert len(out) == 3 * len(TASKS)
    for k, task in enumerate(TASKS):
        assert [boxed(c.text) for c in out[3 * k: 3 * k + 3]] == [task.answer] * 3
    body = server.requests[0]
    assert (body["n"], body["temperature"], body["top_p"], body["max_tokens"]) == (3, 0.6, 0.95, 64)
    assert sorted(json.dumps(r["messages"]) for r in server.requests) == sorted(json.dumps(t.prompt) for t in TASKS)


def test_greedy_is_temperature_zero_and_token_counts_come_from_usage(server):
    policy = RemotePolicy(server.url, model="oracle-1")
    [c] = policy.act([TASKS[0].prompt], SamplingParams(temperature=0.0, top_p=0.9, max_new_tokens=16))
    assert server.requests[-1]["temperature"] == 0.0 and server.requests[-1]["top_p"] == 1.0
    assert c.meta["completion_tokens"] == len(c.text.split()) and c.finish_reason == "stop"


def test_a_server_that_ignores_n_is_asked_again(server):
    server.ignore_n = True
    out = RemotePolicy(server.url, model="oracle-1").act([TASKS[1].prompt], SamplingParams(n=4))
    assert len(out) == 4 and len(server.requests) == 4
    assert [r["n"] for r in server.requests] == [4, 3, 2, 1]


def test_model_is_discovered_when_the_server_has_one(server):
    policy = RemotePolicy.from_spec(f"openai:{server.url}")
    assert policy.model == "oracle-1"
    assert RemotePolicy.from_spec(f"openai:{server.url},model=oracle-1,concurrency=2,timeout=5").concurrency == 2


def test_reasoning_content_is_kept_as_a_think_block(server):
    server.reasoning = "2 + 4 is 6."
    [c] = RemotePolicy(server.url, model="oracle-1").act([TASKS[1].prompt], SamplingParams())
    assert c.text.startswith("<think>2 + 4 is 6.</think>")


def test_transient_errors_are_retried_and_client_errors_are_not(server):
    server.fail_next = [503]
    [c] = RemotePolicy(server.url, model="oracle-1", retries=2).act([TASKS[2].prompt], SamplingParams())
    assert boxed(c.text) == TASKS[2].answer and len(server.requests) == 2
    server.requests.clear()
    with pytest.raises(RemoteError, match=r"HTTP 404: .*model 'nope' does not exist"):
        RemotePolicy(server.url, model="nope", retries=3).act([TASKS[0].prompt], SamplingParams())
    assert len(server.requests) == 1


def test_unreachable_server_names_the_url():
    with pytest.raises(RemoteError, match=r"127\.0\.0\.1:9/v1/models .*Is an OpenAI-compatible server running"):
        RemotePolicy("http://127.0.0.1:9/v1", retries=0, timeout=2)


def test_bad_specs_say_what_is_wrong():
    with pytest.raises(ValueError, match="bad option 'temperature=1'"):
        RemotePolicy.from_spec("openai:http://localhost:1/v1,model=m,temperature=1")
    with pytest.raises(ValueError, match="must start with http"):
        RemotePolicy("localhost:8000/v1", model="m")


def test_evaluate_through_the_server(server, tmp_path):
    from reasongym.evaluate import main
    from reasongym.evaluation.suites import load_suite

    server.oracle = ScriptedPolicy(load_suite("math-heldout", limit=8).tasks)
    out = main([f"policy=openai:{server.url},model=oracle-1", "env=math-heldout", "limit=8", "samples=2",
                f"out={tmp_path / 'ev'}", "progress=false"])
    results = json.loads((out / "results.json").read_text())
    metrics = results["results"][f"openai:{server.url},model=oracle-1"]["math-heldout"]["metrics"]
    assert metrics["greedy"]["mean"] == 1.0 and metrics["pass@1"]["mean"] == 1.0
    assert metrics["completion_tokens"]["mean"] > 0  # from the server's usage counts
    assert len(server.requests) == 8 * 3


def test_remote_and_scripted_policies_and_rollouts_do_not_load_torch():
    import subprocess
    import sys

    code = ("import sys, reasongym.agents, reasongym.agents.policies.remote, reasongym.agents.policies.scripted, "
            "reasongym.agents.rollout; from reasongym.agents import RemotePolicy, collect; "
            "assert 'torch' not in sys.modules, 'torch loaded'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
