"""Request budgets: a pre-auth per-IP limit and a weighted per-key limit (see ``ratelimit``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ..settings import Settings
from .context import AuthContext
from .ratelimit import RateLimiter, weight_for

__all__ = ["RequestLimits"]


class RequestLimits:
    """Both limits of one server. A key's own ``rate_limit`` overrides ENGRAM_RATE_LIMIT_PER_MINUTE."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._ip = RateLimiter(settings.ip_rate_limit_per_minute, clock)
        self._default = settings.rate_limit_per_minute
        self._by_budget: dict[int, RateLimiter] = {}
        self._lock = threading.Lock()

    def check_ip(self, ip: str | None) -> None:
        """Pre-auth: one unit per request from ``ip``; raises ``RateLimited``."""
        self._ip.check(ip or "-", 1)

    def check_key(self, auth: AuthContext, method: str, path: str) -> None:
        """Weighted units per route from the caller's key budget; raises ``RateLimited``."""
        budget = auth.rate_limit or self._default
        with self._lock:
            limiter = self._by_budget.get(budget)
            if limiter is None:
                limiter = self._by_budget[budget] = RateLimiter(budget, self._clock)
        who = f"key:{auth.key_id}" if auth.key_id is not None else f"ip:{auth.ip}"
        limiter.check(who, weight_for(method, path))
