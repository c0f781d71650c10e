"""``crawler stats``: the report's figures (:mod:`crawler.use.health`) as a table on the terminal, for ssh."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from crawler.archive.catalog import Store
from crawler.errors import ArchiveError
from crawler.terminal import fitted, pipe_console, plural, printable, raw
from crawler.use.health import Health, SourceHealth


def _ago(moment: str, now: datetime) -> str:
    try:
        then = datetime.fromisoformat(moment)
    except ValueError:
        return moment
    delta = max(now - then, timedelta(0))  # `now` is to the second: a moment ago may be "after" it
    if delta < timedelta(minutes=1):
        return "just now"
    if delta < timedelta(hours=1):
        return f"{int(delta.total_seconds() // 60)} min ago"
    if delta < timedelta(days=2):
        return f"{delta.total_seconds() / 3600:.0f} h ago"
    return f"{delta.days} days ago"


def _shares(counts: dict[str, int]) -> str:
    total = sum(counts.values())
    if not total:
        return "-"
    return ", ".join(f"{name} {100 * n / total:.0f}%" for name, n in sorted(counts.items(), key=lambda kv: -kv[1]))


def _latest_templates(source: SourceHealth) -> str:
    if not source.templates:
        return "-"
    day = max(str(t["day"]) for t in source.templates)
    return f"{_shares({str(t['template']): int(t['pages']) for t in source.templates if t['day'] == day})} ({day[5:]})"


# `crawler stats` hashes at most this many new or changed versions for its near-duplicate count (a few seconds);
# beyond, it shows the count as pending rather than keep a cron job waiting for a minute.
HASH_BUDGET = 2000


@dataclass(frozen=True, slots=True)
class NearDuplicates:
    """The near-duplicate count of ``crawler stats``: per source (None: not known), and why not."""
    per_source: dict[str, int] | None
    pending: int = 0  # versions not hashed yet (more than the budget)
    unreadable: bool = False  # a snapshot could not be read

    def note(self) -> str | None:
        if self.pending:
            return (f"near-duplicates: not counted, {self.pending:,} articles not hashed yet (stats hashes at most "
                    f"{HASH_BUDGET:,}): `crawler stats --dedup` or `crawler export --dedup` hashes them once")
        if self.unreadable:
            return "near-duplicates: not counted, a snapshot cannot be read (`crawler verify` names it)"
        return None


def near_duplicates(store: Store, *, everything: bool = False) -> NearDuplicates:
    """Per source, its articles that nearly repeat an earlier one (:mod:`crawler.use.dedup`, answered from its
    cache when the archive has not changed).  Pending when more than :data:`HASH_BUDGET` versions would have to
    be hashed (``everything``: hash them all); not known when a snapshot cannot be read (the other figures still
    show).  The cache never fails it (a locked one is skipped after a second)."""
    from crawler.use.dedup import find

    try:
        found = find(store, budget=None if everything else HASH_BUDGET, timeout=1)
    except ArchiveError:
        return NearDuplicates(None, unreadable=True)
    if found.pending:
        return NearDuplicates(None, pending=found.pending)
    return NearDuplicates(found.per_source())


def table(health: Health, duplicates: dict[str, int] | None = None) -> Table:
    now = datetime.fromisoformat(health.generated)
    last_day = now.date().isoformat()
    week = (now - timedelta(days=6)).date().isoformat()
    title = f"{escape(printable(health.archive))}: {plural(len(health.runs), 'run')} in {plural(health.days, 'day')}"
    grid = Table(title=title, title_justify="left")
    for name, justify in (("source", "left"), ("articles", "right"), ("new today", "right"),
                          ("new 7 d", "right"), ("last article", "left"), ("last run new/failed/extr.", "left"),
                          ("frontier wait/retry/failed", "left"), ("templates (last day)", "left")):
        grid.add_column(name, justify=justify)  # type: ignore[arg-type]
    if duplicates is not None:
        grid.add_column("near-dup.", justify="right")
    for source in (s for s in health.sources if s.has_data):  # the others: one line under the table
        last = source.last_article
        run = source.runs[-1] if source.runs else None
        run_text = "-"
        if run is not None:
            style = "red" if run.collapsed or run.extraction_failures else ""
            run_text = f"{run.new} / {run.failed} / {run.extraction_failures} ({_ago(run.started, now)})"
            if style:
                run_text = f"[{style}]{run_text}[/{style}]"
        cells = [escape(printable(source.key)), f"{source.articles:,}", str(source.archived_since(last_day)),
                 str(source.archived_since(week)), _ago(last["fetched_at"], now) if last else "never",
                 run_text, f"{source.frontier_waiting} / {source.frontier_retrying} / {source.failed_count}",
                 escape(printable(_latest_templates(source)))]
        if duplicates is not None:
            cells.append(f"{duplicates.get(source.key, 0):,}")
        grid.add_row(*cells)
    return grid


def print_stats(health: Health, console: Console | None = None, width: int | None = None,
                duplicates: dict[str, int] | None = None, notes: tuple[str, ...] = ()) -> None:
    """The table within ``width`` columns (:func:`crawler.terminal.fitted`; ``None``: one row per source)."""
    if console is None:
        console = pipe_console(file=raw(sys.stdout), width=width or 1 << 16)
    for part in fitted(table(health, duplicates), console, width):
        console.print(part)
    empty = [s.key for s in health.sources if not s.has_data]
    if empty:
        console.print(escape(printable(f"{plural(len(empty), 'configured source')} with nothing in this archive: "
                                       f"{', '.join(empty)}")), soft_wrap=width is None)
    durations = [r.seconds for r in health.runs]
    if durations:
        failed = sum(1 for r in health.runs if r.exit_code not in (0, None))
        console.print(f"runs: median {median(durations):.1f} s, longest {max(durations):.1f} s, "
                      f"{failed} with a non-zero exit code")
    for line in notes:
        console.print(escape(line))
    for note in health.unreadable_runs:
        console.print(f"[yellow]unreadable run file: {escape(printable(note))}[/yellow]")
