"""The other URL shapes of archived articles, for a WACZ: links between eras of one site resolve in replay.

One article of a source has one id (``SourceConfig.article_id``) and often several URLs: Huế's VDOC,
category-path and DotNetNuke URLs and ``amp.aspx?newid=<ID>`` on either host, an absorbed paper's host
beside the one that absorbed it.  A crawl archives an article once, under the first URL it met; a page
that links it by another shape would lead to "not found" in a replay tool.  ``crawler wacz`` therefore
adds, for every **alias** -- a URL that some archived page links (``<a href>``, ``<link rel=amphtml|
canonical|alternate>``), or the article's own path on another host of its source, whose id is an archived
article's and which has no capture of its own -- one ``revisit`` record per version of the article in a
WARC file made for the package, ``archive/aliases.warc.gz``, and its index lines
(docs/decisions/0015-url-aliases-in-replay.md).  Each record says: this URL, at the time of that
capture, is the same article as the capture it refers to (``WARC-Refers-To-Target-URI`` and ``-Date``,
its payload digest), under the profile :data:`PROFILE`, in a file whose ``warcinfo`` says that no request
was made for these URLs.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit, urlunsplit

import crawler
from crawler.archive.surt_keys import surt
from crawler.archive.warc_reading import read_response_at
from crawler.config import Sources
from crawler.errors import ArchiveError, UnknownSourceError
from crawler.net.urls import absolute
from crawler.parse.adapters.base import base_href, parse_html

FILENAME = "aliases.warc.gz"
PROFILE = "https://github.com/crawler/crawler/blob/main/docs/decisions/0015-url-aliases-in-replay.md#alias"
_LINKS = 'a[href], link[rel~="amphtml"][href], link[rel~="canonical"][href], link[rel~="alternate"][href]'


@dataclass(slots=True)
class Captures:
    """What the index says about the package's HTML pages (filled line by line by :meth:`note`)."""

    sources: Sources
    urls: set[str] = field(default_factory=set)  # every URL with a capture of its own
    versions: dict[tuple[str, str], list[tuple[str, dict[str, str]]]] = field(default_factory=dict)
    pages: dict[str, tuple[str, str]] = field(default_factory=dict)  # payload digest -> (file, offset)

    def note(self, stamp: str, fields: dict[str, str]) -> None:
        url = fields.get("url", "")
        self.urls.add(url)
        if fields.get("mime") not in ("text/html", "application/xhtml+xml") or fields.get("status") != "200":
            return
        self.pages.setdefault(fields.get("digest") or f"{fields['filename']}:{fields['offset']}",
                              (fields["filename"], fields["offset"]))
        key = self._article(url)
        if key is not None:
            self.versions.setdefault(key, []).append((stamp, fields))

    def _article(self, url: str) -> tuple[str, str] | None:
        try:
            source = self.sources.for_url(url)
        except UnknownSourceError:  # a URL no source covers: not an article
            return None
        article_id = source.article_id(url)
        return None if article_id is None else (source.key, article_id)

    def aliases(self, warc_dir: Path) -> dict[str, tuple[str, str]]:
        """Alias URL -> (source, article id) of an archived article (see the module docstring)."""
        found: dict[str, tuple[str, str]] = {}
        for filename, offset in self.pages.values():
            for url in _links(warc_dir / filename, int(offset)):
                key = self._article(url)
                if key is not None and key in self.versions and url not in self.urls:
                    found.setdefault(url, key)
        for key, versions in self.versions.items():
            source = self.sources.get(key[0])
            for url in {f["url"] for _, f in versions}:
                parts = urlsplit(url)
                for host in source.hosts:
                    other = urlunsplit((parts.scheme, host, parts.path, parts.query, ""))
                    if other not in self.urls and self._article(other) == key:
                        found.setdefault(other, key)
        return found


def _links(path: Path, offset: int) -> Iterator[str]:
    try:
        response = read_response_at(path, offset)
    except (ArchiveError, OSError, ValueError):
        return
    tree = parse_html(response.content)
    base = base_href(tree, response.url)
    for node in tree.css(_LINKS):
        href = absolute(base, node.attributes.get("href") or "")
        if href is not None:
            yield href


def _iso(stamp: str) -> str:
    return datetime.strptime(stamp, "%Y%m%d%H%M%S").replace(tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _member(fields: list[tuple[str, str]], block: bytes) -> bytes:
    head = "WARC/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields)
    head += f"Content-Length: {len(block)}\r\n\r\n"
    return gzip.compress(head.encode("utf-8") + block + b"\r\n\r\n", mtime=0)


_PAYLOAD_HEADERS = ("Content-Type", "Content-Encoding")


def _payload_head(warc_dir: Path, fields: dict[str, str]) -> bytes:
    """The alias record's HTTP block: a status line and the capture's headers that say what its payload is.

    pywb serves a revisit with the revisit record's headers and the original's payload, so without the
    capture's ``Content-Encoding`` a gzip-encoded page would be served as gzip bytes (bench/interop.py)."""
    headers: list[tuple[str, str]] = []
    try:
        original = read_response_at(warc_dir / fields["filename"], int(fields["offset"]))
        headers = [(name, value) for name in _PAYLOAD_HEADERS if (value := original.header(name)) is not None]
    except (ArchiveError, OSError, ValueError, KeyError):
        pass
    if not any(name == "Content-Type" for name, _ in headers):
        headers.insert(0, ("Content-Type", fields.get("mime", "text/html")))
    return ("HTTP/1.1 200 OK\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n").encode("utf-8")


def write_aliases(out: IO[bytes], captures: Captures, aliases: dict[str, tuple[str, str]],
                  created: datetime, warc_dir: Path) -> list[str]:
    """Write the aliases WARC to ``out`` (the captures' records are read in ``warc_dir`` for their payload's
    headers); return its index lines, sorted."""
    info_id = f"<urn:uuid:{uuid.uuid4()}>"
    info = (f"software: crawler {crawler.__version__}\r\nformat: WARC File Format 1.1\r\n"
            "description: URL aliases made by crawler wacz: each record names a URL of an archived article "
            "that the archive holds under another URL (the same source and article id); no request was made "
            f"for these URLs (docs/decisions/0015-url-aliases-in-replay.md)\r\nx-crawler-alias-profile: {PROFILE}\r\n")
    first = _member([("WARC-Type", "warcinfo"), ("WARC-Record-ID", info_id),
                     ("WARC-Date", created.strftime("%Y-%m-%dT%H:%M:%SZ")), ("WARC-Filename", FILENAME),
                     ("Content-Type", "application/warc-fields")], info.encode("utf-8"))
    out.write(first)
    offset = len(first)
    lines: list[str] = []
    heads: dict[tuple[str, str], bytes] = {}
    for url, key in sorted(aliases.items()):
        for stamp, fields in captures.versions[key]:
            place = (fields["filename"], fields["offset"])
            block = heads.get(place) or heads.setdefault(place, _payload_head(warc_dir, fields))
            record = [("WARC-Type", "revisit"), ("WARC-Record-ID", f"<urn:uuid:{uuid.uuid4()}>"),
                      ("WARC-Date", _iso(stamp)), ("WARC-Target-URI", url), ("WARC-Profile", PROFILE),
                      ("WARC-Refers-To-Target-URI", fields["url"]), ("WARC-Refers-To-Date", _iso(stamp)),
                      ("WARC-Warcinfo-ID", info_id), ("WARC-Crawler-Article", f"{key[0]}/{key[1]}"),
                      ("Content-Type", "application/http; msgtype=response"),
                      ("WARC-Block-Digest", "sha256:" + hashlib.sha256(block).hexdigest())]
            if fields.get("digest"):
                record.append(("WARC-Payload-Digest", fields["digest"]))
            data = _member(record, block)
            out.write(data)
            entry = {"url": url, "mime": "warc/revisit", "status": "200"}
            if fields.get("digest"):
                entry["digest"] = fields["digest"]
            entry |= {"length": str(len(data)), "offset": str(offset), "filename": FILENAME}
            lines.append(f"{surt(url)} {stamp} {json.dumps(entry)}\n")
            offset += len(data)
    return sorted(lines)
