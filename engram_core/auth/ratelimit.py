"""Abuse limits: a weighted per-key rate limiter and the bootstrap brute-force lockout.

:class:`RateLimiter` is a token bucket per key (an API key id, or a client IP before authentication):
the bucket holds ``per_minute`` units and refills continuously at ``per_minute / 60`` units per second.
A request of weight ``w`` takes ``w`` units or is refused with ``RateLimited(retry_after=...)``. A token
bucket was chosen over a sliding window because it needs two numbers per key, gives an exact
``retry_after`` and has no window-edge bursts of twice the budget; an idle client is back to the full
budget after one minute, which is what a one-minute window promises. A refused request costs nothing.
Weights larger than the whole budget are capped at the budget (such a request needs a full bucket).

Memory is bounded: a key whose bucket has refilled completely carries no information and is dropped by a
sweep that runs once a minute of clock time, and beyond ``max_keys`` the least recently used key is
dropped (which forgives it; ``max_keys`` is set well above the number of clients expected).

:class:`BootstrapLockout` refuses ``POST /bootstrap`` for ``lockout_seconds`` after ``max_failures`` wrong
secrets within ``window_seconds`` (5 a minute by default).

Both are thread-safe (one lock each; every operation is O(1) apart from the periodic sweep).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from ..errors import RateLimited

__all__ = ["BootstrapLockout", "RateLimiter"]

Clock = Callable[[], float]


class _Bucket:
    __slots__ = ("tokens", "stamp")

    def __init__(self, tokens: float, stamp: float) -> None:
        self.tokens = tokens
        self.stamp = stamp


class RateLimiter:
    """Weighted token-bucket limiter keyed by a string (see the module docstring).

    ``per_minute <= 0`` disables the limiter (every check passes).
    """

    def __init__(
        self,
        per_minute: int,
        clock: Clock = time.monotonic,
        *,
        max_keys: int = 100_000,
        sweep_seconds: float = 60.0,
    ) -> None:
        self.per_minute = per_minute
        self._capacity = float(max(per_minute, 0))
        self._rate = self._capacity / 60.0
        self._clock = clock
        self._max_keys = max_keys
        self._sweep_seconds = sweep_seconds
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()
        self._last_sweep = clock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._buckets)

    def _refilled(self, bucket: _Bucket, now: float) -> float:
        return min(self._capacity, bucket.tokens + max(0.0, now - bucket.stamp) * self._rate)

    def _sweep(self, now: float) -> None:
        idle = [k for k, b in self._buckets.items() if self._refilled(b, now) >= self._capacity]
        for k in idle:
            del self._buckets[k]
        self._last_sweep = now

    def check(self, key: str, weight: int = 1) -> None:
        """Take ``weight`` units from ``key``'s bucket or raise ``RateLimited`` (nothing is taken then)."""
        if self._capacity <= 0:
            return
        cost = float(min(max(weight, 0), self._capacity))
        with self._lock:
            now = self._clock()
            if now - self._last_sweep >= self._sweep_seconds:
                self._sweep(now)
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= self._max_keys:
                    self._sweep(now)
                    while len(self._buckets) >= self._max_keys:
                        self._buckets.popitem(last=False)
                bucket = self._buckets[key] = _Bucket(self._capacity, now)
            else:
                self._buckets.move_to_end(key)
            tokens = self._refilled(bucket, now)
            if tokens + 1e-9 < cost:
                retry = max(1, math.ceil((cost - tokens) / self._rate))
                raise RateLimited(
                    f"rate limit exceeded: {self.per_minute} request units per minute "
                    f"(this request costs {int(cost)}); retry in {retry} s",
                    retry_after=retry,
                )
            bucket.tokens = tokens - cost
            bucket.stamp = now

    def remaining(self, key: str) -> int:
        """Units ``key`` could spend right now (for ``X-RateLimit-Remaining``)."""
        if self._capacity <= 0:
            return 0
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                return int(self._capacity)
            return int(self._refilled(bucket, self._clock()))

    def reset(self, key: str) -> None:
        """Forget ``key`` (its next request starts with a full bucket)."""
        with self._lock:
            self._buckets.pop(key, None)


class BootstrapLockout:
    """Refuse bootstrap attempts after too many wrong secrets.

    Call :meth:`check` before verifying the secret, :meth:`failure` after a wrong one and :meth:`success`
    after a right one. Key it by client IP (and, for a global ceiling, also by a constant such as ``"*"``).
    """

    def __init__(
        self,
        max_failures: int = 5,
        window_seconds: float = 60.0,
        lockout_seconds: float = 300.0,
        clock: Clock = time.monotonic,
        *,
        max_keys: int = 10_000,
    ) -> None:
        self.max_failures = max_failures
        self.window_seconds = window_seconds
        self.lockout_seconds = lockout_seconds
        self._clock = clock
        self._max_keys = max_keys
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._locked_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def _prune(self, now: float) -> None:
        for k in [k for k, until in self._locked_until.items() if until <= now]:
            del self._locked_until[k]
        for k in [k for k, q in self._failures.items() if not q or q[-1] <= now - self.window_seconds]:
            del self._failures[k]

    def check(self, key: str = "*") -> None:
        """Raise ``RateLimited`` while ``key`` is locked out."""
        with self._lock:
            now = self._clock()
            until = self._locked_until.get(key)
            if until is None:
                return
            if until <= now:
                del self._locked_until[key]
                return
            retry = max(1, math.ceil(until - now))
            raise RateLimited(
                f"too many wrong bootstrap secrets ({self.max_failures} within "
                f"{int(self.window_seconds)} s); retry in {retry} s",
                retry_after=retry,
            )

    def failure(self, key: str = "*") -> bool:
        """Record a wrong secret; True when this failure locks ``key`` out."""
        with self._lock:
            now = self._clock()
            if key not in self._failures and len(self._failures) >= self._max_keys:
                self._prune(now)
                while len(self._failures) >= self._max_keys:
                    self._failures.popitem(last=False)
            q = self._failures.setdefault(key, deque())
            self._failures.move_to_end(key)
            q.append(now)
            while q and q[0] <= now - self.window_seconds:
                q.popleft()
            if len(q) >= self.max_failures:
                self._locked_until[key] = now + self.lockout_seconds
                q.clear()
                return True
            return False

    def success(self, key: str = "*") -> None:
        """Forget the failures of ``key``."""
        with self._lock:
            self._failures.pop(key, None)
            self._locked_until.pop(key, None)

    def is_locked(self, key: str = "*") -> bool:
        """True while ``key`` is locked out."""
        with self._lock:
            return self._locked_until.get(key, -math.inf) > self._clock()
