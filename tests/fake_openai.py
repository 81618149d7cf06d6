"""A fake OpenAI-compatible server on loopback (real HTTP, a thread) for the LLM and embedder tests.

``FakeOpenAI()`` serves ``POST /v1/chat/completions``, ``GET /v1/models`` and ``POST /v1/embeddings``.
``mode`` makes it misbehave: ``ok``, ``500``, ``slow`` (sleeps ``delay`` seconds first), ``malformed``
(200 with a body that is not JSON), ``bad_shape`` (JSON without ``choices``/``data``). ``reply`` is a
function of the request body giving the assistant text; ``modes`` is a queue consumed one request at a
time before ``mode`` applies. Every request body is recorded in ``requests``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np


def hashed_vector(text: str, dim: int) -> list[float]:
    """A deterministic unit vector for ``text`` (bag of hashed words: texts sharing words are close)."""
    vec = np.zeros(dim, dtype=np.float64)
    for word in text.lower().split():
        h = int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "little")
        vec[h % dim] += 1.0 if (h >> 32) & 1 else -1.0
    norm = float(np.linalg.norm(vec))
    if norm == 0:
        vec[0] = 1.0
        norm = 1.0
    return [float(x) for x in vec / norm]


class FakeOpenAI:
    def __init__(self, reply: Callable[[dict[str, Any]], str] | None = None, dim: int = 16) -> None:
        self.reply = reply or (lambda body: '{"memories": []}')
        self.dim = dim
        self.mode = "ok"
        self.modes: list[str] = []
        self.delay = 2.0
        self.requests: list[tuple[str, dict[str, Any]]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802
                if self.path.rstrip("/").endswith("/models"):
                    self._send(200, json.dumps({"object": "list", "data": [{"id": "fake-model"}]}).encode())
                else:
                    self._send(404, b'{"error": "not found"}')

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                body = json.loads(raw or b"{}")
                fake.requests.append((self.path, body))
                mode = fake.modes.pop(0) if fake.modes else fake.mode
                if mode == "slow":
                    time.sleep(fake.delay)
                if mode == "500":
                    return self._send(500, b'{"error": "boom"}')
                if mode == "malformed":
                    return self._send(200, b"this is not json {")
                if mode == "bad_shape":
                    return self._send(200, b'{"unexpected": true}')
                if self.path.endswith("/chat/completions"):
                    text = fake.reply(body)
                    answer = {"id": "x", "object": "chat.completion", "model": body.get("model"),
                              "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                           "finish_reason": "stop"}],
                              "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}}  # fmt: skip
                    return self._send(200, json.dumps(answer).encode())
                if self.path.endswith("/embeddings"):
                    inputs = body.get("input")
                    texts = [inputs] if isinstance(inputs, str) else list(inputs or [])
                    data = [{"object": "embedding", "index": i, "embedding": hashed_vector(t, fake.dim)}
                            for i, t in enumerate(texts)]  # fmt: skip
                    return self._send(200, json.dumps({"object": "list", "data": data,
                                                       "model": body.get("model")}).encode())  # fmt: skip
                return self._send(404, b'{"error": "not found"}')

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def chat_requests(self) -> list[dict[str, Any]]:
        return [b for p, b in self.requests if p.endswith("/chat/completions")]

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
