"""EmbeddingManager: the server's embedding model bound to its database.

It loads the configured model (never pulling at startup, never raising for a missing model: the vector
channel is then off and ``reason`` says why), checks the database's recorded fingerprint, embeds on the
store path through the micro-batcher, and runs the backfill and re-embed jobs.

While a remote embedding endpoint is down, ``embed(texts, defer=True)`` (the write paths) answers None,
as if no model were loaded, and calls ``on_deferred`` (the composition root queues the backfill job, which
embeds every memory still without a vector once the endpoint answers); ``embed(texts)`` (search, routes
that need the vector itself) raises ``EmbeddingDown`` for the caller to degrade or answer 503.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import EmbeddingDown, Invalid, ModelMismatch, Unavailable
from ..settings import Settings
from ..storage.database import Database
from .base import Embedder
from .batcher import EmbedBatcher
from .registry import embed_workers
from .vectors import normalise, to_blob

__all__ = ["FINGERPRINT_KEY", "EmbeddingManager"]

log = logging.getLogger("engram.embeddings")
FINGERPRINT_KEY = "embedding_fingerprint"
_BATCH = 64


def recorded_fingerprint(db: Database) -> str | None:
    row = db.read(lambda c: c.execute("SELECT value FROM meta WHERE key = ?", (FINGERPRINT_KEY,)).fetchone())
    return None if row is None else str(row[0])


def _record(conn: Any, fingerprint: str) -> None:
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (FINGERPRINT_KEY, fingerprint))


class EmbeddingManager:
    def __init__(self, settings: Settings, db: Database, embedder: Embedder | None, reason: str) -> None:
        self.settings = settings
        self.db = db
        self.embedder = embedder
        self.reason = reason
        self.batcher = (
            EmbedBatcher(embedder, settings.embed_batch_size, workers=embed_workers(settings))
            if embedder is not None
            else None
        )
        self.after_embed: list[Callable[[Any, int, int], object]] = []  # (conn, user_id, memory_id) in the tx
        self.on_deferred: Callable[[str], object] | None = None  # (reason): a write kept a memory without vector
        self.deferred = 0  # texts written without a vector because the endpoint was down

    @classmethod
    def load(cls, settings: Settings, db: Database, *, check: bool = True) -> EmbeddingManager:
        """Load the configured model; with ``check``, refuse a database embedded by another model."""
        from .registry import load_embedder

        embedder: Embedder | None
        if settings.embedding_api_url.strip():
            # A remote endpoint was asked for: unreachable or misconfigured is a startup error, not "off".
            from .remote import RemoteEmbedder

            embedder = RemoteEmbedder.connect(settings)
            reason = f"{embedder.fingerprint} from {embedder.url} (remote endpoint)"
        else:
            embedder, reason = load_embedder(settings)
        if embedder is None:
            log.warning("vector search is off: %s", reason)
            return cls(settings, db, None, reason)
        fingerprint = str(embedder.fingerprint)
        recorded = recorded_fingerprint(db)
        if check and recorded is not None and recorded != fingerprint:
            raise ModelMismatch(
                f"{settings.db_path} was embedded with {recorded} but the configured model is {fingerprint}; "
                "run `engram models reembed` to re-embed every memory with the configured model "
                "(or configure again the model that made it: ENGRAM_EMBEDDING_MODEL for a local model,"
                " ENGRAM_EMBEDDING_API_URL/ENGRAM_EMBEDDING_API_MODEL for an endpoint)"
            )
        if recorded is None:
            db.write(lambda c: _record(c, fingerprint))
        return cls(settings, db, embedder, reason)

    # -- state ----------------------------------------------------------------------------------------
    @property
    def enabled(self) -> bool:
        return self.embedder is not None

    @property
    def fingerprint(self) -> str | None:
        return str(self.embedder.fingerprint) if self.embedder is not None else None

    def info(self) -> dict[str, Any]:
        e = self.embedder
        return {
            "enabled": e is not None,
            "model": e.name if e else self.settings.embedding_model,
            "fingerprint": self.fingerprint,
            "recorded_fingerprint": recorded_fingerprint(self.db),
            "dim": e.dim if e else None,
            "max_tokens": e.max_tokens if e else None,
            "reason": self.reason,
            **({"remote": e.info_status()} if e is not None and hasattr(e, "info_status") else {}),
        }

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` by the model's tokenizer (about 4 characters a token without a model)."""
        if self.embedder is not None:
            return int(self.embedder.count_tokens(text))
        return max(1, (len(text) + 3) // 4) if text else 0

    # -- embedding ------------------------------------------------------------------------------------
    async def embed(self, texts: list[str], *, defer: bool = False, bulk: bool | None = None) -> np.ndarray | None:
        """Vectors for ``texts`` (None without a model). With ``defer``, a down endpoint answers None too and
        the texts are left to the backfill; without, it raises ``EmbeddingDown``. ``bulk=True``: background
        work (a job's), queued behind every query-lane embedding; None: by size (``EmbedBatcher.is_bulk``)."""
        if self.batcher is None:
            return None
        try:
            return await self.batcher.embed(texts, bulk=bulk)
        except EmbeddingDown as exc:
            if not defer:
                raise
            self.deferred += len(texts)
            if self.on_deferred is not None:
                self.on_deferred(exc.message)
            return None

    def client_vector(self, values: list[float]) -> np.ndarray:
        """Check and normalise a vector a client sent with ``embedding``."""
        if self.embedder is None:
            # 503, not 400: the vector may be fine; the model needed to check it is missing.
            raise Unavailable(f"no embedding model is loaded ({self.reason}), so a client vector cannot be checked")
        if len(values) != self.embedder.dim:
            raise Invalid(
                "embedding", f"must have {self.embedder.dim} numbers for {self.fingerprint}, got {len(values)}"
            )
        vec = normalise(np.asarray(values, dtype=np.float32))
        if not np.any(vec):
            raise Invalid("embedding", "must not be all zeros")
        return vec

    def columns(self, vector: np.ndarray | None) -> dict[str, Any]:
        """The memory columns for a vector (empty without one)."""
        if vector is None:
            return {}
        return {"embedding": to_blob(vector), "embedding_model": self.fingerprint}

    # -- backfill and re-embed ------------------------------------------------------------------------
    def pending(self, conn: Any) -> int:
        return int(conn.execute(
            "SELECT count(*) FROM memories WHERE is_deleted = 0 AND (embedding IS NULL OR embedding_model IS NOT ?)",
            (self.fingerprint,),
        ).fetchone()[0])  # fmt: skip

    def reembed_sync(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Embed every memory lacking a vector of the current model, in batches; resumable. Returns the count."""
        if self.embedder is None or self.batcher is None:
            raise Invalid("model", f"no embedding model is loaded: {self.reason}")
        fp = self.fingerprint
        total = self.db.read(self.pending)
        done = 0
        while True:
            rows = self.db.read(lambda c: c.execute(
                "SELECT id, user_id, content FROM memories WHERE is_deleted = 0"
                " AND (embedding IS NULL OR embedding_model IS NOT ?) ORDER BY id LIMIT ?", (fp, _BATCH),
            ).fetchall())  # fmt: skip
            if not rows:
                break
            vectors = self.batcher.embed_sync([r["content"] for r in rows])

            def tx(conn: Any, rows: list[Any] = rows, vectors: np.ndarray = vectors) -> None:
                for r, vec in zip(rows, vectors, strict=True):
                    conn.execute("UPDATE memories SET embedding = ?, embedding_model = ? WHERE id = ?",
                                 (to_blob(vec), fp, r["id"]))  # fmt: skip
                    for hook in self.after_embed:
                        hook(conn, r["user_id"], r["id"])

            self.db.write(tx)
            done += len(rows)
            if progress:
                progress(done, total)
        self.db.write(lambda c: _record(c, str(fp)))
        return done

    async def close(self) -> None:
        if self.batcher is not None:
            await self.batcher.close()
        closer = getattr(self.embedder, "close", None)  # a remote embedder's HTTP connections
        if callable(closer):
            closer()
