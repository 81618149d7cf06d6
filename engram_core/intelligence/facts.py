"""Structured facts in time: (subject, predicate, object) triples read from a statement by rules.

:func:`extract` reads one statement (see :mod:`.statements`) and returns :class:`Triple` s. The subject is
``user`` for the first person ("I", "we", "my ..."), else a capitalised name ("Alice lives in Oslo" ->
``alice``); a pronoun subject ("she") is not resolved and yields nothing. Shapes recognised:

=====================  =====================================================================  ==========
predicate              text                                                                   functional
=====================  =====================================================================  ==========
lives_in               live(s)/am based/reside in X; moved/relocated to X                     yes
works_at               work(s) at/for X; started (working) at X; joined X; quit my job at X   yes
works_as               work(s) as a X; my job is X; became a X                                yes
married_to             am/got married to X; married X; my wife/husband is X; divorced X       yes
favourite_<thing>      my favourite <thing> is X                                              yes
<attribute>            my name/age/birthday/email/address/salary/rent/budget/... is X         yes
age                    I am N (years old); I turned N                                         yes
has_<things>           I have N kids/children/cats/dogs/siblings/...                          yes
born                   I was born in/on X                                                     yes
likes                  like/love/enjoy/adore X (+); dislike/hate/can't stand X (-)            no
prefers                prefer X                                                               no
owns                   own/bought/adopted a X, have a <car/dog/...> (+); sold my X (-)        no
=====================  =====================================================================  ==========

A negation before the verb ("I don't live in Paris anymore", "I no longer work at Acme") gives polarity
-1. Statements about the future or wishes ("I want to move to Berlin", "I will ...") state no fact.
``valid_at`` is the time the statement names, resolved against the memory's ``created_at`` ("in March"
-> the last March on or before it, "last week", "2023-05-07", "since 2020"), else ``created_at``.
A functional predicate holds one value at a time per subject; a non-functional one holds many, and only
the same object with the opposite polarity conflicts (see :mod:`.contradictions`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from ..search.temporal import MONTHS, find_window
from ..timeutil import format_ts

__all__ = ["FUNCTIONAL", "Triple", "extract", "object_key", "same_object", "says_change"]

NON_FUNCTIONAL = frozenset({"likes", "prefers", "owns"})


def FUNCTIONAL(predicate: str) -> bool:  # noqa: N802 - reads as a constant test
    """Whether ``predicate`` holds one value at a time."""
    return predicate not in NON_FUNCTIONAL


@dataclass(frozen=True)
class Triple:
    """One fact read from a statement; ``valid_at`` is an ISO timestamp."""

    subject: str
    predicate: str
    object: str
    polarity: int
    confidence: float
    valid_at: str
    change: bool  # the text says something changed ("moved", "no longer", "now" ...)


_CONTRACTIONS = [
    (re.compile(r"\bI'm\b", re.I), "I am"), (re.compile(r"\bI've\b", re.I), "I have"),
    (re.compile(r"\bwe're\b", re.I), "we are"), (re.compile(r"\bcan't\b", re.I), "cannot"),
    (re.compile(r"\bwon't\b", re.I), "will not"), (re.compile(r"\b(\w+)n't\b", re.I), r"\1 not"),
]  # fmt: skip
_FUTURE = re.compile(
    r"\b(?:will|shall|going to|gonna|plan(?:ning)? to|want(?:s|ed)? to|would(?: like to)?|might|may|hope to|"
    r"thinking (?:of|about)|considering|if|when|wish|could|should|next (?:week|month|year))\b",
    re.I,
)
_LEAD = re.compile(
    r"^(?:(?:last|this|next) \w+|in \w+(?: \d{4})?|yesterday|today|recently|now|lately|these days|"
    r"since \w+(?: \d{4})?|\d+ \w+ ago|(?:a|one|two|three) \w+ ago|on \w+(?: \d+\w*)?(?:,? \d{4})?|"
    r"as of \w+(?: \d{4})?|so|and|but|also|well)\s*,?\s+",
    re.I,
)
_S = r"(?P<s>I|we|[A-Z][a-z]+)"
_ADV = r"(?:(?:now|currently|still|also|just|recently|finally|actually|really|already|officially)\s+)*"
_NEG = r"(?P<neg>(?:do not|does not|did not|am not|is not|are not|no longer|never|not)\s+)?"
_O = r"(?P<o>[^,.;!?()]+)"
_NAME = r"(?P<o>[A-Z][\w'\-]+(?:\s+[A-Z][\w'\-]+)?)"
_NUM_WORDS = {
    "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8",
    "nine": "9", "ten": "10", "a": "1", "an": "1", "no": "0", "zero": "0",
}  # fmt: skip
_NUM = r"(?P<o>\d+|" + "|".join(w for w in _NUM_WORDS if len(w) > 2) + ")"
_COUNTED = (
    r"(?P<what>kids|children|sons|daughters|cats|dogs|pets|siblings|brothers|sisters|cars|grandchildren|"
    r"kid|child|son|daughter|cat|dog|pet|sibling|brother|sister|car|grandchild)"
)
_OWNABLE = r"(?:car|dog|cat|house|home|apartment|flat|bike|bicycle|motorcycle|boat|horse|puppy|kitten|truck|van)"
_ATTRIBUTES = (
    r"(?P<attr>name|age|birthday|email(?: address)?|phone(?: number)?|address|salary|rent|budget|mortgage|"
    r"time ?zone|job title|job|title|role|goal|deadline|height|weight|blood type|nationality|religion|"
    r"major|hometown|password hint|username|handle|boss|manager|landlord|doctor|dentist|partner|"
    r"wife|husband|girlfriend|boyfriend|fianc[eé]e?)"
)

# (predicate, pattern, polarity, change); the pattern is matched at the start of the statement.
_RULES: list[tuple[str, re.Pattern[str], int, bool]] = [
    ("lives_in", re.compile(rf"^{_S}\s+{_ADV}{_NEG}{_ADV}(?:live|lives|living|am living|reside|resides|"
                            rf"am based|is based|are based|stay|stays)\s+{_ADV}in\s+{_O}"), 1, False),
    ("lives_in", re.compile(rf"^{_S}\s+{_ADV}(?:have |has )?(?:moved|relocated)\s+(?:back\s+)?(?:to|into)\s+"
                            rf"{_O}"), 1, True),
    ("works_at", re.compile(rf"^{_S}\s+{_ADV}{_NEG}{_ADV}(?:work|works|working|am working)\s+(?:at|for)\s+{_O}"),
     1, False),
    ("works_at", re.compile(rf"^{_S}\s+{_ADV}(?:started|start|began|begin)\s+(?:a new job |my new job |a job |"
                            rf"working |work |my job )?at\s+{_O}"), 1, True),
    ("works_at", re.compile(rf"^{_S}\s+{_ADV}(?:joined|got a job at|got hired at|got hired by|was hired by)\s+"
                            rf"{_O}"), 1, True),
    ("works_at", re.compile(rf"^{_S}\s+{_ADV}(?:quit|left)\s+(?:my|his|her|their|our) job (?:at|with)\s+{_O}"),
     -1, True),
    ("works_as", re.compile(rf"^{_S}\s+{_ADV}{_NEG}{_ADV}(?:work|works|working|am working)\s+as\s+(?:an?\s+)?"
                            rf"{_O}"), 1, False),
    ("works_as", re.compile(rf"^{_S}\s+{_ADV}(?:became|become|have become|has become)\s+an?\s+{_O}"), 1, True),
    ("married_to", re.compile(rf"^{_S}\s+{_ADV}(?:am|is|are|got|get|was)\s+{_NEG}married\s+to\s+{_NAME}"),
     1, False),
    ("married_to", re.compile(rf"^{_S}\s+{_ADV}(?:married)\s+{_NAME}"), 1, True),
    ("married_to", re.compile(rf"^{_S}\s+{_ADV}(?:divorced|got divorced from|separated from)\s+{_NAME}"), -1, True),
    ("age", re.compile(rf"^{_S}\s+(?:am|is)\s+{_ADV}(?P<o>\d{{1,3}})(?:\s+years?\s+old)?\s*$"), 1, False),
    ("age", re.compile(rf"^{_S}\s+{_ADV}(?:turned|just turned)\s+(?P<o>\d{{1,3}})"), 1, True),
    ("born", re.compile(rf"^{_S}\s+(?:was|were)\s+born\s+(?:in|on)\s+{_O}"), 1, False),
    ("has_", re.compile(rf"^{_S}\s+{_ADV}(?:have|has|have got)\s+{_NUM}\s+{_COUNTED}\b"), 1, False),
    ("likes", re.compile(rf"^{_S}\s+{_ADV}{_NEG}{_ADV}(?:like|likes|love|loves|enjoy|enjoys|adore|adores)\s+"
                         rf"{_O}"), 1, False),
    ("likes", re.compile(rf"^{_S}\s+{_ADV}(?:dislike|dislikes|hate|hates|cannot stand|detest|detests)\s+{_O}"),
     -1, False),
    ("prefers", re.compile(rf"^{_S}\s+{_ADV}{_NEG}(?:prefer|prefers)\s+{_O}"), 1, False),
    ("owns", re.compile(rf"^{_S}\s+{_ADV}{_NEG}(?:own|owns|bought|purchased|adopted|got)\s+(?:a|an|two|three)\s+"
                        rf"{_O}"), 1, False),
    ("owns", re.compile(rf"^{_S}\s+{_ADV}{_NEG}(?:have|has)\s+(?:a|an)\s+(?P<o>(?:\w+\s+)?{_OWNABLE})\b"), 1, False),
    ("owns", re.compile(rf"^{_S}\s+{_ADV}(?:sold|gave away|got rid of)\s+(?:my|his|her|our|the|their)\s+{_O}"),
     -1, True),
]  # fmt: skip
_MY = re.compile(rf"^(?P<s>my|our)\s+{_ATTRIBUTES}\s+is\s+(?:now\s+)?{_O}", re.I)
_FAVOURITE = re.compile(
    rf"^(?P<s>[Mm]y|[Oo]ur|[A-Z][a-z]+'s)\s+favou?rite\s+(?P<what>\w+(?:\s\w+)?)\s+is\s+(?:now\s+)?{_O}"
)
_CUT = re.compile(
    r"\s+(?:and|but|because|since|for|with|while|when|where|who|which|that|after|before|so|as|until|though|"
    r"although|in (?:" + "|".join(MONTHS) + r"|\d{4})\b|last|this|next|now|anymore|any more|again|yesterday|"
    r"today|recently|ago|these days|at the moment|right now|lately|instead|too|either)\b.*$",
    re.I,
)
_NOT_NAMES = frozenset(
    [
        "The",
        "A",
        "An",
        "This",
        "That",
        "These",
        "Those",
        "There",
        "Here",
        "It",
        "He",
        "She",
        "They",
        "We",
        "You",
        "My",
        "Our",
        "Your",
        "His",
        "Her",
        "Their",
        "Its",
        "Last",
        "Next",
        "Yesterday",
        "Today",
        "Tomorrow",
        "Now",
        "Then",
        "So",
        "And",
        "But",
        "Also",
        "Well",
        "Yes",
        "No",
        "Oh",
        "Wow",
        "Hey",
        "Hi",
        "Hello",
        "Thanks",
        "Maybe",
        "Sometimes",
        "Everyone",
        "Everybody",
        "Someone",
        "Nobody",
        "Nothing",
        "Everything",
        "What",
        "Who",
        "When",
        "Where",
        "Why",
        "How",
        "Please",
        "Just",
        "Lately",
    ]
)


def object_key(obj: str) -> str:
    """The comparison form of an object: lower-cased, articles and punctuation dropped."""
    words = re.findall(r"[\w'\-]+", obj.lower())
    while words and words[0] in {"a", "an", "the", "my", "our", "his", "her", "their"}:
        words = words[1:]
    return " ".join(words)


def same_object(a: str, b: str) -> bool:
    """Whether two objects name the same thing ("Berlin" and "Berlin, Germany" do)."""
    ka, kb = object_key(a), object_key(b)
    return ka == kb or ka.startswith(kb + " ") or kb.startswith(ka + " ")


def _normalise(statement: str) -> str:
    text = statement.replace("\u2019", "'").strip()
    for rx, repl in _CONTRACTIONS:
        text = rx.sub(repl, text)
    return text


def _clean_object(raw: str) -> str | None:
    obj = _CUT.sub("", raw.strip()).strip(" '\"-")
    obj = re.sub(r"^(?:in|at|to)\s+", "", obj)
    words = obj.split()
    if not words or len(words) > 6:
        return None
    return obj


def _subject(raw: str) -> str | None:
    if raw in {"I", "we", "We", "my", "My", "our", "Our"}:
        return "user"
    if raw.endswith("'s"):
        raw = raw[:-2]
    if raw in _NOT_NAMES or not raw[:1].isupper():
        return None
    return raw.lower()


def resolve_date(statement: str, created_at: datetime) -> datetime | None:
    """The time ``statement`` names, relative to ``created_at`` (None: it names none)."""
    m = re.search(r"\b(?:in|since|from|during)\s+(" + "|".join(MONTHS) + r")\b(?!\s+\d)", statement, re.I)
    if m:  # a month without a year: the last one on or before created_at
        month = MONTHS[m.group(1).lower()]
        year = created_at.year if month <= created_at.month else created_at.year - 1
        return datetime(year, month, 1, tzinfo=UTC)
    m = re.search(r"\bsince\s+(\d{4})\b", statement)
    if m:
        return datetime(int(m.group(1)), 1, 1, tzinfo=UTC)
    window = find_window(statement, created_at)
    if window is None or window.start > created_at:
        return None
    return window.start


_CHANGE = re.compile(
    r"\b(?:moved|relocated|started|began|joined|switched|changed|became|now|no longer|anymore|any more|quit|"
    r"left|new|sold|divorced|turned|since|nowadays|these days)\b",
    re.I,
)


def says_change(text: str) -> bool:
    """Whether ``text`` says something changed ("moved", "now", "no longer" ...)."""
    return bool(_CHANGE.search(text))


def extract(statement: str, created_at: datetime, speaker: str | None = None) -> list[Triple]:
    """The facts ``statement`` states (see the module docstring); ``created_at`` is the memory's time.

    ``speaker`` names who says it (a chat turn's label): the first person is then that name, not ``user``.
    """
    found = _extract(statement, created_at)
    if speaker is None:
        return found
    who = speaker.strip().lower()
    return [Triple(who if t.subject == "user" else t.subject, *_rest(t)) for t in found]


def _rest(t: Triple) -> tuple[str, str, int, float, str, bool]:
    return t.predicate, t.object, t.polarity, t.confidence, t.valid_at, t.change


def _extract(statement: str, created_at: datetime) -> list[Triple]:
    text = _normalise(statement).rstrip(" .!")
    if not text or text.endswith("?") or _FUTURE.search(text):
        return []
    body = text
    for _ in range(2):
        body = _LEAD.sub("", body, count=1)
    when = resolve_date(text, created_at) or created_at
    valid_at = format_ts(when)
    change = bool(_CHANGE.search(text))
    found: list[Triple] = []
    for predicate, rx, polarity, changes in _RULES:
        m = rx.match(body)
        if m is None:
            continue
        subject = _subject(m.group("s"))
        obj = _clean_object(m.group("o"))
        if subject is None or obj is None:
            continue
        names = m.groupdict()
        if predicate == "has_":
            what = names["what"]
            predicate = "has_" + (what if what.endswith("s") else ("children" if what == "child" else what + "s"))
            obj = _NUM_WORDS.get(obj.lower(), obj)
        if predicate == "works_as":
            obj = re.sub(r"\s+(?:at|in|on)\b.*$", "", obj)
        sign = -polarity if names.get("neg") else polarity
        found.append(Triple(subject, predicate, obj, sign, 0.9, valid_at, change or changes))
        break
    for rx, name in ((_MY, "attr"), (_FAVOURITE, "what")):
        m = rx.match(body)
        if m is None:
            continue
        subject = _subject(m.group("s"))
        obj = _clean_object(m.group("o"))
        if subject is None or obj is None:
            continue
        attr = re.sub(r"\W+", "_", m.group(name).lower())
        predicate = attr if name == "attr" else f"favourite_{attr}"
        found.append(Triple(subject, predicate, obj, 1, 0.8, valid_at, change))
    return found
