"""The thin HTTP layer over engram_core: parse, call one core function, shape JSON."""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    # Lazy: the `engram` command imports engram_server.cli to offer `serve`, and must not load the web
    # stack for every other command (a Claude Code hook runs `engram hook` on each event).
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(name)
