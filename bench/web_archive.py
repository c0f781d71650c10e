"""``crawler index`` against ``cdxj-indexer``, and ``crawler wacz`` time and peak RSS from 1k to 10k articles.

    python bench/web_archive.py [--sizes 1000 5000 10000] [--rounds 3] [--dir bench/out/web-archive]

For each size, an archive of that many articles (``crawler demo --articles size/3``: three
sources; reused when it exists).  On the largest: ``crawler index`` (rebuilds every WARC file's
CDXJ index) and ``cdxj-indexer`` (its command line, on the same files, output to a file),
alternated, ``--rounds`` times each: records/s over the WARC records the files hold (requests,
responses, revisits, warcinfo: both read them all), and the ratio of medians.  On every size:
``crawler wacz`` wall time and peak RSS (``/usr/bin/time``).  Needs ``cdxj-indexer`` in the venv
(the ``dev`` extra).  Prints a Markdown table and ``uptime`` (the machine is shared).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.archive.cdxj import _gzip_members  # noqa: E402

BIN = Path(sys.executable).parent


def timed(cmd: list[str], out: Path | None = None) -> tuple[float, int]:
    """(wall seconds, peak RSS in KiB) of a command, from /usr/bin/time."""
    report = Path("/tmp") / f"bench-time-{time.monotonic_ns()}"
    with open(out or "/dev/null", "wb") as sink:
        subprocess.run(["/usr/bin/time", "-o", str(report), "-f", "%e %M", *cmd], stdout=sink, check=True, cwd=ROOT)
    wall, rss = report.read_text().split()[-2:]
    report.unlink()
    return float(wall), int(rss)


def records(archive: Path) -> int:
    def chunks(path: Path):  # type: ignore[no-untyped-def]
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                yield chunk
    return sum(1 for path in sorted((archive / "warc").glob("*.warc.gz")) for _ in _gzip_members(chunks(path)))


def build(directory: Path, size: int) -> Path:
    archive = directory / f"archive-{size}"
    if not (archive / "catalog.sqlite").exists():
        print(f"building {archive} ({size} articles) ...", flush=True)
        subprocess.run([sys.executable, "-m", "crawler", "demo", "--archive", str(archive), "--articles",
                        str(size // 3)], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return archive


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 2500, 5000, 10000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=ROOT / "bench" / "out" / "web-archive")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    archives = {size: build(args.dir, size) for size in args.sizes}
    largest = archives[max(args.sizes)]
    warcs = sorted((largest / "warc").glob("*.warc.gz"))
    n = records(largest)
    ours, theirs = [], []
    for _ in range(args.rounds):
        ours.append(timed([str(BIN / "crawler"), "index", "--archive", str(largest)]))
        theirs.append(timed([str(BIN / "cdxj-indexer"), *map(str, warcs)], args.dir / "cdxj-indexer.cdxj"))
    lines = sum(len(p.read_text(encoding="utf-8").splitlines()) for p in (largest / "indexes").glob("*.cdxj"))
    our_s = statistics.median(w for w, _ in ours)
    their_s = statistics.median(w for w, _ in theirs)
    size_mb = sum(p.stat().st_size for p in warcs) / 1e6
    print(f"\n### `crawler index` vs `cdxj-indexer`, {max(args.sizes):,} articles: {len(warcs)} WARC files, "
          f"{size_mb:.0f} MB, {n:,} records, {lines:,} index lines (medians of {args.rounds})\n")
    print("| indexer | wall s | records/s | peak RSS MiB |")
    print("|---|---|---|---|")
    print(f"| `crawler index` | {our_s:.2f} | {n / our_s:,.0f} | {max(r for _, r in ours) / 1024:.0f} |")
    print(f"| `cdxj-indexer` | {their_s:.2f} | {n / their_s:,.0f} | {max(r for _, r in theirs) / 1024:.0f} |")
    print(f"\nratio (cdxj-indexer time / ours): {their_s / our_s:.2f}x\n")
    print("### `crawler wacz` (median wall of the rounds, largest peak RSS)\n")
    print("| articles | WARC MB | wacz MB | wall s | peak RSS MiB |")
    print("|---|---|---|---|---|")
    for size, archive in archives.items():
        out = args.dir / f"archive-{size}.wacz"
        runs = [timed([str(BIN / "crawler"), "wacz", "--archive", str(archive), "-o", str(out)])
                for _ in range(args.rounds)]
        warc_mb = sum(p.stat().st_size for p in (archive / "warc").glob("*.warc.gz")) / 1e6
        print(f"| {size:,} | {warc_mb:.0f} | {out.stat().st_size / 1e6:.0f} | "
              f"{statistics.median(w for w, _ in runs):.2f} | {max(r for _, r in runs) / 1024:.0f} |")
    print("\n" + subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
