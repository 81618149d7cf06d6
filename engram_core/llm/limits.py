"""What keeps a flaky or expensive LLM from hurting the server: a circuit breaker and a token budget.

``CircuitBreaker``: after ``threshold`` consecutive failures the circuit opens and every call is refused
at once (the caller falls back to the rules) for ``cooldown`` seconds; then one trial call is let through
(half-open): success closes the circuit, failure opens it again.

``TokenBudget``: a sliding one-minute window of tokens spent; a call that would go over is refused.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

__all__ = ["CircuitBreaker", "TokenBudget"]

Clock = Callable[[], float]


class CircuitBreaker:
    """Closed -> open after ``threshold`` failures in a row -> half-open after ``cooldown`` seconds."""

    def __init__(self, threshold: int = 3, cooldown: float = 30.0, clock: Clock = time.monotonic) -> None:
        self.threshold = max(1, threshold)
        self.cooldown = cooldown
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial = False
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        with self._lock:
            return self._state()

    def _state(self) -> str:
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at >= self.cooldown:
            return "half-open"
        return "open"

    def allow(self) -> bool:
        """Whether a call may go out now (in half-open state, only one trial at a time)."""
        with self._lock:
            state = self._state()
            if state == "closed":
                return True
            if state == "half-open" and not self._trial:
                self._trial = True
                return True
            return False

    def success(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._trial = False

    def failure(self) -> None:
        with self._lock:
            self._failures += 1
            self._trial = False
            if self._failures >= self.threshold or self._opened_at is not None:
                self._opened_at = self._clock()


class TokenBudget:
    """At most ``per_minute`` tokens in any 60-second window (0 or less: unlimited)."""

    def __init__(self, per_minute: int, clock: Clock = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._spent: deque[tuple[float, int]] = deque()
        self._lock = threading.Lock()

    def _trim(self, now: float) -> int:
        while self._spent and now - self._spent[0][0] >= 60.0:
            self._spent.popleft()
        return sum(n for _, n in self._spent)

    def used(self) -> int:
        with self._lock:
            return self._trim(self._clock())

    def reserve(self, tokens: int) -> bool:
        """Spend ``tokens`` now if they fit in the window; False (nothing spent) if they do not."""
        if self.per_minute <= 0:
            return True
        with self._lock:
            now = self._clock()
            if self._trim(now) + tokens > self.per_minute:
                return False
            self._spent.append((now, tokens))
            return True

    def adjust(self, reserved: int, actual: int) -> None:
        """Replace an estimate by what the endpoint reported it used."""
        if self.per_minute <= 0 or actual == reserved:
            return
        with self._lock:
            self._spent.append((self._clock(), actual - reserved))
