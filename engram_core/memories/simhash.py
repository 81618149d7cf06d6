"""64-bit SimHash fingerprints of memory text, for the store pipeline's near-duplicate check.

Features: the text is NFKC-normalised and case-folded, split into word tokens (``\\w+``: letters, digits
and underscore, any script; punctuation and whitespace only separate tokens), and the features are every
token plus every pair of adjacent tokens (word bigrams), each with weight 1 per occurrence. They are turned into
64 bits as the ``simhash`` package does (the last 8 bytes of each feature's MD5, a weighted majority vote per
bit), in one numpy vote per text (``_vote``; the package's ``Simhash`` object cost 2-3x more).

* Case, punctuation, whitespace and Unicode width changes give the same fingerprint (distance 0).
* Bigrams make word order count: "alice owes bob" and "bob owes alice" differ, where plain bags of
  words would be identical, and those are not duplicates.
* SimHash distance tracks the angle between feature vectors: expected distance ~ 64 * angle / pi. One
  word changed in a 20-word sentence changes 3 of 39 features (angle ~0.40 rad), about 7-8 bits on
  average (measured: median 7, 95% <= 12, 3.5% <= 3), while unrelated texts sit near 32 (1st percentile
  ~23). A threshold of 3 therefore catches re-sent text and small edits to long texts, not one-word edits
  to short ones, which is the safer side for memories ("my car is blue" -> "my car is red" is an update).

Fingerprints are returned as *signed* 64-bit integers so they fit an SQLite INTEGER column; ``distance``
works on signed or unsigned values alike.

Text without any word token ("🐉 🔥 🌊", "!!!") has no feature to vote with: its fingerprint is instead a
64-bit hash of the normalised text with whitespace removed, so it is near nothing but the same text, and
``wordless`` tells the store to accept only an exact match for it (SimHash of an empty feature set used
to be 0 for all of them, folding every wordless memory into the first).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Hashable, Iterable
from typing import TypeVar

import numpy as np

__all__ = [
    "BITS",
    "DEFAULT_MAX_DISTANCE",
    "distance",
    "features",
    "find_duplicate",
    "fingerprint",
    "to_signed",
    "to_unsigned",
    "wordless",
]

BITS = 64
#: Default Hamming distance at or below which two fingerprints count as near-duplicates
#: (the setting ``ENGRAM_DEDUP_DISTANCE`` has the same default).
DEFAULT_MAX_DISTANCE = 3

_MASK = (1 << BITS) - 1
_SIGN = 1 << (BITS - 1)
_TOKEN = re.compile(r"\w+")

IdT = TypeVar("IdT", bound=Hashable)


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(_normalise(text))


def wordless(text: str) -> bool:
    """True when ``text`` has no word token: its fingerprint is an exact hash, not a SimHash."""
    return _TOKEN.search(_normalise(text)) is None


def features(text: str) -> Counter[str]:
    """The weighted features fingerprinted for ``text``: word tokens and word bigrams, with counts."""
    tokens = _tokens(text)
    counts: Counter[str] = Counter(tokens)
    counts.update(f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False))
    return counts


def to_signed(value: int) -> int:
    """A 64-bit pattern as a signed integer in [-2**63, 2**63) (what SQLite INTEGER holds)."""
    value &= _MASK
    return value - (1 << BITS) if value & _SIGN else value


def to_unsigned(value: int) -> int:
    """A 64-bit pattern as an unsigned integer in [0, 2**64)."""
    return value & _MASK


def fingerprint(text: str) -> int:
    """The 64-bit SimHash of ``text`` as a signed integer; for wordless text, a hash of the text itself."""
    counts = features(text)
    if not counts:
        exact = "".join(ch for ch in _normalise(text) if not ch.isspace() and unicodedata.category(ch) != "Cf")
        return to_signed(int.from_bytes(hashlib.blake2b(exact.encode("utf-8"), digest_size=8).digest(), "big"))
    return to_signed(_vote(counts))


def _vote(counts: Counter[str]) -> int:
    """``simhash.Simhash(dict(counts), f=64).value`` (the fingerprints already stored were made with it): bit
    ``j`` (most significant first) of a feature's hash is bit ``j`` of the last 8 bytes of its MD5, and the
    fingerprint's bit ``j`` is set where the features with that bit weigh more than half of all of them."""
    digests = b"".join([hashlib.md5(feature.encode("utf-8")).digest()[8:] for feature in counts])
    bits = np.unpackbits(np.frombuffer(digests, dtype=np.uint8)).reshape(len(counts), BITS)
    weights = list(counts.values())
    total = sum(weights)
    sums = bits.sum(axis=0, dtype=np.int64) if total == len(weights) else np.array(weights, dtype=np.int64) @ bits
    return int.from_bytes(np.packbits(sums * 2 > total).tobytes(), "big")


def distance(a: int, b: int) -> int:
    """Hamming distance between two 64-bit fingerprints (signed or unsigned), 0..64."""
    return ((a ^ b) & _MASK).bit_count()


def find_duplicate(
    fp: int, candidates: Iterable[tuple[IdT, int]], max_distance: int = DEFAULT_MAX_DISTANCE
) -> tuple[IdT, int] | None:
    """The candidate ``(id, fingerprint)`` nearest to ``fp`` within ``max_distance``, as ``(id, distance)``.

    Ties go to the first candidate seen (order candidates newest first to prefer recent memories); an
    exact match stops the scan. ``None`` if no candidate is close enough.
    """
    best: tuple[IdT, int] | None = None
    for candidate_id, candidate_fp in candidates:
        d = distance(fp, candidate_fp)
        if d <= max_distance and (best is None or d < best[1]):
            best = (candidate_id, d)
            if d == 0:
                break
    return best
