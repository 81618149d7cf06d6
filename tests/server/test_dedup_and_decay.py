"""Near-duplicates collapse into one memory; new memories start with an FSRS Good review."""

from __future__ import annotations

from tests.helpers import Api


def test_near_duplicate_returns_the_first_id_and_leaves_one_row(api: Api) -> None:
    key = api.admin_key
    first = api.store(key, "The production database is backed up every night at 02:00 UTC to cold storage.")
    r = api.call(
        "POST",
        "/store",
        key,
        json={"content": "the production database is backed up every night at 02:00 utc, to cold storage"},
    )
    assert r.status_code == 200
    body = r.json()
    assert body == {
        "stored": False,
        "duplicate": True,
        "existing_id": first,
        "boosted": True,
        "distance": body["distance"],
    }
    assert 0 <= body["distance"] <= 3
    assert api.call("GET", "/list", key).json()["total"] == 1
    assert api.call("GET", f"/memory/{first}", key).json()["source_count"] == 2
    other = api.call("POST", "/store", key, json={"content": "The staging database is never backed up."})
    assert other.status_code == 201 and other.json()["id"] != first
    assert api.call("GET", "/list", key).json()["total"] == 2


def test_duplicates_are_per_user(api: Api) -> None:
    alice, bob = api.user("alice"), api.user("bob")
    api.store(alice, "Standup is at nine thirty every weekday morning")
    r = api.call("POST", "/store", bob, json={"content": "Standup is at nine thirty every weekday morning"})
    assert r.status_code == 201


def test_new_memory_has_an_initial_good_review(api: Api) -> None:
    r = api.call("POST", "/store", api.admin_key, json={"content": "FSRS starts here", "importance": 10}).json()
    assert 0.99 <= r["decay_score"] <= 1.0
    got = api.call("GET", f"/memory/{r['id']}", api.admin_key).json()
    assert got["fsrs"]["reps"] == 1 and got["fsrs"]["learning_state"] == "review"
    assert abs(got["fsrs"]["stability"] - 2.3065) < 1e-3  # S0(Good) = w2
    old = api.call("POST", "/store", api.admin_key, json={"content": "an old imported turn", "importance": 1,
                                                          "created_at": "2020-01-01T00:00:00Z"}).json()  # fmt: skip
    assert old["decay_score"] < 0.3  # reviewed once, years ago: R has decayed (power curve)
