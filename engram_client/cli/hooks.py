"""``engram hooks install | uninstall``: Engram's entries in Claude Code's settings.json, merged in place.

Other tools' hooks in the same file are kept as they are; uninstall removes exactly the entries that run
Engram's hook (``... hook <Event>`` of the engram command, or hooks/engram_hook.py).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["ENTRIES", "install", "main", "uninstall"]

_TOOLS = "Bash|Edit|Write|MultiEdit|NotebookEdit"
# event -> (matcher or None, timeout in seconds or None for Claude Code's default)
ENTRIES: dict[str, tuple[str | None, int | None]] = {
    "SessionStart": ("", 10),
    "UserPromptSubmit": (None, 10),
    "PostToolUse": (_TOOLS, 10),
    "PreCompact": ("", 15),
    "Stop": (None, 15),
    "SessionEnd": (None, None),  # keep the short default: the hook finishes within it
}
GUARD_ENTRY = ("PreToolUse", _TOOLS, 10)
_OURS = re.compile(r"(engram[\w.-]*['\"]?\s+hook|engram_client\.hook|engram_hook\.py['\"]?)\s+[A-Za-z-]+\s*$")


def default_command() -> str:
    """How Claude Code should start the hook: the ``engram`` installed beside this Python (the venv's bin, so
    the hook runs the Engram that installed it), else the first ``engram`` on PATH, else this Python itself."""
    here = Path(sys.executable).parent  # not resolved: a venv's python is a symlink out of the venv
    for name in ("engram", "engram.exe"):
        beside = here / name
        if beside.is_file() and os.access(beside, os.X_OK):
            return shlex.quote(str(beside))
    found = shutil.which("engram")
    if found:
        return shlex.quote(found)
    return f"{shlex.quote(sys.executable)} -m engram_core.cli"


def settings_path(where: str, cwd: Path | None = None) -> Path:
    if where == "user":
        return Path(os.path.expanduser("~")) / ".claude" / "settings.json"
    name = "settings.local.json" if where == "local" else "settings.json"
    return (cwd or Path.cwd()) / ".claude" / name


def _is_ours(hook: Any) -> bool:
    return isinstance(hook, dict) and bool(_OURS.search(str(hook.get("command") or "")))


def _strip(settings: dict[str, Any]) -> dict[str, Any]:
    """``settings`` without Engram's hook entries (groups and events left empty are dropped)."""
    hooks = settings.get("hooks")
    if not isinstance(hooks, dict):
        return settings
    for event in list(hooks):
        groups = hooks[event]
        if not isinstance(groups, list):
            continue
        kept = []
        for group in groups:
            if isinstance(group, dict) and isinstance(group.get("hooks"), list):
                inner = [h for h in group["hooks"] if not _is_ours(h)]
                if not inner:
                    continue
                group = {**group, "hooks": inner}
            kept.append(group)
        if kept:
            hooks[event] = kept
        else:
            del hooks[event]
    if not hooks:
        del settings["hooks"]
    return settings


def install(settings: dict[str, Any], command: str, guard: bool = False) -> dict[str, Any]:
    """``settings`` with Engram's entries (replacing earlier ones of ours, keeping everyone else's)."""
    settings = _strip(settings)
    hooks = settings.setdefault("hooks", {})
    entries = [(e, m, t) for e, (m, t) in ENTRIES.items()] + ([GUARD_ENTRY] if guard else [])
    for event, matcher, timeout in entries:
        hook: dict[str, Any] = {"type": "command", "command": f"{command} hook {event}"}
        if timeout:
            hook["timeout"] = timeout
        group: dict[str, Any] = {"hooks": [hook]}
        if matcher is not None:
            group = {"matcher": matcher, **group}
        hooks.setdefault(event, []).append(group)
    return settings


def uninstall(settings: dict[str, Any]) -> dict[str, Any]:
    return _strip(settings)


def _read(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8") or "{}")
    if not isinstance(data, dict):
        raise ValueError(f"{path} does not hold a JSON object")
    return data


def _write(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=str(path.parent), prefix=".settings")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(data, out, indent=2)
        out.write("\n")
    os.replace(tmp, path)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="engram hooks", description="Install Engram's Claude Code hooks.")
    parser.add_argument("action", choices=("install", "uninstall"))
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--project", dest="where", action="store_const", const="project",
                       help=".claude/settings.json of this directory (the default)")  # fmt: skip
    where.add_argument("--local", dest="where", action="store_const", const="local",
                       help=".claude/settings.local.json (not committed)")  # fmt: skip
    where.add_argument("--user", dest="where", action="store_const", const="user", help="~/.claude/settings.json")
    parser.add_argument("--guard", action="store_true", help="also check Bash and file writes against stored rules")
    parser.add_argument(
        "--command", help="how to start engram (default: the engram beside this Python, else on PATH, else this Python)"
    )
    parser.add_argument("--env", action="store_true",
                        help="write ENGRAM_URL and ENGRAM_API_KEY (or --url/--key) into the settings' env "
                             "(--local or --user only: never commit a key)")  # fmt: skip
    parser.add_argument("--url")
    parser.add_argument("--key")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    path = settings_path(args.where or "project")
    try:
        settings = _read(path)
    except ValueError as exc:
        print(f"engram: {path}: {exc}", file=sys.stderr)
        return 2
    if args.action == "uninstall":
        _write(path, uninstall(settings))
        print(f"removed Engram's hooks from {path}")
        return 0
    if args.env and (args.where or "project") == "project":
        print("engram: --env writes your key: use it with --local or --user, not a committed settings.json",
              file=sys.stderr)  # fmt: skip
        return 2
    settings = install(settings, args.command or default_command(), guard=args.guard)
    if args.env:
        env = settings.setdefault("env", {})
        env["ENGRAM_URL"] = args.url or os.environ.get("ENGRAM_URL") or "http://127.0.0.1:4200"
        key = args.key or os.environ.get("ENGRAM_API_KEY")
        if key:
            env["ENGRAM_API_KEY"] = key
    _write(path, settings)
    events = ", ".join(list(ENTRIES) + (["PreToolUse"] if args.guard else []))
    print(f"installed Engram's hooks ({events}) into {path}")
    return 0
