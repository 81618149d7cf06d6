"""End-to-end helpers: a free loopback port, the `engram` CLI, `engram serve` started until ready, and a
live server with an admin key for a fixture."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


PROXY_VARS = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")


def dead_proxy_env(**extra: str) -> dict[str, str]:
    """This process's environment with every proxy variable at a dead loopback port (nothing listens) and no
    NO_PROXY, plus ``extra``: a request that goes through a proxy fails, one made directly does not."""
    dead = f"http://127.0.0.1:{free_port()}"  # the socket that held the port is closed
    env = {
        k: v for k, v in os.environ.items() if k.lower() not in ("no_proxy", "http_proxy", "https_proxy", "all_proxy")
    }
    return {**env, **dict.fromkeys(PROXY_VARS, dead), **extra}


def engram(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``engram ARGS`` with ``env``; output captured as text."""
    return subprocess.run([sys.executable, "-m", "engram_core.cli", *args], env=env, capture_output=True,
                          text=True, timeout=60)  # fmt: skip


def admin_key(env: dict[str, str]) -> str:
    """The documented first-run path: a local admin key made against the data dir."""
    made = engram("keys", "create", "--admin", env=env)
    assert made.returncode == 0, made.stderr
    return made.stdout.strip().splitlines()[-1]


def start_server(env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`engram serve` on ``env["ENGRAM_PORT"]`` once /health/ready answers; fails with its log otherwise.

    The log goes to ``serve.log`` beside the data dir (a pipe could fill up and stall the server).
    """
    log = Path(env["ENGRAM_DATA_DIR"]).parent / "serve.log"
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "engram_core.cli", "serve"], env=env, stdout=out,
                                stderr=subprocess.STDOUT)  # fmt: skip
    base = f"http://127.0.0.1:{env['ENGRAM_PORT']}"
    deadline = time.monotonic() + 90  # generous: a loaded machine (or xdist neighbour) starts slowly
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            if httpx.get(base + "/health/ready", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    proc.kill()
    proc.wait(timeout=15)
    pytest.fail(f"engram serve did not come up:\n{log.read_text(errors='replace')[-4000:]}")


@contextlib.contextmanager
def live_server(data_dir: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """`engram serve` on a free port over ``data_dir`` with a local admin key (the documented first run):
    ``(base URL, admin headers)``; the server is stopped on exit."""
    port = free_port()
    env = {**os.environ, "ENGRAM_DATA_DIR": str(data_dir), "ENGRAM_PORT": str(port)}
    env.pop("ENGRAM_BOOTSTRAP_SECRET", None)
    key = admin_key(env)
    proc = start_server(env)
    try:
        yield f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {key}"}
    finally:
        proc.terminate()
        proc.wait(timeout=15)
