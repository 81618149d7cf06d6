"""Retrieval verbs: ``engram search | context | recall``."""

from __future__ import annotations

import argparse
from typing import Any

from ..client import EngramClient
from .common import Verb, emit, memory_line

__all__ = ["register"]


async def search(client: EngramClient, args: argparse.Namespace) -> None:
    tags = [t.strip() for t in args.tags.split(",") if t.strip()] if args.tags else None
    found = await client.search(args.query, limit=args.limit, category=args.category, source=args.source, tags=tags)
    rows = found.get("results", [])
    emit(args, found, lambda: "\n".join(memory_line(m) for m in rows) or "nothing found")


async def context(client: EngramClient, args: argparse.Namespace) -> None:
    built = await client.context(args.query, max_tokens=args.budget, mode=args.mode)
    emit(args, built, lambda: str(built.get("context") or ""))


async def recall(client: EngramClient, args: argparse.Namespace) -> None:
    layers = await client.recall(args.query, limit=args.limit)

    def human() -> str:
        out: list[str] = []
        for name, rows in layers.items():
            if isinstance(rows, list) and rows and isinstance(rows[0], dict):
                out.append(f"{name}:")
                out.extend("  " + memory_line(m) for m in rows)
        return "\n".join(out) or "nothing to recall"

    emit(args, layers, human)


def register(add: Any) -> dict[str, Verb]:
    p = add("search", "hybrid search")
    p.add_argument("query")
    p.add_argument("--limit", type=int, default=10)
    p.add_argument("--category")
    p.add_argument("--source")
    p.add_argument("--tags", help="comma-separated; every one must match")
    p = add("context", "token-budgeted context for a prompt")
    p.add_argument("query")
    p.add_argument("--budget", type=int, default=2000, help="max tokens (default 2000)")
    p.add_argument("--mode", choices=("fast", "balanced", "deep", "decision"))
    p = add("recall", "layered recall: static, important, relevant, recent")
    p.add_argument("query", nargs="?")
    p.add_argument("--limit", type=int, help="memories per layer")
    return {"search": search, "context": context, "recall": recall}
