"""What the triggers keeping the ``superseded`` table (schema 7) cost a writer: the insert of a snapshot row alone.

    .venv/bin/python bench/superseded_triggers.py [--rows 20000] [--versions 2000] [--rounds 5]

A catalog made by :class:`crawler.archive.catalog.Store` (its triggers), and the same with the triggers dropped (the
inserts of schema 6), take turns: ``--rows`` first versions, then ``--versions`` second versions of some of them,
inserted with the statement of :meth:`~crawler.archive.catalog.Store.commit` in transactions of 200 rows (as a crawl
commits; the search index left out: it costs ~270 µs a row, bench/search_body.py).  Printed: CPU (user+sys)
microseconds per row, medians over the rounds, and the difference.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from benchlib import header

from crawler.archive.catalog import _SNAPSHOT_COLUMNS, Store
from crawler.archive.catalog_schema import SUPERSEDED_OBJECTS

INSERT = f"INSERT OR IGNORE INTO snapshots ({_SNAPSHOT_COLUMNS}) VALUES (?,?,?,?,?,?,?,'',?,?,?,?,?,?)"


def rows(count: int, version: int, step: int = 1) -> list[tuple[object, ...]]:
    return [("baocantho", str(100_000 + n * step), version, f"https://baocantho.com.vn/a-{n}.html",
             "2024-05-01T08:00:00+07:00", f"Tiêu đề {n}", f"text/baocantho/2024/05/{n}.txt", "0" * 64,
             "baocantho-1.warc.gz", n * 1000, "2024-05-01T01:00:00+00:00", "1", '{"sapo": "x"}')
            for n in range(count)]


def run(directory: Path, triggers: bool, first: int, second: int) -> tuple[float, float]:
    with Store(directory) as store:
        db = store.db
        if not triggers:
            for kind, name in SUPERSEDED_OBJECTS[1:]:
                db.execute(f"DROP {kind.upper()} {name}")
        out = []
        for batch in (rows(first, 1), rows(second, 2, first // max(1, second))):
            cpu = time.process_time()
            for start in range(0, len(batch), 200):
                with db:
                    db.executemany(INSERT, batch[start:start + 200])
            out.append((time.process_time() - cpu) * 1e6 / len(batch))
        if triggers:
            assert db.execute("SELECT count(*) FROM superseded").fetchone()[0] == second
        return out[0], out[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--versions", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(header("the superseded table's triggers, per inserted row (bench/superseded_triggers.py)"))
    seen: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.rounds):
            for triggers in (False, True):
                seen[triggers].append(run(Path(tmp) / f"{round_}-{triggers}", triggers, args.rows, args.versions))
    print("\n| inserts | first versions µs/row (CPU) | second versions µs/row (CPU) |\n|---|---:|---:|")
    medians = {}
    for triggers in (False, True):
        medians[triggers] = [statistics.median(r[i] for r in seen[triggers]) for i in (0, 1)]
        print(f"| {'with the triggers' if triggers else 'without (schema 6)'} | {medians[triggers][0]:.1f} | "
              f"{medians[triggers][1]:.1f} |")
    print(f"\ncost of the triggers: {medians[True][0] - medians[False][0]:+.1f} µs per first version, "
          f"{medians[True][1] - medians[False][1]:+.1f} µs per later version")


if __name__ == "__main__":
    main()
