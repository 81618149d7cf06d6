"""Server and portability verbs: ``engram health | bootstrap | guard | ingest | export | import``.

guard, ingest, export and import call routes a newer Engram serves; against an older server they fail with
"this server has no /guard route (needs a newer Engram)" rather than pretend.
"""

from __future__ import annotations

import argparse
import asyncio
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


def _files(paths: list[str]) -> list[Path]:
    out: list[Path] = []
    for name in paths:
        path = Path(name)
        out.extend(sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path])
    return out


async def _follow(client: EngramClient, job_id: int, label: str, quiet: bool) -> dict[str, Any]:
    """Poll ``GET /jobs/{id}`` until the job ends, drawing a progress bar (rich) on stderr."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), disable=quiet, transient=True) as bar:
        task = bar.add_task(label, total=None)
        while True:
            job = await client.job(job_id)
            view = job.get("ingest") or {}
            bar.update(task, total=view.get("found") or None, completed=view.get("processed", 0))
            if job.get("status") in ("done", "failed"):
                return {"job_id": job_id, "status": job["status"], "error": job.get("last_error"), **view}
            await asyncio.sleep(0.3)


async def ingest(client: EngramClient, args: argparse.Namespace) -> None:
    results: list[dict[str, Any]] = []
    for path in [Path("-")] if args.paths == ["-"] else _files(args.paths):
        data = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
        job = await client.ingest_file(path.name, data, format=args.format, source=args.source)
        done = await _follow(client, int(job["job_id"]), path.name, args.json or not sys.stderr.isatty())
        results.append({"path": str(path), **done})
        if not args.json:
            print(
                f"{path}: {done.get('state')} ({done.get('format')}): {done.get('stored', 0)} stored, "
                f"{done.get('duplicates', 0)} duplicates, {done.get('failed', 0)} failed of {done.get('found', 0)}"
            )
    if args.json:
        print(json.dumps(results, ensure_ascii=False))
    if any(r.get("status") != "done" for r in results):
        raise ClientError("an ingest job failed: " + "; ".join(str(r.get("error")) for r in results if r.get("error")))


async def export(client: EngramClient, args: argparse.Namespace) -> None:
    out = open(args.output, "wb") if args.output else sys.stdout.buffer  # noqa: SIM115 - closed below
    try:
        async for chunk in client.export(embeddings=args.embeddings):
            out.write(chunk)
    finally:
        if args.output:
            out.close()
        else:
            out.flush()


async def import_(client: EngramClient, args: argparse.Namespace) -> None:
    raw = sys.stdin.buffer.read() if args.path == "-" else Path(args.path).read_bytes()
    done = await client.import_(raw)  # the server reads NDJSON (an `engram export`) and JSON alike

    def human() -> str:
        counts = done.get("imported") or {}
        shown = ", ".join(f"{n} {k}" for k, n in counts.items()) if isinstance(counts, dict) else counts
        return f"imported {shown or 'nothing'} ({done.get('format')})"

    emit(args, done, human)


def register(add: Any) -> dict[str, Verb]:
    add("health", "server status, version and counts")
    p = add("bootstrap", "claim a fresh server: create user 1 and an admin key")
    p.add_argument("--secret", help="ENGRAM_BOOTSTRAP_SECRET of the server")
    p = add("guard", "check an action against stored rules (exit 1 when blocked)")
    p.add_argument("action")
    p = add("ingest", "bring files or folders into Engram, with a progress bar ('-' reads stdin)")
    p.add_argument("paths", nargs="+")
    p.add_argument("--format", help="text, markdown, html, pdf, jsonl, chatgpt, claude, zip (default: detected)")
    p.add_argument("--source")
    p = add("export", "write every memory as NDJSON (stdout or --output)")
    p.add_argument("--output", "-o")
    p.add_argument("--embeddings", action="store_true", help="include each memory's vector (same model: no re-embed)")
    p = add("import", "read an export (NDJSON or JSON) back in ('-' reads stdin)")
    p.add_argument("path")
    return {"health": health, "bootstrap": bootstrap, "guard": guard, "ingest": ingest, "export": export,
            "import": import_}  # fmt: skip
