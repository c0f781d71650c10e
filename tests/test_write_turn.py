"""The crawl's event loop and the search indexer behind it (issue 22): the loop does not wait for the indexer.

The indexer holds this process's catalog write turn for a chunk (up to ~20 ms).  A crawl's batch commit then
waits for its next try (the rows are in the workers' journals meanwhile) until the batch is too big or too old;
the loop's other writes (the frontier, the walks) poll for the turn so that the loop's other tasks run meanwhile;
and the indexer's thread runs at a lower CPU priority than the loop's.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest
import trio

from crawler.archive import search_index
from crawler.archive.catalog import CATALOG, Store
from crawler.crawl import archiving as archiving_module
from crawler.crawl.archiving import BATCH, MAX_BATCH, Archiving, write_turn
from crawler.crawl.worker_pool import ArchivePool
from tests.test_search_body import BODIES, article, write

MANY = [article(str(n), f"Bài {n}", (f"Đoạn văn thứ {n}.",)) for n in range(100, 100 + MAX_BATCH + 5)]


class Holder:
    """Another thread (the indexer's stand-in) holding the store's write turn until :meth:`release`."""

    def __init__(self, store: Store) -> None:
        self._go = threading.Event()
        self._held = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(store,), daemon=True)
        self._thread.start()
        assert self._held.wait(10)

    def _run(self, store: Store) -> None:
        turn = store.try_turn()
        assert turn is not None
        self._held.set()
        self._go.wait(30)
        turn.release()

    def release(self) -> None:
        self._go.set()
        self._thread.join(10)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path) as opened:
        yield opened


def committed(archive: Path) -> int:
    with sqlite3.connect(archive / CATALOG) as db:
        return int(db.execute("SELECT count(*) FROM snapshots").fetchone()[0])


def new_archiving(store: Store) -> Archiving:
    return Archiving(store, cast(ArchivePool, object()), {}, lambda *args: None)


def test_a_full_batch_waits_for_its_next_try_while_the_turn_is_held(tmp_path: Path, store: Store) -> None:
    rows = write(tmp_path, BODIES + MANY)
    archiving = new_archiving(store)
    holder = Holder(store)

    async def main() -> None:
        try:
            for row in rows[:BATCH + 3]:
                archiving._add(row)  # reaches BATCH: the commit is tried, and left for later
            assert committed(tmp_path) == 0
        finally:
            holder.release()
        archiving._add(rows[BATCH + 3])  # the next try finds the turn free

    trio.run(main)
    assert committed(tmp_path) == BATCH + 4


def test_a_batch_too_big_waits_for_the_turn(tmp_path: Path, store: Store) -> None:
    rows = write(tmp_path, BODIES + MANY)
    archiving = new_archiving(store)
    holder = Holder(store)
    timer = threading.Timer(0.3, holder.release)
    timer.start()

    async def main() -> None:
        for row in rows[:MAX_BATCH]:
            archiving._add(row)  # the last one waits for the turn, then commits

    try:
        trio.run(main)
        assert committed(tmp_path) == MAX_BATCH
    finally:
        timer.cancel()
        holder.release()


def test_the_flusher_commits_an_old_batch_once_the_turn_is_free(tmp_path: Path, store: Store,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archiving_module, "BATCH_SECONDS", 0.05)
    monkeypatch.setattr(archiving_module, "MAX_BATCH_SECONDS", 60.0)  # (the test's hold is shorter)
    rows = write(tmp_path, BODIES)
    archiving = new_archiving(store)
    holder = Holder(store)
    seen_while_held: list[int] = []

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(archiving.flusher)
            for row in rows:
                archiving._add(row)
            await trio.sleep(0.3)  # the batch is old: the flusher tries, every few ms, and finds the turn held
            seen_while_held.append(committed(tmp_path))
            await trio.to_thread.run_sync(holder.release)
            for _ in range(1000):
                if committed(tmp_path) == len(rows):
                    break
                await trio.sleep(0.01)
            nursery.cancel_scope.cancel()

    trio.run(main)
    assert seen_while_held == [0]
    assert committed(tmp_path) == len(rows)


def test_a_write_polls_for_the_turn_and_the_loop_goes_on_meanwhile(tmp_path: Path, store: Store) -> None:
    holder = Holder(store)
    ticks: list[int] = []
    done: list[bool] = []

    async def ticker() -> None:
        while not done:
            ticks.append(1)
            await trio.sleep(0.005)

    async def writer() -> None:
        async with write_turn(store):
            store.set_walk("https://example.test/list", complete=True)
        done.append(True)

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(ticker)
            nursery.start_soon(writer)
            await trio.sleep(0.05)
            assert not done and len(ticks) >= 3  # the writer waits; the ticker ticks
            await trio.to_thread.run_sync(holder.release)

    trio.run(main)
    assert done and store.walk_complete("https://example.test/list")


def test_past_its_patience_a_write_waits_for_the_turn(tmp_path: Path, store: Store,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archiving_module, "TURN_PATIENCE", 0.02)
    holder = Holder(store)
    timer = threading.Timer(0.2, holder.release)
    timer.start()

    async def main() -> None:
        async with write_turn(store):
            store.set_walk("https://example.test/list", complete=True)

    try:
        trio.run(main)
    finally:
        timer.cancel()
        holder.release()
    assert store.walk_complete("https://example.test/list")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a thread's own nice value is Linux's")
def test_the_indexer_thread_runs_at_a_lower_cpu_priority(tmp_path: Path, store: Store) -> None:
    base = os.getpriority(os.PRIO_PROCESS, 0)
    with store.indexing_behind():
        indexer = next(t for t in threading.enumerate() if t.name == "search-indexer")
        assert indexer.native_id is not None
        for _ in range(1000):  # it lowers its priority as it starts
            if os.getpriority(os.PRIO_PROCESS, indexer.native_id) != base:
                break
            threading.Event().wait(0.005)
        assert os.getpriority(os.PRIO_PROCESS, indexer.native_id) == min(19, base + search_index.INDEXER_NICENESS)
    assert os.getpriority(os.PRIO_PROCESS, 0) == base  # the crawl's own thread keeps its priority
