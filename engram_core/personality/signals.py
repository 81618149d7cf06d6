"""Rule-based personality signals: extraction on store, matching for search, profile synthesis.

Six signal types, each found by regular expressions over one sentence at a time. The speaker may be
first person ("I", "we") or the third-person forms memories are often written in ("the user", "user"):

==========  ===============================================================================
type        triggers (examples)
==========  ===============================================================================
preference  I love / like / enjoy / prefer / adore / hate / dislike / can't stand ...;
            I'm a fan of / into / fond of ...; my favourite X is ...
value       I value / believe (in|that) / care about / stand for ...; X is important to me
motivation  I want to / I'd like to / my goal is / I'm trying to / I hope to / I plan to ...
decision    I decided / chose / picked / opted for / settled on / will go with / am going with ...
emotion     I feel / felt ...; I'm (so|really)? happy / sad / excited / anxious / proud ...
identity    I am a / I'm an <role>; I work as a <role>; as a <role>
==========  ===============================================================================

Types are tried in the order above except that motivation and decision go first (so "I'd like to" is
a motivation, not a preference), and a match whose trigger overlaps an earlier signal's trigger is
dropped (so "I'm a fan of jazz" is a preference, not an identity).

Each :class:`Signal` carries the sentence it came from, its subject (the words after the trigger, up
to a clause break, at most 12 words), an intensity in [0, 1] (a base per trigger, +0.15 per intensifier
such as "really"/"so", +0.1 for "!", -0.2 per hedge such as "kind of") and a valence in [-1, 1]:
the trigger's polarity for preferences ("love" +0.9, "hate" -1), otherwise the sign of positive/negative
words in the subject. Negation ("don't", "not", "never", "no longer") flips the valence and damps it
(x -0.7: "not happy" is milder than "sad").
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

__all__ = [
    "SIGNAL_TYPES",
    "Signal",
    "extract_signals",
    "match_signals",
    "signal_scorer",
    "rank_memories",
    "rank_signal_rows",
    "synthesize_profile",
]

SIGNAL_TYPES: tuple[str, ...] = ("preference", "value", "motivation", "decision", "emotion", "identity")

_WHO = r"(?:\bI|\bwe|\bthe user|\buser)"
_BE = r"(?:'m|'re| am| are| is| was| were)"
_NEG = r"(?P<neg>\s+(?:don't|do not|didn't|did not|doesn't|does not|never|no longer|not|really don't))?"
_ADV = (
    r"(?:\s+(?:really|truly|absolutely|totally|just|also|still|always|deeply|so|very|pretty|quite|"
    r"kind of|sort of|kinda|a bit|somewhat))*"
)

# (type, regex, base intensity, base valence or None to read it from the subject's words)
_RULES: tuple[tuple[str, str, float, float | None], ...] = (
    (
        "motivation",
        rf"{_WHO}(?:'d like|'d love|{_NEG}{_ADV}\s+(?:want|wants|wanted|would like|would love|hope|hopes|"
        r"plan|plans|aim|aims|aspire|aspires|intend|intends|need|needs))\s+to\b",
        0.6,
        None,
    ),
    (
        "motivation",
        rf"{_WHO}{_BE}{_NEG}\s+(?:trying|planning|hoping|aiming|working towards?|saving up)\b",
        0.6,
        None,
    ),
    ("motivation", r"\b(?:my|our|the user's) (?:goal|dream|aim|plan|ambition) (?:is|was)\b", 0.7, None),
    (
        "decision",
        rf"{_WHO}(?:'ve|'ll| have| will| finally)?{_NEG}{_ADV}\s+(?:decided|decide|chose|choose|"
        r"picked|opted for|settled on|went with|go with|committed to)\b",
        0.7,
        None,
    ),
    ("decision", rf"{_WHO}{_BE}\s+going with\b", 0.6, None),
    (
        "preference",
        rf"{_WHO}{_NEG}{_ADV}\s+(?P<verb>love|loves|loved|adore|adores|like|likes|liked|enjoy|"
        r"enjoys|enjoyed|prefer|prefers|preferred|hate|hates|hated|dislike|dislikes|disliked|detest|detests|"
        r"can't stand|cannot stand)\b",
        0.6,
        0.0,
    ),
    (
        "preference",
        rf"{_WHO}{_BE}{_NEG}{_ADV}\s+(?:a (?:big |huge )?fan of|into|fond of|keen on|"
        r"passionate about|obsessed with)\b",
        0.7,
        0.7,
    ),
    ("preference", r"\b(?:my|our|the user's) favou?rite\b", 0.8, 0.8),
    (
        "value",
        rf"{_WHO}{_NEG}{_ADV}\s+(?:value|values|believe in|believe that|believes in|believes that|"
        r"care about|cares about|stand for|stands for)\b",
        0.7,
        None,
    ),
    (
        "value",
        r"(?P<pre>[^\W_][\w' -]{0,80}?)\s+(?:is|are|means) (?:really |very |so |a lot )?(?:important|"
        r"essential|everything|the world) to (?:me|us)\b",
        0.8,
        None,
    ),
    ("emotion", rf"{_WHO}{_NEG}{_ADV}\s+(?:feel|feels|felt|feeling)\b", 0.5, None),
    ("emotion", rf"{_WHO}{_BE}{_NEG}{_ADV}\s+(?=(?:\w+\s+){{0,1}}(?:{{emotions}})\b)", 0.6, None),
    ("identity", rf"{_WHO}{_BE}{_NEG}\s+(?:a|an)\b(?!\s+(?:bit|lot|little|fan)\b)", 0.5, 0.0),
    ("identity", rf"{_WHO}{_NEG}\s+(?:work|works|worked) as (?:a|an)\b", 0.6, 0.0),
    ("identity", r"(?:^|[,;]\s*)as (?:a|an)\b(?=\s+\w+)", 0.4, 0.0),
)


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


_POSITIVE = _word_set(
    "happy glad excited thrilled proud grateful thankful joy joyful hopeful calm relieved good great amazing "
    "wonderful fun love loved awesome fantastic content confident inspired motivated peaceful blessed "
    "delighted optimistic satisfied fulfilled energized cheerful lucky safe supported important"
)
_NEGATIVE = _word_set(
    "sad angry upset anxious worried stressed frustrated tired lonely scared afraid disappointed bad "
    "terrible awful overwhelmed depressed hurt nervous miserable annoyed exhausted guilty ashamed jealous "
    "bored heartbroken insecure hopeless lost stuck burned burnt"
)
_EMOTIONS = "|".join(sorted((_POSITIVE | _NEGATIVE) - {"good", "bad", "important", "love", "loved", "lost"}))
_VERB_VALENCE = {
    "love": 0.9,
    "loves": 0.9,
    "loved": 0.9,
    "adore": 1.0,
    "adores": 1.0,
    "like": 0.6,
    "likes": 0.6,
    "liked": 0.6,
    "enjoy": 0.7,
    "enjoys": 0.7,
    "enjoyed": 0.7,
    "prefer": 0.5,
    "prefers": 0.5,
    "preferred": 0.5,
    "hate": -1.0,
    "hates": -1.0,
    "hated": -1.0,
    "dislike": -0.6,
    "dislikes": -0.6,
    "disliked": -0.6,
    "detest": -1.0,
    "detests": -1.0,
    "can't stand": -0.9,
    "cannot stand": -0.9,
}
_INTENSIFIERS = re.compile(
    r"\b(?:really|so|very|absolutely|totally|truly|deeply|extremely|incredibly|super|a lot|so much)\b", re.I
)
_HEDGES = re.compile(r"\b(?:kind of|sort of|a bit|a little|somewhat|maybe|slightly|kinda)\b", re.I)
_SUBJECT_STOP = re.compile(r"[,;:()]|\s(?:but|because|although|though|since|while|so that|whereas)\s", re.I)
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")

_COMPILED = tuple(
    (t, re.compile(rx.replace("{emotions}", _EMOTIONS), re.IGNORECASE), base, val) for t, rx, base, val in _RULES
)
# Text a rule's every match contains, searched first so the rule is skipped in a sentence without it: the value
# rule whose subject comes before its trigger tries a lazy 80-character prefix from every word of every sentence
# (70% of the extraction's time on chat text), and each of its matches ends in " to me" / " to us".
_NEEDS: dict[int, re.Pattern[str]] = {
    next(i for i, rule in enumerate(_RULES) if "(?P<pre>" in rule[1]): re.compile(r" to (?:me|us)\b", re.IGNORECASE)
}


@dataclass(frozen=True)
class Signal:
    """One personality signal found in a memory.

    Attributes:
        type: One of :data:`SIGNAL_TYPES`.
        subject: What the signal is about ("hiking in the mountains").
        text: The sentence it was found in.
        intensity: Strength in [0, 1].
        valence: Polarity in [-1, 1].
        start: Offset of the trigger in the source text.
        end: End offset of the subject in the source text.
    """

    type: str
    subject: str
    text: str
    intensity: float
    valence: float
    start: int = 0
    end: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly view."""
        return asdict(self)


def _clamp(x: float, lo: float, hi: float) -> float:
    return max(lo, min(hi, x))


def _subject(sentence: str, offset: int) -> tuple[str, int]:
    rest = sentence[offset:]
    cut = _SUBJECT_STOP.search(rest)
    if cut:
        rest = rest[: cut.start()]
    words = list(_WORD.finditer(rest))[:12]
    if not words:
        return "", offset
    return rest[words[0].start() : words[-1].end()], offset + words[-1].end()


def _lexicon_valence(words: Iterable[str]) -> float:
    score = sum((w in _POSITIVE) - (w in _NEGATIVE) for w in words)
    return _clamp(0.5 * score, -1.0, 1.0)


def _intensity(base: float, sentence: str) -> float:
    value = base + 0.15 * len(_INTENSIFIERS.findall(sentence)) - 0.2 * len(_HEDGES.findall(sentence))
    if "!" in sentence:
        value += 0.1
    return round(_clamp(value, 0.0, 1.0), 3)


def extract_signals(text: str) -> list[Signal]:
    """Every personality signal in ``text``, in order of appearance."""
    return _extract(text, _NEEDS)


def _extract(text: str, needs: Mapping[int, re.Pattern[str]]) -> list[Signal]:
    """``extract_signals``, skipping rule ``i`` in a sentence where ``needs[i]`` is not found (exact: a needed
    text is one every match of the rule contains)."""
    signals: list[Signal] = []
    for sent_match in _SENTENCE.finditer(text):
        sentence = sent_match.group()
        taken: list[tuple[int, int]] = []
        found: list[Signal] = []
        for i, (stype, rx, base, base_valence) in enumerate(_COMPILED):
            need = needs.get(i)
            if need is not None and need.search(sentence) is None:
                continue
            for m in rx.finditer(sentence):
                if any(m.start() < e and s < m.end() for s, e in taken):
                    continue
                if m.groupdict().get("pre"):
                    # "Honesty is important to me": the subject comes before the trigger.
                    pre_words = _WORD.findall(m["pre"])[-12:]
                    subject, subject_end = " ".join(pre_words), m.end()
                else:
                    subject, subject_end = _subject(sentence, m.end())
                if not subject and stype not in {"emotion"}:
                    continue
                taken.append((m.start(), m.end()))
                words = [w.casefold() for w in _WORD.findall(subject)]
                negated = bool(m.groupdict().get("neg")) or "not" in words[:2] or "never" in words[:2]
                verb = (m.groupdict().get("verb") or "").casefold()
                if verb in _VERB_VALENCE:
                    valence = _VERB_VALENCE[verb]
                elif base_valence is not None and base_valence != 0.0:
                    valence = base_valence
                elif stype in {"emotion", "value", "motivation", "decision"}:
                    valence = _lexicon_valence(words)
                    if stype in {"value", "motivation"} and valence == 0.0:
                        valence = 0.3
                else:
                    valence = 0.0
                if negated:
                    valence *= -0.7
                start = sent_match.start() + m.start()
                found.append(
                    Signal(
                        type=stype,
                        subject=subject,
                        text=sentence.strip(),
                        intensity=_intensity(base, sentence),
                        valence=round(_clamp(valence, -1.0, 1.0), 3),
                        start=start,
                        end=sent_match.start() + max(subject_end, m.end()),
                    )
                )
        signals.extend(sorted(found, key=lambda s: s.start))
    return signals


_QUERY_STOP = _word_set(
    "a an the what which who whom whose when where why how do does did is are was were be been i me my we "
    "our you your he she they them his her their it its of to in on at for with about and or not any some "
    "that this these those have has had user users"
)
_PREFERENCE_QUERY = re.compile(
    r"\b(?:like|likes|love|loves|prefer\w*|favou?rite\w*|enjoy\w*|hate\w*|dislike\w*|fan of|into|taste)\b",
    re.I,
)


_PREFERENTIAL = frozenset({"preference", "value"})


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


@functools.lru_cache(maxsize=8192)
def _terms(text: str) -> frozenset[str]:
    """Content words of ``text``, lightly stemmed (cached: signal subjects repeat across memories)."""
    return frozenset(_stem(w.casefold()) for w in _WORD.findall(text) if w.casefold() not in _QUERY_STOP)


def signal_scorer(query: str, preference_query: bool | None = None) -> Callable[[str, str, float], float]:
    """``score(type, text, intensity)`` of one signal for ``query``: :func:`match_signals`'s score, with the
    query's words and kind worked out once (the personality channel scores ~1,000 signals a question)."""
    if preference_query is None:
        preference_query = bool(_PREFERENCE_QUERY.search(query))
    q_terms = _terms(query)
    size = len(q_terms)

    def score(kind: str, text: str, intensity: float) -> float:
        overlap = len(q_terms & _terms(text)) / size if size else 0.0
        if preference_query and kind in _PREFERENTIAL:
            return round((overlap + 0.2) * (0.5 + 0.5 * intensity) * 1.5, 6)
        return round(overlap * (0.5 + 0.5 * intensity), 6)

    return score


def match_signals(query: str, signals: Sequence[Signal], *, preference_query: bool | None = None) -> list[float]:
    """Score each signal against ``query`` (same order as ``signals``), for the personality channel.

    The score is the fraction of the query's content words (stop-words dropped, light suffix stemming)
    found in the signal's sentence, times ``0.5 + 0.5 * intensity``. For a preference-type query (detected
    from words such as like/favourite/prefer unless ``preference_query`` says otherwise), preference and
    value signals get +0.2 before weighting, so "what does she like?" surfaces them even without other
    words in common, and their score is multiplied by 1.5.
    """
    score = signal_scorer(query, preference_query)
    return [score(signal.type, signal.text, signal.intensity) for signal in signals]


IdT = TypeVar("IdT", bound=Hashable)


def rank_memories(
    query: str, signals_by_memory: Mapping[IdT, Sequence[Signal]], limit: int = 50
) -> list[tuple[IdT, float]]:
    """The personality channel: memories ranked by their best-matching signal, zero scores dropped.

    Ties keep the mapping's order, so callers passing memories newest first favour recent ones.
    """
    rows = (
        (memory_id, s.type, s.text, s.intensity) for memory_id, signals in signals_by_memory.items() for s in signals
    )
    return rank_signal_rows(query, rows, limit)


def rank_signal_rows(
    query: str, rows: Iterable[tuple[IdT, str, str, float]], limit: int = 50
) -> list[tuple[IdT, float]]:
    """:func:`rank_memories` over ``(memory_id, type, text, intensity)`` rows, a memory's rows in any order and
    memories in the order ties should keep (their first row's): no Signal object per row, for the channel."""
    score = signal_scorer(query)
    best: dict[IdT, float] = {}
    for memory_id, kind, text, intensity in rows:
        value = score(kind, text, intensity)
        if value > best.get(memory_id, -1.0):
            best[memory_id] = value
    scored = [(memory_id, value) for memory_id, value in best.items() if value > 0]
    scored.sort(key=lambda pair: -pair[1])
    return scored[: max(0, limit)]


def _key(subject: str) -> str:
    words = [w.casefold() for w in _WORD.findall(subject)]
    return " ".join(w for w in words if w not in {"a", "an", "the", "my", "to"})


def synthesize_profile(signals: Iterable[Signal], per_type: int = 5) -> dict[str, list[dict[str, Any]]]:
    """Group signals into a profile: for each type, the top subjects.

    Signals with the same normalised subject merge: ``count`` is how often it was said, ``intensity`` the
    highest, ``valence`` the mean, ``text`` the most intense sentence. Subjects are ranked by
    ``count * intensity``. Every type is a key, possibly with an empty list.
    """
    groups: dict[str, dict[str, list[Signal]]] = defaultdict(lambda: defaultdict(list))
    for s in signals:
        if s.type in SIGNAL_TYPES:
            groups[s.type][_key(s.subject) or s.subject.casefold()].append(s)
    profile: dict[str, list[dict[str, Any]]] = {t: [] for t in SIGNAL_TYPES}
    for stype, by_subject in groups.items():
        entries: list[dict[str, Any]] = []
        for items in by_subject.values():
            strongest = max(items, key=lambda s: s.intensity)
            entries.append(
                {
                    "subject": strongest.subject,
                    "text": strongest.text,
                    "count": len(items),
                    "intensity": strongest.intensity,
                    "valence": round(sum(s.valence for s in items) / len(items), 3),
                }
            )
        entries.sort(key=lambda e: (-e["count"] * e["intensity"], e["subject"]))
        profile[stype] = entries[: max(0, per_type)]
    return profile
