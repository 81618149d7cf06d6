"""The Claude Code hooks against a live server, fed the documented event payloads on stdin.

A whole session (SessionStart -> prompts -> tool use -> PreCompact -> Stop -> SessionEnd) runs through
`engram hook <Event>` and the standalone hooks/engram_hook.py; the tests check the stdout JSON, what was
stored (project tag, session_id, episode, secrets redacted) and that every hook fails open: server down, a 500,
a server slower than the hook's timeout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.support import free_port, live_server

ROOT = Path(__file__).resolve().parents[2]
HOOK = ROOT / "hooks" / "engram_hook.py"
SESSION = "5f1c2a9e-7b7d-4c3e-9d0a-2b1f3e4d5c6a"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    with live_server(tmp_path_factory.mktemp("hooks") / "data") as live:
        yield live


def hook(event: dict[str, Any], base: str, key: str, state: Path, *, standalone: bool = False,
         timeout: str = "5") -> subprocess.CompletedProcess[str]:  # fmt: skip
    """Run the hook for ``event["hook_event_name"]`` as Claude Code does: the event as JSON on stdin."""
    env = {**os.environ, "ENGRAM_URL": base, "ENGRAM_API_KEY": key, "ENGRAM_HOOK_TIMEOUT": timeout,
           "ENGRAM_HOOK_STATE": str(state)}  # fmt: skip
    name = str(event["hook_event_name"])
    cmd = [sys.executable, str(HOOK), name] if standalone else [sys.executable, "-m", "engram_core.cli", "hook", name]
    return subprocess.run(cmd, input=json.dumps(event), env=env, capture_output=True, text=True, timeout=30)


def common(project: Path, transcript: Path, event: str) -> dict[str, Any]:
    """The fields every event carries."""
    return {"session_id": SESSION, "transcript_path": str(transcript), "cwd": str(project / "src"),
            "hook_event_name": event, "permission_mode": "default", "prompt_id": "p-1"}  # fmt: skip


def write_transcript(path: Path, project: Path) -> None:
    """A Claude Code session transcript: user, assistant text and tool_use, tool results, noise, a cut line."""
    meta = {"sessionId": SESSION, "cwd": str(project), "version": "2.1.0", "gitBranch": "main"}
    lines: list[dict[str, Any]] = [
        {"type": "summary", "summary": "Earlier work", "leafUuid": "u0"},
        {**meta, "type": "user", "uuid": "u1", "timestamp": "2026-03-01T10:00:00Z",
         "message": {"role": "user", "content": "Make the ledger service use Postgres instead of SQLite"}},
        {**meta, "type": "assistant", "uuid": "a1", "parentUuid": "u1",
         "message": {"role": "assistant", "model": "claude-sonnet-4", "content": [
             {"type": "text", "text": "I'll switch the ledger's storage layer."},
             {"type": "tool_use", "id": "toolu_01", "name": "Edit", "input": {
                 "file_path": str(project / "src" / "ledger" / "db.py"), "old_string": "sqlite3",
                 "new_string": "psycopg"}},
         ]}},
        {**meta, "type": "user", "uuid": "u2", "message": {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_01", "content": "The file has been updated."}]},
         "toolUseResult": {"filePath": "db.py"}},
        {**meta, "type": "assistant", "uuid": "a2", "message": {"role": "assistant", "content": [
            {"type": "tool_use", "id": "toolu_02", "name": "Bash", "input": {"command": "pytest -q tests/ledger"}}]}},
        {**meta, "type": "user", "uuid": "u3", "message": {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_02", "content": "12 passed"}]}},
        {**meta, "type": "assistant", "uuid": "a3", "message": {"role": "assistant", "content": [
            {"type": "text", "text": "We decided to use Postgres for the ledger because it needs row locks. "
                                     "All 12 ledger tests pass."}]}},
        {"type": "system", "subtype": "info", "content": "unknown line type"},
    ]  # fmt: skip
    text = "\n".join(json.dumps(x) for x in lines) + "\n" + '{"type": "assistant", "message": {"ro'
    path.write_text(text)


def stored(base: str, h: dict[str, str], **query: Any) -> list[dict[str, Any]]:
    return list(httpx.get(base + "/list", params={"limit": 100, **query}, headers=h).json()["results"])


def test_a_whole_session(live: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    base, h = live
    key = h["Authorization"].split()[1]
    project, state = tmp_path / "ledger-svc", tmp_path / "state"
    (project / ".git").mkdir(parents=True)
    (project / "src").mkdir()
    transcript = tmp_path / f"{SESSION}.jsonl"
    write_transcript(transcript, project)
    tag = {"tags": ["ledger-svc"]}
    seeds = [("Ledger amounts are stored in integer cents", {"is_static": True}),
             ("[ledger-svc] We chose FastAPI for the ledger HTTP layer", {"category": "decision", **tag}),
             ("The ledger service is deployed with blue-green releases", tag)]  # fmt: skip
    for content, extra in seeds:
        httpx.post(base + "/store", json={"content": content, **extra}, headers=h).raise_for_status()

    # SessionStart (startup): core memories and the project's recent decisions; an episode for the session.
    start = hook({**common(project, transcript, "SessionStart"), "source": "startup", "model": "claude-sonnet-4"},
                 base, key, state)  # fmt: skip
    assert start.returncode == 0, start.stderr
    out = json.loads(start.stdout)["hookSpecificOutput"]
    assert out["hookEventName"] == "SessionStart"
    assert "integer cents" in out["additionalContext"] and "FastAPI" in out["additionalContext"]
    assert len(out["additionalContext"]) < 10_000
    episodes = httpx.get(base + "/episodes", params={"session_id": SESSION}, headers=h).json()["episodes"]
    assert len(episodes) == 1 and episodes[0]["status"] == "open"

    # UserPromptSubmit: what the prompt is about; nothing for a trivial prompt.
    asked = hook({**common(project, transcript, "UserPromptSubmit"), "prompt": "how is the ledger deployed?"},
                 base, key, state)  # fmt: skip
    assert "blue-green" in json.loads(asked.stdout)["hookSpecificOutput"]["additionalContext"]
    trivial = hook({**common(project, transcript, "UserPromptSubmit"), "prompt": "ok"}, base, key, state)
    assert trivial.returncode == 0 and trivial.stdout == ""

    # PostToolUse: edits and commands, compact, deduplicated, secrets redacted; reads are not changes.
    edit = {**common(project, transcript, "PostToolUse"), "tool_name": "Edit", "tool_use_id": "toolu_01",
            "tool_input": {"file_path": str(project / "src" / "ledger" / "db.py"), "old_string": "sqlite3",
                           "new_string": "psycopg"},
            "tool_response": {"filePath": str(project / "src" / "ledger" / "db.py"), "success": True},
            "duration_ms": 12}  # fmt: skip
    secret = "sk-live-" + "a1B2c3D4e5F6g7H8i9J0"
    bash = {**common(project, transcript, "PostToolUse"), "tool_name": "Bash", "tool_use_id": "toolu_02",
            "tool_input": {"command": f"STRIPE_API_KEY={secret} ./deploy.sh --env staging",
                           "description": "deploy"},
            "tool_response": {"stdout": "", "stderr": "deploy.sh: permission denied", "interrupted": False,
                              "exit_code": 126}}  # fmt: skip
    read = {**common(project, transcript, "PostToolUse"), "tool_name": "Read", "tool_use_id": "toolu_03",
            "tool_input": {"file_path": "README.md"}, "tool_response": {"content": "..."}}  # fmt: skip
    for event in (edit, bash, edit, read):
        done = hook(event, base, key, state)
        assert done.returncode == 0 and done.stdout == "", done.stderr
    activity = stored(base, h, session_id=SESSION)
    contents = [m["content"] for m in activity]
    assert contents.count("In ledger-svc: edited src/ledger/db.py") == 1
    failure = next(m for m in activity if "deploy.sh" in m["content"])
    assert secret not in failure["content"] and "[REDACTED]" in failure["content"]
    assert failure["category"] == "error" and "permission denied" in failure["content"]
    assert all(m["tags"] == ["ledger-svc"] and m["source"] == "claude-code" for m in activity)

    # PreCompact: what the transcript holds, before it is compacted.
    compact = hook({**common(project, transcript, "PreCompact"), "trigger": "auto", "custom_instructions": ""},
                   base, key, state)  # fmt: skip
    assert compact.returncode == 0 and compact.stdout == ""
    summary = next(m for m in stored(base, h, category="summary"))
    assert "Postgres instead of SQLite" in summary["content"] and "db.py" in summary["content"]
    assert "pytest -q tests/ledger" in summary["content"] and summary["session_id"] == SESSION

    # Stop: the turn's outcome and its decision.
    stop = hook({**common(project, transcript, "Stop"), "stop_hook_active": False,
                 "last_assistant_message": "We decided to use Postgres for the ledger because it needs row locks. "
                                           "All 12 ledger tests pass."}, base, key, state)  # fmt: skip
    assert stop.returncode == 0 and stop.stdout == ""
    turn = next(m for m in stored(base, h, category="session"))
    assert "Postgres instead of SQLite" in turn["content"] and "12 ledger tests pass" in turn["content"]
    decision = [m["content"] for m in stored(base, h, category="decision", session_id=SESSION)]
    assert decision == ["[ledger-svc] We decided to use Postgres for the ledger because it needs row locks."]
    looping = hook({**common(project, transcript, "Stop"), "stop_hook_active": True}, base, key, state)
    assert looping.returncode == 0 and len(stored(base, h, category="session")) == 1

    # SessionStart after compaction: what this session stored comes back.
    again = hook({**common(project, transcript, "SessionStart"), "source": "compact"}, base, key, state)
    context = json.loads(again.stdout)["hookSpecificOutput"]["additionalContext"]
    assert "Stored earlier in this session" in context and "Postgres" in context

    # SessionEnd closes the episode, which holds what the session stored.
    end = hook({**common(project, transcript, "SessionEnd"), "reason": "prompt_input_exit"}, base, key, state)
    assert end.returncode == 0 and end.stdout == ""
    episode = httpx.get(f"{base}/episodes/{episodes[0]['id']}", headers=h).json()
    assert episode["status"] == "finalized" and "ended (prompt_input_exit)" in episode["summary"]
    assert {m["id"] for m in episode["memories"]} == {m["id"] for m in stored(base, h, session_id=SESSION)}


def test_the_standalone_script_answers_the_same(live: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    base, h = live
    key = h["Authorization"].split()[1]
    httpx.post(base + "/store", json={"content": "Invoices are rendered with WeasyPrint"}, headers=h)
    event = {**common(tmp_path, tmp_path / "t.jsonl", "UserPromptSubmit"), "prompt": "how are invoices rendered?"}
    via_cli = hook(event, base, key, tmp_path / "a")
    via_script = hook(event, base, key, tmp_path / "b", standalone=True)
    assert via_cli.stdout == via_script.stdout and "WeasyPrint" in via_script.stdout
    legacy = subprocess.run([sys.executable, str(HOOK), "prompt"], input=json.dumps(event), capture_output=True,
                            text=True, env={**os.environ, "ENGRAM_URL": base, "ENGRAM_API_KEY": key,
                                            "ENGRAM_HOOK_STATE": str(tmp_path / "c")})  # fmt: skip
    assert legacy.stdout == via_script.stdout  # settings written for the earlier command names keep working


class _StandIn(BaseHTTPRequestHandler):
    """A stand-in Engram on loopback: answers what the test sets (a /guard verdict, a 500, a slow reply)."""

    answer: tuple[int, dict[str, Any]] = (200, {})
    delay = 0.0
    seen: list[dict[str, Any]] = []

    def _reply(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(length) or b"null")
        type(self).seen.append({"path": self.path, "body": body})
        time.sleep(self.delay)
        status, payload = self.answer
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _reply  # noqa: N815

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def stand_in() -> Iterator[tuple[str, type[_StandIn]]]:
    handler = type("Handler", (_StandIn,), {"seen": [], "answer": (200, {}), "delay": 0.0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


def test_pre_tool_use_guard_denies_and_warns(stand_in: tuple[str, type[_StandIn]], tmp_path: Path) -> None:
    base, handler = stand_in
    event = {**common(tmp_path, tmp_path / "t.jsonl", "PreToolUse"), "tool_name": "Bash", "tool_use_id": "toolu_9",
             "tool_input": {"command": "rm -rf /opt/engram/data", "description": "clean"}}  # fmt: skip
    handler.answer = (200, {"signal": "block", "message": "Never run rm -rf on /opt/engram", "rules": [{"id": 3}]})
    out = json.loads(hook(event, base, "k", tmp_path / "s").stdout)["hookSpecificOutput"]
    assert out == {"hookEventName": "PreToolUse", "permissionDecision": "deny",
                   "permissionDecisionReason": "Engram: Never run rm -rf on /opt/engram"}  # fmt: skip
    assert handler.seen[-1] == {"path": "/guard", "body": {"action": "rm -rf /opt/engram/data"}}
    handler.answer = (200, {"signal": "warn", "message": "Deploys need a ticket", "rules": []})
    warned = json.loads(hook(event, base, "k", tmp_path / "s").stdout)["hookSpecificOutput"]
    assert warned == {"hookEventName": "PreToolUse", "additionalContext": "Engram rule check: Deploys need a ticket"}
    handler.answer = (200, {"signal": "allow", "message": "", "rules": []})
    assert hook(event, base, "k", tmp_path / "s").stdout == ""
    handler.answer = (404, {"error": "no route /guard"})  # a server without the guard: silent
    assert hook(event, base, "k", tmp_path / "s").stdout == ""
    reads = {**event, "tool_name": "Read", "tool_input": {"file_path": "x"}}
    before = len(handler.seen)
    assert hook(reads, base, "k", tmp_path / "s").stdout == "" and len(handler.seen) == before


EVENTS: list[dict[str, Any]] = [
    {"hook_event_name": "SessionStart", "source": "startup"},
    {"hook_event_name": "UserPromptSubmit", "prompt": "what do we know about the ledger?"},
    {"hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_input": {"command": "make deploy"}},
    {"hook_event_name": "PostToolUse", "tool_name": "Bash", "tool_input": {"command": "make deploy"},
     "tool_response": {"stdout": "ok"}},
    {"hook_event_name": "PreCompact", "trigger": "manual", "custom_instructions": ""},
    {"hook_event_name": "Stop", "stop_hook_active": False, "last_assistant_message": "Done: deployed."},
    {"hook_event_name": "SessionEnd", "reason": "logout"},
]  # fmt: skip


Ran = tuple[str, float, subprocess.CompletedProcess[str]]


def _every_event(base: str, tmp_path: Path, timeout: str = "5") -> list[Ran]:
    transcript = tmp_path / "t.jsonl"
    write_transcript(transcript, tmp_path)
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    (state / f"{SESSION}.json").write_text(json.dumps({"episode_id": 7}))  # SessionEnd has an episode to close
    results = []
    for event in EVENTS:
        started = time.monotonic()
        done = hook({**common(tmp_path, transcript, str(event["hook_event_name"])), **event}, base,
                    "engram_" + "0" * 32, state, timeout=timeout)  # fmt: skip
        results.append((str(event["hook_event_name"]), time.monotonic() - started, done))
    return results


def test_fail_open_when_engram_is_down(tmp_path: Path) -> None:
    for name, _, done in _every_event(f"http://127.0.0.1:{free_port()}", tmp_path):
        assert (name, done.returncode, done.stdout) == (name, 0, ""), done.stderr
    for payload in ("not json", "", "[1, 2]"):
        bad = subprocess.run([sys.executable, str(HOOK), "UserPromptSubmit"], input=payload, capture_output=True,
                             text=True)  # fmt: skip
        assert bad.returncode == 0 and bad.stdout == ""


def test_fail_open_on_a_500(stand_in: tuple[str, type[_StandIn]], tmp_path: Path) -> None:
    base, handler = stand_in
    handler.answer = (500, {"error": "internal error"})
    for name, _, done in _every_event(base, tmp_path):
        assert (name, done.returncode, done.stdout) == (name, 0, ""), done.stderr
    assert {s["path"].split("?")[0] for s in handler.seen} >= {"/context", "/guard", "/store", "/episodes/7/finalize"}


def test_fail_open_when_engram_is_slower_than_the_timeout(stand_in: tuple[str, type[_StandIn]],
                                                          tmp_path: Path) -> None:  # fmt: skip
    base, handler = stand_in
    handler.answer = (200, {"context": "too late", "signal": "block", "message": "too late", "stored": True, "id": 1})
    handler.delay = 6.0
    for name, took, done in _every_event(base, tmp_path, timeout="1"):
        assert (name, done.returncode, done.stdout) == (name, 0, ""), done.stderr
        assert took < 4.0, (name, took)  # the hook's own deadline (1 s + process start), far below the 6 s reply


# What `engram hook` must never import: the hook runs as a new process on every Claude Code event, and each of
# these costs milliseconds of that event's latency (issue 13: p95 < 300 ms, process start included).
HEAVY = ("engram_server", "engram_client.client", "engram_client.cli.common", "httpx", "starlette", "pydantic",
         "numpy", "onnxruntime", "uvicorn", "mcp", "importlib.metadata", "argparse")  # fmt: skip
# The `engram` command's own module is the entry point; nothing else of the core is needed to run a hook.
CORE_ALLOWED = {"engram_core", "engram_core.cli"}

# The installed console script as pip writes it, run in this interpreter; the modules loaded are printed at exit.
_ENTRY = """
import atexit, sys
atexit.register(lambda: sys.stderr.write("\\nMODULES " + " ".join(sorted(sys.modules)) + "\\n"))
sys.argv = ["engram", *sys.argv[1:]]
from engram_core.cli import main
sys.exit(main())
"""


def test_engram_hook_imports_only_what_a_hook_needs(stand_in: tuple[str, type[_StandIn]], tmp_path: Path) -> None:
    base, handler = stand_in
    handler.answer = (200, {"context": "- The ledger lives in Postgres.", "decisions": [], "episode_id": 4})
    env = {**os.environ, "ENGRAM_URL": base, "ENGRAM_API_KEY": "k", "ENGRAM_HOOK_STATE": str(tmp_path / "s")}
    transcript = tmp_path / "t.jsonl"
    for name, extra in (("SessionStart", {"source": "startup"}),
                        ("UserPromptSubmit", {"prompt": "where does the ledger live?"})):  # fmt: skip
        event = {**common(tmp_path, transcript, name), **extra}
        done = subprocess.run([sys.executable, "-c", _ENTRY, "hook", name], input=json.dumps(event), env=env,
                              capture_output=True, text=True, timeout=30)  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert "The ledger lives in Postgres." in json.loads(done.stdout)["hookSpecificOutput"]["additionalContext"]
        loaded = set(done.stderr.rsplit("MODULES ", 1)[1].split())
        assert "engram_client.hook" in loaded  # the hook did run through the command
        heavy = sorted(m for m in loaded if any(m == h or m.startswith(h + ".") for h in HEAVY))
        core = sorted(m for m in loaded if m.split(".")[0] == "engram_core" and m not in CORE_ALLOWED)
        assert (name, heavy, core) == (name, [], [])


def _proxied_env(base: str, proxy: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("no_proxy", "http_proxy", "https_proxy")}
    return {**env, "http_proxy": proxy, "HTTP_PROXY": proxy, "https_proxy": proxy, "HTTPS_PROXY": proxy,
            "ENGRAM_URL": base, "ENGRAM_API_KEY": "k", "ENGRAM_HOOK_STATE": str(tmp_path / "s")}  # fmt: skip


@pytest.mark.parametrize("standalone", [False, True], ids=["engram-hook", "standalone"])
def test_a_loopback_engram_is_never_reached_through_a_proxy(
    stand_in: tuple[str, type[_StandIn]], tmp_path: Path, standalone: bool
) -> None:
    """http_proxy names a dead loopback port (nothing listens): the hook still reaches the live loopback server,
    by 127.0.0.1 and by localhost."""
    base, handler = stand_in
    handler.answer = (200, {"context": "- Deploys go out on Tuesdays."})
    dead = f"http://127.0.0.1:{free_port()}"  # the socket that held the port is closed
    event = {**common(tmp_path, tmp_path / "t.jsonl", "UserPromptSubmit"), "prompt": "when do deploys go out?"}
    cmd = [sys.executable, str(HOOK)] if standalone else [sys.executable, "-m", "engram_core.cli", "hook"]
    for url in (base, base.replace("127.0.0.1", "localhost")):
        done = subprocess.run([*cmd, "UserPromptSubmit"], input=json.dumps(event), capture_output=True, text=True,
                              env=_proxied_env(url, dead, tmp_path), timeout=30)  # fmt: skip
        assert done.returncode == 0 and "Tuesdays" in done.stdout, (url, done.stdout, done.stderr)
    assert handler.seen[-1]["path"].startswith("/context")  # asked directly, not as a proxy


def test_a_remote_engram_still_goes_through_the_proxy(stand_in: tuple[str, type[_StandIn]], tmp_path: Path) -> None:
    """For a non-loopback Engram URL the environment's proxy is kept: the stand-in, acting as the proxy, gets
    the request for the remote URL (an absolute URI) and answers it."""
    proxy, handler = stand_in
    handler.answer = (200, {"context": "- The ledger lives in Postgres."})
    event = {**common(tmp_path, tmp_path / "t.jsonl", "UserPromptSubmit"), "prompt": "where does the ledger live?"}
    done = subprocess.run([sys.executable, str(HOOK), "UserPromptSubmit"], input=json.dumps(event),
                          capture_output=True, text=True, timeout=30,
                          env=_proxied_env("http://engram.invalid:4200", proxy, tmp_path))  # fmt: skip
    assert done.returncode == 0 and "Postgres" in done.stdout, (done.stdout, done.stderr)
    assert handler.seen[-1]["path"].startswith("http://engram.invalid:4200/context")
