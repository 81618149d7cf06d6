"""`engram hooks install | uninstall`: merged into settings.json, never clobbering other tools' hooks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engram_client.cli.hooks import ENTRIES, default_command, install, uninstall

OTHER = {
    "model": "opus",
    "hooks": {
        "PostToolUse": [{"matcher": "Edit", "hooks": [{"type": "command", "command": "prettier --write"}]}],
        "Stop": [
            {
                "hooks": [
                    {"type": "command", "command": "notify-send done"},
                    {"type": "command", "command": "/old/engram hook Stop"},
                ]
            }
        ],  # fmt: skip
        "Notification": [{"hooks": [{"type": "command", "command": "say hi"}]}],
    },
}


def _engram(cwd: Path, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "engram_core.cli", "hooks", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def _commands(settings: dict[str, object], event: str) -> list[str]:
    groups = settings.get("hooks", {}).get(event, [])  # type: ignore[union-attr]
    return [h["command"] for g in groups for h in g["hooks"]]


def test_install_merges_and_is_idempotent() -> None:
    once = install(json.loads(json.dumps(OTHER)), "engram")
    twice = install(json.loads(json.dumps(once)), "engram")
    assert once == twice
    assert once["model"] == "opus" and _commands(once, "Notification") == ["say hi"]
    assert _commands(once, "PostToolUse") == ["prettier --write", "engram hook PostToolUse"]
    assert _commands(once, "Stop") == ["notify-send done", "engram hook Stop"]  # our old entry replaced
    for event in ENTRIES:
        assert _commands(once, event)[-1] == f"engram hook {event}"
    assert "PreToolUse" not in once["hooks"]  # the guard is off unless asked for
    guarded = install(json.loads(json.dumps(OTHER)), "engram", guard=True)
    assert _commands(guarded, "PreToolUse") == ["engram hook PreToolUse"]


def _without_ours(settings: dict[str, object]) -> dict[str, object]:
    expected = json.loads(json.dumps(settings))
    expected["hooks"]["Stop"][0]["hooks"] = [{"type": "command", "command": "notify-send done"}]
    return expected  # type: ignore[no-any-return]


def test_uninstall_removes_exactly_ours() -> None:
    back = uninstall(install(json.loads(json.dumps(OTHER)), "/venv/bin/engram", guard=True))
    assert back == _without_ours(OTHER)
    assert uninstall(install({}, "python3 /x/hooks/engram_hook.py")) == {}


def test_the_command_writes_project_and_user_settings(tmp_path: Path) -> None:
    project, home = tmp_path / "proj", tmp_path / "home"
    (project / ".claude").mkdir(parents=True)
    (project / ".claude" / "settings.json").write_text(json.dumps(OTHER))
    done = _engram(project, "install", "--project", "--command", "engram", home=home)
    assert done.returncode == 0, done.stderr
    written = json.loads((project / ".claude" / "settings.json").read_text())
    assert _commands(written, "UserPromptSubmit") == ["engram hook UserPromptSubmit"]
    assert _commands(written, "PostToolUse")[0] == "prettier --write"
    assert _engram(project, "install", "--user", "--guard", home=home).returncode == 0
    user = json.loads((home / ".claude" / "settings.json").read_text())
    assert _commands(user, "PreToolUse")[0].endswith("hook PreToolUse")
    refused = _engram(project, "install", "--project", "--env", "--key", "engram_" + "1" * 32, home=home)
    assert refused.returncode == 2 and "--local" in refused.stderr
    assert (
        _engram(project, "install", "--local", "--env", "--key", "k", "--url", "http://h:1", home=home).returncode == 0
    )
    local = json.loads((project / ".claude" / "settings.local.json").read_text())
    assert local["env"] == {"ENGRAM_URL": "http://h:1", "ENGRAM_API_KEY": "k"}
    assert _engram(project, "uninstall", "--project", home=home).returncode == 0
    assert json.loads((project / ".claude" / "settings.json").read_text()) == _without_ours(OTHER)


def _executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_the_command_prefers_the_engram_beside_this_python(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The venv's own bin/engram wins over an earlier engram on PATH; without it, PATH's; without either, this
    Python with -m."""
    venv_bin, elsewhere = tmp_path / "my venv" / "bin", tmp_path / "usr-local-bin"
    python = _executable(venv_bin / "python")
    on_path = _executable(elsewhere / "engram")
    monkeypatch.setattr(sys, "executable", str(python))
    monkeypatch.setenv("PATH", f"{elsewhere}{os.pathsep}{venv_bin}")
    beside = _executable(venv_bin / "engram")
    assert default_command() == f"'{beside}'"  # quoted: the path has a space
    beside.unlink()
    assert default_command() == str(on_path)
    (venv_bin / "engram").mkdir()  # not an executable file: skipped
    on_path.unlink()
    assert default_command() == f"'{python}' -m engram_core.cli"
