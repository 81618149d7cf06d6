"""Test helpers shared by the suites (imported as ``tests.helpers``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.testclient import TestClient


@dataclass
class Api:
    """A TestClient plus the keys of the users a test made."""

    client: TestClient
    admin_key: str

    def headers(self, key: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"} if key else {}

    def call(self, method: str, path: str, key: str | None = None, **kw: Any) -> Any:
        headers = {**self.headers(key), **kw.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kw)

    def user(self, name: str, scopes: tuple[str, ...] = ("read", "write")) -> str:
        r = self.call("POST", "/users", self.admin_key, json={"name": name, "scopes": list(scopes)})
        assert r.status_code == 201, r.text
        return str(r.json()["api_key"])

    def key(self, owner_key: str, scopes: tuple[str, ...]) -> str:
        r = self.call("POST", "/keys", owner_key, json={"scopes": list(scopes)})
        assert r.status_code == 201, r.text
        return str(r.json()["key"])

    def store(self, key: str, content: str, **fields: Any) -> int:
        r = self.call("POST", "/store", key, json={"content": content, **fields})
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    @property
    def engram(self) -> Any:
        """The Engram behind the TestClient."""
        return self.client.app.state.engram  # type: ignore[attr-defined]

    def park_background(self) -> None:
        """Stop the periodic tasks and the memory events, run the due jobs, then stop the job queue: from here
        on every row-count change is a request's own (the lifespan's shutdown stops them again, harmlessly)."""
        portal = self.client.portal
        assert portal is not None, "only inside `with TestClient(...)`"
        portal.call(self.engram.scheduler.stop)
        portal.call(self.engram.services.memory_events.stop)  # memory.* events follow writes in their own tx
        portal.call(self.engram.jobs.drain)
        portal.call(self.engram.jobs.stop)

    def table_counts(self) -> dict[str, int]:
        """Row counts of every table, in one snapshot; see :func:`table_counts`."""
        return table_counts(self.engram.db)


def table_counts(db: Any) -> dict[str, int]:
    """Row count of every table in ``sqlite_master`` but SQLite's own: user tables, the FTS5 tables and
    their shadow tables (``memories_fts`` reads through to ``memories``; ``memories_fts_docsize`` has a row
    per document actually indexed). Read in one snapshot."""

    def run(conn: Any) -> dict[str, int]:
        names = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
            " ORDER BY name"
        )]  # fmt: skip
        return {n: int(conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0]) for n in names}

    counts: dict[str, int] = db.read(run)
    return counts
