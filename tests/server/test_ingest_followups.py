"""An ingest batch queues its follow-up work (auto-link, understanding) as ONE job per kind in the batch's
transaction, not one job per stored memory; the batch jobs do what the per-memory jobs did."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engram_core.settings import Settings
from tests import ingest_files as files
from tests.conftest import BOOTSTRAP_SECRET
from tests.helpers import Api
from tests.support.tiny_models import install_tiny_model


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    made = Settings.for_data_dir(tmp_path / "data", bootstrap_secret=BOOTSTRAP_SECRET, ttl_sweep_seconds=3600.0,
                                 ingest_batch=5, understand_on_store=True, autolink_threshold=0.1)  # fmt: skip
    install_tiny_model(made.models_dir)
    return made


def _jobs(api: Api, kind: str) -> list[dict[str, Any]]:
    jobs = api.call("GET", "/jobs", api.admin_key, params={"all": "true", "limit": 1000}).json()["jobs"]
    return sorted((j for j in jobs if j["kind"] == kind), key=lambda j: j["id"])


def test_an_ingest_queues_one_follow_up_job_per_kind_and_batch(api: Api) -> None:
    key = api.user("alice")
    r = api.call("POST", "/ingest", key, files={"file": ("conversations.json", files.chatgpt(3, 4))})
    assert r.status_code == 202, r.text
    api.client.portal.call(api.engram.jobs.drain)  # type: ignore[union-attr]
    ingest = api.call("GET", f"/jobs/{r.json()['job_id']}", key).json()["ingest"]
    assert ingest["stored"] == 12, ingest
    memories = api.call("GET", "/list", key, params={"limit": 100}).json()["results"]
    stored = sorted(m["id"] for m in memories)
    assert len(stored) == 12
    for kind in ("autolink", "understand"):
        jobs = _jobs(api, kind)
        # 12 chunks in batches of 5: three jobs of each kind, naming every stored memory once, all done
        assert [len(j["payload"]["memory_ids"]) for j in jobs] == [5, 5, 2], kind
        assert sorted(m for j in jobs for m in j["payload"]["memory_ids"]) == stored, kind
        assert {j["status"] for j in jobs} == {"done"}, jobs
    linked = [j["result"] for j in _jobs(api, "autolink")]
    assert sum(x["links_changed"] for x in linked) > 0 and all(x["not_embedded"] == 0 for x in linked), linked
    some = stored[-1]
    assert api.call("GET", f"/links/{some}", key).json()["outgoing"], "the batch job links the memories it names"
    assert all(j["result"]["memory_ids"] > 0 for j in _jobs(api, "understand"))
    # a single store still queues its own jobs, as before
    one = api.store(key, "a single note about the lighthouse keeper's lamp oil")
    api.client.portal.call(api.engram.jobs.drain)  # type: ignore[union-attr]
    assert _jobs(api, "autolink")[-1]["payload"] == {"memory_id": one}
    assert _jobs(api, "understand")[-1]["payload"] == {"memory_id": one}


def test_a_batch_job_decomposes_each_memory_and_embeds_its_facts(api: Api) -> None:
    key = api.user("alice")
    text = "My sister moved the quarterly invoice {i} to Monday. The boiler in flat {i} broke in March."
    lines = [json.dumps({"content": text.format(i=i)}) for i in range(7)]
    r = api.call("POST", "/ingest", key, files={"file": ("notes.jsonl", "\n".join(lines).encode())})
    assert r.status_code == 202, r.text
    api.client.portal.call(api.engram.jobs.drain)  # type: ignore[union-attr]
    jobs = _jobs(api, "understand")
    assert [len(j["payload"]["memory_ids"]) for j in jobs] == [5, 2] and {j["status"] for j in jobs} == {"done"}

    def facts(conn: Any) -> list[Any]:
        return list(conn.execute("SELECT id, embedding IS NOT NULL FROM memories WHERE is_fact = 1"))

    made = api.engram.db.read(facts)
    assert len(made) == 14 and all(row[1] for row in made), made  # two statements each, every one embedded
    assert [j["result"] for j in jobs] == [{"memory_ids": 5, "skipped": 0}, {"memory_ids": 2, "skipped": 0}]
