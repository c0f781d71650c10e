"""Interop: is the archive a web archive anyone can open?  The real tools say, on an archive with history.

    python bench/interop.py [--images] [--every] [--articles N] [--rwp-sample N] [--pywb-browser N] [--seed N]
                            [--screenshot PNG] [--work DIR] [--json FILE]

1. builds an archive with history as a person would: ``crawler demo`` twice (the second run gets 304s for
   the listings; the demo archives page requisites), ``crawler crawl --refresh --requisites`` against the
   same mirror (listings 304, articles identical-payload revisits, requisites revalidated; ``--images``
   when asked), then ``--changed`` articles revised and ``--new`` published per source and the same crawl
   again; ``crawler index`` (``indexes/not-modified.cdx``, decision 0014);
2. ``crawler wacz`` and ``wacz validate`` (py-wacz);
3. indexes the WARC files with ``cdxj-indexer`` and compares with ``indexes/*.cdxj`` on
   (key, timestamp, filename, offset, length): equal but for the 304 revisits (decision 0010);
4. pywb (``wayback -b 127.0.0.1``): a collection made by ``wb-manager add --unpack-wacz`` and one on the
   archive's own ``indexes/`` and ``warc/``; EVERY capture of every HTML page (cdxj-indexer's lines: 200s,
   304s, identical-payload revisits) asked for at its time in ``id_`` mode must give the payload of the
   record it confirmed (right version; an empty or non-200 answer is a blank page), and every URL alias
   of the package (decision 0015) the capture it stands for;
5. in headless Chromium (Debian's ``chromium`` driven by ``playwright-core``, ``interop_rwp.mjs``):
   ReplayWeb.page (the npm package's ``ui.js`` and ``sw.js`` on a loopback static server) and pywb's
   framed replay, per page: blank or not, the right version (ReplayWeb.page: sha256 of its ``id_``
   payload), stylesheets linked and loaded with readable rules, images complete with ``naturalWidth > 0``;
   aliases shown as the capture.  By default a random sample drawn at each run (seed printed:
   ``--rwp-sample`` captures, half at a revisit of a page that changed later, 4 aliases; ``--pywb-browser``
   of them in pywb), about a minute; ``--every``: every capture and alias in both tools (the recorded run).

The tools are installed by the script into ``.interop/`` (a venv with pywb, wacz and
cdxj-indexer; ``npm pack replaywebpage``; ``npm install playwright-core``), Chromium with
``apt-get install -y chromium`` when it is missing and we are root.  Prints what each tool saw
(``per_tool``) and the timings; exit 0 when every check passed.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import hashlib
import html
import http.server
import json
import os
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import tarfile
import threading
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.archive.warc_reading import read_response_at  # noqa: E402
from crawler.codings import decode_content  # noqa: E402
from crawler.mirror import Mirror  # noqa: E402

TOOLS = ("pywb==2.10.0", "wacz==0.6.0", "cdxj-indexer==1.5.0")
NPM = ("replaywebpage@2.5.3", "playwright-core@1.65.1")
CHROMIUM = Path("/usr/bin/chromium")


class Timer:
    def __init__(self) -> None:
        self.times: dict[str, float] = {}

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        print(f"== {name}", flush=True)
        try:
            yield
        finally:
            self.times[name] = round(time.monotonic() - started, 2)
            print(f"   {name}: {self.times[name]} s", flush=True)


def run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, check=True, text=True, **kwargs)  # type: ignore[call-overload,no-any-return]


def crawler(*args: str, capture: bool = False) -> str:
    out = run([sys.executable, "-m", "crawler", *args], capture_output=capture, cwd=ROOT)
    return out.stdout if capture else ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- tools --------------------------------------------------------------------------------------


def python_tools(cache: Path) -> Path:
    venv = cache / "venv"
    marker = venv / ("ok-" + "-".join(TOOLS).replace("=", ""))
    if not marker.exists():
        shutil.rmtree(venv, ignore_errors=True)
        run([sys.executable, "-m", "venv", str(venv)])
        run([str(venv / "bin" / "pip"), "install", "-q", *TOOLS])
        marker.touch()
    return venv / "bin"


def node_tools(cache: Path) -> tuple[Path, Path]:
    """(the unpacked replaywebpage package, node_modules with playwright-core)."""
    npm = cache / "npm"
    package = npm / "package"
    version = NPM[0].split("@")[1]
    manifest = package / "package.json"
    installed = json.loads(manifest.read_text())["version"] if manifest.exists() else ""
    if installed != version or not (npm / "node_modules" / "playwright-core").exists():
        shutil.rmtree(npm, ignore_errors=True)
        npm.mkdir(parents=True)
        # npm pack fetches the published tarball only: no dependency resolution (which fails here).
        run(["npm", "pack", "--silent", NPM[0]], cwd=npm, capture_output=True)
        tarball = next(npm.glob("replaywebpage-*.tgz"))
        with tarfile.open(tarball) as tar:
            tar.extractall(npm, filter="data")
        run(["npm", "init", "-y"], cwd=npm, capture_output=True)
        run(["npm", "install", "--silent", "--no-audit", "--no-fund", NPM[1]], cwd=npm, capture_output=True)
    return package, npm / "node_modules"


def chromium() -> Path:
    if not CHROMIUM.exists() and os.geteuid() == 0:
        run(["apt-get", "update", "-q"], capture_output=True)
        run(["apt-get", "install", "-y", "-q", "chromium"], capture_output=True)
    if not CHROMIUM.exists():
        raise SystemExit(f"{CHROMIUM} is missing (apt-get install chromium)")
    return CHROMIUM


# -- the archive ---------------------------------------------------------------------------------


def build_archive(archive: Path, articles: int, images: bool, timer: Timer, changed: int,
                  new: int) -> dict[str, object]:
    """demo twice (304s), crawl --refresh [--images] (listings 304, articles identical-payload revisits),
    then the sites change (``changed`` articles revised and ``new`` published per source) and a last crawl."""
    with timer.step("demo run 1"):
        crawler("demo", "--archive", str(archive), "--articles", str(articles))
    with timer.step("demo run 2 (conditional requests: 304 revisits)"):
        crawler("demo", "--archive", str(archive), "--articles", str(articles))
    step = "crawl --refresh --requisites (identical-payload revisits, listings 304)" + (" --images" if images else "")
    extra = ["--requisites", *(["--images"] if images else [])]
    with Mirror(articles=articles, seed=1) as mirror:
        origins = [f"--origin={host}={url}" for host, url in mirror.origins.items()]
        common = ["--delay", "0", "--host-concurrency", "4", "--no-progress", "--quiet", *extra, *origins]
        with timer.step(step):
            crawler("crawl", "--archive", str(archive), "--refresh", *common)
        rng = random.Random(7)
        for source in mirror.sources:
            for article_id in rng.sample(mirror.article_ids(source), min(changed, len(mirror.article_ids(source)))):
                try:
                    mirror.revise(source, article_id)
                except (KeyError, ValueError):
                    pass
            mirror.add_articles(source, new)
        time.sleep(1.1)  # the next captures are in another second than the 304s
        with timer.step(f"crawl after {changed} articles changed and {new} appeared per source"):
            crawler("crawl", "--archive", str(archive), "--refresh", *common)
    with timer.step("crawler index (indexes/not-modified.cdx: the 304s resolved for pywb, decision 0014)"):
        crawler("index", "--archive", str(archive))
    runs = sorted((archive / "runs").glob("*.json"))
    return json.loads(runs[-1].read_text(encoding="utf-8")) if runs else {}


def index_lines(lines: Iterator[str]) -> dict[tuple[str, str, str, str, str], dict[str, str]]:
    out = {}
    for line in lines:
        if line.strip():
            key, stamp, data = line.split(" ", 2)
            fields = json.loads(data)
            out[(key, stamp, fields["filename"], fields["offset"], fields["length"])] = fields
    return out


def our_index(archive: Path) -> dict[tuple[str, str, str, str, str], dict[str, str]]:
    def lines() -> Iterator[str]:
        for path in sorted((archive / "indexes").glob("*.cdxj")):
            yield from path.read_text(encoding="utf-8").splitlines()
    return index_lines(lines())


# -- pywb ----------------------------------------------------------------------------------------


UNPACKED: dict[str, object] = {}


def start_pywb(bin_dir: Path, work: Path, archive: Path, wacz: Path | None = None
               ) -> tuple[subprocess.Popen[bytes], str]:
    home = work / "pywb"
    home.mkdir(exist_ok=True)
    if wacz is not None:
        shutil.rmtree(home / "collections", ignore_errors=True)
        run([str(bin_dir / "wb-manager"), "init", "wacz"], cwd=home, capture_output=True)
        added = run([str(bin_dir / "wb-manager"), "add", "--unpack-wacz", "wacz", str(wacz)], cwd=home,
                    capture_output=True)
        UNPACKED.update(files=sorted(p.name for p in (home / "collections" / "wacz" / "indexes").iterdir()),
                        lines=len((home / "collections" / "wacz" / "indexes" / "index.cdxj").read_text().splitlines()),
                        said=(added.stdout + added.stderr).strip().splitlines()[-3:])
    (home / "config.yaml").write_text(
        "collections:\n  archive:\n"
        f"    index_paths: {archive.resolve() / 'indexes'}/\n"
        f"    archive_paths: {archive.resolve() / 'warc'}/\n", encoding="utf-8")
    port = free_port()
    log = open(home / "wayback.log", "wb")  # noqa: SIM115 -- lives as long as the server
    server = subprocess.Popen([str(bin_dir / "wayback"), "-b", "127.0.0.1", "-p", str(port)], cwd=home,
                              stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read()
            return server, base
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    server.kill()
    raise SystemExit("pywb did not start (see pywb/wayback.log)")


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Accept-Encoding": "identity"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()


def check_pywb(base: str, archive: Path, pages: list[dict[str, object]]) -> dict[str, object]:
    failures: list[str] = []
    counts = {"id_ equal": 0, "framed ok": 0}
    for page in pages:
        url, stamp = str(page["url"]), str(page["ask_ts"])
        status, headers, body = get(f"{base}/{stamp}id_/{url}")
        expected = read_response_at(archive / "warc" / str(page["file"]), int(str(page["offset"])))
        content = decode_content(body, headers.get("content-encoding"))
        if status != 200 or content != expected.content:
            failures.append(f"id_ {stamp} {url}: status {status}, {len(content)} bytes, expected "
                            f"{len(expected.content)} bytes of {page['file']}:{page['offset']}")
        else:
            counts["id_ equal"] += 1
        status, headers, body = get(f"{base}/{stamp}mp_/{url}")
        # Titles break lines in the pages (as on the real sites): compare with white space collapsed.
        text = " ".join(html.unescape(decode_content(body, headers.get("content-encoding")).decode(
            "utf-8", "replace")).split())
        title = " ".join(str(page["title"]).split())
        if status != 200 or not body or (title and title not in text):
            failures.append(f"framed {stamp} {url}: status {status}, {len(body)} bytes, title "
                            f"{'found' if title in text else 'missing'}")
        else:
            counts["framed ok"] += 1
    return {"checked": len(pages), **counts, "failures": failures}


# -- ReplayWeb.page ------------------------------------------------------------------------------


class _RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with Range requests (ReplayWeb.page reads a WACZ by ranges)."""

    def log_message(self, format: str, *args: object) -> None:
        pass

    def end_headers(self) -> None:
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def do_GET(self) -> None:
        wanted = self.headers.get("Range")
        path = Path(self.translate_path(self.path))
        if not wanted or not path.is_file():
            super().do_GET()
            return
        size = path.stat().st_size
        start_s, _, end_s = wanted.removeprefix("bytes=").partition("-")
        if start_s:
            start, end = int(start_s), (int(end_s) if end_s else size - 1)
        else:  # a suffix: the last N bytes
            start, end = max(0, size - int(end_s)), size - 1
        end = min(end, size - 1)
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        with open(path, "rb") as handle:
            handle.seek(start)
            self.wfile.write(handle.read(end - start + 1))


EMBED = """<!doctype html>
<html><head><meta charset="utf-8"><script src="./ui.js"></script></head>
<body style="margin:0"><script>
const q = new URLSearchParams(location.search);
const el = document.createElement("replay-web-page");
el.setAttribute("source", "./archive.wacz");
el.setAttribute("url", q.get("url"));
if (q.get("ts")) el.setAttribute("ts", q.get("ts"));
el.setAttribute("replayBase", "./replay/");
el.setAttribute("embed", "replayonly");
el.style.height = "900px"; el.style.display = "block";
document.body.appendChild(el);
</script></body></html>
"""


def run_browser(work: Path, node_modules: Path, base: str, checks: list[dict[str, object]], name: str
                ) -> dict[str, object]:
    """``interop_rwp.mjs`` on these checks (one Chromium, a fresh profile): what each page showed."""
    profile = work / f"chromium-profile-{name}"
    shutil.rmtree(profile, ignore_errors=True)
    spec = {"base": base, "chromium": str(chromium()), "node_modules": str(node_modules), "profile": str(profile),
            "timeout_ms": 45000, "checks": checks}
    spec_path = work / f"{name}-checks.json"
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    out = run(["node", str(ROOT / "bench" / "interop_rwp.mjs"), str(spec_path)], capture_output=True,
              timeout=3600).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def tally(results: list[dict[str, object]]) -> dict[str, object]:
    """What the browser saw over these pages: blank pages, stylesheets and images (linked / loaded)."""
    def total(field: str) -> int:
        return sum(int(r.get(field, 0) or 0) for r in results)  # type: ignore[call-overload]
    return {"blank": sum(1 for r in results if r.get("blank")),
            "stylesheets": total("stylesheets"), "stylesheets_loaded": total("stylesheets_loaded"),
            "pages_with_all_stylesheets": sum(1 for r in results if r.get("stylesheets")
                                              and r.get("stylesheets_loaded") == r.get("stylesheets")),
            "images": total("images"), "images_loaded": total("loaded")}


def check_rwp(work: Path, wacz: Path, package: Path, node_modules: Path, pages: list[dict[str, object]],
              images: bool) -> dict[str, object]:
    site = work / "rwp-site"
    shutil.rmtree(site, ignore_errors=True)
    (site / "replay").mkdir(parents=True)
    shutil.copy(package / "ui.js", site / "ui.js")
    shutil.copy(package / "sw.js", site / "replay" / "sw.js")
    os.link(wacz, site / "archive.wacz")
    (site / "embed.html").write_text(EMBED, encoding="utf-8")
    handler = lambda *a, **k: _RangeHandler(*a, directory=str(site), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    checks = [{"url": p["url"], "ts": p["rwp_ts"], "kind": p["kind"], "screenshot": p.get("screenshot"),
               "image_urls": p.get("image_urls") if images else None} for p in pages]
    try:
        seen = run_browser(work, node_modules, f"http://127.0.0.1:{server.server_address[1]}", checks, "rwp")
    finally:
        server.shutdown()
    failures = []
    by_key = {f"{p['rwp_ts']} {p['url']}": p for p in pages}
    for result in seen["results"]:  # type: ignore[attr-defined]
        page = by_key[f"{result['ts']} {result['url']}"]
        title = str(page.get("title") or "")
        shown = f"{result.get('title', '')} {result.get('h1', '')}"
        ok = not result.get("error") and title.split(" - ")[0][:40] in shown and result.get("text", 0) > 0
        result["blank"] = bool(result.get("error")) or not result.get("text")
        if page.get("sha256"):
            result["right_version"] = (result.get("payload") or {}).get("sha256") == page["sha256"]
            ok = ok and result["right_version"]
        if images and page.get("image_urls"):
            ok = ok and result.get("article_images_shown", 0) >= len(page["image_urls"])  # type: ignore[arg-type]
        if not ok:
            failures.append(f"{result['kind']} {result['url']} at {result['ts']}: {json.dumps(result)[:400]}")
    results = list(seen["results"])  # type: ignore[call-overload]
    captures = [r for r in results if r["kind"] != "alias"]
    aliases = [r for r in results if r["kind"] == "alias"]
    return {"checked": len(results), "seconds": seen["seconds"], "failures": failures,
            "captures": len(captures), "right_version": sum(1 for r in captures if r.get("right_version")),
            **tally(captures), "aliases": len(aliases),
            "aliases_resolved": sum(1 for r in aliases if r.get("right_version") and not r.get("blank")),
            "reloaded": [r["url"] for r in results if r.get("reloaded")], "results": results}


def check_pywb_browser(work: Path, node_modules: Path, base: str, pages: list[dict[str, object]]
                       ) -> dict[str, object]:
    """pywb's framed replay of these captures (``<ts>/<url>``) in Chromium: blank pages, stylesheets, images."""
    checks = [{"url": p["url"], "ts": p["ts"], "kind": p["kind"], "direct": f"{base}/{p['ts']}/{p['url']}"}
              for p in pages]
    seen = run_browser(work, node_modules, base, checks, "pywb")
    results = list(seen["results"])  # type: ignore[call-overload]
    for result in results:
        result["blank"] = bool(result.get("error")) or result.get("status") != 200 or not result.get("text")
    return {"pages": len(results), "seconds": seen["seconds"], **tally(results),
            "failures": [f"pywb in the browser: {r['kind']} {r['url']} at {r['ts']}: {json.dumps(r)[:300]}"
                         for r in results if r["blank"]]}


def wacz_aliases(wacz: Path) -> list[dict[str, str]]:
    """The URL aliases of the package (decision 0015): their index lines, whose digest names the capture shown."""
    with zipfile.ZipFile(wacz) as package:
        names = package.namelist()
        data = package.read("indexes/index.cdx") if "indexes/index.cdx" in names else \
            gzip.decompress(package.read("indexes/index.cdx.gz"))
    out = []
    for line in data.decode("utf-8").splitlines():
        if '"filename": "aliases.warc.gz"' in line:
            _key, stamp, fields = line.split(" ", 2)
            out.append({"ts": stamp, **json.loads(fields)})
    return out


def alias_checks(aliases: list[dict[str, str]], theirs: dict[tuple[str, str, str, str, str], dict[str, str]]
                 ) -> list[dict[str, object]]:
    """Each alias with the record it must show: the capture (a 200 at the alias's time) with its digest."""
    by_time = {(stamp, f.get("digest")): f for (_k, stamp, _f, _o, _l), f in theirs.items()
               if f.get("status") == "200" and f.get("mime") != "warc/revisit"}
    out = []
    for alias in aliases:
        found = by_time.get((alias["ts"], alias.get("digest")))
        if found is not None:
            out.append({"url": alias["url"], "ts": alias["ts"], "kind": "alias", "file": found["filename"],
                        "offset": found["offset"], "changed_later": False, "of": found["url"]})
    return out


# -- what to check --------------------------------------------------------------------------------


def captures_to_check(archive: Path, theirs: dict[tuple[str, str, str, str, str], dict[str, str]]
                      ) -> list[dict[str, object]]:
    """Every capture of every HTML page (cdxj-indexer's index: 304s included), with the record whose payload
    it must show: its own for a 200, for a revisit the latest earlier 200 of the URL with its digest."""
    responses: dict[str, list[tuple[str, dict[str, str]]]] = {}
    revisits: list[tuple[str, dict[str, str]]] = []
    for (_key, stamp, _f, _o, _l), fields in sorted(theirs.items(), key=lambda item: item[0][1]):
        if fields.get("mime") == "text/html" and fields.get("status") == "200":
            responses.setdefault(fields["url"], []).append((stamp, fields))
        elif fields.get("mime") == "warc/revisit":
            revisits.append((stamp, fields))
    later: dict[str, str] = {url: caps[-1][0] for url, caps in responses.items()}
    out: list[dict[str, object]] = []
    for url, caps in responses.items():
        for stamp, fields in caps:
            out.append({"url": url, "ts": stamp, "kind": "200", "file": fields["filename"],
                        "offset": fields["offset"], "changed_later": later[url] > stamp})
    for stamp, fields in revisits:
        url = fields["url"]
        found = [f for s, f in responses.get(url, []) if s <= stamp and f.get("digest") == fields.get("digest")]
        if not found:
            continue
        out.append({"url": url, "ts": stamp, "kind": "304" if fields.get("status") == "304" else "identical",
                    "file": found[-1]["filename"], "offset": found[-1]["offset"],
                    "changed_later": later[url] > stamp})
    return out


def check_pywb_captures(base: str, archive: Path, captures: list[dict[str, object]]) -> dict[str, object]:
    """pywb at every capture time: the right version (``id_`` payload equal to the expected record's), blank."""
    right, blank, wrong = 0, 0, []
    for cap in captures:
        status, headers, body = get(f"{base}/{cap['ts']}id_/{cap['url']}")
        content = decode_content(body, headers.get("content-encoding"))
        expected = read_response_at(archive / "warc" / str(cap["file"]), int(str(cap["offset"]))).content
        if status != 200 or not content:
            blank += 1
        if status == 200 and content == expected:
            right += 1
        else:
            wrong.append(f"{cap['kind']} {cap['ts']} {cap['url']}: status {status}, {len(content)} bytes")
    by_kind = {k: sum(1 for c in captures if c["kind"] == k) for k in ("200", "304", "identical")}
    return {"captures": len(captures), "by_kind": by_kind, "right_version": right, "blank": blank,
            "changed_later": sum(1 for c in captures if c["changed_later"]), "failures": wrong}


def pages_to_check(archive: Path, theirs: dict[tuple[str, str, str, str, str], dict[str, str]]
                   ) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """(articles, listing pages): what each must show and when to ask for it."""
    db = sqlite3.connect(f"file:{archive / 'catalog.sqlite'}?mode=ro", uri=True)
    articles_rows = db.execute(
        "SELECT url, title, warc_file, warc_offset, meta FROM snapshots s WHERE version = (SELECT MAX(version) "
        "FROM snapshots s2 WHERE s2.source=s.source AND s2.article_id=s.article_id)").fetchall()
    db.close()
    article_urls = {row[0] for row in articles_rows}
    latest_200: dict[str, tuple[str, dict[str, str]]] = {}
    later: dict[str, str] = {}  # URL -> the timestamp of its last revisit (304 or identical payload)
    for (_key, stamp, _f, _o, _l), fields in sorted(theirs.items(), key=lambda item: item[0][1]):
        url = fields["url"]
        if fields.get("mime") == "warc/revisit":
            later[url] = stamp
        elif fields.get("status") == "200" and fields.get("mime") == "text/html":
            latest_200[url] = (stamp, fields)
    articles = []
    for url, title, warc_file, offset, meta in articles_rows:
        images = [image["url"] for image in json.loads(meta).get("images", [])] if meta else []
        stamp = latest_200.get(url, ("",))[0]
        articles.append({"kind": "article", "url": url, "title": title, "file": warc_file, "offset": offset,
                         "ask_ts": later.get(url, stamp), "rwp_ts": later.get(url, stamp), "image_urls": images})
    listings = []
    for url, (stamp, fields) in sorted(latest_200.items()):
        if url in article_urls or url.endswith((".xml", "/rss/home")) or "/print/" in url:
            continue
        listings.append({"kind": "listing", "url": url, "title": "", "file": fields["filename"],
                         "offset": fields["offset"], "ask_ts": later.get(url, stamp),
                         "rwp_ts": later.get(url, stamp), "revisited": url in later})
    return articles, listings


def listing_titles(archive: Path, listings: list[dict[str, object]]) -> None:
    from selectolax.lexbor import LexborHTMLParser

    for page in listings:
        response = read_response_at(archive / "warc" / str(page["file"]), int(str(page["offset"])))
        node = LexborHTMLParser(response.content).css_first("title")
        page["title"] = " ".join(node.text().split()) if node is not None else ""


def per_tool(report: dict[str, object]) -> dict[str, dict[str, object]]:
    """The figures of each tool, side by side (INTEROP.md's table)."""
    pywb: dict[str, dict[str, object]] = report["pywb"]  # type: ignore[assignment]
    rwp: dict[str, object] = report["replaywebpage"]  # type: ignore[assignment]
    browser = pywb["browser"]
    keys = ("stylesheets", "stylesheets_loaded", "pages_with_all_stylesheets", "images", "images_loaded")
    return {
        "pywb (wb-manager add --unpack-wacz)": {
            "captures": pywb["wacz"]["captures"], "right_version": pywb["wacz"]["right_version"],
            "blank": int(pywb["wacz"]["blank"]) + int(browser["blank"]),  # type: ignore[call-overload]
            "in_browser": browser["pages"], **{k: browser[k] for k in keys},
            "aliases": pywb["aliases"]["captures"], "aliases_resolved": pywb["aliases"]["right_version"]},
        "pywb (the archive's indexes/)": {k: pywb["archive"][k] for k in ("captures", "right_version", "blank")},
        "ReplayWeb.page": {"captures": rwp["captures"], "right_version": rwp["right_version"], "blank": rwp["blank"],
                           **{k: rwp[k] for k in keys}, "aliases": rwp["aliases"],
                           "aliases_resolved": rwp["aliases_resolved"]},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=20, help="generated articles per source (default 20)")
    parser.add_argument("--images", action="store_true", help="crawl --refresh --images, and check images load")
    parser.add_argument("--rwp-sample", type=int, default=24,
                        help="captures checked in ReplayWeb.page, at random (half: revisits of pages changed later)")
    parser.add_argument("--seed", type=int, default=None, help="the sample's random seed (default: a new one, printed)")
    parser.add_argument("--changed", type=int, default=4, help="articles revised per source before the last crawl")
    parser.add_argument("--new", type=int, default=3, help="articles published per source before the last crawl")
    parser.add_argument("--every", action="store_true",
                        help="every capture and every alias in both tools in Chromium (the recorded run; ~30 min)")
    parser.add_argument("--pywb-browser", type=int, default=8, metavar="N",
                        help="without --every: pages of the sample opened in pywb in Chromium (default 8; pywb is also "
                             "asked for every capture and alias over HTTP)")
    parser.add_argument("--screenshot", type=Path, default=None,
                        help="a PNG of the first An Giang article of the sample replayed in ReplayWeb.page")
    parser.add_argument("--work", type=Path, default=ROOT / ".interop" / "work")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args()
    timer = Timer()
    cache = ROOT / ".interop"
    work = args.work.resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    archive = work / "archive"
    report: dict[str, object] = {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "articles": args.articles}
    with timer.step("tools (venv: pywb, wacz, cdxj-indexer; npm: replaywebpage, playwright-core; chromium)"):
        bin_dir = python_tools(cache)
        package_dir, node_modules = node_tools(cache)
        chromium()
    run_stats = build_archive(archive, args.articles, args.images, timer, args.changed, args.new)
    sources: dict[str, dict[str, object]] = run_stats.get("sources", {})  # type: ignore[assignment]
    report["last_run"] = {k: {f: v.get(f) for f in ("new", "unchanged", "images", "image_bytes")}
                          for k, v in sources.items()}
    wacz = work / "archive.wacz"
    with timer.step("crawler wacz"):
        crawler("wacz", "--archive", str(archive), "-o", str(wacz))
    with zipfile.ZipFile(wacz) as package:
        report["wacz"] = {"bytes": wacz.stat().st_size, "files": sorted(n for n in package.namelist()
                                                                         if not n.startswith("archive/")),
                          "extra_pages": len(package.read("pages/extraPages.jsonl").splitlines()) - 1}
    with timer.step("wacz validate"):
        validated = subprocess.run([str(bin_dir / "wacz"), "validate", "-f", str(wacz)], capture_output=True, text=True)
        report["wacz_validate"] = {"exit": validated.returncode, "said": validated.stdout.strip().splitlines()[-1:]}
    with timer.step("cdxj-indexer"):
        out = run([str(bin_dir / "cdxj-indexer"), *map(str, sorted((archive / "warc").glob("*.warc.gz")))],
                  capture_output=True).stdout
        theirs = index_lines(iter(out.splitlines()))
        ours = our_index(archive)
        not_modified = {k for k, f in theirs.items() if f.get("mime") == "warc/revisit" and f.get("status") == "304"}
        report["cdxj_indexer"] = {
            "their_lines": len(theirs), "our_lines": len(ours), "their_304_revisits": len(not_modified),
            "equal_but_304s": set(theirs) - not_modified == set(ours),
            "json_differs": sum(1 for k in ours if k in theirs and ours[k] != theirs[k])}
    captures = captures_to_check(archive, theirs)
    aliases = alias_checks(wacz_aliases(wacz), theirs)
    server, base = start_pywb(bin_dir, work, archive, wacz)
    report["pywb_unpack_wacz"] = dict(UNPACKED)
    try:
        with timer.step(f"pywb: {len(captures)} captures and {len(aliases)} aliases, from the unpacked WACZ "
                        "and from the archive"):
            report["pywb"] = {"wacz": check_pywb_captures(f"{base}/wacz", archive, captures),
                              "archive": check_pywb_captures(f"{base}/archive", archive, captures),
                              "aliases": check_pywb_captures(f"{base}/wacz", archive, aliases)}
    finally:
        server.terminate()
        server.wait(timeout=10)
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    if args.every:
        sample = list(captures)
        alias_sample = list(aliases)
    else:
        revisited = [c for c in captures if c["kind"] != "200"]
        tricky = [c for c in revisited if c["changed_later"]]
        sample = rng.sample(tricky, min(len(tricky), args.rwp_sample // 2))
        rest = [c for c in captures if c not in sample]
        sample += rng.sample(rest, min(len(rest), args.rwp_sample - len(sample)))
        alias_sample = rng.sample(aliases, min(len(aliases), 4))
    for cap in [*sample, *alias_sample]:
        expected = read_response_at(archive / "warc" / str(cap["file"]), int(str(cap["offset"]))).content
        cap.update(rwp_ts=cap["ts"], sha256=hashlib.sha256(expected).hexdigest(), title="")
    articles = [c for c in sample if "/print/" not in str(c["url"]) and c["kind"] == "200"
                and str(c["url"]).startswith("https://baoangiang.com.vn/") and str(c["url"]).endswith(".html")]
    if args.screenshot and articles:
        articles[0]["screenshot"] = str(args.screenshot.resolve())
    report["sample"] = {"every": args.every, "seed": seed, "captures": len(sample), "aliases": len(alias_sample),
                        "at_a_revisit_of_a_page_changed_later": len(
                            [c for c in sample if c["kind"] != "200" and c["changed_later"]])}
    # pywb in the browser: with --every every capture and alias, else a random part of the sample (CI's minute).
    in_browser = [*sample, *alias_sample] if args.every else \
        rng.sample([*sample, *alias_sample], min(args.pywb_browser, len(sample) + len(alias_sample)))
    with timer.step(f"pywb in headless Chromium: {len(in_browser)} pages of the sample"):
        server, base = start_pywb(bin_dir, work, archive)
        try:
            report["pywb"]["browser"] = check_pywb_browser(  # type: ignore[index]
                work, node_modules, f"{base}/wacz", in_browser)
        finally:
            server.terminate()
            server.wait(timeout=10)
    with timer.step(f"ReplayWeb.page: {len(sample)} captures and {len(alias_sample)} aliases in headless Chromium"):
        report["replaywebpage"] = check_rwp(work, wacz, package_dir, node_modules, [*sample, *alias_sample], False)
    report["seconds"] = timer.times
    failures = list(report["pywb"]["wacz"]["failures"])  # type: ignore[index]
    failures += list(report["pywb"]["archive"]["failures"])  # type: ignore[index]
    failures += list(report["pywb"]["aliases"]["failures"])  # type: ignore[index]
    failures += list(report["pywb"]["browser"]["failures"])  # type: ignore[index]
    failures += list(report["replaywebpage"]["failures"])  # type: ignore[index]
    report["per_tool"] = per_tool(report)
    ok = (not failures and report["wacz_validate"]["exit"] == 0  # type: ignore[index]
          and report["cdxj_indexer"]["equal_but_304s"])  # type: ignore[index]
    report["ok"] = ok
    summary = {k: v for k, v in report.items() if k != "replaywebpage"}
    summary["replaywebpage"] = {k: v for k, v in dict(report["replaywebpage"]).items()  # type: ignore[call-overload]
                                if k != "results"}
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    for failure in failures[:20]:
        print("FAILED:", failure)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
