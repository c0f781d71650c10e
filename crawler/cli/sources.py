"""``crawler sources``: the configured sources with the politeness a crawl uses; ``--check`` validates them.

Part of the command line (:mod:`crawler.cli`); the work is :mod:`crawler.use.sources`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from crawler.cli import argtypes
from crawler.cli.common import EXIT_OK, EXIT_USAGE, SOURCES_HELP, read_sources
from crawler.errors import ConfigError
from crawler.terminal import printable


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The sources command."""
    p = sub.add_parser("sources", help="list the configured sources; --check validates them",
                       description="Every source of the sources file with its hosts, adapter, start pages, feeds "
                                   "and the politeness a crawl uses (built-in defaults < the file's defaults: < the "
                                   "source's block < crawl's --delay/--host-concurrency, which you may give here to "
                                   "see their effect). --check: exit 0 when the file is valid and, with --origin "
                                   "(or --fetch), every start page and feed answers 200; else 2.")
    p.add_argument("--sources", type=Path, default=None, help=SOURCES_HELP)
    p.add_argument("--origin", action="append", default=[], metavar="HOST=URL",
                   help="serve HOST from another origin (with --check: its start pages are fetched there)")
    p.add_argument("--source", action="append", dest="only", default=[], metavar="KEY",
                   help="only this source (repeatable)")
    p.add_argument("--check", action="store_true",
                   help="validate; with --origin or --fetch also fetch each start page and feed once")
    p.add_argument("--fetch", action="store_true",
                   help="with --check: fetch the start pages of hosts without --origin too (the real sites)")
    p.add_argument("--json", action="store_true", help="print the sources (and checks) as JSON")
    p.add_argument("--delay", type=argtypes.delay, default=None, metavar="S",
                   help="show the politeness with crawl's --delay S (and wait S between --check's requests)")
    p.add_argument("--host-concurrency", type=argtypes.host_concurrency, default=None, metavar="N",
                   help="show the politeness with crawl's --host-concurrency N")
    p.add_argument("--timeout", type=argtypes.timeout, default=30.0, metavar="S",
                   help="seconds per request of --check (default 30)")
    p.set_defaults(func=cmd_sources)


def cmd_sources(args: argparse.Namespace) -> int:
    import json

    from crawler.use.sources import check_pages, describe, effective, render

    sources = read_sources(args)  # an invalid file: ConfigError, exit 2
    if args.only:
        sources = sources.only(args.only)
    if args.fetch and not args.check:
        raise ConfigError("--fetch goes with --check")
    data = [describe(s, effective(s, delay=args.delay, host_concurrency=args.host_concurrency)) for s in sources]
    checks = check_pages(sources, everywhere=args.fetch, timeout=args.timeout, delay=args.delay) \
        if args.check and (args.origin or args.fetch) else []
    failed = [c for c in checks if not c.ok]
    if args.json:
        for item in data:
            item["checks"] = [{"url": c.url, "ok": c.ok, "detail": c.detail} for c in checks
                              if c.source == item["key"]] if checks else None
        print(json.dumps({"sources_file": str(args.sources) if args.sources else None, "sources": data,
                          "ok": not failed}, ensure_ascii=False, indent=2))
    else:
        print("\n\n".join(render(item) for item in data))
    if args.check:
        for check in failed:
            print(f"crawler: {check.source}: {printable(check.url)}: {printable(check.detail)}", file=sys.stderr)
        tried = [c for c in checks if c.checked]
        pages = f"; {len(tried) - len(failed)} of {len(tried)} start pages and feeds answered" if tried else ""
        print(f"sources: {len(data)} source(s) valid{pages}", file=sys.stderr)
    return EXIT_USAGE if failed else EXIT_OK
