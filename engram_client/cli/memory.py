"""Memory verbs: ``engram store | get | update | forget | delete | list``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..client import EngramClient
from .common import Verb, emit, memory_line

__all__ = ["register"]


def _tags(text: str | None) -> list[str] | None:
    return None if text is None else [t.strip() for t in text.split(",") if t.strip()]


def _content(text: str) -> str:
    return sys.stdin.read() if text == "-" else text


async def store(client: EngramClient, args: argparse.Namespace) -> None:
    fields: dict[str, Any] = {
        "category": args.category,
        "source": args.source or "cli",
        "importance": args.importance,
        "tags": _tags(args.tags),
        "session_id": args.session,
        "is_static": True if args.static else None,
    }
    done = await client.store(_content(args.content), **fields)
    if done.get("stored"):
        emit(args, done, f"stored #{done['id']}")
    else:
        emit(args, done, f"not stored: near-duplicate of #{done.get('existing_id')} (boosted it)")


async def get(client: EngramClient, args: argparse.Namespace) -> None:
    m = await client.get(args.id)

    def human() -> str:
        head = f"#{m['id']} ({m.get('category')}, importance {m.get('importance')}, {m.get('created_at')})"
        tags = f"\ntags: {', '.join(m['tags'])}" if m.get("tags") else ""
        return f"{head}{tags}\n{m.get('content', '')}"

    emit(args, m, human)


async def update(client: EngramClient, args: argparse.Namespace) -> None:
    fields: dict[str, Any] = {
        "content": _content(args.content) if args.content is not None else None,
        "category": args.category,
        "importance": args.importance,
        "tags": _tags(args.tags),
        "is_static": args.static,
    }
    done = await client.update(args.id, **fields)
    emit(args, done, f"updated #{done.get('old_id')} -> #{done.get('new_id')} (version {done.get('version')})")


async def forget(client: EngramClient, args: argparse.Namespace) -> None:
    done = await client.forget(args.id, args.reason)
    emit(args, done, f"forgot #{done.get('id', args.id)}")


async def delete(client: EngramClient, args: argparse.Namespace) -> None:
    done = await client.delete(args.id)
    emit(args, done, f"moved #{done.get('id', args.id)} to the trash")


async def list_(client: EngramClient, args: argparse.Namespace) -> None:
    found = await client.list(limit=args.limit, offset=args.offset, category=args.category, source=args.source,
                              tags=_tags(args.tags), session_id=args.session)  # fmt: skip
    rows = found.get("results", [])
    emit(args, found, lambda: "\n".join(memory_line(m) for m in rows) or "no memories")


def register(add: Any) -> dict[str, Verb]:
    """Add the memory verbs' parsers (``add(name, help)`` gives one); their functions by name."""
    p = add("store", "store a memory (CONTENT '-' reads stdin)")
    p.add_argument("content")
    p.add_argument("--category")
    p.add_argument("--source", help="default 'cli'")
    p.add_argument("--importance", type=int, help="1-10")
    p.add_argument("--tags", help="comma-separated")
    p.add_argument("--session", help="session id")
    p.add_argument("--static", action="store_true", help="a core fact, always first in context")
    p = add("get", "show one memory")
    p.add_argument("id", type=int)
    p = add("update", "make a new version of a memory")
    p.add_argument("id", type=int)
    p.add_argument("--content", help="new text ('-' reads stdin)")
    p.add_argument("--category")
    p.add_argument("--importance", type=int)
    p.add_argument("--tags", help="comma-separated (replaces them)")
    p.add_argument("--static", action=argparse.BooleanOptionalAction, default=None)
    p = add("forget", "forget a memory (hidden, restorable)")
    p.add_argument("id", type=int)
    p.add_argument("--reason")
    p = add("delete", "move a memory to the trash")
    p.add_argument("id", type=int)
    p = add("list", "latest memories, newest first")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--offset", type=int, default=0)
    p.add_argument("--category")
    p.add_argument("--source")
    p.add_argument("--tags", help="comma-separated")
    p.add_argument("--session", help="session id")
    return {"store": store, "get": get, "update": update, "forget": forget, "delete": delete, "list": list_}
