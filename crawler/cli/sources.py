"""``crawler sources``: the configured sources with the politeness a crawl uses; ``--check`` validates them;
``--suggest URL [PAGE | --fetch]`` prints the entry a new paper would get from its home page.

Part of the command line (:mod:`crawler.cli`); the work is :mod:`crawler.use.sources` and
:mod:`crawler.use.suggest`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from crawler.cli import argtypes
from crawler.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, SOURCES_HELP, origin_pairs, read_sources
from crawler.errors import ConfigError
from crawler.terminal import plural, printable


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The sources command."""
    p = sub.add_parser("sources", help="list the configured sources; --check validates them",
                       description="Every source of the sources file with its hosts, adapter, start pages, feeds "
                                   "and the politeness a crawl uses (built-in defaults < the file's defaults: < the "
                                   "source's block < crawl's --delay/--host-concurrency, which you may give here to "
                                   "see their effect). --check: exit 0 when the file is valid and, with --origin "
                                   "(or --fetch), every start page and feed answers 200; else 2. --suggest URL "
                                   "PAGE (a saved home page) or --suggest URL --fetch: print the sources.yaml entry "
                                   "of the paper at URL; exit 0 when the page links articles, else 1.")
    p.add_argument("--sources", type=Path, default=None, help=SOURCES_HELP)
    p.add_argument("--origin", action="append", default=[], metavar="HOST=URL",
                   help="serve HOST from another origin (with --check: its start pages are fetched there; with "
                        "--suggest --fetch: the home page)")
    p.add_argument("--source", action="append", dest="only", default=[], metavar="KEY",
                   help="only this source (repeatable)")
    p.add_argument("--check", action="store_true",
                   help="validate; with --origin or --fetch also fetch each start page and feed once")
    p.add_argument("--fetch", action="store_true",
                   help="with --check: fetch the start pages of hosts without --origin too (the real sites); "
                        "with --suggest: fetch URL (redirects followed)")
    p.add_argument("--suggest", type=argtypes.http_url, default=None, metavar="URL",
                   help="print a sources.yaml entry for the paper whose home page is URL, read from PAGE or --fetch")
    p.add_argument("page", nargs="?", type=Path, default=None, metavar="PAGE",
                   help="with --suggest: the home page, saved as an HTML file")
    p.add_argument("--json", action="store_true", help="print the sources (and checks) as JSON")
    p.add_argument("--delay", type=argtypes.delay, default=None, metavar="S",
                   help="show the politeness with crawl's --delay S (and wait S between --check's requests)")
    p.add_argument("--host-concurrency", type=argtypes.host_concurrency, default=None, metavar="N",
                   help="show the politeness with crawl's --host-concurrency N")
    p.add_argument("--timeout", type=argtypes.timeout, default=30.0, metavar="S",
                   help="seconds per request of --check and --suggest --fetch (default 30)")
    p.set_defaults(func=cmd_sources)


def cmd_sources(args: argparse.Namespace) -> int:
    import json

    from crawler.use.sources import SourcesCheck, check_sources, describe, effective, host_progress, render

    if args.suggest is not None:
        return cmd_suggest(args)
    if args.page is not None:
        raise ConfigError(f"PAGE ({args.page}) goes with --suggest URL")
    sources = read_sources(args)  # an invalid file: ConfigError, exit 2
    if args.only:
        sources = sources.only(args.only)
    if args.fetch and not args.check:
        raise ConfigError("--fetch goes with --check (or --suggest URL)")
    data = [describe(s, effective(s, delay=args.delay, host_concurrency=args.host_concurrency)) for s in sources]
    checked = check_sources(sources, everywhere=args.fetch, timeout=args.timeout, delay=args.delay,
                            progress=host_progress(sys.stderr)) \
        if args.check and (args.origin or args.fetch) else SourcesCheck([], {})
    checks = checked.pages
    for item in data:  # where its sitemaps come from: robots.txt's, when it was read
        if item["key"] in checked.robots:
            item["robots_sitemaps"] = list(checked.robots[item["key"]].urls)
            item["robots_problem"] = checked.robots[item["key"]].problem
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
            if not check.checked:
                continue  # a page of a host that could not be reached: its progress line said so
            print(f"crawler: {check.source}: {printable(check.url)}: {printable(check.detail)}", file=sys.stderr)
        tried = [c for c in checks if c.checked]
        pages = f"; {sum(c.ok for c in tried)} of {len(tried)} start pages and feeds answered" if tried else ""
        skipped = sum(not c.ok and not c.checked for c in checks)
        pages += f", {skipped} not tried (their host could not be reached)" if skipped else ""
        print(f"sources: {plural(len(data), 'source')} valid{pages}", file=sys.stderr)
    return EXIT_USAGE if failed else EXIT_OK


def cmd_suggest(args: argparse.Namespace) -> int:
    """``--suggest URL PAGE`` / ``--suggest URL --fetch``: the entry, and exit 1 when the page links no article."""
    from urllib.parse import urlsplit

    from crawler.net.fetch_policy import FetchPolicy
    from crawler.net.urls import host_key
    from crawler.parse.htmlguard import complexity_problem
    from crawler.use.suggest import fetch_home, suggest

    others = {"--check": args.check, "--json": args.json, "--source": args.only, "--sources": args.sources,
              "--delay": args.delay is not None, "--host-concurrency": args.host_concurrency is not None,
              "--origin": args.origin and not args.fetch}
    given = [option for option, value in others.items() if value]
    if given:
        raise ConfigError(f"--suggest URL {'PAGE ' if args.page else ''}does not go with {given[0]}")
    if args.page is None and not args.fetch:
        raise ConfigError("--suggest URL wants the saved home page (PAGE) or --fetch")
    if args.page is not None and args.fetch:
        raise ConfigError("--suggest URL takes the saved home page (PAGE) or --fetch, not both")
    url = args.suggest
    also: tuple[str, ...] = ()
    if args.fetch:
        url, html = fetch_home(args.suggest, origin_pairs(args), timeout=args.timeout)  # FetchError: exit 1
        asked = host_key(urlsplit(args.suggest).hostname or "")
        if asked != host_key(urlsplit(url).hostname or ""):  # redirected: the asked host is the paper's too
            also = (asked,)
        where = url
    else:
        limit = FetchPolicy().max_bytes  # the fetcher's cap: no home page it fetches is larger
        try:
            with open(args.page, "rb") as handle:
                html = handle.read(limit + 1)
        except OSError as err:
            print(f"crawler: cannot read {args.page}: {err.strerror}", file=sys.stderr)
            return EXIT_FAILED
        if len(html) > limit:
            print(f"crawler: {args.page} is larger than {limit} bytes (the fetcher's cap on a page)", file=sys.stderr)
            return EXIT_FAILED
        where = str(args.page)
    problem = complexity_problem(html)
    if problem is not None:
        print(f"crawler: {where}: {problem}", file=sys.stderr)
        return EXIT_FAILED
    suggestion = suggest(url, html, also=also)
    sys.stdout.write(suggestion.entry)
    if not suggestion.article_links:
        print(f"crawler: {where}: no article link under the {suggestion.family.name} family's article_url_pattern: "
              f"check the pattern before adding the entry", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
