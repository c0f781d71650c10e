"""Per-host politeness: "when may host H be asked next?" (pure), and a trio gate built on it.

:class:`HostPolicy` is pure: it takes ``now`` and answers with times.  :class:`HostGate`
applies it under trio with ``trio.current_time()`` and ``trio.sleep_until``, so
tests run on trio's MockClock.  Rules, per host:

- at most ``concurrency`` requests in flight;
- requests leave at least ``delay`` seconds apart (``max(delay, Crawl-delay)``), counted
  from when a request's head is actually sent (a new connection can take a while), so
  the server sees the spacing too;
- ``Retry-After`` pushes the next start back;
- a circuit breaker: after ``threshold`` consecutive transient failures (or responses
  slower than ``slow_after`` seconds) the host is closed for a cool-down that doubles
  each time it trips again (capped), then tried again; a success resets it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import trio


@dataclass(slots=True)
class HostPolicy:
    delay: float = 1.0
    threshold: int = 5
    cooldown: float = 30.0
    max_cooldown: float = 600.0
    slow_after: float = 20.0
    next_start: float = 0.0
    failures: int = 0
    open_until: float = 0.0
    trips: int = 0

    def ready_at(self) -> float:
        """The earliest time the next request may start."""
        return max(self.next_start, self.open_until)

    def started(self, now: float) -> None:
        """A request starts (or its head actually leaves, when that is later): space the next one."""
        self.next_start = max(self.next_start, now + self.delay)

    def success(self, now: float, elapsed: float) -> None:
        if elapsed >= self.slow_after:
            self.failure(now)
            return
        self.failures = 0
        self.trips = 0

    def failure(self, now: float, retry_after: float | None = None) -> None:
        self.failures += 1
        if retry_after is not None:
            self.next_start = max(self.next_start, now + retry_after)
        if self.failures >= self.threshold:
            self.trips += 1
            self.failures = 0
            pause = min(self.cooldown * 2 ** (self.trips - 1), self.max_cooldown)
            self.open_until = max(self.open_until, now + pause)

    def is_open(self, now: float) -> bool:
        """True while the breaker keeps the host closed."""
        return now < self.open_until


class HostGate:
    """Async context manager around one request to a host: concurrency, spacing, breaker."""

    def __init__(self, host: str, *, concurrency: int, delay: float, threshold: int = 5,
                 cooldown: float = 30.0) -> None:
        self.host = host
        self.policy = HostPolicy(delay=delay, threshold=threshold, cooldown=cooldown)
        self._slots = trio.Semaphore(max(1, concurrency))
        self._pace = trio.Lock()  # one waiter at a time: the spacing is re-checked after every wake-up
        self.concurrency = max(1, concurrency)
        self.in_flight = 0
        self.max_in_flight = 0

    def set_delay(self, delay: float) -> None:
        self.policy.delay = max(self.policy.delay, delay)

    async def __aenter__(self) -> HostGate:
        await self._slots.acquire()
        try:
            async with self._pace:
                # Re-checked after each wake-up: a late-sent request may have pushed the time back.
                while (ready := self.policy.ready_at()) > trio.current_time():  # noqa: ASYNC110
                    await trio.sleep_until(ready)
                self.policy.started(trio.current_time())
        except BaseException:
            self._slots.release()
            raise
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        return self

    def sent(self) -> None:
        """Called when the request head leaves (the fetcher's trace hook)."""
        self.policy.started(trio.current_time())

    @property
    def send_hook(self) -> Callable[[], None] | None:
        """:meth:`sent` for the fetcher, or None without a delay (the trace hook costs CPU per request)."""
        return self.sent if self.policy.delay > 0 else None

    async def __aexit__(self, *exc: object) -> None:
        self.in_flight -= 1
        self._slots.release()
