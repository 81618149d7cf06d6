"""Valence and arousal of a text from a small lexicon (no model).

``score(text)`` -> :class:`Affect` with ``valence`` in [-1, 1] (unpleasant .. pleasant) and ``arousal`` in
[0, 1] (calm .. excited). Each lexicon word carries a (valence, arousal) pair; a negator ("not", "never",
"no", "n't") within the three words before flips a word's valence and halves it; an intensifier ("very",
"really", "so", "extremely") before a word multiplies both by 1.5. Valence is the mean over the affect
words found, squashed by ``x / (|x| + 0.5)`` when several agree; arousal is their mean, raised by
exclamation marks and all-caps words. A text without affect words scores valence 0 and arousal 0.1
(``Affect.neutral``): the columns say "scored, neutral" rather than staying NULL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..memories.written import WrittenMemory

__all__ = ["Affect", "score", "score_in_tx", "warm"]

# word: (valence -1..1, arousal 0..1). Stems match by prefix when marked with a trailing "*".
_LEXICON: dict[str, tuple[float, float]] = {
    # pleasant, calm
    "calm": (0.5, 0.1), "relaxed": (0.6, 0.1), "peaceful": (0.7, 0.1), "content": (0.6, 0.2),
    "comfortable": (0.5, 0.2), "grateful": (0.8, 0.3), "thankful": (0.8, 0.3), "glad": (0.7, 0.4),
    "nice": (0.5, 0.3), "good": (0.5, 0.3), "fine": (0.3, 0.2), "pleasant": (0.6, 0.3), "safe": (0.5, 0.2),
    "proud": (0.7, 0.5), "satisfied": (0.6, 0.3), "hope*": (0.5, 0.4), "kind": (0.5, 0.3),
    "enjoy*": (0.7, 0.5), "like": (0.4, 0.3), "likes": (0.4, 0.3), "liked": (0.4, 0.3), "fond": (0.5, 0.3),
    "prefer*": (0.3, 0.2), "helpful": (0.5, 0.3), "useful": (0.4, 0.2), "success*": (0.7, 0.5),
    "win": (0.7, 0.7), "won": (0.7, 0.7), "beautiful": (0.8, 0.5), "lovely": (0.8, 0.4),
    "great": (0.8, 0.6), "wonderful": (0.9, 0.6), "excellent": (0.9, 0.6), "perfect": (0.9, 0.5),
    "fun": (0.7, 0.6), "happy": (0.8, 0.6), "happiness": (0.8, 0.5), "joy*": (0.9, 0.7),
    # pleasant, aroused
    "love*": (0.9, 0.7), "excit*": (0.8, 0.9), "thrill*": (0.8, 0.9), "amazing": (0.9, 0.8),
    "awesome": (0.9, 0.8), "fantastic": (0.9, 0.8), "delight*": (0.9, 0.7), "celebrat*": (0.8, 0.8),
    "passion*": (0.7, 0.8), "eager": (0.6, 0.7), "inspir*": (0.7, 0.6),
    # unpleasant, calm
    "sad": (-0.7, 0.3), "sadness": (-0.7, 0.3), "tired": (-0.4, 0.1), "bored": (-0.4, 0.1),
    "boring": (-0.4, 0.1), "lonely": (-0.7, 0.3), "disappoint*": (-0.6, 0.4), "sorry": (-0.4, 0.3),
    "regret*": (-0.6, 0.4), "miss": (-0.3, 0.3), "bad": (-0.6, 0.4), "poor": (-0.5, 0.3),
    "sick": (-0.6, 0.4), "ill": (-0.5, 0.3), "hurt*": (-0.7, 0.6), "pain*": (-0.7, 0.6),
    "lost": (-0.5, 0.4), "fail*": (-0.7, 0.5), "wrong": (-0.5, 0.4), "broken": (-0.6, 0.4),
    "depress*": (-0.8, 0.2), "exhaust*": (-0.5, 0.2), "dislike*": (-0.5, 0.4), "unhappy": (-0.7, 0.4),
    # unpleasant, aroused
    "angry": (-0.8, 0.9), "anger": (-0.8, 0.9), "furious": (-0.9, 1.0), "hate*": (-0.9, 0.8),
    "annoy*": (-0.6, 0.7), "frustrat*": (-0.7, 0.8), "stress*": (-0.6, 0.8), "anxious": (-0.6, 0.8),
    "anxiety": (-0.6, 0.8), "worr*": (-0.5, 0.7), "afraid": (-0.7, 0.8), "scared": (-0.7, 0.8),
    "fear*": (-0.7, 0.8), "terrible": (-0.9, 0.7), "awful": (-0.9, 0.7), "horrible": (-0.9, 0.7),
    "panic*": (-0.8, 1.0), "upset": (-0.7, 0.7), "nervous": (-0.5, 0.8), "disgust*": (-0.8, 0.7),
    "crash*": (-0.5, 0.8), "urgent": (-0.3, 0.9), "emergency": (-0.6, 1.0), "danger*": (-0.6, 0.9),
    "critical": (-0.3, 0.8), "outage": (-0.6, 0.8), "bug": (-0.3, 0.5), "error*": (-0.4, 0.5),
}  # fmt: skip
_EXACT = {w: v for w, v in _LEXICON.items() if not w.endswith("*")}
_STEMS = sorted(((w[:-1], v) for w, v in _LEXICON.items() if w.endswith("*")), key=lambda p: -len(p[0]))
_STEM_PREFIXES = tuple(stem for stem, _ in _STEMS)  # one C-level test rejects most words before the loop
_NEGATORS = frozenset({"not", "no", "never", "none", "nothing", "neither", "nor", "without", "hardly", "barely"})
_INTENSIFIERS = frozenset({"very", "really", "so", "extremely", "incredibly", "super", "totally", "absolutely"})
_WORD = re.compile(r"[A-Za-z']+")


@dataclass(frozen=True)
class Affect:
    """Valence in [-1, 1], arousal in [0, 1], and how many lexicon words were found."""

    valence: float
    arousal: float
    words: int = 0

    @classmethod
    def neutral(cls) -> Affect:
        return cls(0.0, 0.1, 0)

    def as_dict(self) -> dict[str, float | int]:
        return {"valence": self.valence, "arousal": self.arousal, "affect_words": self.words}


def _lookup(word: str) -> tuple[float, float] | None:
    if word in _EXACT:
        return _EXACT[word]
    if not word.startswith(_STEM_PREFIXES):
        return None
    for stem, value in _STEMS:
        if word.startswith(stem):
            return value
    return None


def score(text: str) -> Affect:
    """The affect of ``text`` (see the module docstring)."""
    raw = _WORD.findall(text)
    words = [w.lower() for w in raw]
    valences: list[float] = []
    arousals: list[float] = []
    for i, word in enumerate(words):
        value = _lookup(word)
        if value is None:
            continue
        valence, arousal = value
        before = words[max(0, i - 3) : i]
        if any(b in _NEGATORS or b.endswith("n't") for b in before):
            valence = -valence * 0.5
            arousal *= 0.8
        if i > 0 and words[i - 1] in _INTENSIFIERS:
            valence *= 1.5
            arousal *= 1.5
        valences.append(max(-1.0, min(1.0, valence)))
        arousals.append(min(1.0, arousal))
    if not valences:
        return Affect.neutral()
    total = sum(valences)
    valence = total / len(valences) if len(valences) == 1 else total / (abs(total) + 0.5)
    arousal = sum(arousals) / len(arousals)
    arousal += 0.1 * min(3, text.count("!"))
    arousal += 0.05 * min(3, sum(1 for w in raw if len(w) > 2 and w.isupper()))
    return Affect(round(max(-1.0, min(1.0, valence)), 4), round(max(0.0, min(1.0, arousal)), 4), len(valences))


@lru_cache(maxsize=512)
def _scored(text: str) -> Affect:
    return score(text)


def warm(text: str) -> None:
    """Score ahead, outside the write transaction (a ``before_write`` hook), so ``score_in_tx`` only writes."""
    _scored(text)


def columns(text: str) -> dict[str, float]:
    """The columns ``score_in_tx`` writes, for a store to put in its INSERT (``in_write_tx(columns=...)``)."""
    affect = _scored(text)
    return {"valence": affect.valence, "arousal": affect.arousal}


def score_in_tx(conn: Any, memory: WrittenMemory) -> None:
    """The store/update transaction hook: write the memory's valence and arousal with it."""
    affect = _scored(memory.content)
    conn.execute(
        "UPDATE memories SET valence = ?, arousal = ? WHERE id = ? AND user_id = ?",
        (affect.valence, affect.arousal, memory.id, memory.user_id),
    )
