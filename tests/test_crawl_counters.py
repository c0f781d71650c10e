"""Counter messages say the count that decided (issue 17, item 33): "5 in a row" for a threshold of 5,
however many requests were in flight when the host was given up."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio
import trio.testing

from crawler.cli import main
from crawler.net.politeness import HostDeferred, HostGate, HostPolicy

from .conftest import one_source_config


@pytest.mark.parametrize(("threshold", "failures"), [(5, 6), (5, 9), (1, 3), (3, 3)])
def test_the_deferral_reason_names_the_threshold_not_later_failures(threshold: int, failures: int) -> None:
    policy = HostPolicy(threshold=threshold)
    for n in range(failures):
        policy.failure(float(n), reason=f"cannot connect #{n + 1}")
    plural = "s" if threshold > 1 else ""
    assert policy.deferred == f"{threshold} request{plural} in a row failed (last: cannot connect #{threshold})"


def test_a_later_failure_does_not_rewrite_why_the_host_was_given_up() -> None:
    policy = HostPolicy(threshold=5, max_wait=120.0)
    policy.failure(0.0, retry_after=999.0)
    first = policy.deferred
    assert first is not None and "Retry-After" in first
    for n in range(6):
        policy.failure(float(n), reason="timed out")
    policy.success(9.0, elapsed=0.1)
    assert policy.deferred == first


def test_requests_in_flight_when_the_host_is_given_up_do_not_raise_the_count() -> None:
    async def main() -> str | None:
        gate = HostGate("h", concurrency=8, delay=0.0, threshold=5)

        async def request(n: int) -> None:
            try:
                async with gate:
                    await trio.sleep(1)  # all eight in flight, then all fail
                    gate.failure(trio.current_time(), reason=f"HTTP 503 #{n}")
            except HostDeferred:
                pass

        async with trio.open_nursery() as nursery:
            for n in range(8):
                nursery.start_soon(request, n)
        return gate.deferred

    deferred = trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    assert deferred is not None and deferred.startswith("5 requests in a row failed")


@pytest.fixture
def black_hole() -> Iterator[int]:
    """A port whose server accepts connections and closes them at once (every request fails)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(server.getsockname()[1])
    finally:
        stop.set()
        thread.join()
        server.close()


def test_the_run_says_five_in_a_row_for_a_threshold_of_five(tmp_path: Path, black_hole: int,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    config = one_source_config(tmp_path / "sources.yaml", "site", black_hole,
                               "start_pages: [" + ", ".join(f'"/p{n}"' for n in range(12)) + "]")
    code = main(["crawl", "--sources", str(config), "--archive", str(tmp_path / "a"), "--no-progress", "--quiet",
                 "--host-concurrency", "8"])
    err = capsys.readouterr().err
    assert code == 4, err
    (record,) = (json.loads(p.read_text(encoding="utf-8")) for p in (tmp_path / "a" / "runs").glob("*.json"))
    (why,) = record["sources"]["site"]["deferred"].values()
    assert why.startswith("5 requests in a row failed"), why
    assert "6 requests" not in err and "7 requests" not in err
