"""Archive replay: WARC response records -> today's adapters -> snapshots, with no network.

The entry points of replay.  ``crawler replay`` runs a job (:mod:`crawler.replay.job`:
map :func:`crawler.replay.engine.replay_file` over the inputs in one process, a process
pool or on Dask, reduce per article, write partitioned outputs, resumable); the
in-memory helpers below (:func:`replay`, :func:`write_outputs`) serve ``crawler demo`` and
small callers.  Works on this project's WARCs and on WARCs written by other tools; the
source of a record comes from its URL's host, else (``127.0.0.1:PORT`` of the offline
mirror in older WARCs) from the warcinfo ``x-crawler-source``, the file name prefix, or
``--source`` (see :func:`crawler.replay.engine.source_for`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from crawler.archive.catalog import atomic_write
from crawler.archive.snapshots import snapshot_relpath
from crawler.config import Sources
from crawler.replay.collection import BadRecord
from crawler.replay.engine import ArticleRow, FileTask, ReplayConfig, bind_host, replay_file, source_for

__all__ = ["ReplayStats", "bind_host", "replay", "source_for", "warc_files", "write_outputs"]

WARC_SUFFIXES = (".warc.gz", ".warc", ".warc.zst")


@dataclass(slots=True)
class ReplayStats:
    responses: int = 0
    articles: int = 0
    failures: list[str] = field(default_factory=list)
    skipped: int = 0  # not an article URL, not HTTP 200, or no source
    written: int = 0
    problems: list[BadRecord] = field(default_factory=list)  # bad records (reported, replay went on)


def warc_files(archive: Path) -> list[Path]:
    """Closed WARC files of an archive, oldest first (``.open`` files are being written)."""
    directory = archive / "warc"
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.name.endswith(WARC_SUFFIXES))


def collection_files(directory: Path) -> list[Path]:
    """Every WARC file under a directory (``.warc``, ``.warc.gz``, ``.warc.zst``), in path order."""
    return sorted(p for p in directory.rglob("*") if p.name.endswith(WARC_SUFFIXES) and p.is_file())


def replay(paths: Iterable[Path], sources: Sources, *, source_key: str | None = None,
           stats: ReplayStats | None = None) -> Iterator[ArticleRow]:
    """Articles of the given WARC files, file by file, with the current adapters (in this process)."""
    stats = stats if stats is not None else ReplayStats()
    config = ReplayConfig(sources, source_key=source_key)
    for path in paths:
        result = replay_file(FileTask(str(path)), config)
        stats.responses += result.records
        stats.articles += result.articles
        stats.failures.extend(result.failures)
        stats.skipped += result.not_article + sum(result.skipped_hosts.values())
        stats.problems.extend(result.problems)
        yield from result.rows


def write_outputs(items: Iterable[ArticleRow], *, out: Path | None, jsonl: IO[str] | None,
                  stats: ReplayStats) -> None:
    """Write snapshots under ``out/text/…`` and/or one JSON object per version to ``jsonl`` (in memory).

    As in an archive: a text equal to the article's previous version is not written again;
    a changed text becomes the next version (``<id>.v2.txt``), in WARC order.
    """
    groups: dict[tuple[str, str], list[ArticleRow]] = defaultdict(list)
    for row in items:
        groups[(row.source, row.article_id)].append(row)
    kept: list[tuple[ArticleRow, int]] = []
    for rows in groups.values():
        version, last = 0, ""
        for row in sorted(rows, key=lambda r: r.order):
            if row.sha256 != last:
                version, last = version + 1, row.sha256
                kept.append((row, version))
    kept.sort(key=lambda item: item[0].order)
    for row, version in kept:
        if out is not None:
            atomic_write(out / snapshot_relpath(row.source, row.article_id, row.published, version),
                         row.text.encode("utf-8"), durable=False)
            stats.written += 1
        if jsonl is not None:
            jsonl.write(row.json_line(version))
