"""The `engram` client verbs as a subprocess against a live server: output, --json, exit codes, stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.support import dead_proxy_env, free_port, live_server, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """One live server for this module's tests (each works on its own memories)."""
    with live_server(tmp_path_factory.mktemp("cli") / "data") as live:
        yield live


def _cli(base: str, key: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ENGRAM_URL": base, "ENGRAM_API_KEY": key}
    return subprocess.run([sys.executable, "-m", "engram_core.cli", *args], env=env, input=stdin,
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def test_every_memory_verb_round_trips(server: tuple[str, dict[str, str]]) -> None:
    base, h = server
    key = h["Authorization"].split()[1]
    made = _cli(base, key, "store", "The billing API listens on port 8443", "--tags", "billing,ports",
                "--importance", "7", "--json")  # fmt: skip
    assert made.returncode == 0, made.stderr
    memory_id = json.loads(made.stdout)["id"]
    human = _cli(base, key, "store", "-", "--category", "decision", stdin="We chose Postgres for the ledger")
    assert human.returncode == 0 and human.stdout.startswith("stored #")
    stored = httpx.get(f"{base}/memory/{memory_id}", headers=h).json()
    assert stored["tags"] == ["billing", "ports"] and stored["importance"] == 7 and stored["source"] == "cli"

    found = _cli(base, key, "search", "billing port", "--json")
    assert found.returncode == 0 and json.loads(found.stdout)["results"][0]["id"] == memory_id
    assert "8443" in _cli(base, key, "search", "billing port").stdout
    assert "8443" in _cli(base, key, "context", "which port does billing use?").stdout
    recalled = _cli(base, key, "recall", "billing", "--json")
    assert recalled.returncode == 0 and "8443" in recalled.stdout
    listed = _cli(base, key, "list", "--category", "decision", "--json")
    assert [m["content"] for m in json.loads(listed.stdout)["results"]] == ["We chose Postgres for the ledger"]
    got = _cli(base, key, "get", str(memory_id))
    assert got.returncode == 0 and "8443" in got.stdout and "billing, ports" in got.stdout

    updated = _cli(base, key, "update", str(memory_id), "--content", "The billing API listens on 9443", "--json")
    assert updated.returncode == 0, updated.stderr
    new_id = json.loads(updated.stdout)["new_id"]
    assert httpx.get(f"{base}/memory/{new_id}", headers=h).json()["content"].endswith("9443")
    assert _cli(base, key, "forget", str(new_id), "--reason", "moved").returncode == 0
    assert "9443" not in _cli(base, key, "search", "billing").stdout
    assert _cli(base, key, "delete", str(new_id)).returncode == 0
    assert httpx.get(f"{base}/memory/trash", headers=h).json()["results"][0]["id"] == new_id

    health = _cli(base, key, "health", "--json")
    assert health.returncode == 0 and json.loads(health.stdout)["status"] == "ok"


def test_exit_codes_and_errors_name_the_problem(server: tuple[str, dict[str, str]]) -> None:
    base, h = server
    key = h["Authorization"].split()[1]
    missing = _cli(base, key, "get", "987654")
    assert missing.returncode == 1 and "987654" in missing.stderr and missing.stdout == ""
    empty = _cli(base, key, "store", "   ")
    assert empty.returncode == 2 and "content" in empty.stderr
    usage = _cli(base, key, "store")
    assert usage.returncode == 2 and "content" in usage.stderr
    assert _cli(base, key, "frobnicate").returncode == 2
    wrong = _cli(base, "engram_" + "0" * 32, "list")
    assert wrong.returncode == 4 and "key" in wrong.stderr.lower()
    down = _cli(f"http://127.0.0.1:{free_port()}", key, "list")
    assert down.returncode == 3 and "cannot reach Engram" in down.stderr
    flags = _cli("http://127.0.0.1:9", "nope", "list", "--url", base, "--key", key)  # flags beat the environment
    assert flags.returncode == 0, flags.stderr


def test_verbs_whose_routes_are_missing_say_so(server: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    """guard, ingest, export and import call routes a newer Engram serves: a clear error, never a pretence."""
    base, h = server
    key = h["Authorization"].split()[1]
    routes = set(httpx.get(base + "/openapi.json").json()["paths"])
    doc = tmp_path / "notes.md"
    doc.write_text("# Notes\nThe office is in Lyon.\n")
    export_file = tmp_path / "export.ndjson"
    for verb, route in (("guard", "/guard"), ("ingest", "/ingest"), ("export", "/export"), ("import", "/import")):
        args = {"guard": ["rm -rf /srv"], "ingest": [str(doc)], "export": ["-o", str(export_file)],
                "import": [str(doc)]}[verb]  # fmt: skip
        if verb == "import":
            doc_json = tmp_path / "in.json"
            doc_json.write_text(json.dumps([{"content": "Imported fact"}]))
            args = [str(doc_json)]
        done = _cli(base, key, verb, *args)
        if route in routes:  # the route landed: the verb works
            assert done.returncode in (0, 1), done.stderr
        else:
            assert done.returncode == 1, (verb, done.stdout, done.stderr)
            assert f"this server has no {route} route (needs a newer Engram)" in done.stderr


def test_bootstrap_claims_a_fresh_server(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "ENGRAM_DATA_DIR": str(tmp_path / "data"), "ENGRAM_PORT": str(port),
           "ENGRAM_BOOTSTRAP_SECRET": "s3cret-for-this-test"}  # fmt: skip
    proc = start_server(env)
    try:
        base = f"http://127.0.0.1:{port}"
        wrong = _cli(base, "", "bootstrap", "--secret", "nope")
        assert wrong.returncode == 4, wrong.stderr
        made = _cli(base, "", "bootstrap", "--secret", "s3cret-for-this-test", "--json")
        assert made.returncode == 0, made.stderr
        key = json.loads(made.stdout)["key"]
        assert _cli(base, key, "store", "first memory").returncode == 0
        again = _cli(base, "", "bootstrap", "--secret", "s3cret-for-this-test")
        assert again.returncode == 4 and again.stderr
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_a_loopback_engram_is_reached_past_the_environments_proxy(server: tuple[str, dict[str, str]]) -> None:
    """Issue 13: every proxy variable names a dead loopback port (nothing listens, no NO_PROXY); the verbs still
    reach the live loopback server, by 127.0.0.1 and by localhost (httpx would send them through the proxy)."""
    base, h = server
    env = dead_proxy_env(ENGRAM_API_KEY=h["Authorization"].split()[1])
    cmd = [sys.executable, "-m", "engram_core.cli"]
    stored = subprocess.run([*cmd, "store", "The proxied laptop keeps its memories local", "--json"],
                            capture_output=True, text=True, timeout=60, env={**env, "ENGRAM_URL": base})  # fmt: skip
    assert stored.returncode == 0, stored.stderr
    found = subprocess.run([*cmd, "search", "proxied laptop memories", "--json"], capture_output=True, text=True,
                           timeout=60, env={**env, "ENGRAM_URL": base.replace("127.0.0.1", "localhost")})  # fmt: skip
    assert found.returncode == 0, found.stderr
    assert json.loads(stored.stdout)["id"] in [r["id"] for r in json.loads(found.stdout)["results"]]
