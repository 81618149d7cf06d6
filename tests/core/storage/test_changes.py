"""The change feed: captured inside the write transaction, published after COMMIT, only if it committed."""

from __future__ import annotations

import ast
import logging
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engram_core.storage import changes
from engram_core.storage.changes import Change, ChangeSet
from engram_core.storage.database import Database

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "x.db")
    yield database
    database.close()


def _user(conn: Any, name: str = "u") -> int:
    cur = conn.execute(
        "INSERT INTO users (name, created_at) VALUES (?, '2024-01-01T00:00:00Z')",
        (name,),
    )
    return int(cur.lastrowid)


def _memory(conn: Any, user_id: int, content: str = "hello") -> int:
    cur = conn.execute(
        "INSERT INTO memories (user_id, content, created_at, updated_at) VALUES (?, ?, '2024-01-01', '2024-01-01')",
        (user_id, content),
    )
    return int(cur.lastrowid)


class Recorder:
    def __init__(self) -> None:
        self.seen: list[ChangeSet] = []
        self.threads: list[str] = []

    def __call__(self, cs: ChangeSet) -> None:
        self.seen.append(cs)
        self.threads.append(threading.current_thread().name)

    def kinds(self, table: str = "memories") -> list[tuple[str, tuple[int, ...]]]:
        return [(c.kind, c.ids) for c in self.seen[-1].of(table)]


def test_every_kind_of_memory_change_is_classified(db: Database) -> None:
    rec = Recorder()
    db.subscribe(rec)
    user = db.write(_user)
    mid = db.write(lambda c: _memory(c, user))
    assert rec.kinds() == [("created", (mid,))] and rec.seen[-1].users() == {user}
    cases = [
        ("UPDATE memories SET root_id = id", "updated"),
        ("UPDATE memories SET tags = '[\"x\"]', updated_at = 'now'", "updated"),
        ("UPDATE memories SET is_archived = 1", "hidden"),
        ("UPDATE memories SET is_archived = 0", "restored"),
        ("UPDATE memories SET is_consolidated = 1", "hidden"),
        ("UPDATE memories SET is_consolidated = 0, is_deleted = 1, deleted_at = 'now'", "updated"),
        ("UPDATE memories SET is_deleted = 0", "restored"),
        ("UPDATE memories SET is_latest = 0", "hidden"),
        ("UPDATE memories SET is_latest = 1", "restored"),
        ("UPDATE memories SET embedding = x'00000000', embedding_model = 'm'", "reembedded"),
        ("UPDATE memories SET pagerank = 0.5", "scored"),
        ("UPDATE memories SET fsrs_stability = 2.0, fsrs_reps = 1", "scored"),
        ("UPDATE memories SET access_count = access_count + 1", "accessed"),
        ("DELETE FROM memories", "deleted"),
    ]
    for sql, kind in cases:
        before = len(rec.seen)
        db.write(lambda c, sql=sql: c.execute(sql))
        assert len(rec.seen) == before + 1, sql
        assert rec.kinds() == [(kind, (mid,))], sql
    db.write(lambda c: c.execute("UPDATE users SET name = name"))  # no captured change: nothing published
    assert rec.seen[-1].of("memories") == [Change("memories", "deleted", user, (mid,))]
    assert [cs.seq for cs in rec.seen] == list(range(1, len(rec.seen) + 1))
    assert set(rec.threads) == {"engram-writer"}


def test_one_row_once_per_transaction_under_its_strongest_kind(db: Database) -> None:
    rec = Recorder()
    db.subscribe(rec)
    user = db.write(_user)

    def tx(conn: Any) -> tuple[int, int]:
        a, b = _memory(conn, user), _memory(conn, user, "b")
        conn.execute("UPDATE memories SET root_id = id, pagerank = 1.0")  # still just created
        return a, b

    a, b = db.write(tx)
    assert rec.kinds() == [("created", (a, b))]
    db.write(lambda c: c.execute("UPDATE memories SET pagerank = 2.0"))
    assert rec.kinds() == [("scored", (a, b))]
    db.write(
        lambda c: (
            c.execute("UPDATE memories SET pagerank = 3.0"),
            c.execute("DELETE FROM memories WHERE id = ?", (a,)),
        )
    )
    assert sorted(rec.kinds()) == [("deleted", (a,)), ("scored", (b,))]


def test_nothing_is_published_for_a_rolled_back_write(db: Database) -> None:
    rec = Recorder()
    db.subscribe(rec)
    user = db.write(_user)

    def bad(conn: Any) -> None:
        _memory(conn, user)
        raise ValueError("boom")

    with pytest.raises(ValueError):
        db.write(bad)
    assert rec.seen == []
    mid = db.write(lambda c: _memory(c, user))  # the rolled-back row left nothing behind in the feed
    assert [c.ids for c in rec.seen[-1].of("memories")] == [(mid,)] and len(rec.seen) == 1


def test_a_failing_listener_is_logged_and_breaks_nothing(db: Database, caplog: pytest.LogCaptureFixture) -> None:
    rec = Recorder()

    def broken(cs: ChangeSet) -> None:
        raise RuntimeError("listener bug")

    db.subscribe(broken)
    db.subscribe(rec)
    user = db.write(_user)
    with caplog.at_level(logging.ERROR, logger="engram.db"):
        mid = db.write(lambda c: _memory(c, user))
    assert mid > 0 and rec.kinds() == [("created", (mid,))]
    assert "listener bug" in caplog.text
    assert db.read(lambda c: c.execute("SELECT count(*) FROM memories").fetchone()[0]) == 1


def test_listeners_run_before_the_writer_is_answered_and_can_unsubscribe(db: Database) -> None:
    rec = Recorder()
    unsubscribe = db.subscribe(rec)
    user = db.write(_user)
    db.write(lambda c: _memory(c, user))
    assert len(rec.seen) == 1  # already there when write() returned
    unsubscribe()
    db.write(lambda c: _memory(c, user))
    assert len(rec.seen) == 1


def test_explicit_records_cause_and_other_tables(db: Database) -> None:
    rec = Recorder()
    db.subscribe(rec)
    user = db.write(_user)

    def tx(conn: Any) -> None:
        changes.record(conn, "projects", "updated", user, [7, 8])
        conn.execute(
            "INSERT INTO jobs (user_id, kind, payload, status, run_after, created_at, updated_at)"
            " VALUES (?, 'x', '{}', 'queued', '2024', '2024', '2024')",
            (user,),
        )

    db.write(tx, cause="test")
    cs = rec.seen[-1]
    assert cs.cause == "test"
    assert cs.by_user("projects") == {user: [7, 8]}
    assert [c.kind for c in cs.of("jobs")] == ["created"]
    with pytest.raises(ValueError):
        db.write(lambda c: changes.record(c, "memories", "exploded", user, [1]))  # type: ignore[arg-type]


def test_record_is_a_no_op_on_a_connection_without_the_feed(tmp_path: Path) -> None:
    import sqlite3

    conn = sqlite3.connect(tmp_path / "plain.db")
    changes.record(conn, "memories", "updated", 1, [1])  # no error: scripts' own connections


def _writes_memories(node: ast.AST) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            text = " ".join(sub.value.upper().split())
            if any(p in text for p in ("UPDATE MEMORIES", "INSERT INTO MEMORIES", "DELETE FROM MEMORIES")):
                return True
    return False


def test_every_module_writing_memories_is_covered_by_the_triggers() -> None:
    """The capture is by trigger, so any writer is covered; this guards the one way around it: a write
    through a connection that is not the Database's write connection (opened with ``connect`` directly)."""
    offenders = []
    for path in sorted((ROOT / "engram_core").rglob("*.py")):
        tree = ast.parse(path.read_text())
        opens = re.search(r"(?<![\w.])connect\(", path.read_text())  # storage's connect(), not X.connect()
        if _writes_memories(tree) and opens and "storage" not in path.parts:
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == [], "these modules write memories on a connection of their own: " + ", ".join(offenders)
    assert "memories" in changes.CAPTURED_TABLES


def test_on_loop_hands_change_sets_to_the_event_loop_in_commit_order(db: Database) -> None:
    import asyncio

    async def main() -> None:
        loop = asyncio.get_running_loop()
        got: list[tuple[int, str]] = []
        done = asyncio.Event()

        async def slow(cs: ChangeSet) -> None:
            got.append((cs.seq, threading.current_thread().name))
            if len(got) == 3:
                done.set()

        db.subscribe(changes.on_loop(loop, slow))
        user = await db.awrite(_user)
        for _ in range(3):  # the user row is not captured: three change sets
            await db.awrite(lambda c: _memory(c, user))
        await asyncio.wait_for(done.wait(), 10)
        assert [seq for seq, _ in got] == [1, 2, 3]
        assert {name for _, name in got} == {threading.current_thread().name}  # the loop's thread

    asyncio.run(main())


def test_a_pre_commit_hook_writes_in_the_changes_transaction(db: Database) -> None:
    """A before_commit hook sees the change set inside the transaction: its writes commit with the change
    or roll back with it; a hook that raises is undone alone; its returned callable runs after COMMIT."""
    user = db.write(_user)
    after: list[int] = []

    def hook(conn: Any, cs: ChangeSet) -> Any:
        ids = [i for c in cs.of("memories", ("created",)) for i in c.ids]
        for i in ids:
            conn.execute("UPDATE users SET name = ? WHERE id = ?", (f"saw {i}", user))
        return lambda: after.extend(ids)

    def failing(conn: Any, cs: ChangeSet) -> None:
        conn.execute("UPDATE users SET name = 'failing hook' WHERE id = ?", (user,))
        raise RuntimeError("boom")

    db.before_commit(hook)
    remove = db.before_commit(failing)
    mid = db.write(lambda c: _memory(c, user))
    assert after == [mid]  # the after-commit callable ran before write() returned
    assert db.read(lambda c: c.execute("SELECT name FROM users WHERE id = ?", (user,)).fetchone()[0]) == f"saw {mid}"
    remove()

    def rolled_back(conn: Any) -> None:
        _memory(conn, user, "never")
        raise ValueError("writer fails")

    with pytest.raises(ValueError):
        db.write(rolled_back)
    assert after == [mid]
    assert db.read(lambda c: c.execute("SELECT count(*) FROM memories").fetchone()[0]) == 1
