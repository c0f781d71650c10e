"""The figures of an archive's health, per source: what ``crawler report`` draws and ``crawler stats`` prints.

Where it sits: a reader (:func:`crawler.archive.reading.read_archive`) of the catalog (snapshot rows and
their metadata, the frontier) and of the run stats files ``runs/*.json`` that each crawl writes
(:mod:`crawler.crawl.run`).  Nothing is written.  Days are UTC dates of ``fetched_at`` (when the crawler
archived a page), not publication dates.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from crawler.archive.catalog import Store
from crawler.archive.crawl_state import FailedArticle

# The extraction rules shown over time: the fields whose selectors have fallbacks.
RULE_FIELDS = ("title", "date", "body", "sapo", "byline")
MAX_FAILED_LISTED = 200  # permanently failed URLs listed per source (all are counted)


@dataclass(slots=True)
class Run:
    """One crawl run (a ``runs/*.json`` file), and what it did for one source when ``source`` is set."""

    started: str
    seconds: float
    exit_code: int | None
    new: int = 0
    changed: int = 0
    failed: int = 0
    extraction_failures: int = 0
    collapsed: bool = False
    templates: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class SourceHealth:
    key: str
    name: str
    articles: int = 0
    versions: int = 0
    per_day: list[dict[str, Any]] = field(default_factory=list)  # {day, new, changed}
    last_article: dict[str, Any] | None = None  # {url, title, fetched_at, published, text_path}
    runs: list[Run] = field(default_factory=list)
    frontier_waiting: int = 0  # discovered, never tried
    frontier_retrying: int = 0  # failed transiently, retried next run
    failed_count: int = 0  # on the slow schedule (permanent failures)
    failed: list[FailedArticle] = field(default_factory=list)
    templates: list[dict[str, Any]] = field(default_factory=list)  # {day, template, pages}
    rules: list[dict[str, Any]] = field(default_factory=list)  # {day, field, rule, pages}
    # The latest version of every article, by publication month (``YYYY-MM``, "unknown" when the page had no
    # date) and template, whatever the window: old articles kept in an old layout show as early months.
    templates_published: list[dict[str, Any]] = field(default_factory=list)  # {month, template, pages}
    newest_published: str | None = None  # the newest publication date of an archived article (ISO 8601)
    newest_fetched: str | None = None  # the newest capture (``fetched_at``, UTC)

    @property
    def has_data(self) -> bool:
        """Whether the archive holds anything of this source (articles, frontier, failures or runs)."""
        return bool(self.articles or self.versions or self.frontier_waiting or self.frontier_retrying
                    or self.failed_count or self.runs)

    def template_shares(self) -> dict[str, int]:
        """Pages per template over the latest version of every article, most pages first."""
        counts: Counter[str] = Counter()
        for row in self.templates_published:
            counts[str(row["template"])] += int(row["pages"])
        return dict(counts.most_common())

    def archived_since(self, day: str) -> int:
        return sum(int(d["new"]) for d in self.per_day if str(d["day"]) >= day)


@dataclass(slots=True)
class Health:
    archive: str
    generated: str
    since: str  # first day of the window (UTC date)
    days: int
    runs: list[Run]
    sources: list[SourceHealth]
    unreadable_runs: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def collect(store: Store, *, days: int = 30, names: dict[str, str] | None = None,
            now: datetime | None = None) -> Health:
    """The health of the archive ``store`` belongs to, over the last ``days`` days (runs and charts);
    totals, frontier and failures are current."""
    moment = now or datetime.now(UTC)
    since_day = (moment - timedelta(days=days - 1)).date().isoformat()
    names = names or {}
    db = store.db
    sources: dict[str, SourceHealth] = {}

    def source(key: str) -> SourceHealth:
        if key not in sources:
            sources[key] = SourceHealth(key, names.get(key, key))
        return sources[key]

    for key in names:
        source(key)
    for key, articles, versions in db.execute(
            "SELECT source, count(DISTINCT article_id), count(*) FROM snapshots GROUP BY source"):
        s = source(str(key))
        s.articles, s.versions = int(articles), int(versions)
    for key, day, new, changed in db.execute(
            "SELECT source, substr(fetched_at, 1, 10) AS day, sum(version = 1), sum(version > 1) FROM snapshots "
            "WHERE fetched_at >= ? GROUP BY source, day ORDER BY source, day", (since_day,)):
        source(str(key)).per_day.append({"day": str(day), "new": int(new), "changed": int(changed)})
    for key, day, template, pages in db.execute(
            "SELECT source, substr(fetched_at, 1, 10) AS day, coalesce(CASE WHEN json_valid(meta) THEN "
            "json_extract(meta, '$.template') END, 'unknown') AS template, count(*) FROM snapshots "
            "WHERE fetched_at >= ? GROUP BY source, day, template ORDER BY source, day, template", (since_day,)):
        source(str(key)).templates.append({"day": str(day), "template": str(template), "pages": int(pages)})
    fields = ",".join(f"'{f}'" for f in RULE_FIELDS)
    for key, day, name, rule, pages in db.execute(
            f"SELECT s.source, substr(s.fetched_at, 1, 10) AS day, r.key, r.value, count(*) "
            f"FROM (SELECT source, fetched_at, meta FROM snapshots WHERE fetched_at >= ? AND json_valid(meta)) s, "
            f"json_each(s.meta, '$.rules') r WHERE r.key IN ({fields}) "
            f"GROUP BY s.source, day, r.key, r.value ORDER BY s.source, day, r.key, r.value", (since_day,)):
        source(str(key)).rules.append({"day": str(day), "field": str(name), "rule": str(rule), "pages": int(pages)})
    for key, month, template, pages in db.execute(
            "SELECT source, coalesce(substr(published, 1, 7), 'unknown') AS month, coalesce(CASE WHEN "
            "json_valid(meta) THEN json_extract(meta, '$.template') END, 'unknown') AS template, count(*) "
            "FROM snapshots s WHERE version = (SELECT max(version) FROM snapshots v WHERE v.source = s.source AND "
            "v.article_id = s.article_id) GROUP BY source, month, template ORDER BY source, month, template"):
        month = str(month) if re.fullmatch(r"[0-9]{4}-[0-9]{2}", str(month)) else "unknown"
        source(str(key)).templates_published.append({"month": month, "template": str(template), "pages": int(pages)})
    for key, published, fetched in db.execute(
            "SELECT source, max(published), max(fetched_at) FROM snapshots GROUP BY source"):
        s = source(str(key))
        s.newest_published = str(published) if published else None
        s.newest_fetched = str(fetched) if fetched else None
    for s in list(sources.values()):
        row = db.execute("SELECT url, title, fetched_at, published, text_path FROM snapshots WHERE source=? "
                         "ORDER BY fetched_at DESC, rowid DESC LIMIT 1", (s.key,)).fetchone()
        if row is not None:
            s.last_article = dict(zip(("url", "title", "fetched_at", "published", "text_path"), map(str, row),
                                      strict=True))
    for key, waiting, retrying, failed in db.execute(
            "SELECT source, sum(attempts = 0), sum(attempts > 0 AND failed = 0), sum(failed > 0) FROM frontier "
            "GROUP BY source"):
        s = source(str(key))
        s.frontier_waiting, s.frontier_retrying, s.failed_count = int(waiting), int(retrying), int(failed)
    for item in store.failed():
        s = source(item.source)
        if item.failed and len(s.failed) < MAX_FAILED_LISTED:
            s.failed.append(item)
    runs, unreadable = read_runs(store.archive / "runs", since_day)
    for started, record in runs:
        for key, figures in (record.get("sources") or {}).items():
            if isinstance(figures, dict):
                source(str(key)).runs.append(_run(started, record, figures))
    return Health(archive=str(store.archive), generated=moment.isoformat(timespec="seconds"), since=since_day,
                  days=days, runs=[_run(started, record, None) for started, record in runs],
                  sources=sorted(sources.values(), key=lambda s: (s.key not in names, s.key)),
                  unreadable_runs=unreadable)


def read_runs(directory: Path, since_day: str) -> tuple[list[tuple[str, dict[str, Any]]], list[str]]:
    """(started, record) of every run stats file started on or after ``since_day``, oldest first, and the
    names of files that could not be read."""
    try:
        names = sorted(os.listdir(directory))
    except FileNotFoundError:
        return [], []
    except OSError as err:
        return [], [f"{directory}: {err.strerror}"]
    # File names are the start time, 20260501T041217712205Z.json: those before the window are not opened.
    first = since_day.replace("-", "")
    runs: list[tuple[str, dict[str, Any]]] = []
    unreadable: list[str] = []
    for name in names:
        if not name.endswith(".json") or name.startswith(".") or name[:8] < first:
            continue
        try:
            record = json.loads((directory / name).read_text(encoding="utf-8"), parse_constant=_no_constant,
                                parse_float=_finite_float)
            started = str(record["started"])
        except (OSError, ValueError, KeyError, TypeError) as err:
            unreadable.append(f"{name}: {err}")
            continue
        runs.append((started, record))
    return runs, unreadable


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number a run file holds")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:40]} is out of range")
    return value


def _run(started: str, record: dict[str, Any], figures: dict[str, Any] | None) -> Run:
    seconds = record.get("seconds")
    code = record.get("exit_code")
    run = Run(started=started, seconds=float(seconds) if isinstance(seconds, int | float) else 0.0,
              exit_code=int(code) if isinstance(code, int) else None)
    stats = figures if figures is not None else _sum(record.get("sources") or {})
    run.new = _int(stats.get("new"))
    run.changed = _int(stats.get("changed"))
    failures = stats.get("failures")
    run.failed = len(failures) if isinstance(failures, dict) else _int(failures)
    run.extraction_failures = _int(stats.get("extraction_failures"))
    run.collapsed = bool(stats.get("collapsed"))
    templates = stats.get("templates")
    run.templates = {str(k): _int(v) for k, v in templates.items()} if isinstance(templates, dict) else {}
    return run


def _sum(per_source: dict[str, Any]) -> dict[str, Any]:
    total: Counter[str] = Counter()
    for figures in per_source.values():
        if isinstance(figures, dict):
            for name in ("new", "changed", "extraction_failures"):
                total[name] += _int(figures.get(name))
            failures = figures.get("failures")
            total["failures"] += len(failures) if isinstance(failures, dict) else 0
            total["collapsed"] += bool(figures.get("collapsed"))
    return dict(total)


def _int(value: object) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0
