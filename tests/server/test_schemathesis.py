"""schemathesis against /openapi.json, on a live loopback server, authenticated with an admin key.

Every operation gets positive cases (schema-valid data: must be accepted unless the state forbids it)
and negative cases (schema-violating data), each bounded by ``max_examples``. For every response: no 5xx
(except the documented 503 when an embedding model is needed and none is installed), a documented status code and
content type, and a body that matches the published response schema. Negative cases skip
``negative_data_rejection``: the server ignores unknown fields on purpose and publishes byte limits as
a conservative character count, so some schema-violating bodies are rightly accepted.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode

from engram_core.settings import Settings
from engram_server.app import all_routes, create_app
from engram_server.mcp import McpMount
from engram_server.openapi import build_openapi

# The app's routes as /openapi.json publishes them: the route table and the /mcp mount (one JSON-RPC message per
# POST: the mount checks it against its published schema, the MCP SDK answers 200 with a JSON-RPC reply, or 202
# and no body for a notification).
SCHEMA = schemathesis.openapi.from_dict(build_openapi([*all_routes(), *McpMount().routes]))
# Revoking or rotating keys would lock the run's own admin key out; they are covered by tests/server.
SKIP = {("DELETE", "/keys/{id}"), ("POST", "/keys/rotate")}
OPERATIONS = [op.ok() for op in SCHEMA.get_all_operations()]
OPERATIONS = [op for op in OPERATIONS if (op.method.upper(), op.path) not in SKIP]
# Server-Sent Event streams never end on their own (tests/e2e/test_axon_stream.py covers them).
OPERATIONS = [op for op in OPERATIONS if "text/event-stream" not in str(op.definition.raw.get("responses", {}))]
POSITIVE, NEGATIVE = 8, 4
# Operations whose every call reads all the user's data, which the shared server accumulates from every
# other operation's examples (an export, a contradiction scan): 3 s a call by then, 30-37 s per operation at
# 8 + 4 examples, the suite's slowest tests. Two of each still check the published shapes; their input
# validation is walked by tests/server/test_fuzz.py and test_route_table.py.
WHOLE_CORPUS = {("GET", "/export"), ("POST", "/contradictions"), ("POST", "/intelligence/contradictions")}
CROSS_FIELD_RULES = (
    "must differ from",
    "contradicts is_admin",
    "refused: SSRF",
    "names no other step",
    "names must be unique",
    "forms a cycle",
    "for a memory this server does not have",  # /sync/receive: content is needed for a new memory only
    "(or ",
    "no OpenAI-compatible provider is configured",
    "of the rubric",  # thymus scores must match the criteria and scales of the rubric named
    "no LLM is configured",
    "must be in the future",
    "admin user's first key",
    "is not in the future",  # a key's expires_at: relative to the clock
    "a key must be 1-100 characters",  # /preferences, /state: key names (OpenAPI 3.0 has no propertyNames)
    "is not a field of",  # /batch: an op's body is checked against that op's own schema
    "is only taken with",  # /axon/subscribe: a secret signs webhook_url deliveries, so needs the URL
    "is not one of your memories",  # /intelligence/causal/links: ids the caller has (the run's are unknown)
    "would make a causal loop",  # /intelligence/causal/links: the cause is already caused by the effect
)  # fmt: skip  (state: the run has no chat provider)
EXAMPLES: dict[str, int] = {"positive": 0, "negative": 0}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    cfg = Settings.for_data_dir(Path(tmp_path_factory.mktemp("schemathesis")) / "data", bootstrap_secret="s",
                                rate_limit_per_minute=10**9, ip_rate_limit_per_minute=10**9,
                                log_level="warning", ttl_sweep_seconds=3600.0)  # fmt: skip
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(create_app(cfg), host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False, lifespan="on"))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    base = f"http://127.0.0.1:{port}"
    key = httpx.post(base + "/bootstrap", json={"secret": "s"}).json()["key"]
    headers = {"Authorization": f"Bearer {key}"}
    httpx.post(base + "/store", json={"content": "a seed memory for the schema run"}, headers=headers)
    try:
        yield base, headers
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def _check(case: Any, base: str, headers: dict[str, str], mode: GenerationMode) -> None:
    r = case.call(base_url=base, headers=headers)
    # Documented 503: an embedding model is needed (client vectors, /v1/embeddings) and none is installed.
    documented_503 = r.status_code == 503 and "embedding model" in r.text
    assert r.status_code < 500 or documented_503, (case.operation.path, r.status_code, r.text[:300])
    excluded = [schemathesis.checks.not_a_server_error]
    # Rules JSON Schema cannot state: cross-field rules (two fields that must differ; role vs is_admin; workflow
    # steps naming each other; an admin user's scopes), a URL whose host is private (SSRF), and the clock (a key's
    # expires_at and a memory's forget_after must be in the future).
    # Raw-body routes (uploads, NDJSON) publish their bodies as binary, so any generated bytes are "valid".
    raw_body = case.operation.path in ("/ingest", "/ingest/stream", "/import", "/import/mem0")
    if r.status_code == 400 and (raw_body or any(rule in r.text for rule in CROSS_FIELD_RULES)):
        excluded.append(schemathesis.checks.positive_data_acceptance)
    if mode == GenerationMode.NEGATIVE:
        excluded.append(schemathesis.checks.negative_data_rejection)
    case.validate_response(r, excluded_checks=excluded, headers=headers)


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: f"{op.method.upper()} {op.path}")
def test_operation_conforms(live: tuple[str, dict[str, str]], op: Any) -> None:
    base, headers = live
    whole = (op.method.upper(), op.path) in WHOLE_CORPUS
    modes = [(GenerationMode.POSITIVE, 2 if whole else POSITIVE)]
    if op.body or any(True for _ in op.iter_parameters()):  # nothing to get wrong otherwise
        modes.append((GenerationMode.NEGATIVE, 2 if whole else NEGATIVE))
    for mode, count in modes:
        _run_mode(op, mode, count, base, headers)


def _run_mode(op: Any, mode: GenerationMode, count: int, base: str, headers: dict[str, str]) -> None:
    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )  # no shrinking: a failure is reported as found
    @given(case=op.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        EXAMPLES[mode.value] += 1
        _check(case, base, headers, mode)

    run()


def test_schemathesis_example_counts() -> None:
    """Runs last: prints the example counts (for BENCHMARKS.md)."""
    print(f"\nschemathesis: operations={len(OPERATIONS)} examples={EXAMPLES} total={sum(EXAMPLES.values())}")


def test_the_mcp_mount_is_walked_too() -> None:
    assert ("POST", "/mcp") in {(op.method.upper(), op.path) for op in OPERATIONS}
