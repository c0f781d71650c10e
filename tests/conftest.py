"""Shared fixtures: paths to the test inputs and the configured sources."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from crawler.config import Sources, load_sources
from crawler.mirror import Mirror

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def sources() -> Sources:
    return load_sources(ROOT / "sources.yaml")


@pytest.fixture(autouse=True)
def _restore_crawler_logging() -> Iterator[None]:
    """``crawler crawl`` in-process points the "crawler" logger at the captured stderr; undo that."""
    logger = logging.getLogger("crawler")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved


def origin_args(mirror: Mirror) -> list[str]:
    """``--origin HOST=URL`` for every host of a running mirror."""
    return [f"--origin={host}={url}" for host, url in mirror.origins.items()]


def snapshot_meta(archive: Path, text_path: Path | str | None = None) -> dict[str, dict[str, object]]:
    """The catalog's metadata of every snapshot, by text path (relative, POSIX); or of one when given."""
    with sqlite3.connect(archive / "catalog.sqlite") as db:
        rows = db.execute("SELECT text_path, meta FROM snapshots").fetchall()
    metas = {str(path): json.loads(meta) for path, meta in rows}
    if text_path is None:
        return metas
    rel = Path(text_path).relative_to(archive).as_posix() if Path(text_path).is_absolute() else str(text_path)
    return {rel: metas[rel]}


def send_html(handler: BaseHTTPRequestHandler, body: bytes, content_type: str = "text/html; charset=utf-8") -> None:
    """Answer 200 with ``body`` from a test server's request handler."""
    handler.send_response(200)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[int]:
    """A test HTTP server on a free loopback port (yielded), stopped on exit."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.server_port
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def one_source_config(path: Path, key: str, port: int, *extra_lines: str) -> Path:
    """A sources.yaml with one VDOC-style source on 127.0.0.1:``port``, politeness off."""
    lines = [
        "sources:",
        f"  {key}:",
        "    adapter: vdoc",
        f'    hosts: ["127.0.0.1:{port}"]',
        f'    base_url: "http://127.0.0.1:{port}/"',
        *(f"    {line}" for line in extra_lines),
        "    article_url_pattern: '^/[^/]+-a(?P<id>\\d+)\\.html$'",
        "    politeness: {delay: 0, respect_robots: false}",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
