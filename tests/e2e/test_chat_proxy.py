"""The chat proxy over real HTTP: the official ``openai`` client -> Engram (uvicorn on loopback) -> a fake
OpenAI-compatible or Anthropic provider (a real HTTP server on loopback, real SSE streaming)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import uvicorn

from engram_core.settings import Settings
from engram_server.app import create_app
from tests.e2e.support import PROXY_VARS, free_port
from tests.fake_openai import FakeAnthropic, FakeOpenAI

PROVIDER_KEY = "sk-provider-secret-0123456789abcdef"


class Live:
    def __init__(self, base: str, key: str, data_dir: Path, fake: FakeOpenAI, anthropic: FakeAnthropic) -> None:
        self.base, self.key, self.data_dir, self.fake, self.anthropic = base, key, data_dir, fake, anthropic

    def headers(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.key}"}

    def client(self, key: str | None = None, **headers: str) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.base + "/v1", api_key=key or self.key, max_retries=0,
                             default_headers=headers or None, timeout=20)  # fmt: skip

    def store(self, content: str, key: str | None = None, **fields: Any) -> int:
        r = httpx.post(self.base + "/store", json={"content": content, **fields}, headers=self.headers(key))
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    def get(self, path: str, key: str | None = None, **params: Any) -> httpx.Response:
        return httpx.get(self.base + path, headers=self.headers(key), params=params)

    def user(self, name: str) -> str:
        r = httpx.post(self.base + "/users", json={"username": name}, headers=self.headers())
        uid = r.json()["id"]
        r = httpx.post(self.base + "/keys", json={"user_id": uid, "scopes": "read,write"}, headers=self.headers())
        return str(r.json()["key"])

    def logs(self, n: int, key: str | None = None) -> list[dict[str, Any]]:
        """The newest logs once there are ``n`` of them (they are written after the answer)."""
        return wait_for(lambda: (lambda x: x if len(x) >= n else None)(self.get("/logs", key).json()["logs"]))


def wait_for(probe: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    reply = lambda body: "Noted. Here is a plain answer for you."  # noqa: E731
    with FakeOpenAI(reply=reply) as fake, FakeAnthropic(reply=reply) as anthropic:
        cfg = Settings.for_data_dir(tmp_path / "data", bootstrap_secret="s", log_level="warning",
                                    ttl_sweep_seconds=3600.0, proxy_openai_url=fake.url,
                                    proxy_openai_api_key=PROVIDER_KEY, proxy_anthropic_url=anthropic.url,
                                    proxy_timeout_seconds=1.0)  # fmt: skip
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        server = uvicorn.Server(uvicorn.Config(create_app(cfg), host="127.0.0.1", port=port, log_level="warning",
                                               access_log=False, lifespan="on"))  # fmt: skip
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        wait_for(lambda: server.started, 20)
        base = f"http://127.0.0.1:{port}"
        key = httpx.post(base + "/bootstrap", json={"secret": "s"}).json()["key"]
        try:
            yield Live(base, key, tmp_path / "data", fake, anthropic)
        finally:
            server.should_exit = True
            thread.join(timeout=15)


def _system(body: dict[str, Any]) -> str:
    return "\n".join(str(m.get("content")) for m in body["messages"] if m["role"] == "system")


def test_a_normal_chat_injects_the_relevant_memory_and_logs_why(live: Live) -> None:
    mid = live.store("Dana is allergic to peanuts and carries an epipen")
    live.store("The garage door code changed in spring")
    question = "Which snacks with peanuts are safe for Dana?"
    answer = live.client().chat.completions.create(
        model="gpt-test", messages=[{"role": "system", "content": "You are terse."},
                                    {"role": "user", "content": question}])  # fmt: skip
    assert answer.choices[0].message.content == "Noted. Here is a plain answer for you."
    sent = live.fake.chat_requests()[-1]
    system = _system(sent)
    assert system.startswith("You are terse.") and "<engram_memories>" in system
    assert "Dana is allergic to peanuts" in system and "</engram_memories>" in system
    assert sent["messages"][-1] == {"role": "user", "content": "Which snacks with peanuts are safe for Dana?"}
    assert live.fake.headers[-1]["authorization"] == f"Bearer {PROVIDER_KEY}"  # the provider's key, not Engram's
    [entry] = live.logs(1)
    assert entry["query"] == "Which snacks with peanuts are safe for Dana?" and entry["status"] == 200
    hit = next(m for m in entry["memories"] if m["id"] == mid)
    assert hit["score"] > 0 and hit["channels"] and entry["tokens_injected"] > 0
    assert {"retrieval_ms", "overhead_ms", "provider_first_byte_ms", "total_ms"} <= set(entry["timings"])
    assert live.get(f"/logs/{entry['id']}").json() == entry


def test_static_memory_is_injected_even_when_not_searched_for(live: Live) -> None:
    live.store("Always answer in British English", is_static=True)
    live.client().chat.completions.create(model="m", messages=[{"role": "user", "content": "hello there"}])
    system = _system(live.fake.chat_requests()[-1])
    assert live.fake.chat_requests()[-1]["messages"][0]["role"] == "system"
    assert "Always answer in British English" in system


def test_a_streamed_chat_is_passed_through_chunk_by_chunk(live: Live) -> None:
    live.store("Dana is allergic to peanuts")
    live.fake.chunk_delay = 0.05
    stream = live.client().chat.completions.create(
        model="m", stream=True, messages=[{"role": "user", "content": "peanuts for Dana?"}])  # fmt: skip
    arrivals, pieces = [], []
    for chunk in stream:
        arrivals.append(time.monotonic())
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
    assert "".join(pieces) == "Noted. Here is a plain answer for you." and len(pieces) == live.fake.chunks
    # Each chunk reached the client before the provider wrote the next one: nothing was buffered.
    sent = live.fake.sent_at
    assert all(arrivals[i] < sent[i + 1] for i in range(len(pieces)))
    assert "Dana is allergic to peanuts" in _system(live.fake.chat_requests()[-1])
    [entry] = live.logs(1)
    assert entry["status"] == 200 and "stream_ms" in entry["timings"] and entry["memories"]


def test_injection_off_forwards_the_messages_untouched(live: Live) -> None:
    live.store("Dana is allergic to peanuts")
    messages = [{"role": "user", "content": "peanuts for Dana?"}]
    live.client(**{"X-Engram-Inject": "off"}).chat.completions.create(model="m", messages=messages)
    assert live.fake.chat_requests()[-1]["messages"] == messages
    [entry] = live.logs(1)
    assert entry["injected"] is False and entry["memories"] == [] and entry["tokens_injected"] == 0


def test_a_provider_on_this_machine_is_asked_directly_whatever_the_proxy_env_says(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every proxy variable names a dead loopback port when the server makes its provider client (on the
    first chat): the fake provider on 127.0.0.1 still gets the request (through the proxy it would be a 502)."""
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    for name in PROXY_VARS:
        monkeypatch.setenv(name, f"http://127.0.0.1:{free_port()}")
    body = {"model": "m", "messages": [{"role": "user", "content": "hello"}]}
    with httpx.Client(trust_env=False, timeout=20) as direct:  # this test's own request: no proxy either
        r = direct.post(live.base + "/v1/chat/completions", json=body, headers=live.headers())
    assert r.status_code == 200, r.text
    assert live.fake.chat_requests()[-1]["messages"][-1] == {"role": "user", "content": "hello"}


def test_extraction_stores_the_new_fact_after_the_answer(live: Live) -> None:
    live.client().chat.completions.create(
        model="m", messages=[{"role": "user", "content": "I live in Lisbon and I prefer green tea."}])  # fmt: skip

    def found() -> Any:
        r = httpx.post(live.base + "/search", json={"query": "Lisbon"}, headers=live.headers())
        return [m for m in r.json()["results"] if "Lisbon" in m["content"]]

    [memory] = wait_for(found)
    assert memory["source"] == "proxy"
    # Extraction off: nothing new is stored.
    live.client(**{"X-Engram-Extract": "off"}).chat.completions.create(
        model="m", messages=[{"role": "user", "content": "I work at the Porto observatory."}])  # fmt: skip
    live.logs(2)
    time.sleep(0.3)
    r = httpx.post(live.base + "/search", json={"query": "observatory"}, headers=live.headers())
    assert r.json()["results"] == []


def test_a_provider_500_is_a_clear_error_and_nothing_is_extracted(live: Live) -> None:
    live.fake.mode = "500"
    with pytest.raises(openai.APIStatusError) as err:
        live.client().chat.completions.create(model="m", messages=[{"role": "user", "content": "I live in Oslo."}])
    assert err.value.status_code == 502
    body = err.value.response.json()
    assert body["provider_status"] == 500 and "HTTP 500" in body["error"]
    [entry] = live.logs(1)
    assert entry["status"] == 500
    live.fake.mode = "ok"
    r = httpx.post(live.base + "/search", json={"query": "Oslo"}, headers=live.headers())
    assert r.json()["results"] == []


def test_a_provider_4xx_is_passed_through_unchanged(live: Live) -> None:
    live.fake.mode = "401"
    with pytest.raises(openai.AuthenticationError) as err:
        live.client().chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    assert err.value.response.json() == {"error": {"message": "bad provider key", "type": "auth"}}


def test_a_provider_timeout_is_a_504(live: Live) -> None:
    live.fake.mode, live.fake.delay = "slow", 3.0
    with pytest.raises(openai.APIStatusError) as err:
        live.client().chat.completions.create(model="m", messages=[{"role": "user", "content": "I live in Oslo."}])
    assert err.value.status_code == 504 and "did not answer" in err.value.response.json()["error"]


def test_anthropic_is_translated_both_ways_streaming_too(live: Live) -> None:
    live.store("Dana is allergic to peanuts")
    client = live.client(**{"X-Engram-Provider": "anthropic", "X-Engram-Provider-Key": "ant-key-123"})
    answer = client.chat.completions.create(
        model="claude-x", max_tokens=300, messages=[{"role": "system", "content": "Be kind."},
                                                    {"role": "user", "content": "peanuts for Dana?"}])  # fmt: skip
    assert answer.choices[0].message.content == "Noted. Here is a plain answer for you."
    assert answer.usage is not None and answer.usage.total_tokens == 19
    path, sent = live.anthropic.requests[-1]
    assert path == "/v1/messages" and sent["max_tokens"] == 300
    assert sent["system"].startswith("Be kind.") and "Dana is allergic to peanuts" in sent["system"]
    assert sent["messages"] == [{"role": "user", "content": "peanuts for Dana?"}]
    assert live.anthropic.headers[-1]["x-api-key"] == "ant-key-123"
    stream = client.chat.completions.create(model="claude-x", stream=True,
                                            messages=[{"role": "user", "content": "and for lunch?"}])  # fmt: skip
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "Noted. Here is a plain answer for you."


def test_another_user_gets_none_of_my_memories_or_logs(live: Live) -> None:
    live.store("Dana is allergic to peanuts")
    live.client().chat.completions.create(model="m", messages=[{"role": "user", "content": "peanuts for Dana?"}])
    [mine] = live.logs(1)
    bob = live.user("bob")
    live.client(bob).chat.completions.create(model="m", messages=[{"role": "user", "content": "peanuts for Dana?"}])
    assert "Dana" not in _system(live.fake.chat_requests()[-1])
    assert live.get(f"/logs/{mine['id']}", bob).status_code == 404
    [bobs] = live.logs(1, bob)
    assert bobs["memories"] == [] and bobs["id"] != mine["id"]


def test_bad_switches_and_bodies_are_400s_naming_the_field(live: Live) -> None:
    url = live.base + "/v1/chat/completions"
    ok = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    r = httpx.post(url, json=ok, headers={**live.headers(), "X-Engram-Inject": "maybe"})
    assert r.status_code == 400 and r.json()["field"] == "X-Engram-Inject"
    r = httpx.post(url, json=ok, headers={**live.headers(), "X-Engram-Provider": "gemini"})
    assert r.status_code == 400 and r.json()["field"] == "X-Engram-Provider"
    r = httpx.post(url, json={"model": "m", "messages": [{"content": "no role"}]}, headers=live.headers())
    assert r.status_code == 400 and r.json()["field"] == "messages[0].role"
    assert live.fake.requests == []


def test_the_provider_key_is_never_written_down(live: Live) -> None:
    client = live.client(**{"X-Engram-Provider-Key": "sk-per-request-key-777"})
    client.chat.completions.create(model="m", messages=[{"role": "user", "content": "I prefer short answers."}])
    live.logs(1)
    assert live.fake.headers[-1]["authorization"] == "Bearer sk-per-request-key-777"
    time.sleep(0.3)
    for path in live.data_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"sk-per-request-key-777" not in data and PROVIDER_KEY.encode() not in data, path
