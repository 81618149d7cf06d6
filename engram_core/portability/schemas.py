"""Request schemas of the portability routes (GET /export, POST /import/mem0, POST /ingest), declared once here."""

from __future__ import annotations

from ..validation import Field, Schema
from .formats import FORMATS

__all__ = ["EXPORT", "IMPORT_MEM0", "INGEST"]

EXPORT = Schema(
    Field("embeddings", "bool", default=False, help="Include each memory's vector (base64 float32)."),
)

IMPORT_MEM0 = Schema(
    Field("user_id", "str", max_len=200, help="Import only the memories of this mem0 user (default: all)."),
    Field("space_id", "int", min=1, help="Put every imported memory in this space of yours."),
    description="Import a mem0 export or get_all answer (JSON array, {results} or {memories}; or NDJSON).",
)

INGEST = Schema(
    Field("text", "text", required=True, help="The content to ingest (any supported format, as text)."),
    Field("format", "str", choices=FORMATS, help="Default: detected from the content."),
    Field("filename", "str", max_len=300),
    Field("source", "str", max_len=200),
    Field("tags", "tags", default=[], max_items=20),
    description="Ingest text: JSON, or multipart/form-data with a file part named 'file' and the same fields.",
)
