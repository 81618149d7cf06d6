"""Split a document into chunks that fit the embedder's window, on its structure, with a small overlap.

Sections (a heading and its text) are packed paragraph by paragraph up to ``max_tokens``; a paragraph too
long for one chunk is split by sentences, then by words. Each next chunk of a section starts with the last
paragraph (or sentence) of the one before when that is short (<= ``overlap`` tokens), so a fact split at a
boundary is still whole in one of them. The heading path (``Guide > Install``) leads each chunk.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

__all__ = ["chunk_section"]

Counter = Callable[[str], int]
_PARAS = re.compile(r"\n\s*\n")
_SENTENCES = re.compile(r"(?<=[.!?])\s+")
MAX_CHARS = 60_000  # far below the 100 KiB a memory may hold, whatever the tokenizer says


def _pieces(text: str, count: Counter, limit: int) -> Iterator[str]:
    """Paragraphs of ``text``, each split further until it fits ``limit`` tokens."""
    for para in _PARAS.split(text):
        para = para.strip()
        if not para:
            continue
        if count(para) <= limit and len(para) <= MAX_CHARS:
            yield para
            continue
        for sentence in _SENTENCES.split(para):
            if count(sentence) <= limit and len(sentence) <= MAX_CHARS:
                yield sentence
                continue
            words, part = sentence.split(), ""
            for word in words:
                candidate = f"{part} {word}" if part else word
                if part and (count(candidate) > limit or len(candidate) > MAX_CHARS):
                    yield part
                    candidate = word[:MAX_CHARS]
                part = candidate
            if part:
                yield part


def chunk_section(text: str, heading: str, count: Counter, max_tokens: int, overlap: int) -> list[str]:
    """The chunks of one section, each led by ``heading`` (when there is one)."""
    lead = f"{heading}\n\n" if heading else ""
    budget = max(8, max_tokens - (count(lead) if lead else 0))
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for piece in _pieces(text, count, budget):
        n = count(piece)
        if current and size + n > budget:
            chunks.append(lead + "\n\n".join(current))
            tail = current[-1]
            tail_n = count(tail)
            current, size = ([tail], tail_n) if tail_n <= overlap and tail_n + n <= budget else ([], 0)
        current.append(piece)
        size += n
    if current:
        chunks.append(lead + "\n\n".join(current))
    if not chunks and heading:
        chunks.append(heading)
    return chunks
