"""End to end: one agent importing its history into a server on its own machine is not throttled by the
default rate limits (the old 600-unit budget refused the 301st store). Which requests are local, and the
network budget, are tested in tests/server/test_rate_costs.py."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

TURNS = 800


def test_four_workers_store_800_turns_over_loopback_without_a_429(server: tuple[str, dict[str, str]]) -> None:
    base, h = server

    def worker(start: int) -> list[int]:
        with httpx.Client(base_url=base, headers=h, timeout=30) as c:
            return [
                c.post("/store", json={"content": f"turn {i}: the agent said something {i * 7919 % 10007}"}).status_code
                for i in range(start, TURNS, 4)
            ]

    with ThreadPoolExecutor(4) as pool:
        codes = [code for part in pool.map(worker, range(4)) for code in part]
    assert len(codes) == TURNS and set(codes) <= {200, 201}, {c: codes.count(c) for c in set(codes)}
    with httpx.Client(base_url=base, headers=h, timeout=30) as c:
        assert c.get("/list", params={"limit": 1}).json()["total"] >= TURNS - 5  # near-duplicates may merge
