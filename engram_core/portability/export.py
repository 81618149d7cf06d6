"""``GET /export``: a user's whole memory as NDJSON, read in one snapshot.

Line 1 is the header ``{"type": "header", "format": "engram-export", "version": 1, "exported_at",
"user_id", "model", "embeddings", "tables"}``; then one ``{"type": <kind>, "row": {...}}`` per row of each
table of :data:`~engram_core.portability.tables.TABLES`, in that order, ids as stored (an import remaps
them); the last line is ``{"type": "end", "records": N, "counts": {kind: n}}`` so a truncated file is
refused instead of imported in part. Embeddings (float32 little-endian) are base64 with
``embeddings=true``; without it the importing server embeds the memories again.
"""

from __future__ import annotations

import base64
import json
import tempfile
from typing import IO, Any

from ..timeutil import now_iso
from .tables import BLOB_COLUMNS, TABLES, stored_columns

__all__ = ["FORMAT", "VERSION", "write_export"]

FORMAT = "engram-export"
VERSION = 1
SPOOL_BYTES = 8 * 1024 * 1024  # kept in memory up to this, then a temporary file


def _line(out: IO[bytes], record: dict[str, Any]) -> None:
    out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "replace"))
    out.write(b"\n")


def _value(table: str, column: str, value: Any, embeddings: bool) -> Any:
    if isinstance(value, bytes):
        if (table, column) in BLOB_COLUMNS and embeddings:
            return base64.b64encode(value).decode("ascii")
        return None
    return value


def write_export(conn: Any, user_id: int, *, model: str | None, embeddings: bool) -> IO[bytes]:
    """Write the export of ``user_id`` (one read snapshot: ``conn`` is inside it) to a spooled file,
    rewound; the caller streams and closes it."""
    out: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - handed to the caller
    try:
        return _write(conn, out, user_id, model=model, embeddings=embeddings)
    except BaseException:  # e.g. a damaged row: the read is run again (storage.connection), this file is not
        out.close()
        raise


def _write(conn: Any, out: IO[bytes], user_id: int, *, model: str | None, embeddings: bool) -> IO[bytes]:
    header = {"type": "header", "format": FORMAT, "version": VERSION, "exported_at": now_iso(), "user_id": user_id,
              "model": model, "embeddings": embeddings, "tables": [t.kind for t in TABLES]}  # fmt: skip
    _line(out, header)
    counts: dict[str, int] = {}
    for table in TABLES:
        order = table.id_column or "rowid"
        names = stored_columns(conn, table.name)
        columns = ", ".join(f'"{c}"' for c in names)
        cur = conn.execute(f'SELECT {columns} FROM "{table.name}" WHERE user_id = ? ORDER BY {order}', (user_id,))
        n = 0
        for row in cur:
            data = {k: _value(table.name, k, v, embeddings) for k, v in zip(names, row, strict=True)}
            if table.name == "memories" and data.get("embedding") is None:
                data["embedding_model"] = None  # no vector travels: the importer embeds it again
            _line(out, {"type": table.kind, "row": data})
            n += 1
        counts[table.kind] = n
    _line(out, {"type": "end", "records": sum(counts.values()), "counts": counts})
    out.seek(0)
    return out
