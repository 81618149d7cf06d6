"""Real files for the ingest tests, written by the tests: a Markdown tree, an HTML page, a PDF (fpdf2), a
ChatGPT and a Claude export in their real shapes, zips of them, and hostile archives."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

MARKDOWN = """---
title: Harbour handbook
tags: [harbour, ops]
category: guide
---
# Harbour handbook

Cranes lift containers between six and ten every morning.

## Safety

Nobody stands under a moving crane. The yard speed limit is 15 km/h.

### Night shift

The night foreman is Ingrid; she signs the logbook at 02:00.

## Billing

Invoices go out on the first Monday of each month.
"""

HTML = """<!DOCTYPE html><html><head><title>Lighthouse notes</title><script>var tracking = 1;</script></head>
<body><nav><a href="/">Home</a> | <a href="/about">About us navigation link</a></nav>
<header>Site banner header text</header>
<main><h1>Lighthouses</h1><p>The Fastnet lighthouse stands on a rock off Ireland.</p>
<h2>Keepers</h2><p>Keepers left in 1989 when the light was automated.</p><ul><li>Fog signal retired</li></ul></main>
<footer>Copyright footer text</footer></body></html>
"""


def pdf(pages: list[str]) -> bytes:
    from fpdf import FPDF

    doc = FPDF()
    doc.set_title("Tide tables")
    doc.set_font("Helvetica", size=12)
    for text in pages:
        doc.add_page()
        doc.multi_cell(0, 8, text)
    return bytes(doc.output())


def scanned_pdf() -> bytes:
    """A PDF whose page is only a drawing: no text layer."""
    from fpdf import FPDF

    doc = FPDF()
    doc.add_page()
    doc.rect(20, 20, 100, 60, style="F")
    return bytes(doc.output())


def chatgpt(conversations: int = 2, messages: int = 4, start: float = 1_700_000_000.0) -> bytes:
    """conversations.json as ChatGPT exports it: a mapping tree per conversation, current_node at the leaf."""
    out: list[dict[str, Any]] = []
    for c in range(conversations):
        mapping: dict[str, Any] = {"root": {"id": "root", "message": None, "parent": None, "children": []}}
        parent = "root"
        sys_id = f"c{c}-sys"
        mapping[sys_id] = {"id": sys_id, "parent": parent, "children": [], "message": {
            "id": sys_id, "author": {"role": "system"}, "create_time": None,
            "content": {"content_type": "text", "parts": [""]}, "metadata": {}}}  # fmt: skip
        mapping[parent]["children"].append(sys_id)
        parent = sys_id
        for m in range(messages):
            node = f"c{c}-m{m}"
            role = "user" if m % 2 == 0 else "assistant"
            mapping[node] = {"id": node, "parent": parent, "children": [], "message": {
                "id": node, "author": {"role": role, "name": None, "metadata": {}},
                "create_time": start + c * 86400 + m * 60, "update_time": None,
                "content": {"content_type": "text", "parts": [f"conversation {c} message {m}: topic {c * 1000 + m}"
                                                              f" about sailing route number {m * 7 + c}"]},
                "status": "finished_successfully", "end_turn": True, "weight": 1.0, "metadata": {},
                "recipient": "all"}}  # fmt: skip
            mapping[parent]["children"].append(node)
            parent = node
        began = start + c * 86400
        out.append({"title": f"Sailing chat {c}", "create_time": began, "update_time": began + 999,
                    "mapping": mapping, "moderation_results": [], "current_node": parent, "plugin_ids": None,
                    "conversation_id": f"conv-{c}", "id": f"conv-{c}"})  # fmt: skip
    return json.dumps(out).encode()


def claude() -> bytes:
    """conversations.json as Claude exports it."""
    conv = {"uuid": "5f1c-claude-conv", "name": "Garden planning", "created_at": "2024-03-05T09:00:00.000000Z",
            "updated_at": "2024-03-05T09:10:00.000000Z", "account": {"uuid": "acct-1"},
            "chat_messages": [
                {"uuid": "m1", "text": "Which tomatoes grow well in shade?", "sender": "human",
                 "created_at": "2024-03-05T09:01:00.000000Z", "updated_at": "2024-03-05T09:01:00.000000Z",
                 "attachments": [], "files": [],
                 "content": [{"type": "text", "text": "Which tomatoes grow well in shade?"}]},
                {"uuid": "m2", "text": "", "sender": "assistant", "created_at": "2024-03-05T09:02:00.000000Z",
                 "updated_at": "2024-03-05T09:02:00.000000Z", "attachments": [], "files": [],
                 "content": [{"type": "text", "text": "Cherry tomatoes such as Sungold tolerate partial shade."}]},
            ]}  # fmt: skip
    return json.dumps([conv]).encode()


def zip_of(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in files.items():
            z.writestr(name, content)
    return buf.getvalue()


def zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("notes.txt", b"a" * (30 * 1024 * 1024))
    return buf.getvalue()
