#!/usr/bin/env python3
"""Claude Code hooks for Engram: a client of the REST API (standard library only, no engram_core).

    engram_hook.py session-start   # SessionStart: inject the project's core memories as context
    engram_hook.py prompt          # UserPromptSubmit: inject the memories relevant to the prompt
    engram_hook.py stop            # Stop: remember the last exchange of the session

Reads the hook's JSON event on stdin. Configured by ENGRAM_URL (default http://127.0.0.1:4200),
ENGRAM_API_KEY (a key with read and write scopes), ENGRAM_HOOK_BUDGET (context tokens, default 1500)
and ENGRAM_HOOK_TIMEOUT (seconds, default 3). A hook must never get in the way: when Engram is down,
slow or refuses, the hook prints nothing and exits 0.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

SOURCE = "claude-code"


def _call(path: str, body: dict[str, Any]) -> dict[str, Any] | None:
    url = os.environ.get("ENGRAM_URL", "http://127.0.0.1:4200").rstrip("/") + path
    key = os.environ.get("ENGRAM_API_KEY", "")
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=float(os.environ.get("ENGRAM_HOOK_TIMEOUT", "3"))) as resp:
            data = json.loads(resp.read() or b"{}")
            return data if isinstance(data, dict) else None
    except (urllib.error.URLError, OSError, ValueError):
        return None


def _emit_context(event: str, context: str) -> None:
    if context.strip():
        out = {"hookSpecificOutput": {"hookEventName": event, "additionalContext": context}}
        sys.stdout.write(json.dumps(out))


def _budget() -> int:
    try:
        return max(100, int(os.environ.get("ENGRAM_HOOK_BUDGET", "1500")))
    except ValueError:
        return 1500


def session_start(event: dict[str, Any]) -> None:
    project = Path(str(event.get("cwd") or os.getcwd())).name
    found = _call("/context", {"query": f"project {project}: conventions, decisions, preferences",
                               "max_tokens": _budget(), "mode": "fast"})  # fmt: skip
    if found and found.get("context"):
        _emit_context("SessionStart", "Memories from Engram:\n" + str(found["context"]))


def prompt(event: dict[str, Any]) -> None:
    text = str(event.get("prompt") or "").strip()
    if len(text) < 3:
        return
    found = _call("/context", {"query": text[:4000], "max_tokens": _budget(), "mode": "fast"})
    if found and found.get("context"):
        _emit_context("UserPromptSubmit", "Relevant memories from Engram:\n" + str(found["context"]))


def _last_exchange(transcript: Path) -> tuple[str, str]:
    """The last user prompt and the assistant's text after it, from a Claude Code JSONL transcript."""
    user, assistant = "", ""
    for line in transcript.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        message = entry.get("message") if isinstance(entry, dict) else None
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        if isinstance(content, list):
            content = " ".join(
                str(c.get("text", "")) for c in content if isinstance(c, dict) and c.get("type") == "text"
            )
        if not isinstance(content, str) or not content.strip():
            continue
        if message.get("role") == "user":
            user, assistant = content.strip(), ""
        elif message.get("role") == "assistant":
            assistant = (assistant + "\n" + content.strip()).strip()
    return user, assistant


def stop(event: dict[str, Any]) -> None:
    if event.get("stop_hook_active"):
        return
    path = event.get("transcript_path")
    if not path or not Path(str(path)).is_file():
        return
    user, assistant = _last_exchange(Path(str(path)))
    if not user or not assistant:
        return
    project = Path(str(event.get("cwd") or os.getcwd())).name
    content = f"[{project}] Asked: {user[:2000]}\nAnswered: {assistant[:6000]}"
    session = str(event.get("session_id") or "")[:200] or None
    body = {"content": content, "category": "session", "source": SOURCE, "session_id": session}
    _call("/store", {**body, "tags": [project.lower()]})


COMMANDS = {"session-start": session_start, "prompt": prompt, "stop": stop}


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in COMMANDS:
        sys.stderr.write(f"usage: engram_hook.py {{{','.join(COMMANDS)}}} < event.json\n")
        return 0
    try:
        event = json.loads(sys.stdin.read() or "{}")
    except ValueError:
        return 0
    try:
        COMMANDS[argv[0]](event if isinstance(event, dict) else {})
    except Exception:  # never break the user's session
        return 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
