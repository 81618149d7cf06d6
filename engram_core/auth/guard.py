"""Request budgets: a pre-auth per-IP limit and a weighted per-key limit (see ``ratelimit``).

Local clients (a loopback peer address, no proxy header) get ``ENGRAM_LOCAL_RATE_LIMIT_PER_MINUTE`` for
both budgets instead of the remote ones: one agent importing its history on its own machine is bounded by
the server's own speed, not by a budget sized for clients on a network. A request that came through a
reverse proxy (``Forwarded`` or ``X-Forwarded-For``) is never local, whatever the peer address.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Callable, Mapping

from ..settings import Settings
from .context import AuthContext
from .ratelimit import RateLimiter

__all__ = ["RequestLimits", "is_local"]

_PROXY_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")


def is_local(ip: str | None, headers: Mapping[str, str] | None = None) -> bool:
    """True for a loopback peer (127.0.0.0/8, ::1) whose request carries no reverse-proxy header."""
    if not ip:
        return False
    try:
        loopback = ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False
    return loopback and not any(h in (headers or {}) for h in _PROXY_HEADERS)


class RequestLimits:
    """Both limits of one server. A key's own ``rate_limit`` overrides the default budget
    (ENGRAM_RATE_LIMIT_PER_MINUTE, or ENGRAM_LOCAL_RATE_LIMIT_PER_MINUTE for a local client)."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._ip = RateLimiter(settings.ip_rate_limit_per_minute, clock)
        self._local_ip = RateLimiter(settings.local_rate_limit_per_minute, clock)
        self._default = settings.rate_limit_per_minute
        self._local = settings.local_rate_limit_per_minute
        self._by_budget: dict[int, RateLimiter] = {}
        self._lock = threading.Lock()

    def _budget(self, auth: AuthContext, local: bool) -> int:
        if auth.rate_limit:  # set on the key on purpose: it holds wherever the client is
            return auth.rate_limit
        return self._local if local else self._default

    def check_ip(self, ip: str | None, *, local: bool = False) -> None:
        """Pre-auth: one unit per request from ``ip``; raises ``RateLimited``."""
        (self._local_ip if local else self._ip).check(ip or "-", 1)

    def check_key(self, auth: AuthContext, cost: int, *, local: bool = False) -> None:
        """``cost`` units (the route's declared weight) from the caller's key budget; raises ``RateLimited``."""
        budget = self._budget(auth, local)
        with self._lock:
            limiter = self._by_budget.get(budget)
            if limiter is None:
                limiter = self._by_budget[budget] = RateLimiter(budget, self._clock)
        who = f"key:{auth.key_id}" if auth.key_id is not None else f"ip:{auth.ip}"
        limiter.check(who, cost)
