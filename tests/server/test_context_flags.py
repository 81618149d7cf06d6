"""POST /context: include_episodes adds the relevant episodes within the budget; include_structured_facts adds
the current structured facts; no declared request field is accepted and ignored."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import engram_core
from engram_core.validation import Schema
from tests.helpers import Api

ROOT = Path(__file__).resolve().parents[2]


def _episode(api: Api, key: str, title: str, summary: str, ids: list[int]) -> int:
    r = api.call("POST", "/episodes", key, json={"title": title, "summary": summary})
    assert r.status_code == 201, r.text
    eid = int(r.json()["id"])
    assert api.call("POST", f"/episodes/{eid}/memories", key, json={"memory_ids": ids}).status_code == 200
    return eid


def test_include_episodes_adds_the_episodes_of_the_relevant_memories(api: Api) -> None:
    key = api.user("eve")
    a = api.store(key, "The kiln reached 1240 degrees during the glaze firing")
    b = api.store(key, "Cracked celadon bowls came out of the kiln on Sunday")
    other = api.store(key, "Renewed the car insurance policy online")
    kiln = _episode(
        api, key, "Pottery weekend", "Two glaze firings; the celadon cracked from cooling too fast.", [a, b]
    )
    _episode(api, key, "Paperwork", "Insurance renewal and tax forms.", [other])
    mallory = api.user("mallory")
    m = api.store(mallory, "My kiln firing notes: cone 6 glaze schedule")
    _episode(api, mallory, "Mallory's secret studio", "Nobody else should see this.", [m])

    body = {"query": "kiln glaze firing", "max_tokens": 2000, "include_recent": False, "include_static": False}
    plain = api.call("POST", "/context", key, json=body).json()
    assert "Pottery weekend" not in plain["context"] and "## Episodes" not in plain["context"]

    got = api.call("POST", "/context", key, json={**body, "include_episodes": True})
    assert got.status_code == 200, got.text
    ctx = got.json()
    assert "## Episodes" in ctx["context"]
    assert "Pottery weekend" in ctx["context"] and "celadon cracked from cooling" in ctx["context"]
    assert "secret studio" not in ctx["context"]  # another user's episode never shows
    episodes = [blk for blk in ctx["blocks"] if blk["kind"] == "episode"]
    assert episodes and episodes[0]["id"] == kiln
    assert ctx["breakdown"]["episode"]["count"] == len(episodes)
    # episodes come after the relevant memories and the budget holds
    assert ctx["context"].index("## Relevant memories") < ctx["context"].index("## Episodes")
    assert ctx["token_estimate"] <= ctx["token_budget"]

    tiny = api.call("POST", "/context", key, json={**body, "include_episodes": True, "max_tokens": 30}).json()
    assert tiny["token_estimate"] <= 30


def test_include_structured_facts_adds_the_current_facts(api: Api) -> None:
    key = api.user("fay")
    api.store(key, "Fay moved to Lisbon in 2021")
    portal = api.client.portal
    assert portal is not None
    portal.call(api.engram.jobs.drain)
    body = {"query": "where does Fay live", "include_structured_facts": True}
    r = api.call("POST", "/context", key, json=body)
    assert r.status_code == 200 and "fay lives in: Lisbon (since 2021-01-01)" in r.json()["context"]
    off = api.call("POST", "/context", key, json={**body, "include_structured_facts": False}).json()
    assert "lives in:" not in off["context"]


def _schemas() -> list[tuple[str, str, Schema]]:
    found: dict[int, tuple[str, str, Schema]] = {}
    for mod in pkgutil.walk_packages(engram_core.__path__, "engram_core."):
        module = importlib.import_module(mod.name)
        for name, value in vars(module).items():
            if isinstance(value, Schema):
                found.setdefault(id(value), (mod.name, name, value))
    return list(found.values())


# Fields known to be accepted and ignored, each waiting for its owner to implement or refuse it. Do not add
# to this list to make the test pass: implement the flag, or refuse it with a 400 (a Field ``check``).
KNOWN_IGNORED: set[str] = set()


def test_no_declared_request_field_is_ignored() -> None:
    """Every field of every request schema is read somewhere (``q["name"]``, ``.get("name")``, ``name=``,
    a ``"name":`` key) or checked by the field itself; a flag that is only declared is accepted and ignored.
    A schema parsed with ``partial=True`` (an update that applies whatever fields came) counts as read."""
    code = "\n".join(p.read_text() for d in ("engram_core", "engram_server") for p in (ROOT / d).rglob("*.py"))
    ignored = []
    for module, schema_name, schema in _schemas():
        if f"{schema_name}.parse(body, partial=True)" in code:
            continue
        for f in schema.fields:
            if f.check is not None or f"{module}.{schema_name}.{f.name}" in KNOWN_IGNORED:
                continue
            n = re.escape(f.name)
            used = re.search(
                rf'\[\s*"{n}"\s*\]|\.get\(\s*"{n}"|"{n}"\s*:|\b{n}\s*=', code.replace(f'Field("{f.name}"', "")
            )
            if not used:
                ignored.append(f"{module}.{schema_name}.{f.name}")
    assert not ignored, ignored
