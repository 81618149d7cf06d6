"""``POST /import`` of an Engram export: every record checked first, then all of it in ONE transaction.

Ids are remapped: each row gets a fresh id and every column that names an exported row (``refs`` in
:mod:`~engram_core.portability.tables`) the new id of that row, so versions, links, entities, episodes,
conversations and projects hang together as they did. Rows with a per-user unique name (spaces, entities,
projects) that already exist are reused. Timestamps, FSRS state, counters and flags are kept as exported.
A vector is kept when it was made by the model this server runs; otherwise the memory is embedded again
by a job after the import. A file without its ``end`` line (truncated), an unknown record type or column,
an id that names no exported row, or going over the memory quota refuses the whole import.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..auth import audit
from ..auth.context import AuthContext
from ..auth.quotas import memory_limit, memory_usage
from ..errors import Invalid, QuotaExceeded
from .export import FORMAT
from .tables import BLOB_COLUMNS, TABLES, Table, by_kind, stored_columns

__all__ = ["ParsedExport", "apply_import", "parse_export"]

Record = tuple[int, dict[str, Any]]  # (line number, record)
_SCALARS = (str, int, float, type(None))


@dataclass
class ParsedExport:
    header: dict[str, Any]
    rows: dict[str, list[Record]] = field(default_factory=dict)  # table name -> (line, row)

    @property
    def total(self) -> int:
        return sum(len(v) for v in self.rows.values())


def parse_export(records: Iterable[Record]) -> ParsedExport:
    """Check the shape of every record (before anything is written) and group the rows by table."""
    kinds = by_kind()
    parsed: ParsedExport | None = None
    ended = False
    for line, rec in records:
        where = f"line {line}"
        if not isinstance(rec, dict) or not isinstance(rec.get("type"), str):
            raise Invalid(where, "must be a JSON object with a string 'type'")
        kind = rec["type"]
        if parsed is None:
            if kind != "header" or rec.get("format") != FORMAT:
                raise Invalid(where, f"must be the header {{'type': 'header', 'format': '{FORMAT}'}} of an export")
            if rec.get("version") != 1:
                raise Invalid(f"{where}.version", f"{rec.get('version')!r} is not a version this server reads (1)")
            parsed = ParsedExport(rec)
            continue
        if ended:
            raise Invalid(where, "comes after the 'end' record")
        if kind == "end":
            ended = True
            if rec.get("records") != parsed.total:
                raise Invalid(f"{where}.records", f"says {rec.get('records')} records but {parsed.total} came")
            continue
        table = kinds.get(kind)
        if table is None:
            raise Invalid(f"{where}.type", f"{kind!r} is not a record type of an export")
        row = rec.get("row")
        if not isinstance(row, dict):
            raise Invalid(f"{where}.row", "must be an object")
        for column, value in row.items():
            if not isinstance(value, _SCALARS) or isinstance(value, bool):
                raise Invalid(f"{where}.row.{column}", "must be a string, number or null")
        parsed.rows.setdefault(table.name, []).append((line, row))
    if parsed is None:
        raise Invalid("body", "is empty: an export starts with its header line")
    if not ended:
        raise Invalid("body", "has no 'end' record: the export is truncated")
    return parsed


class _Importer:
    def __init__(self, conn: Any, auth: AuthContext, model: str | None) -> None:
        self.conn = conn
        self.auth = auth
        self.model = model
        self.ids: dict[str, dict[int, int]] = {t.name: {} for t in TABLES}
        self.counts: dict[str, int] = {}
        self.merged: dict[str, int] = {}
        self.reembed = 0

    def run(self, parsed: ParsedExport) -> None:
        for table in TABLES:
            rows = parsed.rows.get(table.name, [])
            known = set(stored_columns(self.conn, table.name))
            for line, row in rows:
                self.one(table, known, line, dict(row))
            if rows:
                self.counts[table.kind] = len(rows) - self.merged.get(table.kind, 0)

    def one(self, table: Table, known: set[str], line: int, row: dict[str, Any]) -> None:
        where = f"line {line}"
        unknown = sorted(set(row) - known)
        if unknown:
            raise Invalid(f"{where}.row.{unknown[0]}", f"is not a column of {table.name}")
        old_id = row.pop(table.id_column, None) if table.id_column else None
        if table.id_column and not isinstance(old_id, int):
            raise Invalid(f"{where}.row.{table.id_column}", "must be an integer")
        deferred: list[str] = []
        for column, target in table.refs.items():
            value = row.get(column)
            if value is None:
                continue
            if target == table.name and value == old_id:
                row[column] = None  # names the row itself (a version chain's root): set once it has its id
                deferred.append(column)
                continue
            new = self.ids[target].get(value) if isinstance(value, int) else None
            if new is None:
                raise Invalid(f"{where}.row.{column}", f"names {target} {value!r}, which is not in the export")
            row[column] = new
        if table.name == "memories":
            self.vector(where, row)
        if table.natural and old_id is not None:
            existing = self.existing(table, row)
            if existing is not None:
                self.ids[table.name][old_id] = existing
                self.merged[table.kind] = self.merged.get(table.kind, 0) + 1
                return
        row["user_id"] = self.auth.user_id
        names = ", ".join(f'"{c}"' for c in row)
        verb = "INSERT OR REPLACE" if table.replace else "INSERT OR IGNORE" if table.id_column is None else "INSERT"
        try:
            cur = self.conn.execute(f'{verb} INTO "{table.name}" ({names}) VALUES ({", ".join("?" * len(row))})',
                                    tuple(row.values()))  # fmt: skip
        except Exception as exc:
            if "IntegrityError" not in type(exc).__name__:
                raise
            raise Invalid(where, f"cannot be written to {table.name}: {exc}") from None
        if old_id is not None:
            new_id = int(cur.lastrowid)
            self.ids[table.name][old_id] = new_id
            for column in deferred:
                self.conn.execute(f'UPDATE "{table.name}" SET "{column}" = ? WHERE id = ?', (new_id, new_id))

    def vector(self, where: str, row: dict[str, Any]) -> None:
        value = row.get("embedding")
        if isinstance(value, str) and ("memories", "embedding") in BLOB_COLUMNS:
            try:
                row["embedding"] = base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                raise Invalid(f"{where}.row.embedding", "is not base64") from None
        elif value is not None:
            raise Invalid(f"{where}.row.embedding", "must be base64 text or null")
        if row.get("embedding") is None or row.get("embedding_model") != self.model:
            row["embedding"] = None  # made by another model (or none): embedded again after the import
            row["embedding_model"] = None
            self.reembed += 1

    def existing(self, table: Table, row: dict[str, Any]) -> int | None:
        terms = " AND ".join(f'"{c}" = ?' + (" COLLATE NOCASE" if c in table.nocase else "") for c in table.natural)
        found = self.conn.execute(f'SELECT id FROM "{table.name}" WHERE user_id = ? AND {terms}',
                                  (self.auth.user_id, *(row.get(c) for c in table.natural))).fetchone()  # fmt: skip
        return int(found[0]) if found else None


def apply_import(
    conn: Any, auth: AuthContext, parsed: ParsedExport, *, model: str | None, quota: int
) -> dict[str, Any]:
    """Write ``parsed`` as ``auth``'s rows (inside the caller's transaction); returns counts and the id map
    size. Raises (rolling everything back) on the first row that cannot be written or over the quota."""
    importer = _Importer(conn, auth, model)
    importer.run(parsed)
    limit, _ = memory_limit(conn, auth.user_id, quota)
    if limit > 0 and memory_usage(conn, auth.user_id) > limit:
        raise QuotaExceeded(f"memory quota reached: the import would hold more than {limit} memories")
    audit.record(conn, auth, "import", "user", auth.user_id, {"records": parsed.total, "counts": importer.counts})
    return {
        "imported": importer.counts,
        "merged": importer.merged,
        "records": parsed.total,
        "to_embed": importer.reembed,
        "format": FORMAT,
    }
