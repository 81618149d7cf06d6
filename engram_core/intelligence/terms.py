"""Text analysis for rule matching: what a rule forbids or cautions, and the key terms of a text.

``rule_kind(text)`` says whether a memory reads as a prohibition (``block``: never, do not, must not ...)
or a caution (``warn``: be careful, avoid, always, ask before ...). ``key_terms(text)`` is the set of
normalised terms a match is measured on: paths (kept whole, compared by prefix), short command flags
(``-rf`` -> ``-r``, ``-f``), long flags as words (``--force`` -> ``force``), and words folded through a
small stemmer and synonym table (``remove``/``rm``/``drop`` -> ``delete``, ``prod`` -> ``production``),
without stop words, generic verbs or the rule markers themselves.
"""

from __future__ import annotations

import re

__all__ = ["Terms", "conflicts", "coverage", "key_terms", "rule_kind", "rule_terms", "strip_markers"]

_BLOCK = re.compile(
    r"\b(never|do not|don'?t|dont|must not|mustn'?t|may not|cannot|can'?t|shall not|not allowed|not permitted|"
    r"forbidden|prohibited|under no circumstances?|no one may|is banned|are banned|off[- ]limits)\b"
)
_WARN = re.compile(
    r"\b(careful|caution|cautious|avoid|should not|shouldn'?t|prefer not|double[- ]check|ask (me )?before|"
    r"confirm (with me )?before|check before|think twice|warning|beware|always|make sure|must|be wary|"
    r"only after|only with|requires? approval)\b"
)
_PATH = re.compile(r"(?<![\w/])(?:~|\.{1,2})?/[\w.\-/]*[\w\-]|(?<![\w/])[\w.\-]+/[\w.\-/]*[\w\-]")
_LONG_FLAG = re.compile(r"(?<![\w-])--([a-z][a-z0-9-]+)")
_SHORT_FLAG = re.compile(r"(?<![\w-])-([a-z]{1,4})\b")
_WORD = re.compile(r"[a-z0-9][a-z0-9_+#]*")


def _w(text: str) -> list[str]:
    return text.split()


_STOP = frozenset(
    _w("""
a an the and or but if then else of to in on at by for with from into onto over under about as is are was were be been
being it its this that these those there here i me my we our you your he she they them their his her us any all some
no not never do does did done don't dont doesn't must should shall may might can could would will wont won't ever
without before after while when where which who whom what how why so than too very just also only even again once
run running ran execute use using used make perform try please always careful caution avoid warning beware sure
check ask confirm first let lets let's thing things something anything everything way get got up back new send
file files me all
""")
)

_SYNONYMS = {
    **dict.fromkeys(
        _w(
            "delete deleting deleted remove removing removed rm rmdir erase wipe destroy purge drop "
            "unlink del truncate nuke"
        ),
        "delete",
    ),
    **dict.fromkeys(_w("production prod live"), "production"),
    **dict.fromkeys(_w("database databases db dbs"), "database"),
    **dict.fromkeys(_w("master main"), "main"),
    **dict.fromkeys(
        _w("secret secrets password passwords passwd credential credentials token tokens apikey api_key api_keys"),
        "credential",
    ),
    **dict.fromkeys(_w("directory directories dir dirs folder folders"), "directory"),
    **dict.fromkeys(_w("deploy deploying deployed deployment release ship shipping"), "deploy"),
    **dict.fromkeys(_w("force forced forcing"), "force"),
    **dict.fromkeys(
        _w("modify modifying modified edit editing edited change changing vim vi nano emacs sed overwrite"), "modify"
    ),
    **dict.fromkeys(_w("sudo root superuser"), "sudo"),
    **dict.fromkeys(_w("email emails mail e-mail"), "email"),
    **dict.fromkeys(_w("friday fridays"), "friday"),
    **dict.fromkeys(_w("weekend weekends saturday sunday"), "weekend"),
    **dict.fromkeys(_w("migrate migration migrations"), "migration"),
    **dict.fromkeys(_w("dependency dependencies package packages"), "package"),
    **dict.fromkeys(_w("repo repos repository repositories"), "repository"),
}

Terms = frozenset[str]


def rule_kind(text: str) -> str | None:
    """``block`` for a prohibition, ``warn`` for a caution or standing obligation, None for neither."""
    low = text.lower()
    if _BLOCK.search(low):
        return "block"
    if _WARN.search(low):
        return "warn"
    return None


def strip_markers(text: str) -> str:
    """The rule without its prohibition/caution words (what it is about), for embedding."""
    out = _WARN.sub(" ", _BLOCK.sub(" ", text.lower()))
    return re.sub(r"\s+", " ", out).strip(" .,;:!") or text


_PHRASES = ((re.compile(r"\bapi[ _-]?keys?\b"), "apikey"), (re.compile(r"\bpull requests?\b"), "pr"))
_CONDITION = re.compile(r"\b(without|unless|except)\b[^.;,]*")


def _stem(word: str) -> str:
    if word in _SYNONYMS:
        return _SYNONYMS[word]
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            word = word[: -len(suffix)]
            break
    if word in _SYNONYMS:
        return _SYNONYMS[word]
    return word[:-1] if len(word) > 4 and word.endswith("e") else word


def rule_terms(text: str) -> Terms:
    """The key terms of a rule: what it is about, without its markers or conditions ("without asking")."""
    return key_terms(_CONDITION.sub(" ", strip_markers(text)))


def key_terms(text: str) -> Terms:
    """The normalised terms of ``text`` (see the module docstring)."""
    low = text.lower()
    for pattern, replacement in _PHRASES:
        low = pattern.sub(replacement, low)
    out: set[str] = set()
    for path in _PATH.findall(low):
        out.add("path:" + path.rstrip("/"))
    rest = _PATH.sub(" ", low)
    for flag in _LONG_FLAG.findall(rest):
        out.update(_stem(p) for p in flag.split("-") if p and p not in _STOP)
    rest = _LONG_FLAG.sub(" ", rest)
    for cluster in _SHORT_FLAG.findall(rest):
        out.update(f"-{c}" for c in cluster)
    rest = _SHORT_FLAG.sub(" ", rest)
    for word in _WORD.findall(rest.replace("'", "")):
        if word in _STOP or len(word) < 2:
            continue
        out.add(_stem(word))
    return frozenset(out)


def _path_match(rule_path: str, action_terms: Terms) -> bool:
    """A rule path matches an action path equal to it, below it, or above it (deleting a parent)."""
    for term in action_terms:
        if not term.startswith("path:"):
            continue
        a = term[5:]
        if a == rule_path or a.startswith(rule_path + "/") or rule_path.startswith(a + "/"):
            return True
    return False


def coverage(rule_terms: Terms, action_terms: Terms) -> tuple[float, list[str]]:
    """The weighted share of the rule's terms found in the action (paths weigh 1.5, flags 0.5), and which matched."""
    if not rule_terms:
        return 0.0, []
    total = matched = 0.0
    hits: list[str] = []
    for term in sorted(rule_terms):
        weight = 1.5 if term.startswith("path:") else 0.5 if term.startswith("-") else 1.0
        total += weight
        found = _path_match(term[5:], action_terms) if term.startswith("path:") else term in action_terms
        if found:
            matched += weight
            hits.append(term.removeprefix("path:"))
    return matched / total, hits


# Values that exclude one another: an action that names another value of the same kind than the rule does
# (another environment, the opposite switch, a read-only look instead of the change) is a near miss of the
# rule, not the act it forbids.
_CONTRASTS = (
    "production staging stage sandbox development dev test testing qa local preview",  # environments
    "enable disable",
    "allow deny block",
    "grant revoke",
    "lock unlock",
    "encrypt decrypt",
    "install uninstall",
    "start stop",
    "public private",
)
_CONTRAST_CLASS = {_stem(w): i for i, words in enumerate(_CONTRASTS) for w in _w(words)}
# A read-only look (plan, diff, status, list ...) never does the change a rule forbids.
_CHANGES = frozenset(_stem(w) for w in _w("apply delete deploy modify push install migration force write create "
                                         "update reset restart merge commit publish upload"))  # fmt: skip
_LOOKS = frozenset(_stem(w) for w in _w("plan diff preview dry status list ls show describe view get cat read "
                                       "inspect log logs explain"))  # fmt: skip


def conflicts(rule_terms: Terms, action_terms: Terms) -> list[tuple[str, str]]:
    """``(rule term, action term)`` pairs where the action names another value of the same kind in place of
    a rule term it lacks ("terraform destroy in the sandbox workspace" against a rule about production)."""
    missing = [t for t in rule_terms if t not in action_terms]
    out = [
        (m, a)
        for m in sorted(missing)
        if m in _CONTRAST_CLASS
        for a in sorted(action_terms)
        if a != m and _CONTRAST_CLASS.get(a) == _CONTRAST_CLASS[m] and a not in rule_terms
    ]
    changes = [m for m in sorted(missing) if m in _CHANGES]
    if changes and not (action_terms & _CHANGES & rule_terms):
        out += [(m, a) for m in changes for a in sorted(action_terms & _LOOKS)]
    return out
