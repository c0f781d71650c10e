"""Per-host politeness: "when may host H be asked next?" (pure), and a trio gate built on it.

:class:`HostPolicy` is pure: it takes ``now`` and answers with times.  :class:`HostGate`
applies it under trio with ``trio.current_time()`` and ``trio.sleep_until``, so
tests run on trio's MockClock.  Rules, per host:

- at most ``concurrency`` requests in flight;
- requests leave at least ``delay`` seconds apart (``max(delay, Crawl-delay)``, at most
  :data:`MAX_DELAY`), counted from when a request's head is actually sent (a new connection
  can take a while), so the server sees the spacing too;
- ``Retry-After`` pushes the next start back, up to ``max_wait`` seconds;
- the host is **deferred** to a later run, and no request goes to it any more in this run,
  when it asks for a longer wait than ``max_wait`` (``Retry-After: 999999``, a date in year
  9999) or when ``threshold`` requests in a row failed (refused connections, timeouts, 5xx
  after retries, responses slower than ``slow_after`` seconds): every wait a run makes is
  bounded, so a run always ends, and an unreachable site is given up in seconds, not minutes;
- the host is deferred, too, at its ``deadline`` (its time budget for the run, or the run's):
  no request starts after it, no wait reaches past it (a spacing or ``Retry-After`` that would
  end later defers the host at once), and :class:`~crawler.crawl.fetching.Fetching` cancels the
  exchange in flight at it (a server dripping its answer, a tarpit, slow DNS or TLS).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

MAX_DELAY = 60.0  # seconds between two requests to one host (a run waits no longer)
MAX_WAIT = 120.0  # the longest a run waits for a host that asked it to (Retry-After)


class _Acquirable(Protocol):
    def acquire_nowait(self) -> None: ...

    async def acquire(self) -> None: ...


async def acquire_without_switch(resource: _Acquirable) -> None:
    """``await resource.acquire()`` for a trio Lock, Semaphore or CapacityLimiter, less its task switch when
    it is free: trio's acquire checks for cancellation, takes it if it can (FIFO: not while others wait),
    else waits its turn, and then, having taken it at once, yields to the scheduler as a courtesy.  That
    last step is left out (three of them per request: the run's cap, the host's slots and its pacing);
    a cancellation is still seen here first."""
    import trio

    await trio.lowlevel.checkpoint_if_cancelled()
    try:
        resource.acquire_nowait()
    except trio.WouldBlock:
        await resource.acquire()


class HostDeferred(Exception):
    """The host was given up for this run; ``reason`` says why."""

    def __init__(self, host: str, reason: str) -> None:
        super().__init__(f"{host}: deferred to a later run: {reason}")
        self.host = host
        self.reason = reason


@dataclass(slots=True)
class HostPolicy:
    delay: float = 1.0
    threshold: int = 5
    max_wait: float = MAX_WAIT
    slow_after: float = 20.0
    next_start: float = 0.0
    failures: int = 0
    deferred: str | None = None  # why the host is given up for this run
    deadline: float = math.inf  # the host's time budget for the run ends (trio time)
    out_of_time: str = "its time budget for this run ran out"  # the reason given at the deadline
    ran_out: bool = False  # deferred because the deadline came

    def expire(self) -> None:
        """The deadline came: defer the host (unless it already is, for another reason)."""
        if self.deferred is None:
            self.deferred = self.out_of_time
            self.ran_out = True

    def __post_init__(self) -> None:
        self.delay = min(max(self.delay, 0.0), MAX_DELAY)

    def ready_at(self) -> float:
        """The earliest time the next request may start."""
        return self.next_start

    def started(self, now: float) -> None:
        """A request starts (or its head actually leaves, when that is later): space the next one."""
        self.next_start = max(self.next_start, now + self.delay)

    def success(self, now: float, elapsed: float) -> None:
        if elapsed >= self.slow_after:
            self.failure(now, reason=f"responses slower than {self.slow_after:g} s")
            return
        self.failures = 0

    def failure(self, now: float, retry_after: float | None = None, *, reason: str = "") -> None:
        """A request failed (after its retries); may defer the host (see the module docstring).

        Once the host is deferred its reason stays: requests still in flight then fail too, and
        must not turn "5 requests in a row failed" (the threshold) into 6, 7, ...
        """
        if self.deferred is not None:
            return
        self.failures += 1
        if retry_after is not None:
            if retry_after > self.max_wait:
                self.deferred = (f"asked to wait {retry_after:.0f} s (Retry-After), longer than the "
                                 f"{self.max_wait:g} s a run waits")
                return
            self.next_start = max(self.next_start, now + retry_after)
        if self.failures >= self.threshold:
            last = f" (last: {reason})" if reason else ""
            plural = "s" if self.failures != 1 else ""
            self.deferred = f"{self.failures} request{plural} in a row failed{last}"


class HostGate:
    """Async context manager around one request to a host: concurrency, spacing, deferral."""

    def __init__(self, host: str, *, concurrency: int, delay: float, threshold: int = 5,
                 max_wait: float = MAX_WAIT, deadline: float = math.inf, out_of_time: str | None = None) -> None:
        self.host = host
        import trio  # here, not at the top: configuration checks import this module's limits, trio is for crawls

        self.policy = HostPolicy(delay=delay, threshold=threshold, max_wait=max_wait, deadline=deadline)
        if out_of_time is not None:
            self.policy.out_of_time = out_of_time
        self._slots = trio.Semaphore(max(1, concurrency))
        self._pace = trio.Lock()  # one waiter at a time: the spacing is re-checked after every wake-up
        self.concurrency = max(1, concurrency)
        self.in_flight = 0
        self.max_in_flight = 0

    def set_delay(self, delay: float) -> None:
        self.policy.delay = min(max(self.policy.delay, delay), MAX_DELAY)

    @property
    def deferred(self) -> str | None:
        return self.policy.deferred

    def failure(self, now: float, retry_after: float | None = None, *, reason: str = "") -> None:
        self.policy.failure(now, retry_after, reason=reason)

    def _check(self) -> None:
        import trio

        if self.policy.deferred is None and trio.current_time() >= self.policy.deadline:
            self.policy.expire()
        if self.policy.deferred is not None:
            raise HostDeferred(self.host, self.policy.deferred)

    async def __aenter__(self) -> HostGate:
        """Wait for a slot and the spacing; raises :class:`HostDeferred` once the host is given up.

        Every wait here is bounded: the spacing by :data:`MAX_DELAY` or ``max_wait``, a slot by
        the requests in flight (each bounded by the fetcher's timeouts).
        """
        import trio

        self._check()
        await acquire_without_switch(self._slots)
        try:
            await acquire_without_switch(self._pace)
            try:
                # Re-checked after each wake-up: a late-sent request may have pushed the time back.
                while (ready := self.policy.ready_at()) > trio.current_time():
                    self._check()
                    if ready >= self.policy.deadline:  # the turn comes after the budget: no point waiting
                        self.policy.expire()
                        self._check()
                    await trio.sleep_until(ready)
                self._check()
                self.policy.started(trio.current_time())
            finally:
                self._pace.release()
        except BaseException:
            self._slots.release()
            raise
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        return self

    def sent(self) -> None:
        """Called when the request head leaves (the fetcher's trace hook)."""
        import trio

        self.policy.started(trio.current_time())

    @property
    def send_hook(self) -> Callable[[], None] | None:
        """:meth:`sent` for the fetcher, or None without a delay (the trace hook costs CPU per request)."""
        return self.sent if self.policy.delay > 0 else None

    async def __aexit__(self, *exc: object) -> None:
        self.in_flight -= 1
        self._slots.release()
