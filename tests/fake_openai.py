"""A fake OpenAI-compatible server on loopback (real HTTP, a thread) for the LLM and embedder tests.

``FakeOpenAI()`` serves ``POST /v1/chat/completions``, ``GET /v1/models`` and ``POST /v1/embeddings``.
``mode`` makes it misbehave: ``ok``, ``500``, ``slow`` (sleeps ``delay`` seconds first), ``malformed``
(200 with a body that is not JSON), ``bad_shape`` (JSON without ``choices``/``data``), ``401`` (a client
error the proxy passes through). ``reply`` is a function of the request body giving the assistant text;
``modes`` is a queue consumed one request at a time before ``mode`` applies. Embeddings are
``hashed_vector``s of ``dim`` numbers (or the request's ``dimensions`` while ``honour_dimensions``), listed
in reverse order with their ``index``. Every request body is
recorded in ``requests`` (and its headers in ``headers``, the monotonic arrival time in ``arrivals``).

A request with ``"stream": true`` is answered with real server-sent events, flushed one by one: the reply
split into ``chunks`` pieces, ``chunk_delay`` seconds apart; ``sent_at`` records when each was written.
The same server speaks Anthropic's messages API on ``POST /v1/messages`` (JSON and event stream);
``FakeAnthropic`` is it with its base URL at the root (as ``ENGRAM_PROXY_ANTHROPIC_URL`` expects).
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
        self.honour_dimensions = True  # embeddings: a request's "dimensions" sets the vector size
        self.mode = "ok"
        self.modes: list[str] = []
        self.delay = 2.0
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.headers: list[dict[str, str]] = []
        self.arrivals: list[float] = []
        self.chunks = 4
        self.chunk_delay = 0.0
        self.sent_at: list[float] = []
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
                fake.arrivals.append(time.monotonic())
                body = json.loads(raw or b"{}")
                fake.requests.append((self.path, body))
                fake.headers.append({k.lower(): v for k, v in self.headers.items()})
                mode = fake.modes.pop(0) if fake.modes else fake.mode
                if mode == "slow":
                    time.sleep(fake.delay)
                if mode == "500":
                    return self._send(500, b'{"error": "boom"}')
                if mode == "malformed":
                    return self._send(200, b"this is not json {")
                if mode == "bad_shape":
                    return self._send(200, b'{"unexpected": true}')
                if mode == "401":
                    return self._send(401, b'{"error": {"message": "bad provider key", "type": "auth"}}')
                if self.path.endswith("/v1/messages"):
                    return self._anthropic(body)
                if self.path.endswith("/chat/completions") and body.get("stream"):
                    return self._stream_openai(body)
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
                    dim = int(body.get("dimensions") or fake.dim) if fake.honour_dimensions else fake.dim
                    data = [{"object": "embedding", "index": i, "embedding": hashed_vector(t, dim)}
                            for i, t in enumerate(texts)]  # fmt: skip
                    data.reverse()  # clients must order by "index", not by position
                    return self._send(200, json.dumps({"object": "list", "data": data,
                                                       "model": body.get("model")}).encode())  # fmt: skip
                return self._send(404, b'{"error": "not found"}')

            def _events(self, events: list[bytes]) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    for i, event in enumerate(events):
                        if i and fake.chunk_delay:
                            time.sleep(fake.chunk_delay)
                        self.wfile.write(event)
                        self.wfile.flush()
                        fake.sent_at.append(time.monotonic())
                self.close_connection = True

            def _stream_openai(self, body: dict[str, Any]) -> None:
                pieces = fake.pieces(fake.reply(body))
                events = []
                for i, piece in enumerate(pieces):
                    delta = {"role": "assistant", "content": piece} if i == 0 else {"content": piece}
                    chunk = {"id": "x", "object": "chat.completion.chunk", "model": body.get("model"),
                             "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}  # fmt: skip
                    events.append(f"data: {json.dumps(chunk)}\n\n".encode())
                done = {"id": "x", "object": "chat.completion.chunk", "model": body.get("model"),
                        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}  # fmt: skip
                events += [f"data: {json.dumps(done)}\n\n".encode(), b"data: [DONE]\n\n"]
                self._events(events)

            def _anthropic(self, body: dict[str, Any]) -> None:
                text = fake.reply(body)
                if not body.get("stream"):
                    answer = {"id": "msg_1", "type": "message", "role": "assistant", "model": body.get("model"),
                              "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
                              "usage": {"input_tokens": 12, "output_tokens": 7}}  # fmt: skip
                    return self._send(200, json.dumps(answer).encode())

                def event(name: str, data: dict[str, Any]) -> bytes:
                    return f"event: {name}\ndata: {json.dumps({'type': name, **data})}\n\n".encode()

                events = [
                    event("message_start", {"message": {"id": "msg_1", "model": body.get("model")}}),
                    event("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}),
                ]
                events += [
                    event("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": p}})
                    for p in fake.pieces(text)
                ]
                stop = {"delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 7}}
                events += [event("content_block_stop", {"index": 0}), event("message_delta", stop),
                           event("message_stop", {})]  # fmt: skip
                self._events(events)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def chat_requests(self) -> list[dict[str, Any]]:
        return [b for p, b in self.requests if p.endswith("/chat/completions") or p.endswith("/v1/messages")]

    def pieces(self, text: str) -> list[str]:
        """``text`` in ``chunks`` nearly equal pieces that join back to it."""
        n = max(1, min(self.chunks, len(text) or 1))
        size = -(-len(text) // n) if text else 1
        return [text[i : i + size] for i in range(0, len(text), size)] or [""]

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


class FakeAnthropic(FakeOpenAI):
    """The same fake, addressed as an Anthropic base URL (the proxy posts to ``<url>/v1/messages``)."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"
