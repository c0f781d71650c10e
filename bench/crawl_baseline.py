"""The crawler against an earlier version of itself: same export, same nginx, same run, alternating.

``bench/crawl.py`` compares the crawler with other tools; this answers "did a change make the
crawl cheaper?" on a machine whose speed drifts between runs (see BENCHMARKS.md): the two
versions crawl the same nginx export in turn, round after round, and the table gives pages/s and
the process tree's CPU per page (user and system) of each, with the ratio per round.

The baseline is the ``crawler`` executable of another checkout with its own virtual environment::

    git worktree add /tmp/base 758d9db && python3 -m venv /tmp/base/.venv \\
        && /tmp/base/.venv/bin/pip install -q -e /tmp/base
    .venv/bin/python bench/crawl_baseline.py --baseline /tmp/base/.venv/bin/crawler

Both run in the work directory: versions before ``-P`` started their workers as ``python -c``,
which imports the ``crawler`` package of the working directory (run from this checkout, the
baseline's workers ran this checkout's code, and the comparison saw no change in the workers).

Older versions cannot read the ``hue`` block of today's sources.yaml (its URL patterns became a
list), so by default both crawl Cần Thơ and An Giang only (``--sources-keys``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from statistics import median

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

import crawl as bc  # bench/crawl.py: the export, nginx, the measured child
from benchlib import header


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", type=Path, required=True, help="the other version's `crawler` executable")
    parser.add_argument("--articles", type=int, default=3000, help="articles on the mirror, in all (default 3000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, each crawling with both versions (default 3)")
    parser.add_argument("--setting", default="2x16", help="HOSTxTOTAL concurrency (default 2x16)")
    parser.add_argument("--sources-keys", default="baocantho,baoangiang",
                        help="sources both versions crawl (default baocantho,baoangiang)")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the export and logs here")
    args = parser.parse_args()
    if not args.baseline.is_file():
        parser.error(f"--baseline {args.baseline}: no such executable")
    host_conc, conc = (int(part) for part in args.setting.split("x"))
    keys = [key.strip() for key in args.sources_keys.split(",") if key.strip()]

    tmp = None
    if args.workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="bench-baseline-")
        work = Path(tmp.name)
        work.chmod(0o755)
    else:
        work = args.workdir.resolve()
        work.mkdir(parents=True, exist_ok=True)
    bench = bc.Bench(argparse.Namespace(quick=False, settings=args.setting, rounds=args.rounds), work)
    print(header("the crawler against a baseline version"), flush=True)
    print(f"# baseline: {args.baseline}; sources: {', '.join(keys)}; setting {args.setting}", flush=True)
    site = bench.make_site("big", args.articles)
    data = yaml.safe_load(site.sources_file.read_text(encoding="utf-8"))
    data["sources"] = {key: data["sources"][key] for key in keys}
    site.sources_file.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    hosts = {host for key in keys for host in bc.load_sources(site.sources_file).get(key).hosts}
    origin_args = [arg for host, url in site.origins.items() if host in hosts for arg in ("--origin", f"{host}={url}")]
    rows: dict[str, list[tuple[float, float, float]]] = {"current": [], "baseline": []}
    crawl: dict[str, list[tuple[float, float]]] = {"current": [], "baseline": []}  # the crawl process alone
    with bench.start(site):
        for round_no in range(1, args.rounds + 1):
            for label, exe in (("current", bc.CRAWLER), ("baseline", args.baseline)):
                archive = work / f"archive-{label}-{round_no}"
                argv = [str(exe), "crawl", "--sources", str(site.sources_file), "--archive", str(archive),
                        *origin_args, "--delay", "0", "--host-concurrency", str(host_conc), "--concurrency",
                        str(conc), "--ignore-robots", "--quiet", "--no-progress"]
                # Not from this checkout: a version whose workers are `python -c` (before -P) would import the
                # `crawler` of the working directory in them, and the baseline's workers would run our code.
                result, _ = bench._measure(label, args.setting, argv, cwd=work)
                pages = max(result.pages, 1)
                rows[label].append((result.pps_span, 1000 * result.child.user / pages,
                                    1000 * result.child.system / pages))
                crawl[label].append(crawl_process_cpu(archive, pages))
                own = crawl[label][-1]
                bench.say(f"round {round_no} {label}: {result.pages} pages, {result.pps_span:.0f} pages/s, CPU "
                          f"{rows[label][-1][1]:.2f}+{rows[label][-1][2]:.2f} ms/page (crawl process "
                          f"{own[0]:.2f}+{own[1]:.2f}) {result.note}")
                if result.child.returncode != 0:
                    print(f"bench: the {label} crawl exited {result.child.returncode}", file=sys.stderr)
                    return 1
    print("\n| version | pages/s (span) per round | median | CPU ms/page user+sys (median) |")
    print("|---|---|---:|---:|")
    for label, values in rows.items():
        print(f"| {label} | {' / '.join(f'{v[0]:.0f}' for v in values)} | {median(v[0] for v in values):.0f} | "
              f"{median(v[1] for v in values):.2f}+{median(v[2] for v in values):.2f} |")
    print("\n| version | crawl process CPU ms/page user+sys per round | median user+sys |")
    print("|---|---|---:|")
    for label, values in crawl.items():
        print(f"| {label} | {' / '.join(f'{u:.2f}+{s:.2f}' for u, s in values)} | "
              f"{median(u + s for u, s in values):.3f} |")
    saved = [sum(b) - sum(c) for c, b in zip(crawl["current"], crawl["baseline"], strict=True)]
    print(f"\nbaseline - current crawl process CPU per page, per round (ms): {' '.join(f'{d:.3f}' for d in saved)} "
          f"(median {median(saved):.3f})")
    speed = [c[0] / b[0] for c, b in zip(rows["current"], rows["baseline"], strict=True)]
    cpu = [(b[1] + b[2]) / (c[1] + c[2]) for c, b in zip(rows["current"], rows["baseline"], strict=True)]
    print(f"\ncurrent / baseline pages/s per round: {' '.join(f'{r:.2f}' for r in speed)} "
          f"(median {median(speed):.2f}); "
          f"baseline / current CPU per page: {' '.join(f'{r:.2f}' for r in cpu)} (median {median(cpu):.2f})")
    return 0


def crawl_process_cpu(archive: Path, pages: int) -> tuple[float, float]:
    """The crawl process's own CPU per page (ms, user and system) from the run's record (nan without one)."""
    records = sorted((archive / "runs").glob("*.json"))
    cpu = json.loads(records[-1].read_text(encoding="utf-8")).get("cpu") if records else None
    if not cpu:
        return float("nan"), float("nan")
    return 1000 * cpu["crawl_user"] / pages, 1000 * cpu["crawl_system"] / pages


if __name__ == "__main__":
    sys.exit(main())
