"""Pronoun resolution for decomposition: "Alice lives in Oslo. She moved to Berlin." -> "Alice moved to
Berlin", so each fact memory stays self-contained and its structured facts have the right subject.

Rules on the memory's own named people, leaning to precision: a capitalised word counts as a person when
it is not a known non-name (pronouns, determiners, months, weekdays...) and does not follow a place
preposition ("in Berlin", "at Acme"). A subject pronoun (``he``/``she`` opening a sentence or a clause
after "and"/"but"/"so") and a possessive opening a sentence (``his``/``her`` -> ``Alice's``) are replaced
only when exactly one person has been named before it in the memory: with two candidates ("Alice met
Bob. She ...") nothing is replaced. ``they``/``it`` are never resolved (a group, a thing). A chat turn's
speaker label is not a candidate (``I`` is the speaker; see ``decompose.speaker_of``).
"""

from __future__ import annotations

import re

__all__ = ["people", "resolve_pronouns"]

_SENT = re.compile(r"(?<=[.!?;])\s+|\n+")
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*")
_NON_NAMES = frozenset(
    [
        "I",
        "I'm",
        "I've",
        "I'd",
        "I'll",
        "We",
        "We're",
        "Our",
        "My",
        "Your",
        "You",
        "The",
        "A",
        "An",
        "This",
        "That",
        "These",
        "Those",
        "It",
        "Its",
        "He",
        "She",
        "His",
        "Her",
        "They",
        "Their",
        "Them",
        "There",
        "Here",
        "What",
        "When",
        "Where",
        "Why",
        "How",
        "Who",
        "Which",
        "And",
        "But",
        "So",
        "Or",
        "If",
        "Then",
        "Also",
        "Yes",
        "No",
        "Not",
        "Thanks",
        "Thank",
        "Hi",
        "Hey",
        "Hello",
        "Oh",
        "Well",
        "Just",
        "Today",
        "Tomorrow",
        "Yesterday",
        "Last",
        "Next",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
        "Mr",
        "Mrs",
        "Ms",
        "Dr",
        "As",
        "Therefore",
        "After",
        "Before",
        "Since",
        "Because",
        "Every",
        "Some",
        "All",
        "Both",
        "Each",
        "Mom",
        "Mum",
        "Dad",
        "OK",
        "Okay",
        "Wow",
        "Great",
        "Sure",
        "Maybe",
    ]
)
_PLACE_PREP = frozenset({"in", "at", "to", "from", "near", "into", "across", "of", "on", "via", "for"})
_TO_PERSON = frozenset(
    {"talked", "spoke", "wrote", "said", "listened", "married", "engaged", "introduced", "replied", "sent", "gave",
     "showed", "lent", "sold", "explained", "apologized", "apologised", "waved", "texted", "called"}
)  # fmt: skip
_SUBJECT = re.compile(r"(^|(?:,\s*|\s)(?:and|but|so|then)\s+)(she|he)\b(?=\s+[a-z])", re.IGNORECASE)
_POSSESSIVE = re.compile(r"^(his|her)\s+(?=[a-z])", re.IGNORECASE)


def people(sentence: str) -> list[str]:
    """Capitalised words of ``sentence`` that look like people's names, in order."""
    out: list[str] = []
    words = list(_WORD.finditer(sentence))
    for i, m in enumerate(words):
        word = m.group(0)
        if not word[0].isupper() or word in _NON_NAMES or word.isupper():
            continue
        previous = words[i - 1].group(0).lower() if i else ""
        if previous in _PLACE_PREP and not (previous == "to" and i > 1 and words[i - 2].group(0).lower() in _TO_PERSON):
            continue
        if i == 0 and len(words) > 1 and words[1].group(0)[0].isupper():
            continue  # "New York ...", "Acme Corp ...": a name of a thing, not a subject person
        if i + 1 < len(words) and words[i + 1].group(0)[0].isupper() and words[i + 1].group(0) not in _NON_NAMES:
            continue  # "Acme Corp", "Alice Smith" mid-sentence: ambiguous, skipped
        if i and words[i - 1].group(0)[0].isupper() and words[i - 1].group(0) not in _NON_NAMES:
            continue  # the second word of "New York", "Alice Smith"
        if word not in out:
            out.append(word)
    return out


def resolve_pronouns(text: str) -> tuple[str, set[str]]:
    """``text`` with the unambiguous he/she/his/her replaced by the one person named before them, and
    the names used."""
    named: list[str] = []
    used: set[str] = set()
    out: list[str] = []

    def one(before: str) -> str | None:
        found = named + [p for p in people(before) if p not in named]
        return found[0] if len(found) == 1 else None

    for sentence in _SENT.split(text):

        def subject(m: re.Match[str], sentence: str = sentence) -> str:
            name = one(sentence[: m.start()])
            if name is None:
                return m.group(0)
            used.add(name)
            return f"{m.group(1)}{name}"

        sentence = _SUBJECT.sub(subject, sentence)
        owner = one("")
        if owner is not None and _POSSESSIVE.match(sentence):
            sentence = _POSSESSIVE.sub(f"{owner}'s ", sentence)
            used.add(owner)
        for person in people(sentence):
            if person not in named:
                named.append(person)
        out.append(sentence)
    if not used:
        return text, used
    return " ".join(out), used
