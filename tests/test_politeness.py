"""Politeness on trio's mock clock: spacing, concurrency, Retry-After, circuit breaker."""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from typing import Any

import pytest
import trio
import trio.lowlevel
import trio.testing

from crawler.net.politeness import MAX_DELAY, HostDeferred, HostGate, HostPolicy


def test_policy_spacing_retry_after_and_deferral() -> None:
    policy = HostPolicy(delay=1.0, threshold=3)
    assert policy.ready_at() == 0.0
    policy.started(0.0)
    assert policy.ready_at() == 1.0
    policy.started(0.5)  # the head left late (a slow connect): the spacing counts from there
    assert policy.ready_at() == 1.5
    policy.started(5.0)
    policy.failure(6.0, retry_after=30.0)
    assert policy.ready_at() == 36.0 and policy.deferred is None
    policy.success(7.0, elapsed=0.1)
    policy.failure(8.0)
    policy.success(9.0, elapsed=60.0)  # slow counts as a failure
    assert policy.failures == 2 and policy.deferred is None
    policy.failure(10.0, reason="cannot connect")
    assert policy.deferred == "3 requests in a row failed (last: cannot connect)"


@pytest.mark.parametrize("retry_after", [121.0, 999_999_999_999.0, float("inf")])
def test_a_wait_longer_than_the_cap_defers_the_host_instead(retry_after: float) -> None:
    policy = HostPolicy(delay=1.0, max_wait=120.0)
    policy.failure(0.0, retry_after=retry_after)
    assert policy.deferred is not None and "Retry-After" in policy.deferred
    assert policy.ready_at() <= 120.0  # nothing was pushed into the far future


@pytest.mark.parametrize("delay", [1e9, float("inf")])
def test_delays_are_capped(delay: float) -> None:
    assert HostPolicy(delay=delay).delay == MAX_DELAY
    gate = HostGate("h", concurrency=1, delay=1.0)
    gate.set_delay(delay)
    assert gate.policy.delay == MAX_DELAY


def test_waiters_give_up_once_the_host_is_deferred() -> None:
    outcomes: list[str] = []

    async def main() -> float:
        gate = HostGate("h", concurrency=1, delay=10.0)

        async def request(n: int) -> None:
            try:
                async with gate:
                    outcomes.append(f"sent {n}")
                    if n == 0:
                        gate.failure(trio.current_time(), retry_after=10**9)
            except HostDeferred as err:
                outcomes.append(f"deferred {n}: {err.reason[:22]}")

        async with trio.open_nursery() as nursery:
            for n in range(3):
                nursery.start_soon(request, n)
                await trio.lowlevel.checkpoint()
        return trio.current_time()

    ended = trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    assert sorted(outcomes) == ["deferred 1: asked to wait 10000000", "deferred 2: asked to wait 10000000", "sent 0"]
    assert ended <= 10.0  # at most one delay, not the billion seconds asked for


def test_gate_holds_delay_and_concurrency_on_mock_clock() -> None:
    starts: list[float] = []

    async def main() -> HostGate:
        gate = HostGate("h", concurrency=2, delay=1.0)

        async def request() -> None:
            async with gate:
                starts.append(trio.current_time())
                await trio.sleep(5.0)  # a slow response

        async with trio.open_nursery() as nursery:
            for _ in range(6):
                nursery.start_soon(request)
        return gate

    gate = trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    assert gate.max_in_flight == 2
    gaps = [b - a for a, b in pairwise(starts)]
    assert all(gap >= 1.0 - 1e-9 for gap in gaps), gaps
    assert len(starts) == 6


@pytest.mark.parametrize("make", [trio.Lock, lambda: trio.Semaphore(1), lambda: trio.CapacityLimiter(1)])
def test_acquiring_without_the_switch_keeps_the_order_waits_and_cancellation(make: Callable[[], Any]) -> None:
    """acquire_without_switch is trio's acquire less its courtesy yield: free, it takes the resource at once;
    taken, the callers wait and get it in the order they came; cancelled, it raises and takes nothing."""
    from crawler.net.politeness import acquire_without_switch

    async def go() -> list[int]:
        resource = make()
        order: list[int] = []
        await acquire_without_switch(resource)  # free: taken (the waiters below wait for its release)

        async def waiter(n: int) -> None:
            await acquire_without_switch(resource)
            order.append(n)
            await trio.sleep(0.001)
            resource.release()

        async with trio.open_nursery() as nursery:
            for n in range(4):
                nursery.start_soon(waiter, n)
                await trio.testing.wait_all_tasks_blocked()
            with trio.CancelScope() as scope:  # cancelled before: raises at once, takes nothing
                scope.cancel()
                await acquire_without_switch(resource)
                order.append(-1)
            assert order == []  # still ours: nobody got it
            resource.release()
        await acquire_without_switch(resource)  # free again once all are done
        resource.release()
        return order

    assert trio.run(go) == [0, 1, 2, 3]
