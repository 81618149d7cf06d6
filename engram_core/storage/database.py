"""The Database: one write thread owning the only write connection, and a pool of read connections.

Writes are plain functions ``fn(conn) -> T`` run by the write thread inside ``BEGIN IMMEDIATE`` ...
``COMMIT`` (rolled back if ``fn`` raises), so every write is one transaction and writes never contend
for the lock. Reads run on a small thread pool, each thread with its own read-only connection. Both
have a blocking form (``read``/``write``, for scripts and the CLI) and an awaitable one
(``aread``/``awrite``, for the server) — the event loop never blocks on SQLite.

The change feed (:mod:`engram_core.storage.changes`): the rows each write transaction changes are
captured inside it, and after its COMMIT — only if it committed — one :class:`ChangeSet` goes to every
listener registered with :meth:`Database.subscribe` (the search cache, the vector index, the job queue;
later webhooks and the event bus). Listeners run on the write thread, in registration order, after the
COMMIT and *before* the writer's ``write``/``awrite`` returns: so whoever wrote sees caches already
dropped (read-your-writes). They must therefore be quick (O(changes)), thread-safe, never block on the
database (no ``db.write``/``db.read`` from a listener; ``submit_write`` is fine) and hand slow work to
their own thread or event loop (e.g. ``loop.call_soon_threadsafe``). A listener that raises is logged;
the write and the other listeners are unaffected.

A hook registered with :meth:`Database.before_commit` runs earlier: inside the transaction, after the
writer's function and before COMMIT, with the change set and the write connection, so what it writes
(memory events on axon's ``system`` channel, for instance) commits with the change or not at all. It
runs in a SAVEPOINT: a hook that raises is logged and its own writes undone, the change still commits.
It may return a callable, run after the COMMIT like a listener (to deliver what it wrote).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from .changes import ChangeSet, Listener, collect, install_capture, publish
from .connection import connect, tolerate_damaged_text
from .migrate import apply_migrations

__all__ = ["Database"]

T = TypeVar("T")
#: ``hook(conn, change_set)`` inside the transaction; may return what to run after the COMMIT.
PreCommit = Callable[[Any, ChangeSet], Callable[[], object] | None]
log = logging.getLogger("engram.db")
_STOP = object()


class Database:
    """SQLite database with a single writer thread and a read pool."""

    def __init__(
        self,
        path: Path | str,
        *,
        key: bytes | None = None,
        read_pool_size: int = 4,
        busy_timeout_ms: int = 5000,
        migrate: bool = True,
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._key = key
        self._busy = busy_timeout_ms
        self._write_conn = connect(self.path, key=key, busy_timeout_ms=busy_timeout_ms)
        try:
            if migrate:
                apply_migrations(self._write_conn)
            self.captured = install_capture(self._write_conn)
        except BaseException:
            self._write_conn.close()
            raise
        self._listeners: list[Listener] = []
        self._pre_commit: list[PreCommit] = []
        self._commits = 0
        self._queue: queue.Queue[Any] = queue.Queue()
        self._writer = threading.Thread(target=self._write_loop, name="engram-writer", daemon=True)
        self._writer.start()
        self._local = threading.local()
        self._read_conns: list[Any] = []
        self._read_lock = threading.Lock()
        self._readers = ThreadPoolExecutor(max_workers=max(1, read_pool_size), thread_name_prefix="engram-read")
        self._closed = False
        self.on_transaction: Callable[[float], None] | None = None  # seconds per write transaction (metrics)

    def write_queue_depth(self) -> int:
        """Write jobs waiting for the write thread (metrics)."""
        return self._queue.qsize()

    @property
    def key(self) -> bytes | None:
        """The SQLCipher key this database was opened with (None when plain); for online backups."""
        return self._key

    # -- change feed ----------------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(change_set)`` after every committed write that changed something (see the
        module docstring for where and how it runs). Returns a function that unsubscribes it."""
        self._listeners = [*self._listeners, listener]  # copy on write: the writer iterates a snapshot

        def unsubscribe() -> None:
            self._listeners = [x for x in self._listeners if x is not listener]

        return unsubscribe

    def before_commit(self, hook: PreCommit) -> Callable[[], None]:
        """Run ``hook(conn, change_set)`` inside every write transaction that changed something, just
        before its COMMIT (see the module docstring). Returns a function that removes it."""
        self._pre_commit = [*self._pre_commit, hook]

        def remove() -> None:
            self._pre_commit = [x for x in self._pre_commit if x is not hook]

        return remove

    def _run_pre_commit(self, conn: Any, changes: ChangeSet) -> list[Callable[[], object]]:
        afters: list[Callable[[], object]] = []
        for hook in self._pre_commit:
            conn.execute("SAVEPOINT engram_pre_commit")
            try:
                after = hook(conn, changes)
            except Exception:
                conn.execute("ROLLBACK TO engram_pre_commit")
                log.exception(
                    "pre-commit hook %r failed (change set %d); the write commits without it", hook, changes.seq
                )
            else:
                if after is not None:
                    afters.append(after)
            conn.execute("RELEASE engram_pre_commit")
        return afters

    # -- writes ---------------------------------------------------------------------------------------
    def _write_loop(self) -> None:
        conn = self._write_conn
        while True:
            item = self._queue.get()
            if item is _STOP:
                break
            fn, fut, cause = item
            if not fut.set_running_or_notify_cancel():
                continue
            changes: ChangeSet | None = None
            afters: list[Callable[[], object]] = []
            try:
                if isinstance(fn, _NoTransaction):
                    fut.set_result(fn(conn))
                    continue
                started = time.perf_counter()
                conn.execute("BEGIN IMMEDIATE")
                try:
                    result = tolerate_damaged_text(conn, fn, lambda: _restart(conn))
                    changed = collect(conn)
                    if changed and self._pre_commit:
                        afters = self._run_pre_commit(conn, ChangeSet(changed, self._commits + 1, cause))
                        changed += collect(conn)  # what the hooks wrote to captured tables, if anything
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                if self.on_transaction is not None:
                    self.on_transaction(time.perf_counter() - started)
                if changed:
                    self._commits += 1
                    changes = ChangeSet(changed, self._commits, cause)
            except BaseException as exc:  # handed to the caller
                fut.set_exception(exc)
            else:
                if changes is not None:
                    publish(self._listeners, changes)
                for after in afters:
                    try:
                        after()
                    except Exception:
                        log.exception("after-commit callback %r failed", after)
                fut.set_result(result)
        conn.close()

    def submit_write(self, fn: Callable[[Any], T], *, cause: str | None = None) -> Future[T]:
        """Queue ``fn`` for the write thread; it runs in its own transaction. ``cause`` is handed to the
        change listeners with what ``fn`` changed (None: an ordinary write)."""
        if self._closed:
            raise RuntimeError("database is closed")
        fut: Future[T] = Future()
        self._queue.put((fn, fut, cause))
        return fut

    def write(self, fn: Callable[[Any], T], *, cause: str | None = None) -> T:
        """Run ``fn(conn)`` in one write transaction and wait for its result."""
        return self.submit_write(fn, cause=cause).result()

    async def awrite(self, fn: Callable[[Any], T], *, cause: str | None = None) -> T:
        """Awaitable ``write``."""
        return await asyncio.wrap_future(self.submit_write(fn, cause=cause))

    # -- reads ----------------------------------------------------------------------------------------
    def _reader_conn(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path, key=self._key, read_only=True, busy_timeout_ms=self._busy)
            self._local.conn = conn
            with self._read_lock:
                self._read_conns.append(conn)
        return conn

    def reader(self) -> Any:
        """A read-only connection of the caller's own, outside the pool, for a quick check on the caller's
        thread (the key cache's); closed with the database. Not for queries that may take long."""
        if self._closed:
            raise RuntimeError("database is closed")
        conn = connect(self.path, key=self._key, read_only=True, busy_timeout_ms=self._busy)
        with self._read_lock:
            self._read_conns.append(conn)
        return conn

    def _run_read(self, fn: Callable[[Any], T]) -> T:
        conn = self._reader_conn()
        conn.execute("BEGIN")
        try:
            return tolerate_damaged_text(conn, fn)
        finally:
            conn.execute("COMMIT")

    def submit_read(self, fn: Callable[[Any], T]) -> Future[T]:
        if self._closed:
            raise RuntimeError("database is closed")
        return self._readers.submit(self._run_read, fn)

    def read(self, fn: Callable[[Any], T]) -> T:
        """Run ``fn(conn)`` on a read connection (one consistent snapshot) and wait for it."""
        return self.submit_read(fn).result()

    async def aread(self, fn: Callable[[Any], T]) -> T:
        """Awaitable ``read``."""
        return await asyncio.wrap_future(self.submit_read(fn))

    # -- lifecycle ------------------------------------------------------------------------------------
    def submit_write_raw(self, sql: str) -> Future[None]:
        """Run one statement on the write thread outside a transaction (checkpoint, VACUUM)."""
        if self._closed:
            raise RuntimeError("database is closed")
        done: Future[None] = Future()

        def run(conn: Any) -> None:
            conn.execute(sql).fetchall()

        self._queue.put((_NoTransaction(run), done, None))
        return done

    def write_raw(self, sql: str) -> None:
        self.submit_write_raw(sql).result()

    async def awrite_raw(self, sql: str) -> None:
        await asyncio.wrap_future(self.submit_write_raw(sql))

    async def acheckpoint(self, mode: str = "PASSIVE") -> tuple[int, int, int]:
        """``PRAGMA wal_checkpoint(mode)`` on the write thread: (busy, WAL frames, frames checkpointed).

        ``TRUNCATE`` waits (busy timeout) for readers on older snapshots, copies every frame into the
        database and truncates the WAL to zero bytes, so nothing deleted lingers in it."""
        if mode not in ("PASSIVE", "FULL", "RESTART", "TRUNCATE"):
            raise ValueError(f"unknown checkpoint mode {mode!r}")
        if self._closed:
            raise RuntimeError("database is closed")
        done: Future[tuple[int, int, int]] = Future()

        def run(conn: Any) -> tuple[int, int, int]:
            busy, frames, copied = conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
            return int(busy), int(frames), int(copied)

        self._queue.put((_NoTransaction(run), done, None))
        return await asyncio.wrap_future(done)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._readers.shutdown(wait=True)
        with self._read_lock:
            for conn in self._read_conns:
                conn.close()
            self._read_conns.clear()
        self._queue.put(_STOP)
        self._writer.join(timeout=30)


def _restart(conn: Any) -> None:
    conn.execute("ROLLBACK")
    conn.execute("BEGIN IMMEDIATE")


class _NoTransaction:
    """Marks a write-thread job that must run outside BEGIN/COMMIT (VACUUM, checkpoints)."""

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        self.fn = fn

    def __call__(self, conn: Any) -> Any:
        return self.fn(conn)
