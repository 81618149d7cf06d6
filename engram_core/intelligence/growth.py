"""Growth observations: how the user (and the people they mention) changed over time, read from the
structured facts' timelines — no LLM, nothing stored.

Each superseded fact with the fact that replaced it is one observation: ``{subject, predicate, from, to,
changed_at, from_memory_id, to_memory_id, text}``, newest first (``GET /growth/observations``). ``text`` is a
sentence in the second person for the user ("You moved from Paris to Lyon") and the third for others.
"""

from __future__ import annotations

from typing import Any

__all__ = ["observations", "sentence"]

_PHRASES = {
    "lives_in": "moved from {a} to {b}",
    "works_at": "changed jobs from {a} to {b}",
    "works_as": "went from working as {a} to {b}",
    "married_to": "went from being married to {a} to {b}",
    "age": "went from {a} to {b} years old",
    "favourite_color": "changed favourite colour from {a} to {b}",
}

# Both facts' memories must be visible now (not trashed, forgotten or consolidated away).
_VISIBLE = "{m}.user_id = ? AND {m}.is_deleted = 0 AND {m}.is_forgotten = 0 AND {m}.is_consolidated = 0"


def sentence(subject: str, predicate: str, old: str, new: str) -> str:
    """One observation in words."""
    who = "You" if subject == "user" else subject.title()
    phrase = _PHRASES.get(predicate)
    if phrase is None:
        if predicate.startswith("favourite_"):
            phrase = "changed favourite " + predicate.removeprefix("favourite_").replace("_", " ") + " from {a} to {b}"
        else:
            phrase = predicate.replace("_", " ") + ": {a} -> {b}"
    return f"{who} {phrase.format(a=old, b=new)}"


def observations(conn: Any, user_id: int, q: dict[str, Any]) -> list[dict[str, Any]]:
    """The user's growth observations (filters: ``subject``, ``predicate``, ``since``; ``limit``/``offset``)."""
    sql = (
        "SELECT o.subject, o.predicate, o.object AS old, n.object AS new, n.valid_at AS changed_at,"
        " o.memory_id AS from_id, n.memory_id AS to_id"
        " FROM facts o JOIN facts n ON n.id = o.superseded_by AND n.user_id = o.user_id"
        " JOIN memories mo ON mo.id = o.memory_id JOIN memories mn ON mn.id = n.memory_id"
        f" WHERE o.user_id = ? AND {_VISIBLE.format(m='mo')} AND {_VISIBLE.format(m='mn')}"
        " AND o.polarity = 1 AND n.polarity = 1 AND o.object != n.object"
    )
    args: list[Any] = [user_id, user_id, user_id]
    if q.get("subject"):
        sql += " AND o.subject = ?"
        args.append(str(q["subject"]).lower())
    if q.get("predicate"):
        sql += " AND o.predicate = ?"
        args.append(str(q["predicate"]).lower())
    if q.get("since"):
        sql += " AND n.valid_at >= ?"
        args.append(q["since"])
    sql += " ORDER BY n.valid_at DESC, n.id DESC LIMIT ? OFFSET ?"
    args += [q["limit"], q["offset"]]
    return [
        {
            "subject": r["subject"],
            "predicate": r["predicate"],
            "from": r["old"],
            "to": r["new"],
            "changed_at": r["changed_at"],
            "from_memory_id": r["from_id"],
            "to_memory_id": r["to_id"],
            "text": sentence(r["subject"], r["predicate"], r["old"], r["new"]),
        }
        for r in conn.execute(sql, args)
    ]
