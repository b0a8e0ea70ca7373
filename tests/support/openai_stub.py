"""A local OpenAI-compatible server for tests: `POST /v1/chat/completions` and
`POST /v1/embeddings`.

The real `openai` client (through LangChain's `ChatOpenAI`) talks to it over HTTP on
127.0.0.1. It is scriptable: each request takes the next step of the script (the last
step repeats), and every request body is recorded.

    with OpenAIStub() as stub:
        stub.script(Reply("text"), Reply(status=500), Reply("late", sleep=2.0))
        ... OPENAI_BASE_URL = stub.base_url ...
        stub.requests  # parsed JSON bodies, in order

Embeddings are a bag of words hashed into `EMBEDDING_DIM` dimensions, so texts that
share words get close vectors; `stub.embedding_vectors[text]` pins the vector of one
text and `stub.embedding_status` (e.g. 500) makes every embeddings request fail.
`stub.embedding_requests` records their bodies.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    """One scripted answer: content, or an HTTP error status, after an optional sleep."""

    content: str = ""
    status: int = 200
    tool_arguments: str | None = None  # answer with one call of the first tool offered, these arguments
    sleep: float = 0.0
    prompt_tokens: int = 120
    completion_tokens: int = 80


EMBEDDING_DIM = 64


def bag_of_words(text: str, dim: int = EMBEDDING_DIM) -> list[float]:
    """A deterministic stand-in for an embedding: each word adds 1 to a hashed dimension."""
    vector = [0.0] * dim
    for word in re.findall(r"[a-z]+", text.lower()):
        vector[int(hashlib.sha256(word.encode()).hexdigest(), 16) % dim] += 1.0
    return vector


class OpenAIStub:
    def __init__(self) -> None:
        self.embedding_requests: list[dict[str, Any]] = []
        self.embedding_vectors: dict[str, list[float]] = {}
        self.embedding_status = 200
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._script: list[Reply] = [Reply("ok")]
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def script(self, *steps: Reply) -> None:
        """Answer the next requests with these steps; the last one repeats."""
        with self._lock:
            self._script = list(steps)

    def user_messages(self) -> list[str]:
        return [m["content"] for r in self.requests for m in r.get("messages", []) if m.get("role") == "user"]

    def system_messages(self) -> list[str]:
        return [
            m["content"]
            for r in self.requests
            for m in r.get("messages", [])
            if m.get("role") in ("system", "developer")
        ]

    def _next(self) -> Reply:
        with self._lock:
            return self._script.pop(0) if len(self._script) > 1 else self._script[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server API
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path.rstrip("/") == "/v1/embeddings":
                    self._embeddings(body)
                    return
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
                    return
                with stub._lock:
                    stub.requests.append(body)
                    stub.headers.append({k.lower(): v for k, v in self.headers.items()})
                step = stub._next()
                if step.sleep:
                    time.sleep(step.sleep)
                if step.status != 200:
                    self._send(step.status, {"error": {"message": "scripted failure", "type": "server_error"}})
                    return
                message: dict[str, Any] = {"role": "assistant", "content": step.content}
                if step.tool_arguments is not None:
                    tools = body.get("tools") or [{"function": {"name": "tool"}}]
                    call = {"name": tools[0]["function"]["name"], "arguments": step.tool_arguments}
                    message = {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [{"id": "call_1", "type": "function", "function": call}],
                    }
                self._send(
                    200,
                    {
                        "id": f"chatcmpl-{len(stub.requests)}",
                        "object": "chat.completion",
                        "created": 1_700_000_000,
                        "model": body.get("model", "stub"),
                        "choices": [
                            {
                                "index": 0,
                                "finish_reason": "tool_calls" if step.tool_arguments is not None else "stop",
                                "message": message,
                            }
                        ],
                        "usage": {
                            "prompt_tokens": step.prompt_tokens,
                            "completion_tokens": step.completion_tokens,
                            "total_tokens": step.prompt_tokens + step.completion_tokens,
                        },
                    },
                )

            def _embeddings(self, body: dict[str, Any]) -> None:
                with stub._lock:
                    stub.embedding_requests.append(body)
                if stub.embedding_status != 200:
                    error = {"error": {"message": "scripted failure", "type": "server_error"}}
                    self._send(stub.embedding_status, error)
                    return
                texts = body.get("input")
                texts = [texts] if isinstance(texts, str) else list(texts or [])
                data = [
                    {"object": "embedding", "index": i, "embedding": stub.embedding_vectors.get(t) or bag_of_words(t)}
                    for i, t in enumerate(texts)
                ]
                tokens = sum(len(str(t).split()) for t in texts)
                self._send(
                    200,
                    {
                        "object": "list",
                        "data": data,
                        "model": body.get("model", "stub"),
                        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
                    },
                )

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

        return Handler

    def start(self) -> OpenAIStub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> OpenAIStub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def llm_settings(base_url: str, database_url: str | None = None, **overrides: Any) -> Any:
    """Settings whose LLM is the stub at `base_url` (fast timeout, no retries by default):
    the one place tests configure the real LangChain/OpenAI client against the stub."""
    from bot.settings import Settings

    values: dict[str, Any] = {
        "openai_api_key": "sk-test-123",
        "openai_base_url": base_url,
        "llm_model": "stub-model",
        "llm_timeout_s": 0.5,
        "llm_max_retries": 0,
    }
    if database_url is not None:
        values.update(database_url=database_url, governance="UGOV")
    values.update(overrides)
    return Settings(**values, _env_file=None)
