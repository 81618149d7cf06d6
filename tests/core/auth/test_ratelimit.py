from __future__ import annotations

import threading

import pytest

from engram_core.auth.ratelimit import BootstrapLockout, RateLimiter
from engram_core.errors import RateLimited


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def test_budget_then_429_then_recovery_after_the_window() -> None:
    clock = FakeClock()
    limiter = RateLimiter(60, clock=clock)
    for _ in range(60):
        limiter.check("k")
    with pytest.raises(RateLimited) as err:
        limiter.check("k")
    assert err.value.retry_after == 1
    assert "rate limit exceeded: 60 request units per minute" in err.value.message
    limiter.check("other")  # keys are independent
    clock.advance(60)
    for _ in range(60):
        limiter.check("k")
    assert limiter.remaining("k") == 0


def test_weights_count() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock)
    limiter.check("k", weight=5)
    limiter.check("k", weight=2)
    assert limiter.remaining("k") == 3
    with pytest.raises(RateLimited) as err:
        limiter.check("k", weight=5)
    # 2 units missing at 10/60 units per second -> 12 s
    assert err.value.retry_after == 12
    assert limiter.remaining("k") == 3  # a refused request costs nothing
    limiter.check("k", weight=3)
    clock.advance(12)
    limiter.check("k", weight=2)


def test_weight_above_budget_needs_a_full_bucket() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock)
    limiter.check("admin", weight=100)
    with pytest.raises(RateLimited) as err:
        limiter.check("admin", weight=100)
    assert err.value.retry_after == 60
    clock.advance(60)
    limiter.check("admin", weight=100)


def test_partial_refill_is_continuous() -> None:
    clock = FakeClock()
    limiter = RateLimiter(120, clock=clock)  # 2 units per second
    limiter.check("k", weight=120)
    clock.advance(1.0)
    limiter.check("k", weight=2)
    with pytest.raises(RateLimited):
        limiter.check("k", weight=1)


def test_disabled_when_zero() -> None:
    limiter = RateLimiter(0, clock=FakeClock())
    for _ in range(1000):
        limiter.check("k", weight=100)
    assert len(limiter) == 0


def test_idle_keys_are_evicted_and_memory_is_bounded() -> None:
    clock = FakeClock()
    limiter = RateLimiter(60, clock=clock, max_keys=100)
    for i in range(1000):  # per-IP limiter hit by many addresses
        limiter.check(f"10.0.{i // 256}.{i % 256}")
    assert len(limiter) <= 100
    clock.advance(61)
    limiter.check("late")  # the once-a-minute sweep drops every refilled bucket
    assert len(limiter) == 1
    limiter.reset("late")
    assert len(limiter) == 0


def test_thread_safety_exact_budget() -> None:
    limiter = RateLimiter(1000, clock=FakeClock())
    passed: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        ok = 0
        for _ in range(200):
            try:
                limiter.check("shared", weight=2)
                ok += 1
            except RateLimited:
                pass
        with lock:
            passed.append(ok)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(passed) == 500


def test_bootstrap_lockout_after_five_failures_a_minute() -> None:
    clock = FakeClock()
    lockout = BootstrapLockout(clock=clock)
    for _ in range(4):
        lockout.check("1.2.3.4")
        assert lockout.failure("1.2.3.4") is False
    lockout.check("1.2.3.4")
    assert lockout.failure("1.2.3.4") is True
    with pytest.raises(RateLimited) as err:
        lockout.check("1.2.3.4")
    assert err.value.retry_after == 300
    assert "too many wrong bootstrap secrets (5 within 60 s)" in err.value.message
    lockout.check("5.6.7.8")  # other clients unaffected
    clock.advance(299)
    assert lockout.is_locked("1.2.3.4")
    clock.advance(1)
    lockout.check("1.2.3.4")
    assert not lockout.is_locked("1.2.3.4")


def test_bootstrap_failures_spread_over_more_than_a_minute_do_not_lock() -> None:
    clock = FakeClock()
    lockout = BootstrapLockout(clock=clock)
    for _ in range(20):
        assert lockout.failure() is False
        clock.advance(15)  # 4 per minute
    lockout.check()
    lockout.failure()
    lockout.success()
    for _ in range(4):
        assert lockout.failure() is False
