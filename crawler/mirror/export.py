"""Static export of the offline mirror, for serving with nginx in benchmarks.

Part of the offline mirror.  The Python mirror server renders every page on demand on
one core; a benchmark that drives several clients hard would measure the server.
:func:`export_site` writes every page the mirror serves for a set of origins (the
closure of the links from each host's home page, robots.txt and category listings)
as static files, and :func:`nginx_config` writes a configuration that serves them
with the same URLs, status codes, content types, ``Last-Modified`` (the file times)
and, for the paths the mirror gzips, gzip bodies (``gzip_static``).  Links are rewritten
to the export's origins, as the Python server does for a client that names the mirror in
its ``Host`` header.  Differences from the Python server: ETags are nginx's (mtime-size),
no response is chunked, redirects (``baothuathienhue.vn``'s pages other than its articles,
category paths without their trailing slash) are not exported (nginx answers 404), and query
strings other than ``?p=N`` (VDOC pagination) and ``?newid=N`` (Huế AMP copies) are
ignored — as the mirror ignores them on every other page.

Layout, one directory per real host (its nginx ``root``)::

    <dir>/<host>/<path>[_index][_p<N>|_newid<N>].<html|rss|txt>[.gz]

``_index`` marks a path ending in ``/``; ``_p<N>`` / ``_newid<N>`` the query; the last
extension is the content type.  nginx maps a request onto that name with two ``map``
blocks and one ``try_files`` (see :func:`nginx_config`).  Because the mirror rewrites
links to the origin it serves on, an export is only valid for the origins (ports) it
was generated for.

::

    origins = {"baocantho.com.vn": "http://127.0.0.1:8001", ...}
    export_site(Path("/tmp/site"), articles=3334, origins=origins)
    Path("/tmp/nginx.conf").write_text(nginx_config(Path("/tmp/site"), origins, workdir=Path("/tmp/ng")))
    # nginx -p /tmp/ng -c /tmp/nginx.conf -e /tmp/ng/error.log
"""

from __future__ import annotations

import gzip
import html
import os
import re
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from crawler.mirror.responses import HTML, RSS, TEXT, gzip_target
from crawler.mirror.site import Site
from crawler.mirror.sources import HOSTS, HUE_OLD_HOST, SOURCES

__all__ = ["ExportStats", "export_path", "export_site", "nginx_config"]

_EXTENSION = {HTML: "html", RSS: "rss", TEXT: "txt"}
# Every page the mirror serves is linked from somewhere; a catalog of N articles per source
# has about 2 pages per article (article + print/AMP copy) plus listings: the cap only
# guards the loop.
_PAGES_PER_ARTICLE_CAP = 8
_PAGES_BASE_CAP = 20_000


@dataclass(slots=True)
class ExportStats:
    """What :func:`export_site` wrote: files (pages), bytes, and how many pages also got a ``.gz``."""

    pages: int = 0
    gzipped: int = 0
    bytes: int = 0
    missing: int = 0  # linked targets the mirror answers with 404 (not written; nginx 404s too)


def export_path(target: str, content_type: str) -> str | None:
    """The file name (relative to the host's directory) for request target ``target``; None if not exportable.

    >>> export_path("/thoi-su/?p=2", "text/html; charset=utf-8")
    'thoi-su/_index_p2.html'
    >>> export_path("/amp.aspx?newid=155012", "text/html; charset=utf-8")
    'amp.aspx_newid155012.html'
    """
    parts = urlsplit(target)
    path = unquote(parts.path or "/")
    if not path.startswith("/") or any(seg in ("..", ".") for seg in path.split("/")) or "\x00" in path:
        return None
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    suffix = ""
    if set(query) == {"p"}:
        if not query["p"].isdigit():
            return None
        suffix = "" if query["p"] == "1" else f"_p{query['p']}"
    elif set(query) == {"newid"}:
        if not query["newid"].isdigit():
            return None
        suffix = f"_newid{query['newid']}"
    name = path.lstrip("/") + ("_index" if path.endswith("/") else "") + suffix
    extension = _EXTENSION.get(content_type)
    if extension is None:
        return None
    return f"{name}.{extension}"


# Where a page names a URL: attribute values (href, src, ...) and RSS <link>/<guid> text.  Values may hold
# spaces and Vietnamese letters (An Giang's tag links: ``/tim-kiem/văn hóa.html``).
_URL_SPOTS = re.compile(r"""(?:href|src|content)\s*=\s*"([^"]*)"|<(?:link|guid)\b[^>]*>([^<]*)<""")
# What a client sends for such a link: UTF-8, percent-encoded (as httpx and browsers do).
_SAFE = "/?=&%:+@!$,;~*'()"


def _linked_targets(text: str, by_origin: dict[str, str]) -> list[tuple[str, str]]:
    """(host, request target) for every link in ``text`` to one of the export's origins."""
    out = []
    for match in _URL_SPOTS.finditer(text):
        url = html.unescape(match.group(1) if match.group(1) is not None else match.group(2)).strip()
        parts = urlsplit(url)
        if parts.scheme != "http":
            continue
        host = by_origin.get(f"http://{parts.netloc}")
        if host is None:
            continue
        target = quote(parts.path or "/", safe=_SAFE) + (f"?{quote(parts.query, safe=_SAFE)}" if parts.query else "")
        out.append((host, target))
    return out


def _roots(host: str) -> list[str]:
    """Targets a crawl starts from on ``host``: home, robots.txt, every category listing, the feed."""
    if host == HUE_OLD_HOST:  # everything but its articles (reached through links) redirects: not exported
        return ["/robots.txt"]
    info = SOURCES[_source_of(host)]
    roots = ["/", "/robots.txt"]
    for leaf in info.leaves:
        roots.append(info.listing_path(leaf.slug))
        if leaf.sub:
            roots.append(info.listing_path(leaf.slug, leaf.sub))
    if info.key == "baocantho":
        roots.append("/rss/home")
    return list(dict.fromkeys(roots))


def _source_of(host: str) -> str:
    for key, info in SOURCES.items():
        if host in info.hosts:
            return key
    raise KeyError(host)


def export_site(directory: Path, *, articles: int, seed: int = 1, origins: dict[str, str],
                gzip_level: int = 6) -> ExportStats:
    """Write every page the mirror serves on ``origins`` (real host -> ``http://127.0.0.1:PORT``) under ``directory``.

    ``articles`` and ``seed`` are those of :class:`~crawler.mirror.Mirror`.  Hosts not in
    ``origins`` are neither exported nor rewritten (their links keep the real URL).  Pages
    the mirror would serve gzip-encoded also get a ``.gz`` sibling for nginx's ``gzip_static``.
    """
    unknown = set(origins) - set(HOSTS)
    if unknown:
        raise ValueError(f"not a mirrored host: {', '.join(sorted(unknown))}")
    site = Site(articles, seed, cache_pages=16)
    site.set_origins({host: origins.get(host, f"https://{host}").rstrip("/") for host in HOSTS})
    by_origin = {origin.rstrip("/"): host for host, origin in origins.items()}
    stats = ExportStats()
    cap = _PAGES_BASE_CAP + _PAGES_PER_ARTICLE_CAP * max(articles, 1) * len(SOURCES)
    queue: deque[tuple[str, str]] = deque()
    seen: set[tuple[str, str]] = set()
    for host in origins:
        for target in _roots(host):
            if (host, target) not in seen:
                seen.add((host, target))
                queue.append((host, target))
    made: set[Path] = set()
    written: set[Path] = set()
    while queue:
        if len(seen) > cap:
            raise RuntimeError(f"export of {articles} articles passed {cap} pages: a link loop?")
        host, target = queue.popleft()
        page = site.page(host, target)
        if page.status != 200:
            stats.missing += 1
            continue
        name = export_path(target, page.content_type)
        if name is None:
            continue
        path = directory / host / name
        if path in written:  # "/x/?p=1" and "/x/" are one page, as are queries the mirror ignores
            continue
        written.add(path)
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        path.write_bytes(page.body)
        stats.pages += 1
        stats.bytes += len(page.body)
        stamp = page.last_modified.timestamp() if page.last_modified is not None else None
        if gzip_target(target):
            gz = path.with_name(path.name + ".gz")
            gz.write_bytes(gzip.compress(page.body, compresslevel=gzip_level, mtime=0))
            stats.gzipped += 1
            if stamp is not None:
                os.utime(gz, (stamp, stamp))
        if stamp is not None:
            os.utime(path, (stamp, stamp))
        for key in _linked_targets(page.body.decode("utf-8", "replace"), by_origin):
            if key not in seen:
                seen.add(key)
                queue.append(key)
    return stats


def nginx_config(directory: Path, origins: dict[str, str], *, workdir: Path, access_log: Path | None = None,
                 workers: int = 1) -> str:
    """An nginx configuration serving an export of ``directory`` on ``origins`` (``http://127.0.0.1:PORT`` each).

    Runs in the foreground (``daemon off``) with its pid file, temporary files and error
    log under ``workdir``.  Started by root, nginx's workers run as ``nobody``: the export
    must be readable (and its directories searchable) by them, or every page is a 404.
    ``access_log`` (if given) gets one line per request:
    ``<msec> <port> <status> <bytes> <request URI>``.
    """
    servers = []
    for host, origin in origins.items():
        parts = urlsplit(origin)
        if parts.scheme != "http" or parts.hostname != "127.0.0.1" or parts.port is None:
            raise ValueError(f"origin of {host} must be http://127.0.0.1:PORT, got {origin!r}")
        root = (directory / host).resolve()
        servers.append(f"""
    server {{
        listen 127.0.0.1:{parts.port} backlog=1024;
        server_name {host};
        root {root};
        location / {{
            try_files $uri$export_index$export_query.html $uri$export_index$export_query.rss
                      $uri$export_index$export_query.txt =404;
        }}
    }}""")
    work = workdir.resolve()
    log_line = f"access_log {access_log.resolve()} bench;" if access_log is not None else "access_log off;"
    return f"""# generated by crawler.mirror.export.nginx_config
daemon off;
worker_processes {workers};
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{
    worker_connections 4096;
}}
http {{
    types {{
        text/html html;
        application/rss+xml rss;
        text/plain txt;
    }}
    default_type application/octet-stream;
    charset utf-8;
    charset_types text/plain application/rss+xml;  # text/html is implied
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    gzip_static on;
    open_file_cache max=100000 inactive=60s;
    open_file_cache_errors on;
    server_tokens off;
    client_body_temp_path {work}/client_body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    log_format bench '$msec $server_port $status $body_bytes_sent $request_uri';
    {log_line}
    # "/thoi-su/" -> "thoi-su/_index.html"; "?p=2" -> "_p2"; "?newid=7" -> "_newid7" (see export_path)
    map $uri $export_index {{
        default "";
        "~/$" "_index";
    }}
    map $args $export_query {{
        default "";
        "p=1" "";
        "~^p=(?<export_p>[0-9]+)$" "_p$export_p";
        "~^p=" "_invalid";
        "~^newid=(?<export_id>[0-9]+)$" "_newid$export_id";
    }}
{"".join(servers)}
}}
"""
