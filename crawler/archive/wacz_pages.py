"""The pages of a WACZ package: ``pages/pages.jsonl`` (the articles, with their text) and ``extraPages.jsonl``.

Part of :mod:`crawler.archive.wacz`: one entry per article at its latest version in the slice (URL,
capture time, title and the snapshot's text, which ReplayWeb.page searches), and one per other HTML
page of the index (home pages, sections, their pagination) with the title read from its capture.
"""

from __future__ import annotations

import hashlib
import html
import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from crawler.archive import jsonlines
from crawler.archive.catalog import Store
from crawler.archive.outputs import read_inside
from crawler.archive.wacz_entries import HashingWriter, WaczReport, entry_info, iso, resource, timestamp
from crawler.archive.warc_reading import read_response_at
from crawler.errors import ArchiveError


def published_in(published: str, since: datetime | None, until: datetime | None) -> bool:
    """Whether an ISO 8601 publication date (Vietnamese time, as the catalog has it) is in ``[since, until)``."""
    if since is None and until is None:
        return True
    try:
        moment = datetime.fromisoformat(published)
    except ValueError:
        return False
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (since is None or moment >= since) and (until is None or moment < until)


def add_pages(package: zipfile.ZipFile, archive: Path, warcs: set[str], report: WaczReport, big: bool,
               low: str | None, high: str | None, title: str | None,
               listings: dict[str, tuple[str, str, str]],
               published: tuple[datetime | None, datetime | None] = (None, None)) -> dict[str, object]:
    """``pages/pages.jsonl``: the articles, with their text; their URLs are taken out of ``listings``."""
    name = "pages/pages.jsonl"
    header = {"format": "json-pages-1.0", "id": "pages", "title": title or "Articles", "hasText": True}
    with Store(archive, readonly=True) as store, \
            package.open(entry_info(name, zipfile.ZIP_DEFLATED), "w", force_zip64=big) as entry:
        writer = HashingWriter(entry)
        writer.write((jsonlines.dumps(header) + "\n").encode("utf-8"))
        for url in store.article_urls():
            listings.pop(url, None)
        for row in store.latest_rows():
            if row.warc_file not in warcs:
                continue
            fetched = datetime.fromisoformat(row.fetched_at)
            stamp = timestamp(fetched)
            if (low is not None and stamp < low) or (high is not None and stamp > high):
                continue
            if not published_in(row.published, *published):
                continue
            try:
                text = read_inside(archive, row.text_path, "snapshot file").decode("utf-8")
            except (OSError, ValueError) as err:
                raise ArchiveError(f"cannot read the snapshot {row.text_path}: {getattr(err, 'strerror', None) or err}"
                                   ) from err
            page = {"id": f"{row.source}-{row.article_id}", "url": row.url, "ts": iso(fetched),
                    "title": row.title, "text": text}
            writer.write((jsonlines.dumps(page) + "\n").encode("utf-8"))
            report.pages += 1
    return resource(name, writer)
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)


def _title_at(path: Path, offset: int) -> str:
    """The ``<title>`` of the HTML response recorded at ``offset`` (empty when it has none)."""
    try:
        content = read_response_at(path, offset).content
    except (ArchiveError, ValueError):
        return ""
    found = _TITLE.search(content[:200_000])
    if found is None:
        return ""
    return " ".join(html.unescape(found.group(1).decode("utf-8", "replace")).split())


def add_extra_pages(package: zipfile.ZipFile, archive: Path, listings: dict[str, tuple[str, str, str]],
                     report: WaczReport, big: bool, low: str | None, high: str | None) -> dict[str, object]:
    """``pages/extraPages.jsonl``: the HTML pages that are not articles (home pages, sections, their
    pagination), each at its latest capture in the package, with its title (no text)."""
    name = "pages/extraPages.jsonl"
    header = {"format": "json-pages-1.0", "id": "extra-pages", "title": "Listing pages", "hasText": False}
    with package.open(entry_info(name, zipfile.ZIP_DEFLATED), "w", force_zip64=big) as entry:
        writer = HashingWriter(entry)
        writer.write((jsonlines.dumps(header) + "\n").encode("utf-8"))
        for url, (stamp, filename, offset) in sorted(listings.items()):
            if (low is not None and stamp < low) or (high is not None and stamp > high):
                continue
            moment = datetime.strptime(stamp, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
            page = {"id": hashlib.sha256(f"{stamp} {url}".encode()).hexdigest()[:24], "url": url,
                    "ts": iso(moment), "title": _title_at(archive / "warc" / filename, int(offset)) or url}
            writer.write((jsonlines.dumps(page) + "\n").encode("utf-8"))  # a title may hold U+2028
            report.extra_pages += 1
    return resource(name, writer)
