#!/usr/bin/env python3
"""Claude Code hooks for Engram: one entry point per hook event, a plain REST client (standard library only).

    engram hook <Event> < event.json           # with Engram installed
    python3 engram_hook.py <Event> < event.json  # the same file, copied alone to a machine without it

Events: SessionStart (core and project memories, recent decisions; by source), UserPromptSubmit (memories
relevant to the prompt, token-budgeted; trivial prompts skipped), PreToolUse (the stored rules' guard:
warn -> context, block -> deny; installed only when asked for), PostToolUse (what a tool changed: files
edited, commands run, failures; compact, deduplicated, secrets redacted), PreCompact (a summary of the
transcript before it is compacted), Stop (the turn's outcome and decisions), SessionEnd (closes the session's
episode). Every memory carries the project (the git root's name) as a tag and Claude Code's session_id.

Configured by ENGRAM_URL (default http://127.0.0.1:4200), ENGRAM_API_KEY (read + write scopes),
ENGRAM_HOOK_BUDGET (context tokens, default 1500), ENGRAM_HOOK_TIMEOUT (seconds for the whole hook,
default 3) and ENGRAM_HOOK_STATE (per-session state dir, default ~/.local/state/engram/hooks).
Fail-open: when Engram is down, slow, or answers an error, the hook prints nothing and exits 0 in time.

engram_client/hook.py is the implementation; hooks/engram_hook.py is a byte-identical copy (a test checks).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import signal
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

SOURCE = "claude-code"
MAX_CONTEXT_CHARS = 9000  # Claude Code replaces injected text over 10,000 characters with a preview
_DEADLINE = [0.0]

# -- talking to Engram -----------------------------------------------------------------------------------


def _timeout() -> float:
    try:
        return max(0.2, float(os.environ.get("ENGRAM_HOOK_TIMEOUT", "3")))
    except ValueError:
        return 3.0


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a URL's hostname) names this machine: 127.x.y.z, localhost (and *.localhost), ::1
    (not a DNS name like 127.example.com). The rule for "reach Engram without a proxy"; this module is
    standard library only and self-contained, so the server's copy is ``engram_core.loopback`` (a test
    holds the two to the same answers)."""
    host = host.lower()
    octets = host.split(".")
    ipv4 = len(octets) == 4 and octets[0] == "127" and all(o.isdigit() for o in octets)
    return ipv4 or host in ("localhost", "::1") or host.endswith(".localhost")


def _opener(url: str) -> urllib.request.OpenerDirector:
    """An opener without any proxy for a loopback Engram (urllib would send even a 127.0.0.1 request through
    ``http_proxy`` / ``HTTPS_PROXY`` unless ``no_proxy`` names it); a remote Engram keeps the environment's."""
    if is_loopback(urllib.parse.urlsplit(url).hostname or ""):
        return urllib.request.build_opener(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener()


def _call(method: str, path: str, body: Any = None, query: dict[str, Any] | None = None) -> Any | None:
    """One request to Engram within what is left of the hook's time; None on any failure."""
    left = _DEADLINE[0] - time.monotonic()
    if left < 0.05:
        return None
    url = os.environ.get("ENGRAM_URL", "http://127.0.0.1:4200").rstrip("/") + path
    if query:
        url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None}, doseq=True)
    key = os.environ.get("ENGRAM_API_KEY", "")
    headers = {"Content-Type": "application/json", "User-Agent": "engram-hook"}
    if key:
        headers["Authorization"] = "Bearer " + key
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with _opener(url).open(request, timeout=left) as resp:
            return json.loads(resp.read() or b"null")
    except (urllib.error.URLError, OSError, ValueError):
        return None


# -- where we are --------------------------------------------------------------------------------------


def project_root(cwd: str) -> Path:
    """The git root above ``cwd``, else ``cwd`` itself."""
    start = Path(cwd or os.getcwd())
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return start


def project_of(cwd: str) -> str:
    """The project's name: the git root's folder name, else the working directory's."""
    return project_root(cwd).name or "root"


def _tags(event: dict[str, Any]) -> list[str]:
    return [re.sub(r"\s+", "-", project_of(str(event.get("cwd") or "")).strip().lower())[:100] or "root"]


def _session(event: dict[str, Any]) -> str | None:
    return str(event.get("session_id") or "")[:200] or None


class State:
    """Per-session memory of the hook between events: the episode id and what was captured already."""

    def __init__(self, session: str | None) -> None:
        base = os.environ.get("ENGRAM_HOOK_STATE") or os.path.join(
            os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state"),
            "engram",
            "hooks",
        )
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", session or "no-session")[:120]
        self.path = Path(base) / (name + ".json")
        self.data: dict[str, Any] = {}
        try:
            loaded = json.loads(self.path.read_text())
            self.data = loaded if isinstance(loaded, dict) else {}
        except (OSError, ValueError):
            pass
        self._saved = json.dumps(self.data, sort_keys=True)

    def save(self) -> None:
        if json.dumps(self.data, sort_keys=True) == self._saved:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=str(self.path.parent), prefix=".state")
            with os.fdopen(fd, "w") as out:
                json.dump(self.data, out)
            os.replace(tmp, str(self.path))
        except OSError:
            pass

    def remove(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()

    def seen(self, text: str) -> bool:
        """True when ``text`` was captured in this session already (and remember it otherwise)."""
        digest = hashlib.sha1(text.encode("utf-8", "replace")).hexdigest()[:16]
        seen: list[str] = self.data.setdefault("seen", [])
        if digest in seen:
            return True
        seen.append(digest)
        del seen[:-500]
        return False


def _episode(event: dict[str, Any], state: State, create: bool = True) -> int | None:
    """The session's open episode: remembered, else found by session_id, else started."""
    if isinstance(state.data.get("episode_id"), int):
        return int(state.data["episode_id"])
    session = _session(event)
    if not session:
        return None
    found = _call("GET", "/episodes", query={"session_id": session, "status": "open", "limit": 1})
    episodes = found.get("episodes") if isinstance(found, dict) else None
    if episodes:
        state.data["episode_id"] = int(episodes[0]["id"])
    elif create:
        title = "Claude Code session in " + project_of(str(event.get("cwd") or ""))
        made = _call("POST", "/episodes", {"title": title, "session_id": session})
        if isinstance(made, dict) and isinstance(made.get("id"), int):
            state.data["episode_id"] = made["id"]
    return state.data.get("episode_id")


def _remember(event: dict[str, Any], state: State, content: str, category: str, importance: int) -> int | None:
    """Store one memory of this session (project tag, session_id) and add it to the session's episode."""
    body = {"content": redact(content)[:20000], "category": category, "importance": importance,
            "source": SOURCE, "session_id": _session(event), "tags": _tags(event)}  # fmt: skip
    stored = _call("POST", "/store", body)
    if not isinstance(stored, dict):
        return None
    memory_id = stored.get("id") if stored.get("stored") else stored.get("existing_id")
    episode = _episode(event, state)
    if isinstance(memory_id, int) and episode is not None:
        _call("POST", f"/episodes/{episode}/memories", {"memory_ids": [memory_id]})
    return memory_id if isinstance(memory_id, int) else None


# -- never store secrets ---------------------------------------------------------------------------------

_SECRETS = [
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.S), "[REDACTED KEY]"),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 [REDACTED]"),
    (re.compile(r"(?i)(://[^/\s:@]+:)[^@\s/]+@"), r"\1[REDACTED]@"),
    (
        re.compile(
            r"(?i)\b([A-Za-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|"
            r"private[_-]?key|credential|auth)[A-Za-z0-9_.-]*)(\"?\s*[:=]\s*|\s+)(['\"]?)[^\s'\"&;,]{3,}\3"
        ),
        r"\1\2\3[REDACTED]\3",
    ),
    (re.compile(r"(?i)(--?(?:password|passwd|token|secret|api-key|key)[= ])\S+"), r"\1[REDACTED]"),
    (
        re.compile(
            r"\b(sk-[A-Za-z0-9_-]{16,}|sk_(?:live|test)_[A-Za-z0-9]{10,}|gh[oprsu]_[A-Za-z0-9]{20,}|"
            r"github_pat_[A-Za-z0-9_]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{30,}|"
            r"glpat-[A-Za-z0-9_-]{16,}|engram_[0-9a-f]{32}|eg_[0-9a-f]{16,}|"
            r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})"
        ),
        "[REDACTED]",
    ),
    (re.compile(r"\b[0-9a-fA-F]{40,}\b"), "[REDACTED HEX]"),
    (re.compile(r"\b(?=[A-Za-z0-9+/_-]*\d)(?=[A-Za-z0-9+/_-]*[a-z])(?=[A-Za-z0-9+/_-]*[A-Z])[A-Za-z0-9+/_-]{40,}"),
     "[REDACTED]"),
]  # fmt: skip


def redact(text: str) -> str:
    """``text`` with tokens, keys, passwords and credentials in URLs replaced by [REDACTED]."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


# -- reading the transcript ------------------------------------------------------------------------------


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content.strip()
    if isinstance(content, list):
        parts = [str(b.get("text", "")) for b in content if isinstance(b, dict) and b.get("type") == "text"]
        return "\n".join(p.strip() for p in parts if p.strip())
    return ""


def read_transcript(path: Any, max_bytes: int = 4_000_000) -> list[dict[str, Any]]:
    """The transcript's messages as ``{role, text, tools}`` (defensive: unknown lines and a partial last
    line are skipped; only the last ``max_bytes`` of a long file are read)."""
    if not path:
        return []
    try:
        with open(str(path), "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - max_bytes))
            raw = f.read().decode("utf-8", "replace")
    except OSError:
        return []
    out: list[dict[str, Any]] = []
    for line in raw.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        message = entry.get("message") if isinstance(entry, dict) else None
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant") or entry.get("isMeta"):
            continue
        content = message.get("content")
        tools = [b for b in content if isinstance(b, dict) and b.get("type") == "tool_use"] if isinstance(
            content, list) else []  # fmt: skip
        text = _text_of(content)
        if text or tools:
            out.append({"role": message["role"], "text": text, "tools": tools})
    return out


def _last_exchange(messages: list[dict[str, Any]]) -> tuple[str, str]:
    user, assistant = "", ""
    for m in messages:
        if m["role"] == "user" and m["text"]:
            user, assistant = m["text"], ""
        elif m["role"] == "assistant" and m["text"]:
            assistant = (assistant + "\n" + m["text"]).strip()
    return user, assistant


_DECISION = re.compile(
    r"(?i)\b(decided|decision|we(?:'ll| will) (?:use|go with|keep)|going with|chose|choose to|switched to|"
    r"instead of|settled on|agreed)\b"
)


def decisions_in(text: str, limit: int = 5) -> list[str]:
    """Sentences of ``text`` that state a decision."""
    sentences = re.split(r"(?<=[.!?])\s+|\n+", text)
    found = [s.strip(" -*") for s in sentences if _DECISION.search(s) and 15 <= len(s.strip()) <= 400]
    return found[:limit]


# -- output ---------------------------------------------------------------------------------------------


def _context_output(event_name: str, text: str) -> dict[str, Any] | None:
    text = text.strip()
    if not text:
        return None
    if len(text) > MAX_CONTEXT_CHARS:
        text = text[: MAX_CONTEXT_CHARS - 20].rsplit("\n", 1)[0] + "\n[... more in Engram]"
    return {"hookSpecificOutput": {"hookEventName": event_name, "additionalContext": text}}


def _budget() -> int:
    try:
        return max(100, min(2200, int(os.environ.get("ENGRAM_HOOK_BUDGET", "1500"))))
    except ValueError:
        return 1500


def _lines(found: Any) -> list[str]:
    rows = found.get("results") if isinstance(found, dict) else None
    return ["- " + " ".join(str(m.get("content", "")).split())[:400] for m in rows or [] if isinstance(m, dict)]


# -- the events ------------------------------------------------------------------------------------------


def session_start(event: dict[str, Any], state: State) -> dict[str, Any] | None:
    """One round trip (POST /hooks/session-start): core and project memories, the project's recent decisions
    (or, on resume/compact, what this session stored) and the session's episode, found or started."""
    source = str(event.get("source") or "startup")
    project, tags = project_of(str(event.get("cwd") or "")), _tags(event)
    known = isinstance(state.data.get("episode_id"), int)
    body = {"project": project[:200] or "root", "tag": tags[0], "session_id": _session(event),
            "source": source if source in ("startup", "resume", "clear", "compact") else "resume",
            "max_tokens": _budget(), "episode": not known}  # fmt: skip
    found = _call("POST", "/hooks/session-start", body)
    if not isinstance(found, dict):
        return None
    sections: list[str] = []
    if str(found.get("context") or "").strip():
        sections.append("Memories from Engram (stored earlier; facts, possibly outdated):\n" + str(found["context"]))
    decided = _lines({"results": found.get("decisions")})
    if decided:
        sections.append("Recent decisions in {}:\n{}".format(project, "\n".join(decided)))
    own = _lines({"results": found.get("session_memories")})
    if own:
        sections.append("Stored earlier in this session:\n" + "\n".join(own))
    if not known and isinstance(found.get("episode_id"), int):
        state.data["episode_id"] = found["episode_id"]
    return _context_output("SessionStart", "\n\n".join(sections))


_TRIVIAL = {"ok", "okay", "yes", "no", "y", "n", "thanks", "thank you", "continue", "go", "go on", "go ahead",
            "sure", "done", "next", "proceed", "k", "cool", "great", "nice", "lgtm", "retry", "try again"}  # fmt: skip


def is_trivial(prompt: str) -> bool:
    """Acknowledgements, slash commands and one-word prompts need no memories."""
    text = prompt.strip().lower().strip(" .!?")
    return not text or text in _TRIVIAL or text.startswith("/") or len(text.split()) < 2 or len(text) < 8


def user_prompt_submit(event: dict[str, Any], state: State) -> dict[str, Any] | None:
    prompt = str(event.get("prompt") or "")
    if is_trivial(prompt):
        return None
    # Core memories came with SessionStart: here only what the prompt is about.
    found = _call("POST", "/context", {"query": prompt[:4000], "max_tokens": _budget(), "mode": "fast",
                                       "include_static": False, "include_recent": False})  # fmt: skip
    if not isinstance(found, dict) or not str(found.get("context") or "").strip():
        return None
    return _context_output("UserPromptSubmit", "Relevant memories from Engram (stored earlier; facts, possibly "
                                               "outdated):\n" + str(found["context"]))  # fmt: skip


_WRITE_TOOLS = ("Write", "Edit", "MultiEdit", "NotebookEdit")


def _action_of(tool: str, tool_input: dict[str, Any]) -> str:
    if tool == "Bash":
        return str(tool_input.get("command") or "")
    target = tool_input.get("file_path") or tool_input.get("notebook_path") or ""
    body = tool_input.get("content") or tool_input.get("new_string") or tool_input.get("new_source") or ""
    return f"{tool.lower()} {target}: {str(body)[:1000]}"


def pre_tool_use(event: dict[str, Any], state: State) -> dict[str, Any] | None:
    tool = str(event.get("tool_name") or "")
    tool_input = event.get("tool_input") if isinstance(event.get("tool_input"), dict) else {}
    if tool != "Bash" and tool not in _WRITE_TOOLS:
        return None
    action = _action_of(tool, tool_input or {})
    if not action.strip():
        return None
    verdict = _call("POST", "/guard", {"action": action[:4000]})
    if not isinstance(verdict, dict):
        return None
    message = str(verdict.get("message") or "a stored rule applies to this action")
    if verdict.get("signal") == "block":
        return {"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny",
                                       "permissionDecisionReason": "Engram: " + message}}  # fmt: skip
    if verdict.get("signal") == "warn":
        return _context_output("PreToolUse", "Engram rule check: " + message)
    return None


_READ_ONLY = re.compile(
    r"^\s*(ls|ll|pwd|cat|head|tail|less|more|echo|printf|grep|rg|ag|find|fd|wc|which|type|file|stat|tree|du|df|"
    r"env|date|whoami|git\s+(status|diff|log|show|branch|remote|blame)|true)\b"
)


def _failed(response: Any) -> str:
    """What went wrong in a tool's response, or "" when it did not fail."""
    if isinstance(response, dict):
        code = next((response[k] for k in ("exit_code", "exitCode", "returncode", "code") if k in response), 0)
        bad = response.get("is_error") or response.get("interrupted") or (isinstance(code, int) and code != 0)
        if bad or response.get("success") is False or response.get("error"):
            detail = str(response.get("error") or response.get("stderr") or response.get("stdout") or "")
            lines = [x for x in detail.strip().splitlines() if x.strip()]
            return (lines[-1] if lines else "failed")[:300]
    elif isinstance(response, str) and response.lstrip().lower().startswith("error"):
        return response.strip().splitlines()[0][:300]
    return ""


def post_tool_use(event: dict[str, Any], state: State) -> None:
    tool = str(event.get("tool_name") or "")
    tool_input = event.get("tool_input") if isinstance(event.get("tool_input"), dict) else {}
    tool_input = tool_input or {}
    project = project_of(str(event.get("cwd") or ""))
    failure = _failed(event.get("tool_response"))
    if tool == "Bash":
        command = " ".join(str(tool_input.get("command") or "").split())[:500]
        if not command or (_READ_ONLY.match(command) and not failure):
            return None
        summary = f"In {project}: ran `{command}`"
    elif tool in _WRITE_TOOLS:
        target = str(tool_input.get("file_path") or tool_input.get("notebook_path") or "")
        with contextlib.suppress(ValueError):
            target = os.path.relpath(target, str(project_root(str(event.get("cwd") or "")))) if target else target
        verb = "wrote" if tool == "Write" else "edited"
        summary = f"In {project}: {verb} {target}"
    else:
        return None
    if failure:
        summary += " - failed: " + failure
    summary = redact(summary)
    if state.seen(summary):
        return None
    _remember(event, state, summary, "error" if failure else "activity", 6 if failure else 3)
    return None


def pre_compact(event: dict[str, Any], state: State) -> None:
    messages = read_transcript(event.get("transcript_path"))
    if not messages:
        return None
    asked = [m["text"].splitlines()[0][:200] for m in messages if m["role"] == "user" and m["text"]]
    files: list[str] = []
    commands: list[str] = []
    for m in messages:
        for t in m["tools"]:
            data = t.get("input") if isinstance(t.get("input"), dict) else {}
            if t.get("name") in _WRITE_TOOLS and data.get("file_path") and data["file_path"] not in files:
                files.append(str(data["file_path"]))
            elif t.get("name") == "Bash" and data.get("command"):
                commands.append(" ".join(str(data["command"]).split())[:150])
    answers = [m["text"] for m in messages if m["role"] == "assistant" and m["text"]]
    decided = decisions_in("\n".join(answers))
    parts = ["Session in {} before compaction ({}).".format(project_of(str(event.get("cwd") or "")),
                                                            event.get("trigger") or "auto")]  # fmt: skip
    if asked:
        parts.append("Asked: " + " | ".join(asked[-8:]))
    if decided:
        parts.append("Decided: " + " | ".join(decided))
    if files:
        parts.append("Files changed: " + ", ".join(files[-20:]))
    if commands:
        parts.append("Commands run: " + " | ".join(dict.fromkeys(commands[-10:])))
    if answers:
        parts.append("Last answer: " + " ".join(answers[-1].split())[:1200])
    _remember(event, state, "\n".join(parts)[:8000], "summary", 5)
    return None


def stop(event: dict[str, Any], state: State) -> None:
    if event.get("stop_hook_active"):
        return None
    user, assistant = _last_exchange(read_transcript(event.get("transcript_path")))
    if event.get("last_assistant_message"):
        assistant = _text_of(event["last_assistant_message"]) or assistant
    if not user or not assistant:
        return None
    project = project_of(str(event.get("cwd") or ""))
    turn = f"[{project}] Asked: {user[:2000]}\nAnswered: {assistant[:6000]}"
    if state.seen(turn):
        return None
    _remember(event, state, turn, "session", 4)
    for decision in decisions_in(assistant):
        if not state.seen(decision):
            _remember(event, state, f"[{project}] {decision}", "decision", 7)
    return None


def session_end(event: dict[str, Any], state: State) -> None:
    # The default SessionEnd timeout is 1.5 s: close the episode in one call and leave the rest to the server.
    episode = state.data.get("episode_id")
    if isinstance(episode, int):
        summary = "Claude Code session in {} ended ({}).".format(project_of(str(event.get("cwd") or "")),
                                                                 event.get("reason") or "other")  # fmt: skip
        _call("POST", f"/episodes/{episode}/finalize", {"summary": summary})
    state.remove()
    return None


EVENTS: dict[str, Callable[[dict[str, Any], State], dict[str, Any] | None]] = {
    "SessionStart": session_start,
    "UserPromptSubmit": user_prompt_submit,
    "PreToolUse": pre_tool_use,
    "PostToolUse": post_tool_use,
    "PreCompact": pre_compact,
    "Stop": stop,
    "SessionEnd": session_end,
}
_ALIASES = {"session-start": "SessionStart", "prompt": "UserPromptSubmit", "stop": "Stop"}  # earlier names


def main(argv: list[str]) -> int:
    """Run the hook for ``argv[0]`` (an event name) on the JSON event from stdin. Always exits 0."""
    name = _ALIASES.get(argv[0], argv[0]) if argv else ""
    if name not in EVENTS:
        sys.stderr.write("usage: engram hook {{{}}} < event.json\n".format(",".join(EVENTS)))
        return 0
    timeout = min(_timeout(), 1.2) if name == "SessionEnd" else _timeout()
    _DEADLINE[0] = time.monotonic() + timeout
    if hasattr(signal, "SIGALRM"):  # a backstop: whatever hangs, the hook is gone in time, silently
        signal.signal(signal.SIGALRM, lambda *_: os._exit(0))
        signal.setitimer(signal.ITIMER_REAL, timeout + 0.3)
    try:
        event = json.loads(sys.stdin.read() or "{}")
        state = State(_session(event) if isinstance(event, dict) else None)
        out = EVENTS[name](event if isinstance(event, dict) else {}, state)
        if name != "SessionEnd":
            state.save()
    except Exception:  # never break the user's session
        return 0
    finally:
        if hasattr(signal, "SIGALRM"):
            signal.setitimer(signal.ITIMER_REAL, 0)
    if out:
        sys.stdout.write(json.dumps(out))
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
