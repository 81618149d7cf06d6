"""Server and portability verbs: ``engram health | bootstrap | guard | ingest | export | import``.

guard, ingest, export and import call routes a newer Engram serves; against an older server they fail with
"this server has no /guard route (needs a newer Engram)" rather than pretend.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from ..client import EngramClient
from ..errors import ClientError
from .common import Verb, emit

__all__ = ["register"]


async def health(client: EngramClient, args: argparse.Namespace) -> None:
    h = await client.health()
    emit(args, h, lambda: " ".join(f"{k}={v}" for k, v in h.items() if not isinstance(v, dict | list)))


async def bootstrap(client: EngramClient, args: argparse.Namespace) -> None:
    secret = args.secret or os.environ.get("ENGRAM_BOOTSTRAP_SECRET")
    if not secret:
        raise ClientError("bootstrap needs --secret or ENGRAM_BOOTSTRAP_SECRET")
    made = await client.bootstrap(secret)
    emit(args, made, f"user {made.get('user_id')} admin key (shown once):\n{made.get('key') or made.get('api_key')}")


async def guard(client: EngramClient, args: argparse.Namespace) -> None:
    verdict = await client.guard(args.action)

    def human() -> str:
        rules = "".join(f"\n  #{r.get('id')} {r.get('content')}" for r in verdict.get("rules") or [])
        return f"{verdict.get('signal')}: {verdict.get('message') or ''}{rules}".rstrip()

    emit(args, verdict, human)
    if verdict.get("signal") == "block" and not args.json:
        raise ClientError("blocked by a stored rule")


async def ingest(client: EngramClient, args: argparse.Namespace) -> None:
    for name in args.paths:
        path = Path(name)
        text = sys.stdin.read() if name == "-" else path.read_text(encoding="utf-8", errors="replace")
        fmt = args.format or (path.suffix.lstrip(".").lower() or None if name != "-" else None)
        job = await client.ingest(text=text, format=fmt, source=args.source or f"ingest:{path.name}")
        emit(args, job, f"{name}: {json.dumps(job, ensure_ascii=False)}")


async def export(client: EngramClient, args: argparse.Namespace) -> None:
    out = open(args.output, "wb") if args.output else sys.stdout.buffer  # noqa: SIM115 - closed below
    try:
        async for chunk in client.export():
            out.write(chunk)
    finally:
        if args.output:
            out.close()
        else:
            out.flush()


async def import_(client: EngramClient, args: argparse.Namespace) -> None:
    raw = sys.stdin.read() if args.path == "-" else Path(args.path).read_text(encoding="utf-8")
    try:
        data: Any = json.loads(raw)
    except ValueError:  # NDJSON (an `engram export`): one record a line
        data = [json.loads(line) for line in raw.splitlines() if line.strip()]
    done = await client.import_(data)
    emit(args, done, lambda: " ".join(f"{k}={v}" for k, v in done.items()))


def register(add: Any) -> dict[str, Verb]:
    add("health", "server status, version and counts")
    p = add("bootstrap", "claim a fresh server: create user 1 and an admin key")
    p.add_argument("--secret", help="ENGRAM_BOOTSTRAP_SECRET of the server")
    p = add("guard", "check an action against stored rules (exit 1 when blocked)")
    p.add_argument("action")
    p = add("ingest", "bring files into Engram ('-' reads stdin)")
    p.add_argument("paths", nargs="+")
    p.add_argument("--format", help="text, markdown, html, jsonl, ... (default: from the file's suffix)")
    p.add_argument("--source")
    p = add("export", "write every memory as NDJSON (stdout or --output)")
    p.add_argument("--output", "-o")
    p = add("import", "read an export (NDJSON or JSON) back in ('-' reads stdin)")
    p.add_argument("path")
    return {"health": health, "bootstrap": bootstrap, "guard": guard, "ingest": ingest, "export": export,
            "import": import_}  # fmt: skip
