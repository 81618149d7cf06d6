"""Whether two statements cannot both be true now (pure rules; the database side is :mod:`.timeline`).

Two tiers, strictest first, because a false contradiction (it down-ranks a true memory) costs more than a
missed one:

* **Facts** (:func:`facts_conflict`): both texts state a fact on the same subject and predicate (see
  :mod:`.facts`) and a functional predicate changed value ("I live in Paris" / "I moved to Lyon"), or the
  same object flipped polarity ("I like jazz" / "I hate jazz", "I own a car" / "I sold my car"). The newer
  one supersedes the older: kind ``update`` when the newer text says something changed ("moved", "now",
  "no longer" ...), else ``conflict``.
* **Text** (:func:`text_conflict`), for statements that are near-copies of each other:
  ``negation`` (one negates the other, content words Jaccard >= 0.7), ``antonym`` (the content words differ
  only by an antonym pair: open/closed, enabled/disabled ...), ``number`` (the same words with a changed
  number, in a statement of state: "the limit is 10" / "the limit is 20"; years are not numbers here, an
  event in 2019 and one in 2021 can both be true).

:func:`classify` runs both on a pair (the benchmark in ``bench/contradictions.py`` measures it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from .facts import FUNCTIONAL, Triple, extract, same_object
from .statements import STOPWORDS, jaccard, statements

__all__ = ["Verdict", "classify", "facts_conflict", "text_conflict"]


@dataclass(frozen=True)
class Verdict:
    """A contradiction: its kind, confidence (0..1), a one-line description, and whether it supersedes."""

    kind: str
    confidence: float
    description: str
    supersedes: bool


_NEGATORS = frozenset({"not", "no", "never", "cannot", "nobody", "nothing", "none", "neither", "nor", "longer"})
_ANTONYMS: list[tuple[str, str]] = [
    ("true", "false"), ("open", "closed"), ("enabled", "disabled"), ("enable", "disable"),
    ("allowed", "forbidden"), ("allowed", "prohibited"), ("allowed", "banned"), ("like", "dislike"),
    ("likes", "dislikes"), ("love", "hate"), ("loves", "hates"), ("increase", "decrease"),
    ("increased", "decreased"), ("hot", "cold"), ("cheap", "expensive"), ("public", "private"),
    ("alive", "dead"), ("won", "lost"), ("win", "lose"), ("passed", "failed"), ("pass", "fail"),
    ("accepted", "rejected"), ("approved", "rejected"), ("approved", "denied"), ("online", "offline"),
    ("available", "unavailable"), ("safe", "unsafe"), ("valid", "invalid"), ("single", "married"),
    ("success", "failure"), ("succeeded", "failed"), ("best", "worst"), ("easy", "hard"),
    ("easy", "difficult"), ("fast", "slow"), ("required", "optional"), ("mandatory", "optional"),
    ("included", "excluded"), ("present", "absent"), ("possible", "impossible"), ("legal", "illegal"),
    ("correct", "incorrect"), ("healthy", "sick"), ("vegetarian", "carnivore"), ("introvert", "extrovert"),
    ("introverted", "extroverted"), ("asleep", "awake"), ("full", "empty"), ("start", "stop"),
    ("started", "stopped"), ("working", "broken"), ("works", "broken"), ("up", "down"),
]  # fmt: skip
_ANTONYM_PAIRS = {frozenset(p) for p in _ANTONYMS}
_ANTONYM_WORDS = {w for p in _ANTONYMS for w in p}
_STATE_VERBS = frozenset({"is", "are", "am", "has", "have", "costs", "cost", "weighs", "takes", "equals", "was"})
_WORD = re.compile(r"[a-z0-9][a-z0-9'\-]*")
_NUMBER = re.compile(r"^\d+(?:[.,]\d+)?(?:k|m|am|pm|%|gb|mb|kb|ms|s|h|km|kg|lbs?)?$")
_EXPAND = [(re.compile(r"n't\b"), " not"), (re.compile(r"\bi'm\b"), "i am"), (re.compile(r"'s\b"), " is")]


def _words(text: str) -> list[str]:
    text = text.lower().replace("\u2019", "'")
    for rx, repl in _EXPAND:
        text = rx.sub(repl, text)
    return _WORD.findall(text)


def _is_year(token: str) -> bool:
    return token.isdigit() and len(token) == 4 and 1900 <= int(token) <= 2100


def _stem(word: str) -> str:
    """A light stem, enough to match "accepts" / "accept" / "accepted" (antonyms are kept whole)."""
    if word in _ANTONYM_WORDS or len(word) < 5 or word[0].isdigit():
        return word
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _split(words: list[str]) -> tuple[set[str], set[str], bool]:
    """(content words, numbers, negated) of a statement; negators and stopwords (but antonyms) left out."""
    content = {_stem(w) for w in words if (w not in STOPWORDS or w in _ANTONYM_WORDS) and w not in _NEGATORS}
    numbers = {w for w in content if _NUMBER.match(w) and not _is_year(w)}
    return content - numbers, numbers, any(w in _NEGATORS for w in words)


def text_conflict(newer: str, older: str) -> Verdict | None:
    """Negation, antonym or changed-number conflict between two near-identical statements (or None)."""
    if newer.rstrip().endswith("?") or older.rstrip().endswith("?"):
        return None
    wn, wo = _words(newer), _words(older)
    cn, nn, negn = _split(wn)
    co, no, nego = _split(wo)
    if len(cn) < 2 or len(co) < 2:
        return None
    if negn != nego and jaccard(cn, co) >= 0.7 and not (nn ^ no):
        return Verdict("negation", 0.75, f"one negates the other: {_clip(newer)!r} / {_clip(older)!r}", False)
    only_n, only_o = cn - co, co - cn
    if len(only_n) == 1 and len(only_o) == 1 and negn == nego:
        pair = frozenset(only_n | only_o)
        if pair in _ANTONYM_PAIRS and cn & co and not (nn ^ no):
            a, b = next(iter(only_n)), next(iter(only_o))
            return Verdict("antonym", 0.7, f"{a!r} where it said {b!r}: {_clip(newer)!r}", False)
    if (
        nn and no and nn != no and negn == nego and len(cn & co) >= 2 and jaccard(cn, co) >= 0.8
        and (_STATE_VERBS & set(wn)) and (_STATE_VERBS & set(wo))
    ):  # fmt: skip
        return Verdict("number", 0.6, f"changed number {sorted(no)} -> {sorted(nn)}: {_clip(newer)!r}", True)
    return None


def facts_conflict(new: Triple, old: Triple) -> bool:
    """Whether a later fact ``new`` ends an earlier fact ``old`` (same subject and predicate)."""
    if new.subject != old.subject or new.predicate != old.predicate:
        return False
    same = same_object(new.object, old.object)
    if same:
        return new.polarity != old.polarity
    return FUNCTIONAL(new.predicate) and new.polarity > 0 and old.polarity > 0


def describe(predicate: str, new_object: str, new_polarity: int, old_object: str, old_polarity: int) -> str:
    """One line: what changed."""

    def side(obj: str, pol: int) -> str:
        return repr(obj) if pol > 0 else f"not {obj!r}"

    return f"{predicate}: {side(new_object, new_polarity)} replaces {side(old_object, old_polarity)}"


def _clip(text: str, n: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "\u2026"


def classify(newer: str, older: str, newer_at: datetime, older_at: datetime) -> Verdict | None:
    """The contradiction between two memory texts (``newer`` stored after ``older``), or None."""
    new_facts = [t for s in statements(newer) or [newer] for t in extract(s, newer_at)]
    old_facts = [t for s in statements(older) or [older] for t in extract(s, older_at)]
    for n in new_facts:
        for o in old_facts:
            if facts_conflict(n, o):
                kind = "update" if n.change else "conflict"
                text = describe(n.predicate, n.object, n.polarity, o.object, o.polarity)
                return Verdict(kind, n.confidence, text, True)
    for a in statements(newer) or [newer]:
        for b in statements(older) or [older]:
            verdict = text_conflict(a, b)
            if verdict is not None:
                return verdict
    return None
