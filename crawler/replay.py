"""Archive replay: WARC response records -> today's adapters -> snapshots, with no network.

Works on this project's WARCs and on WARCs written by other tools.  The source of a
record comes from its URL's host; for URLs on no configured host (the offline
mirror's ``127.0.0.1:PORT``) from the ``x-crawler-source`` field of the file's
warcinfo record, then the file name prefix ``<source>-…``, then ``--source``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO

from crawler.adapters import Adapter, get_adapter
from crawler.config import SourceConfig, Sources
from crawler.errors import UnknownSourceError
from crawler.extraction import parse_response
from crawler.models import Article, ExtractionFailure
from crawler.normalize import render_snapshot
from crawler.snapshots import snapshot_relpath
from crawler.store import atomic_write
from crawler.urls import host_key
from crawler.warc import WarcResponse, iter_responses, read_warcinfo


@dataclass(frozen=True, slots=True)
class Replayed:
    response: WarcResponse
    source: SourceConfig
    result: Article | ExtractionFailure


@dataclass(slots=True)
class ReplayStats:
    responses: int = 0
    articles: int = 0
    failures: list[str] = field(default_factory=list)
    skipped: int = 0  # not an article URL, not HTTP 200, or no source
    written: int = 0


def warc_files(archive: Path) -> list[Path]:
    """Closed WARC files of an archive, oldest first (``.open`` files are being written)."""
    directory = archive / "warc"
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.name.endswith((".warc.gz", ".warc")))


def source_for(sources: Sources, url: str, path: Path, fallback: str | None,
               info: dict[str, str]) -> SourceConfig | None:
    try:
        return sources.for_url(url)
    except UnknownSourceError:
        pass
    for key in (info.get("x-crawler-source"), path.name.split("-", 1)[0], fallback):
        if key:
            try:
                return sources.get(key)
            except UnknownSourceError:
                continue
    return None


def replay(paths: Iterable[Path], sources: Sources, *, source_key: str | None = None,
           stats: ReplayStats | None = None) -> Iterator[Replayed]:
    """Parse every article response of the given WARC files with the current adapters."""
    stats = stats if stats is not None else ReplayStats()
    adapters: dict[str, Adapter] = {}

    for path in paths:
        info = read_warcinfo(path)
        for response in iter_responses(path):
            stats.responses += 1
            source = source_for(sources, response.url, path, source_key, info)
            if source is None or response.status != 200:
                stats.skipped += 1
                continue
            rebased = _bind_host(source, response.url)
            if rebased.article_id(response.url) is None:
                stats.skipped += 1
                continue
            adapter = adapters.setdefault(f"{rebased.key}|{rebased.hosts}", get_adapter(rebased))
            content_type = next((v for k, v in response.headers if k.lower() == "content-type"), None)
            result = parse_response(adapter, response.content, content_type, response.url)
            if isinstance(result, ExtractionFailure):
                stats.failures.append(str(result))
            else:
                stats.articles += 1
            yield Replayed(response, rebased, result)


def _bind_host(source: SourceConfig, url: str) -> SourceConfig:
    """A source whose hosts include the URL's host (records from a mirror run on another port)."""
    if source.covers(url):
        return source
    return replace(source, hosts=(*source.hosts, host_key(url)))


def write_outputs(items: Iterable[Replayed], *, out: Path | None, jsonl: IO[str] | None,
                  stats: ReplayStats) -> None:
    """Write snapshots under ``out/text/…`` and/or one JSON object per article to ``jsonl``."""
    # As in an archive: a text equal to the article's latest one is not written again; a changed
    # text becomes the next version (<id>.v2.txt), in WARC order.
    latest: dict[tuple[str, str], tuple[int, str]] = {}
    for item in items:
        if isinstance(item.result, ExtractionFailure):
            continue
        article = item.result
        text = render_snapshot(article)
        key = (article.source, article.article_id)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        version, last = latest.get(key, (0, ""))
        if last == digest:
            continue
        version += 1
        latest[key] = (version, digest)
        if out is not None:
            rel = snapshot_relpath(article.source, article.article_id, article.published, version)
            atomic_write(out / rel, text.encode("utf-8"))
            stats.written += 1
        if jsonl is not None:
            jsonl.write(json.dumps(_json_record(item, text) | {"version": version}, ensure_ascii=False) + "\n")


def _json_record(item: Replayed, text: str) -> dict[str, object]:
    article = item.result
    assert isinstance(article, Article)
    return {
        "url": article.url,
        "source": article.source,
        "article_id": article.article_id,
        "published": article.published.isoformat(),
        "title": article.title,
        "text": text,
        "canonical_url": article.canonical_url,
        "breadcrumb": list(article.breadcrumb),
        "category_slugs": list(article.category_slugs),
        "kicker": article.kicker,
        "sapo": article.sapo,
        "byline": article.byline,
        "images": [{"url": i.url, "caption": i.caption} for i in article.images],
        "rules": dict(article.rules),
        "warc_file": item.response.filename,
        "warc_offset": item.response.offset,
        "warc_date": item.response.date,
    }
