"""Chat exports and JSON Lines: ChatGPT's ``conversations.json``, Claude's export, one memory per line.

Each message keeps its original time as ``created_at``; a conversation becomes a session (its id) and an
episode. A message longer than the embedder's window is split into several chunks of the same time.
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import Invalid
from .chunking import chunk_section
from .formats import Chunk, Document, Splitter, iso

__all__ = ["chatgpt", "claude", "jsonl"]


def _add(doc: Document, text: str, role: str, at: str | None, split: Splitter) -> None:
    text = text.strip()
    if not text:
        return
    for part in chunk_section(text, "", split.count, split.max_tokens, split.overlap):
        doc.chunks.append(Chunk(f"{role}: {part}", created_at=at, role=role))


def _load(text: str, name: str) -> list[Any]:
    try:
        value = json.loads(text)
    except ValueError:
        raise Invalid(name or "file", "is not valid JSON") from None
    if not isinstance(value, list):
        raise Invalid(name or "file", "must be a JSON array of conversations")
    return value


def _text_parts(content: Any) -> str:
    if not isinstance(content, dict):
        return ""
    parts = content.get("parts")
    if isinstance(parts, list):
        return "\n".join(p for p in parts if isinstance(p, str))
    return str(content.get("text") or "") if isinstance(content.get("text"), str) else ""


def chatgpt(text: str, name: str, split: Splitter) -> list[Document]:
    """ChatGPT's export: each conversation's ``mapping`` tree, followed from ``current_node`` to the root."""
    docs: list[Document] = []
    for i, conv in enumerate(_load(text, name)):
        if not isinstance(conv, dict) or not isinstance(conv.get("mapping"), dict):
            raise Invalid(f"{name}[{i}]", "is not a ChatGPT conversation (no mapping)")
        mapping: dict[str, Any] = conv["mapping"]
        node_id = conv.get("current_node")
        if node_id not in mapping:  # no current node: the last leaf in the mapping's order
            leaves = [k for k, v in mapping.items() if isinstance(v, dict) and not v.get("children")]
            node_id = leaves[-1] if leaves else None
        thread: list[dict[str, Any]] = []
        seen: set[str] = set()
        while isinstance(node_id, str) and node_id in mapping and node_id not in seen:
            seen.add(node_id)
            node = mapping[node_id] if isinstance(mapping[node_id], dict) else {}
            if isinstance(node.get("message"), dict):
                thread.append(node["message"])
            node_id = node.get("parent")
        conv_id = str(conv.get("conversation_id") or conv.get("id") or f"chatgpt-{i}")
        doc = Document(str(conv.get("title") or "ChatGPT conversation")[:300], "conversation", "chatgpt",
                       session_id=conv_id[:200], started_at=iso(conv.get("create_time")),
                       tags=["chatgpt"], category="conversation")  # fmt: skip
        for msg in reversed(thread):
            role = str((msg.get("author") or {}).get("role") or "unknown")
            if role == "system" or (msg.get("metadata") or {}).get("is_visually_hidden_from_conversation"):
                continue
            at = iso(msg.get("create_time")) or doc.started_at
            _add(doc, _text_parts(msg.get("content")), role, at, split)
        docs.append(doc)
    return docs


def claude(text: str, name: str, split: Splitter) -> list[Document]:
    """Claude's export: conversations with ``chat_messages`` (sender human|assistant, text or content)."""
    docs: list[Document] = []
    for i, conv in enumerate(_load(text, name)):
        if not isinstance(conv, dict) or not isinstance(conv.get("chat_messages"), list):
            raise Invalid(f"{name}[{i}]", "is not a Claude conversation (no chat_messages)")
        conv_id = str(conv.get("uuid") or f"claude-{i}")
        doc = Document(str(conv.get("name") or "Claude conversation")[:300], "conversation", "claude",
                       session_id=conv_id[:200], started_at=iso(conv.get("created_at")),
                       tags=["claude"], category="conversation")  # fmt: skip
        for msg in conv["chat_messages"]:
            if not isinstance(msg, dict):
                continue
            body = str(msg.get("text") or "") if isinstance(msg.get("text"), str) else ""
            if not body and isinstance(msg.get("content"), list):
                body = "\n".join(str(c.get("text")) for c in msg["content"]
                                 if isinstance(c, dict) and c.get("type") == "text" and c.get("text"))  # fmt: skip
            role = {"human": "user"}.get(str(msg.get("sender")), str(msg.get("sender") or "unknown"))
            _add(doc, body, role, iso(msg.get("created_at")) or doc.started_at, split)
        docs.append(doc)
    return docs


def jsonl(text: str, name: str, split: Splitter) -> list[Document]:
    """One memory per line: ``{content|text|memory, created_at?, tags?, category?, role?, session_id?}``;
    lines of one ``session_id`` (or ``conversation_id``) form a conversation, the rest one document."""
    loose = Document(name or "jsonl", "document", "jsonl")
    sessions: dict[str, Document] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError:
            raise Invalid(f"{name or 'file'} line {n}", "is not valid JSON") from None
        if not isinstance(item, dict):
            raise Invalid(f"{name or 'file'} line {n}", "must be a JSON object")
        body = item.get("content", item.get("text", item.get("memory")))
        if not isinstance(body, str) or not body.strip():
            raise Invalid(f"{name or 'file'} line {n}.content", "is required (content, text or memory: a string)")
        session = item.get("session_id", item.get("conversation_id"))
        at = iso(item.get("created_at", item.get("timestamp")))
        tags = [str(t).lower() for t in item.get("tags") or [] if isinstance(t, str)][:40]
        category = item.get("category") if isinstance(item.get("category"), str) else None
        if session is not None:
            doc = sessions.setdefault(str(session), Document(str(session), "conversation", "jsonl",
                                                             session_id=str(session)[:200], started_at=at,
                                                             category="conversation"))  # fmt: skip
        else:
            doc = loose
        role = item.get("role")
        for part in chunk_section(body.strip(), "", split.count, split.max_tokens, split.overlap):
            content = f"{role}: {part}" if isinstance(role, str) and session is not None else part
            doc.chunks.append(Chunk(content, created_at=at, tags=tags, category=category))
    return ([loose] if loose.chunks else []) + list(sessions.values())
