"""POST /hooks/session-start: a coding session's start in one call (what SessionStart used to ask in three)."""

from __future__ import annotations

from tests.helpers import Api


def _start(api: Api, key: str, **body: object) -> dict[str, object]:
    r = api.call("POST", "/hooks/session-start", key, json={"project": "ledger-svc", "tag": "ledger-svc", **body})
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_startup_brings_context_decisions_and_one_episode(api: Api) -> None:
    key = api.user("lee")
    api.store(key, "Ledger amounts are stored in integer cents", is_static=True)
    api.store(key, "We chose FastAPI for the ledger HTTP layer", category="decision", tags=["ledger-svc"])
    api.store(key, "We chose Vue for the unrelated web shop", category="decision", tags=["shop"])
    first = _start(api, key, session_id="s-1", source="startup")
    assert "integer cents" in str(first["context"])
    assert [d["content"] for d in first["decisions"]] == ["We chose FastAPI for the ledger HTTP layer"]  # type: ignore[attr-defined]
    assert isinstance(first["episode_id"], int) and "session_memories" not in first
    again = _start(api, key, session_id="s-1", source="clear")  # the open episode is found, not started twice
    assert again["episode_id"] == first["episode_id"]
    episodes = api.call("GET", "/episodes", key, params={"session_id": "s-1"}).json()["episodes"]
    assert [e["id"] for e in episodes] == [first["episode_id"]] and episodes[0]["title"].endswith("ledger-svc")
    assert _start(api, key, session_id="s-2", episode=False)["episode_id"] is None


def test_resume_brings_what_the_session_stored(api: Api) -> None:
    key = api.user("mo")
    api.store(key, "Decided to use Postgres row locks for the ledger", session_id="s-9")
    api.store(key, "Another session's note about queues", session_id="s-8")
    out = _start(api, key, session_id="s-9", source="compact")
    assert [m["content"] for m in out["session_memories"]] == ["Decided to use Postgres row locks for the ledger"]  # type: ignore[attr-defined]
    assert out["episode_id"] is None and "decisions" not in out  # no episode on resume/compact
    assert api.call("GET", "/episodes", key).json()["episodes"] == []


def test_a_read_only_key_gets_the_reads_and_no_episode(api: Api) -> None:
    owner = api.user("nia")
    api.store(owner, "Nia's ledger uses integer cents", is_static=True)
    reader = api.key(owner, ("read",))
    out = _start(api, reader, session_id="s-1")
    assert "integer cents" in str(out["context"]) and out["episode_id"] is None
    assert api.call("GET", "/episodes", owner).json()["episodes"] == []


def test_bad_input_names_the_field(api: Api) -> None:
    key = api.user("oz")
    for body, field in (({}, "project"), ({"project": "  "}, "project"),
                        ({"project": "p", "source": "reboot"}, "source"),
                        ({"project": "p", "max_tokens": 5}, "max_tokens")):  # fmt: skip
        r = api.call("POST", "/hooks/session-start", key, json=body)
        assert r.status_code == 400 and r.json()["field"] == field, (field, r.text)
    assert api.call("GET", "/episodes", key).json()["episodes"] == []
