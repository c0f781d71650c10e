"""Politeness on trio's mock clock: spacing, concurrency, Retry-After, circuit breaker."""

from __future__ import annotations

from itertools import pairwise

import trio
import trio.testing

from crawler.politeness import HostGate, HostPolicy


def test_policy_spacing_and_breaker() -> None:
    policy = HostPolicy(delay=1.0, threshold=2, cooldown=10.0)
    assert policy.ready_at() == 0.0
    policy.started(0.0)
    assert policy.ready_at() == 1.0
    policy.started(0.5)  # the head left late (a slow connect): the spacing counts from there
    assert policy.ready_at() == 1.5
    policy.started(5.0)
    policy.failure(6.0, retry_after=30.0)
    assert policy.ready_at() == 36.0
    policy.failure(7.0)
    assert policy.is_open(7.0) and not policy.is_open(17.1)
    policy.failure(20.0)
    policy.failure(20.0)
    assert policy.open_until == 40.0  # the cool-down doubled on the second trip
    policy.success(41.0, elapsed=0.1)
    assert policy.trips == 0
    policy.success(41.0, elapsed=60.0)  # slow counts as a failure
    assert policy.failures == 1


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
