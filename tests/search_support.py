"""TEST FIXTURE ONLY: a deterministic bag-of-words hashing embedder and helpers to give memories vectors.

The real embedder (ONNX MiniLM) is loaded by the embeddings integration; these tests need something that
behaves like an embedder (``dim``, ``fingerprint``, ``embed``, ``count_tokens``) and makes a paraphrase
land near its original. Words are folded through a small synonym table, hashed into 64 buckets and the
counts L2-normalised. Never used outside tests.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from engram_core.engram import Engram

_SYNONYMS = {"automobile": "car", "vehicle": "car", "purchased": "bought", "buy": "bought",
             "acquired": "bought",
             "physician": "doctor", "medic": "doctor", "canine": "dog", "puppy": "dog"}  # fmt: skip
_WORD = re.compile(r"[a-z0-9]+")
_STOP = {"the", "a", "an", "i", "my", "did", "what", "when", "new", "user", "is", "to", "of", "and"}


class HashEmbedder:
    """Bag of (synonym-folded) words hashed into ``dim`` buckets, L2-normalised. Test fixture."""

    dim = 64
    fingerprint = "test-hash:64:bow:l2"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                if word in _STOP:
                    continue
                word = _SYNONYMS.get(word, word)
                out[i, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
            norm = float(np.linalg.norm(out[i]))
            if norm > 0:
                out[i] /= norm
        return out

    def count_tokens(self, text: str) -> int:
        return len(text.split()) + text.count("\n")


def engram_of(api: Any) -> Engram:
    """The Engram behind a TestClient app."""
    return api.client.app.state.engram  # type: ignore[no-any-return]


def embed_all(engram: Engram) -> int:
    """Give every memory without a vector one from ``engram.embedder`` (what the store path will do)."""
    embedder = engram.embedder
    rows = engram.db.read(
        lambda c: c.execute("SELECT id, user_id, content FROM memories WHERE embedding IS NULL").fetchall()
    )
    if not rows:
        return 0
    vectors = embedder.embed([r["content"] for r in rows])

    def write(conn: Any) -> None:
        conn.executemany(
            "UPDATE memories SET embedding = ?, embedding_model = ? WHERE id = ?",
            [
                (v.astype("<f4").tobytes(), str(embedder.fingerprint), r["id"])
                for v, r in zip(vectors, rows, strict=True)
            ],
        )

    engram.db.write(write)  # the change feed marks the rows dirty in the vector index
    return len(rows)
