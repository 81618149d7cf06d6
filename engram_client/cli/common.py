"""What every client verb shares: the connection flags, one error-to-exit-code path, and output.

Exit codes: 0 ok, 1 not found, 2 bad usage, 3 server unreachable, 4 auth, 5 server error.
Human output by default, ``--json`` for scripts (the server's answer as it came).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from ..client import EngramClient
from ..errors import ClientError

__all__ = ["Verb", "add_connection", "emit", "fail", "memory_line", "run_verb"]

Verb = Callable[[EngramClient, argparse.Namespace], Awaitable[None]]


def add_connection(parser: argparse.ArgumentParser) -> None:
    """--url, --key, --json and --timeout on a verb's parser."""
    parser.add_argument("--url", help="Engram's address (ENGRAM_URL, default http://127.0.0.1:4200)")
    parser.add_argument("--key", help="API key (ENGRAM_API_KEY)")
    parser.add_argument("--json", action="store_true", help="print the server's JSON answer")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for Engram (default 30)")


def emit(args: argparse.Namespace, data: Any, human: str | Callable[[], str]) -> None:
    """Print ``data`` as JSON with --json, else the human text."""
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return
    text = human() if callable(human) else human
    if text:
        print(text)


def fail(message: str, code: int = 2) -> int:
    print(f"engram: {message}", file=sys.stderr)
    return code


def run_verb(verb: Verb, args: argparse.Namespace) -> int:
    """Run one verb against Engram; a ClientError becomes its message on stderr and its exit code."""

    async def go() -> None:
        async with EngramClient(args.url, args.key, timeout=args.timeout) as client:
            await verb(client, args)

    try:
        asyncio.run(go())
    except ClientError as exc:
        return fail(str(exc), exc.exit_code)
    except (OSError, ValueError) as exc:  # a file named on the command line, JSON that does not parse
        return fail(str(exc), 2)
    return 0


def memory_line(m: dict[str, Any]) -> str:
    """One memory as a line: id, score when there is one, category, tags, content (shortened)."""
    content = " ".join(str(m.get("content", "")).split())
    if len(content) > 160:
        content = content[:157] + "..."
    score = f" {m['score']:.3f}" if isinstance(m.get("score"), int | float) else ""
    tags = f" [{', '.join(m['tags'])}]" if m.get("tags") else ""
    return f"#{m.get('id')}{score} ({m.get('category', 'general')}){tags} {content}"
