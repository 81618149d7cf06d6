"""Reference-client parity: the request shapes of shared/API-SHAPES.md that Engram clients send, for the
routes that exist today, are accepted and answered with the documented response keys.

``REFERENCE`` lists the routes covered here; a test checks each is documented there and served here.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.helpers import Api

SHAPES = Path(__file__).resolve().parents[3] / "shared" / "API-SHAPES.md"

# (method, path) of the reference routes served today, each exercised below.
REFERENCE = {
    ("POST", "/users"),
    ("POST", "/keys"),
    ("GET", "/keys"),
    ("DELETE", "/keys/{id}"),
    ("POST", "/keys/rotate"),
    ("GET", "/links/{id}"),
    ("POST", "/guard"),
    ("POST", "/reflect"),
    ("POST", "/reflections"),
    ("GET", "/reflections"),
    ("POST", "/consolidate"),
    ("GET", "/memory-health"),
    ("POST", "/feedback"),
    ("GET", "/feedback/stats"),
    ("GET", "/contradictions/{id}"),
    ("POST", "/contradictions"),
    ("GET", "/facts"),
    ("POST", "/intelligence/decompose/{id}"),
}


def _keys(obj: dict[str, object], *names: str) -> None:
    missing = [n for n in names if n not in obj]
    assert not missing, f"missing {missing} in {sorted(obj)}"


def test_post_users_reference_shape_and_roles(api: Api) -> None:
    r = api.call("POST", "/users", api.admin_key, json={"username": "rita", "email": "r@example.org", "role": "reader"})
    assert r.status_code == 201, r.text
    user = r.json()
    _keys(user, "id", "username", "created_at")
    assert user["username"] == "rita" and user["role"] == "reader" and user["email"] == "r@example.org"
    reader = user["api_key"]
    assert api.call("GET", "/list", reader).status_code == 200
    assert api.call("POST", "/store", reader, json={"content": "a reader cannot write"}).status_code == 403

    writer = api.call("POST", "/users", api.admin_key, json={"username": "wendy", "role": "writer"}).json()
    assert writer["role"] == "writer" and writer["is_admin"] is False
    assert api.call("POST", "/store", writer["api_key"], json={"content": "a writer writes"}).status_code == 201
    assert api.call("GET", "/users", writer["api_key"]).status_code == 403

    admin = api.call("POST", "/users", api.admin_key, json={"username": "ada", "role": "admin"}).json()
    assert admin["role"] == "admin" and admin["is_admin"] is True and "admin" in admin["scopes"]
    assert api.call("GET", "/users", admin["api_key"]).status_code == 200

    default = api.call("POST", "/users", api.admin_key, json={"username": "dora"}).json()
    assert default["role"] == "writer"  # the reference default
    dup = api.call("POST", "/users", api.admin_key, json={"username": "dora"})
    assert dup.status_code == 409
    bad = api.call("POST", "/users", api.admin_key, json={"username": "x", "role": "owner"})
    assert bad.status_code == 400 and bad.json()["field"] == "role"
    both = api.call("POST", "/users", api.admin_key, json={"username": "y", "role": "reader", "is_admin": True})
    assert both.status_code == 400 and both.json()["field"] == "role"


def test_post_keys_reference_shape_with_comma_separated_scopes(api: Api) -> None:
    user = api.call("POST", "/users", api.admin_key, json={"username": "kim"}).json()
    r = api.call("POST", "/keys", api.admin_key, json={"name": "ci", "user_id": user["id"], "scopes": "read,write"})
    assert r.status_code == 201, r.text
    key = r.json()
    _keys(key, "key", "id", "name", "scopes", "rate_limit", "user_id", "expires_at", "message")
    assert key["user_id"] == user["id"] and key["name"] == "ci" and sorted(key["scopes"]) == ["read", "write"]
    assert api.call("POST", "/store", key["key"], json={"content": "kim via the new key"}).status_code == 201

    read_only = api.call("POST", "/keys", key["key"], json={"scopes": " read "}).json()
    assert read_only["scopes"] == ["read"]
    assert api.call("POST", "/store", read_only["key"], json={"content": "no"}).status_code == 403
    for bad in ("read,owner", "", ","):
        r = api.call("POST", "/keys", key["key"], json={"scopes": bad})
        assert r.status_code == 400 and r.json()["field"] == "scopes", (bad, r.text)


def test_get_keys_delete_and_rotate_reference_shapes(api: Api) -> None:
    made = api.call("POST", "/keys", api.admin_key, json={"name": "spare", "scopes": "read"}).json()
    listed = api.call("GET", "/keys", api.admin_key).json()
    row = next(k for k in listed["keys"] if k["id"] == made["id"])
    _keys(row, "id", "user_id", "key_prefix", "name", "scopes", "rate_limit", "is_active", "expires_at")
    assert row["is_active"] is True and row["key_prefix"] in made["key"]

    rotated = api.call("POST", "/keys/rotate", api.admin_key, json={"key_id": made["id"], "grace_hours": 1})
    assert rotated.status_code in (200, 201), rotated.text
    _keys(rotated.json(), "new_key", "new_key_id", "old_key_id", "old_key_expires", "grace_hours", "message")
    assert rotated.json()["old_key_id"] == made["id"] and rotated.json()["grace_hours"] == 1
    assert api.call("GET", "/list", rotated.json()["new_key"]).status_code == 200

    revoked = api.call("DELETE", f"/keys/{made['id']}", api.admin_key).json()
    _keys(revoked, "revoked", "id")
    row = next(k for k in api.call("GET", "/keys", api.admin_key).json()["keys"] if k["id"] == made["id"])
    assert row["is_active"] is False


def test_get_links_reference_shape(api: Api) -> None:
    key = api.user("lin")
    a = api.store(key, "The lighthouse keeper logs the storms", category="journal")
    b = api.store(key, "Storm season starts in October", category="weather")
    r = api.call("POST", "/links", key, json={"source_id": a, "target_id": b, "type": "related", "similarity": 0.8})
    assert r.status_code == 201, r.text
    for mid, other in ((a, b), (b, a)):
        got = api.call("GET", f"/links/{mid}", key).json()
        _keys(got, "memory_id", "links")
        assert got["memory_id"] == mid
        [link] = [x for x in got["links"] if x["id"] == other and x["type"] == "related"]
        _keys(link, "id", "content", "category", "similarity", "type")
        assert link["similarity"] == 0.8 and link["type"] == "related"
        assert link["category"] == ("weather" if other == b else "journal")
    assert api.call("GET", f"/links/{a}", api.user("other")).status_code == 404


def test_post_guard_reference_shape(api: Api) -> None:
    key = api.user("gus")
    api.store(key, "Never run rm -rf on the production database host", importance=9, is_static=True)
    r = api.call("POST", "/guard", key, json={"action": "rm -rf /var/lib/production database"})
    assert r.status_code == 200, r.text
    got = r.json()
    _keys(got, "signal", "action", "rules", "message")
    assert got["signal"] != "allow" and got["rules"]
    _keys(got["rules"][0], "id", "content", "importance")
    calm = api.call("POST", "/guard", key, json={"action": "list the files in my home directory"}).json()
    assert calm["signal"] == "allow" and calm["rules"] == []


def test_contradictions_facts_and_decompose_reference_shapes(api: Api) -> None:
    key = api.admin_key
    old = api.store(key, "I live in Paris.", created_at="2024-01-10T09:00:00Z")
    new = api.store(key, "I moved to Lyon.", created_at="2024-06-01T09:00:00Z")
    parent = api.store(key, "I play chess at the club on Sundays. My brother repairs old valve radios in his garage.")
    portal = api.client.portal
    assert portal is not None
    portal.call(api.engram.jobs.drain)
    for path in (f"/contradictions/{old}", f"/intelligence/contradictions/{new}"):
        found = api.call("GET", path, key).json()["contradictions"]
        assert len(found) == 1
        _keys(found[0], "memory_a", "memory_b", "confidence", "description")
    scanned = api.call("POST", "/contradictions", key)  # no body: scan all, same shape
    assert scanned.status_code == 200 and len(scanned.json()["contradictions"]) == 1
    facts = api.call("GET", "/facts", key, params={"memory_id": old, "limit": 50}).json()["facts"]
    assert len(facts) == 1
    _keys(facts[0], "id", "memory_id", "subject", "predicate", "object", "confidence", "user_id", "created_at")
    r = api.call("POST", f"/intelligence/decompose/{parent}", key)  # no body
    assert r.status_code == 200 and len(r.json()["child_ids"]) == 2


def test_the_reference_routes_tested_here_are_documented_and_served(api: Api) -> None:
    """Every route tested here is a route of API-SHAPES.md that Engram serves (so a renamed or dropped
    route fails here). Routes added later (axon, webhooks, ...) carry their own reference-shape tests."""
    if not SHAPES.exists():  # shared/ is laid beside the clone in CI and for developers
        return
    text = SHAPES.read_text()
    documented = {
        (m, re.sub(r"\{[^}]*\}", "{id}", p)) for m, p in re.findall(r"`(GET|POST|PUT|PATCH|DELETE) (/[^ `?]*)", text)
    }
    spec = api.client.get("/openapi.json").json()
    served = {(m.upper(), re.sub(r"\{[^}]*\}", "{id}", p)) for p, ops in spec["paths"].items() for m in ops}
    assert documented >= REFERENCE, sorted(REFERENCE - documented)
    assert served >= REFERENCE, sorted(REFERENCE - served)


def test_reflections_consolidate_health_feedback_reference_shapes(api: Api) -> None:
    key = api.user("rho")
    a = api.store(key, "Rho runs every morning before work")
    b = api.store(key, "Rho runs five kilometres each morning")
    for path in ("/reflect", "/reflections"):
        body = {"content": f"Running matters to Rho ({path})", "source_memory_ids": [a, b],
                "reflection_type": "habit", "confidence": 0.8}  # fmt: skip
        r = api.call("POST", path, key, json=body)
        assert r.status_code == 201, r.text
        _keys(r.json(), "id", "content", "reflection_type", "source_memory_ids", "confidence", "user_id", "created_at")
        assert r.json()["source_memory_ids"] == [a, b] and r.json()["reflection_type"] == "habit"
    assert len(api.call("GET", "/reflections", key).json()["reflections"]) == 2
    merged = api.call("POST", "/consolidate", key, json={"memory_ids": [a, b]})
    assert merged.status_code == 201, merged.text
    _keys(merged.json(), "id", "content", "category", "importance", "created_at")
    health = api.call("GET", "/memory-health", key).json()
    _keys(health, "total_memories", "without_embeddings", "archived", "superseded", "with_links", "avg_importance",
          "oldest_memory", "embedding_coverage_pct")  # fmt: skip
    fb = api.call(
        "POST", "/feedback", key, json={"memory_id": merged.json()["id"], "rating": "helpful", "context": "q"}
    )
    assert fb.status_code == 201 and fb.json()["ok"] is True
    stats = api.call("GET", "/feedback/stats", key).json()
    _keys(stats, "helpful", "irrelevant", "off_topic", "outdated", "total")
    assert stats["helpful"] == 1 and stats["total"] == 1
