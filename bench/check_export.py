"""Check that nginx serving a static export gives the same pages as the Python mirror.

Exports a small mirror with :func:`crawler.mirror.export.export_site`, serves it with
nginx (:func:`~crawler.mirror.export.nginx_config`), and for every exported file requests
its URL twice (identity and gzip) and compares body and content type with what the
mirror's :class:`~crawler.mirror.site.Site` renders for the same target and origins.
Also checks a few URLs that must be 404.  Exit code 0 when everything matches.

    .venv/bin/python bench/check_export.py [--articles 60]
"""

from __future__ import annotations

import argparse
import gzip
import re
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

from benchlib import Nginx, free_ports

from crawler.mirror.export import export_site, nginx_config
from crawler.mirror.site import Site
from crawler.mirror.sources import HOSTS

SAFE = "/?=&%:+@!$,;~*'()"


def target_of(name: str) -> str:
    """Invert export_path: ``thoi-su/_index_p2.html`` -> ``/thoi-su/?p=2``."""
    base = name.rsplit(".", 1)[0]
    query = ""
    match = re.search(r"_p(\d+)$", base) or re.search(r"_newid(\d+)$", base)
    if match:
        key = "p" if match.group(0).startswith("_p") else "newid"
        base, query = base[: match.start()], f"?{key}={match.group(1)}"
    base = base.removesuffix("_index")
    return quote("/" + base, safe=SAFE) + query


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=60, help="articles per source (default 60)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        work = Path(tmp)
        work.chmod(0o755)
        ports = free_ports(len(HOSTS))
        origins = {host: f"http://127.0.0.1:{port}" for host, port in zip(HOSTS, ports, strict=True)}
        stats = export_site(work / "site", articles=args.articles, origins=origins)
        print(f"exported {stats.pages} pages ({stats.gzipped} with .gz), {stats.missing} linked targets are 404s")
        site = Site(args.articles, 1)
        site.set_origins(origins)
        config = nginx_config(work / "site", origins, workdir=work / "nginx", access_log=work / "access.log")
        checked = bad = 0
        with Nginx(config, work / "nginx", ports, work / "access.log"):
            for host in HOSTS:
                for path in sorted((work / "site" / host).rglob("*")):
                    if not path.is_file() or path.name.endswith(".gz"):
                        continue
                    target = target_of(path.relative_to(work / "site" / host).as_posix())
                    page = site.page(host, target)
                    for encoding in ("identity", "gzip"):
                        request = urllib.request.Request(origins[host] + target,
                                                         headers={"Accept-Encoding": encoding})
                        with urllib.request.urlopen(request, timeout=10) as response:
                            body = response.read()
                            content_type = response.headers.get("Content-Type", "")
                            if response.headers.get("Content-Encoding") == "gzip":
                                body = gzip.decompress(body)
                        checked += 1
                        if body != page.body or content_type.replace(" ", "") != page.content_type.replace(" ", ""):
                            bad += 1
                            if bad <= 5:
                                print(f"DIFFERENT: {host}{target} ({content_type} vs {page.content_type})")
            for target in ("/no-such-page/", "/thoi-su/?p=99999", "/thoi-su/?p=x", "/x-a1.html"):
                try:
                    with urllib.request.urlopen(origins["baocantho.com.vn"] + target, timeout=10) as response:
                        status = response.status
                except urllib.error.HTTPError as err:
                    status = err.code
                checked += 1
                if status != 404:
                    bad += 1
                    print(f"expected 404 for {target}, got {status}")
    print(f"{checked} responses checked, {bad} different")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
