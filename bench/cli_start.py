"""Short commands as a user runs them: ``crawler search``, ``export``, ``stats``, ``--version``, each a fresh process,
this checkout against a baseline checkout in the same run (issue 22: speed where users feel it).

    .venv/bin/python bench/cli_start.py --baseline /tmp/base [--archive DIR] [--articles 2000] [--rounds 15]

Each round runs every command once per checkout, the order of the checkouts alternating, as
``python -m crawler ...`` started in the checkout (``-m`` puts it first on ``sys.path``, ahead of an editable
install's finder; the header says which ``crawler`` each side imported).  CPU time (user + system) comes from
``wait4``'s resource usage, exact to the microsecond (``/usr/bin/time`` rounds to 10 ms, a tenth of such a
command); wall time from the clock.  Printed: per command the medians over the rounds, the ratio, and the part
of the baseline's CPU that went to importing (``python -X importtime``'s total, median of 3).

The archive is bench/make_archive.py's (built when missing; ``--articles``, default 2,000: seconds to build).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import header, median, precompile
from make_archive import make

REPO = Path(__file__).resolve().parent.parent


def commands(archive: Path, out: Path) -> dict[str, list[str]]:
    return {
        "--version": ["--version"],
        "search tinh": ["search", "--archive", str(archive), "tinh"],
        "search --json 'Cần Thơ'": ["search", "--archive", str(archive), "--json", "Cần Thơ"],
        "export -o x.jsonl": ["export", "--archive", str(archive), "-o", str(out)],
        "stats": ["stats", "--archive", str(archive)],
    }


def run(checkout: Path, args: list[str]) -> tuple[float, float]:
    """(wall ms, CPU ms) of ``python -m crawler ARGS`` started in ``checkout``."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "crawler", *args], cwd=checkout, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = (time.perf_counter() - started) * 1000
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{checkout}: crawler {' '.join(args)} exited {proc.returncode}: {err.decode()[-1000:]}")
    return wall, (usage.ru_utime + usage.ru_stime) * 1000


def imported_from(checkout: Path) -> str:
    return subprocess.run([sys.executable, "-c", "import crawler; print(crawler.__file__)"], cwd=checkout,
                          capture_output=True, text=True, check=True).stdout.strip()


def import_ms(checkout: Path, args: list[str]) -> float:
    """The summed self time of every import of one command (``-X importtime``), in ms."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "crawler", *args], cwd=checkout,
                          capture_output=True, text=True, check=False)
    return sum(int(m[1]) for m in re.finditer(r"^import time:\s+(\d+) \|", proc.stderr, re.M)) / 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", type=Path, required=True, help="another checkout of the project")
    parser.add_argument("--archive", type=Path, default=REPO / "bench" / "out" / "cli-start" / "archive")
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=15)
    opts = parser.parse_args()
    sides = {"baseline": opts.baseline.resolve(), "this": REPO}
    print(header("short commands as processes, this checkout vs a baseline (bench/cli_start.py)"))
    for name, checkout in sides.items():
        print(precompile(checkout))
        print(f"# {name}: crawler imported from {imported_from(checkout)}")
    if not (opts.archive / "catalog.sqlite").exists():
        opts.archive.mkdir(parents=True, exist_ok=True)
        make(opts.archive, opts.articles, seed=1)
    print(f"# archive: {opts.archive}")
    with tempfile.TemporaryDirectory() as tmp:
        cmds = commands(opts.archive.resolve(), Path(tmp) / "x.jsonl")
        figures: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for checkout in sides.values():  # warm the page cache and the bytecode
            for args in cmds.values():
                run(checkout, args)
        for n in range(opts.rounds):
            order = list(sides.items()) if n % 2 == 0 else list(sides.items())[::-1]
            for label, args in cmds.items():
                for name, checkout in order:
                    figures.setdefault((label, name), []).append(run(checkout, args))
        imports = {(label, name): median([import_ms(checkout, args) for _ in range(3)])
                   for label, args in cmds.items() for name, checkout in sides.items()}
    print(f"# uptime: {os.popen('uptime').read().strip()}")
    print("| command | baseline wall ms | this wall ms | baseline CPU ms | this CPU ms | CPU ratio | "
          "baseline imports ms | this imports ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for label in cmds:
        base, this = figures[(label, "baseline")], figures[(label, "this")]
        bw, tw = median([w for w, _ in base]), median([w for w, _ in this])
        bc, tc = median([c for _, c in base]), median([c for _, c in this])
        print(f"| `{label}` | {bw:.1f} | {tw:.1f} | {bc:.1f} | {tc:.1f} | {bc / tc:.2f}x | "
              f"{imports[(label, 'baseline')]:.1f} | {imports[(label, 'this')]:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
