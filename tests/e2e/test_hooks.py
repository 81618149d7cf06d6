"""The Claude Code hooks against a real server: context in, last exchange stored, silent when down."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

HOOK = Path(__file__).resolve().parents[2] / "hooks" / "engram_hook.py"


def _hook(command: str, event: dict[str, object], base: str, key: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ENGRAM_URL": base, "ENGRAM_API_KEY": key, "ENGRAM_HOOK_TIMEOUT": "5"}
    return subprocess.run([sys.executable, str(HOOK), command], input=json.dumps(event), env=env,
                          capture_output=True, text=True, timeout=30)  # fmt: skip


def test_prompt_and_session_start_inject_memories(server: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    base, h = server
    key = h["Authorization"].split()[1]
    httpx.post(base + "/store", json={"content": "The payments service deploys with blue-green releases",
                                      "is_static": True}, headers=h).raise_for_status()  # fmt: skip
    done = _hook("prompt", {"hook_event_name": "UserPromptSubmit", "prompt": "how do we deploy payments?",
                            "cwd": str(tmp_path)}, base, key)  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)["hookSpecificOutput"]
    assert out["hookEventName"] == "UserPromptSubmit" and "blue-green" in out["additionalContext"]
    start = _hook("session-start", {"hook_event_name": "SessionStart", "cwd": str(tmp_path)}, base, key)
    assert start.returncode == 0
    assert "blue-green" in json.loads(start.stdout)["hookSpecificOutput"]["additionalContext"]


def test_stop_remembers_the_last_exchange(server: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    base, h = server
    key = h["Authorization"].split()[1]
    transcript = tmp_path / "t.jsonl"
    lines = [
        {"type": "user", "message": {"role": "user", "content": "Which port does the billing API use?"}},
        {
            "type": "assistant",
            "message": {"role": "assistant", "content": [{"type": "text", "text": "It listens on 8443."}]},
        },
    ]
    transcript.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    event = {"hook_event_name": "Stop", "transcript_path": str(transcript), "cwd": str(tmp_path / "billing"),
             "session_id": "s-1", "stop_hook_active": False}  # fmt: skip
    assert _hook("stop", event, base, key).returncode == 0
    stored = httpx.get(base + "/list", headers=h).json()["results"]
    assert len(stored) == 1 and "8443" in stored[0]["content"] and stored[0]["source"] == "claude-code"
    assert stored[0]["session_id"] == "s-1" and stored[0]["tags"] == ["billing"]


def test_hooks_stay_silent_when_engram_is_down(tmp_path: Path) -> None:
    done = _hook("prompt", {"prompt": "anything at all"}, "http://127.0.0.1:9", "engram_" + "0" * 32)
    assert done.returncode == 0 and done.stdout == ""
    bad = subprocess.run([sys.executable, str(HOOK), "prompt"], input="not json", capture_output=True, text=True)
    assert bad.returncode == 0 and bad.stdout == ""
