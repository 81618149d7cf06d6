"""Splitting memory text into self-contained statements (pure, no model).

:func:`statements` is the rules tier of atomic decomposition:

1. **Sentence split** on ``.``, ``!``, ``?``, ``;`` and line breaks / bullets, not inside common
   abbreviations (``Dr.``, ``e.g.``), initials or decimals.
2. **Filler and meta removal**: greetings, thanks, acknowledgements and reactions ("Hi!", "Thanks so much",
   "Wow, great"), questions, and meta sentences ("Let me tell you something") are dropped; a meta lead-in
   before real content ("To summarize, ...", "Just so you know, ...") is cut off.
3. **Conjunction split**: "I live in Paris and work at Google" -> "I live in Paris", "I work at Google"
   when the right side starts with a verb (the left side's subject is carried over) or with its own subject
   ("..., but my sister lives in Rome").
4. **Self-contained only**: a statement needs three words and two content words, and does not open with a
   pronoun that points elsewhere ("it", "this", "they", "he", "she" ...).
5. **Near-duplicates dropped** (token-set Jaccard >= 0.8 to an earlier one), at most ``limit`` (10).

``tokens`` and ``jaccard`` are shared with the contradiction rules.
"""

from __future__ import annotations

import re

__all__ = ["STOPWORDS", "jaccard", "statements", "tokens"]

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "so",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "with",
        "by",
        "from",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "am",
        "i",
        "me",
        "my",
        "we",
        "our",
        "you",
        "your",
        "he",
        "him",
        "his",
        "she",
        "her",
        "it",
        "its",
        "they",
        "them",
        "their",
        "this",
        "that",
        "these",
        "those",
        "there",
        "here",
        "do",
        "does",
        "did",
        "have",
        "has",
        "had",
        "will",
        "would",
        "can",
        "could",
        "should",
        "shall",
        "may",
        "might",
        "must",
        "just",
        "also",
        "very",
        "really",
        "too",
        "then",
        "than",
        "into",
        "about",
        "over",
        "under",
        "up",
        "down",
        "out",
        "off",
        "again",
        "further",
        "once",
        "all",
        "any",
        "both",
        "each",
        "few",
        "more",
        "most",
        "other",
        "some",
        "such",
        "only",
        "own",
        "same",
        "s",
        "t",
        "don",
        "now",
    ]
)
_ABBREV = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|Prof|Sr|Jr|St|vs|etc|e\.g|i\.e|approx|No|Inc|Ltd|Co)\.$", re.IGNORECASE)
_SPLIT = re.compile(r"(?<=[.!?;])\s+|\n+|(?:^|\s)[-*\u2022]\s+")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'\-]*")
_FILLER = re.compile(
    r"^(?:hi|hey|hello|hiya|yo|good (?:morning|afternoon|evening|night)|thanks?(?: you)?|thank you|cheers|"
    r"bye|goodbye|see you|take care|ok(?:ay)?|sure|yes|yeah|yep|no|nope|cool|great|awesome|nice|wow|oh|ah|"
    r"haha+|lol|hmm+|um+|well|right|exactly|absolutely|of course|no problem|you're welcome|sounds good|"
    r"that's (?:great|awesome|cool|amazing|nice|wonderful|so cool|good to hear)|good to (?:hear|see)|"
    r"glad to hear|me too|same here|i see|got it|i agree|agreed|definitely|totally)\b",
    re.IGNORECASE,
)
_META = re.compile(
    r"^(?:let me (?:tell|share|explain|summari[sz]e)|here(?:'s| is) (?:what|the thing|a summary)|"
    r"as i (?:said|mentioned)|i (?:just )?wanted to (?:say|share|tell you|let you know)|"
    r"(?:just )?so you know|to (?:summari[sz]e|sum up|be clear)|in summary|note|summary|fyi|btw|"
    r"by the way|anyway|also|plus|basically|honestly|actually)\b[\s,:\-]*",
    re.IGNORECASE,
)
_DANGLING = frozenset({"it", "this", "that", "these", "those", "they", "them", "he", "she", "him", "her", "there"})
_SUBJECT = re.compile(r"^(I|[Ww]e|[Yy]ou|[Mm]y \w+|[Oo]ur \w+|[A-Z][a-z]+)\s+")
_VERBS = frozenset(
    [
        "am",
        "is",
        "are",
        "was",
        "were",
        "have",
        "has",
        "had",
        "work",
        "works",
        "worked",
        "live",
        "lives",
        "lived",
        "like",
        "likes",
        "liked",
        "love",
        "loves",
        "loved",
        "enjoy",
        "enjoys",
        "enjoyed",
        "own",
        "owns",
        "owned",
        "moved",
        "move",
        "moves",
        "started",
        "start",
        "starts",
        "bought",
        "buy",
        "buys",
        "play",
        "plays",
        "played",
        "study",
        "studies",
        "studied",
        "go",
        "goes",
        "went",
        "got",
        "get",
        "gets",
        "need",
        "needs",
        "want",
        "wants",
        "prefer",
        "prefers",
        "preferred",
        "hate",
        "hates",
        "hated",
        "use",
        "uses",
        "used",
        "visit",
        "visits",
        "visited",
        "joined",
        "join",
        "left",
        "quit",
        "teach",
        "teaches",
        "taught",
        "run",
        "runs",
        "ran",
        "drive",
        "drives",
        "drove",
        "speak",
        "speaks",
        "spoke",
        "write",
        "writes",
        "wrote",
        "read",
        "reads",
        "build",
        "builds",
        "built",
        "cook",
        "cooks",
        "cooked",
        "adopted",
        "became",
        "become",
        "plan",
        "plans",
        "planned",
    ]
)
_CONJ = re.compile(r"(,?\s+(?:and|but|while|whereas)\s+|,\s+(?=(?:I|my|we|our)\b))")


def tokens(text: str) -> set[str]:
    """Lower-cased word tokens of ``text`` (stopwords kept)."""
    return {w.lower() for w in _WORD.findall(text)}


def content_tokens(text: str) -> set[str]:
    """Lower-cased word tokens without stopwords."""
    return tokens(text) - STOPWORDS


def jaccard(a: set[str], b: set[str]) -> float:
    """Token-set Jaccard similarity (0 when both are empty)."""
    return len(a & b) / len(a | b) if a or b else 0.0


def _sentences(text: str) -> list[str]:
    parts: list[str] = []
    for piece in _SPLIT.split(text.strip()):
        piece = piece.strip()
        if not piece:
            continue
        if parts and (_ABBREV.search(parts[-1]) or re.search(r"\b[A-Z]\.$", parts[-1])):
            parts[-1] = f"{parts[-1]} {piece}"  # "Dr. Smith", "J. R. R." were split after the dot
        else:
            parts.append(piece)
    return parts


def _strip_meta(sentence: str) -> str:
    previous = None
    while previous != sentence:
        previous = sentence
        sentence = _META.sub("", sentence, count=1).strip()
    return sentence


def _is_filler(sentence: str) -> bool:
    if sentence.endswith("?"):
        return True  # a question states nothing
    if _FILLER.match(sentence):
        rest = _FILLER.sub("", sentence, count=1)
        rest = re.sub(r"^[\s,!.\-:]+", "", rest)
        # "Thanks, I moved to Berlin" keeps its content; "Hey Mel, good to see you!" has none left.
        return len(content_tokens(rest)) < 2 or bool(_FILLER.match(rest)) or _looks_like_name_only(rest)
    return False


def _looks_like_name_only(rest: str) -> bool:
    words = _WORD.findall(rest)
    return 0 < len(words) <= 2 and all(w[0].isupper() for w in words)


def _conjunction_split(sentence: str) -> list[str]:
    subject = _SUBJECT.match(sentence)
    pieces = _CONJ.split(sentence)  # text, separator, text, separator, ...
    if len(pieces) == 1:
        return [sentence]
    out = [pieces[0]]
    for sep, right in zip(pieces[1::2], pieces[2::2], strict=True):
        words = right.split()
        if len(words) >= 2 and words[0].lower() in _VERBS and subject is not None:
            out.append(f"{subject.group(1)} {right}")  # "... and work at Google" -> "I work at Google"
        elif _starts_clause(right):
            out.append(right)  # "... but my sister lives in Rome"
        else:
            out[-1] = f"{out[-1]}{sep}{right}"  # "apples and oranges": not a clause, keep it as written
    return out


def _starts_clause(text: str) -> bool:
    """Whether ``text`` opens with its own subject and a verb ("my brother lives ...")."""
    m = _SUBJECT.match(text)
    rest = text[m.end() :].split() if m else []
    return bool(rest) and (rest[0].lower() in _VERBS or rest[0].lower().endswith("ed"))


def _tidy(statement: str) -> str:
    statement = statement.strip(" ,;:-")
    statement = statement.rstrip(".!;")
    if not statement:
        return ""
    return statement[0].upper() + statement[1:] + "."


def _self_contained(statement: str) -> bool:
    words = _WORD.findall(statement)
    if len(words) < 3 or len(content_tokens(statement)) < 2:
        return False
    return words[0].lower() not in _DANGLING


def statements(text: str, limit: int = 10) -> list[str]:
    """The self-contained statements of ``text``, in order (see the module docstring)."""
    out: list[str] = []
    seen: list[set[str]] = []
    for sentence in _sentences(text):
        if _is_filler(sentence):
            continue
        sentence = _strip_meta(sentence)
        if not sentence or _is_filler(sentence):
            continue
        for piece in _conjunction_split(sentence):
            statement = _tidy(piece)
            if not statement or not _self_contained(statement):
                continue
            toks = content_tokens(statement)
            if any(jaccard(toks, other) >= 0.8 for other in seen):
                continue
            seen.append(toks)
            out.append(statement)
            if len(out) >= limit:
                return out
    return out
