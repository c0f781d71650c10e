"""Command line: argv, logging and output; the only reader of argv and the environment.

Exit codes: 0 success; 1 the requested work failed (HTTP failure, not an article,
extraction failure, archive error); 2 bad usage or configuration (unknown source,
invalid sources.yaml); 5 (``replay``) completed with problems: some records were bad
(unreadable, too large, an article id unfit for a file name) and were skipped, every
other record was replayed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import trio

from crawler import USER_AGENT, __version__
from crawler.config import Sources, load_sources
from crawler.errors import ConfigError, CrawlerError, UnknownSourceError
from crawler.normalize import VN_TZ

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_PROBLEMS = 5  # replay completed, but some records were bad (see cmd_replay)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (ConfigError, UnknownSourceError) as err:
        print(f"crawler: {err}", file=sys.stderr)
        return EXIT_USAGE
    except CrawlerError as err:
        print(f"crawler: {err}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("crawler: interrupted", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crawler", description="Crawl and archive Vietnamese provincial news portals."
    )
    parser.add_argument("--version", action="version", version=f"crawler {__version__} ({USER_AGENT})")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(p: argparse.ArgumentParser, *, archive: bool = True) -> None:
        p.add_argument("--sources", type=Path, default=None, help="sources file (default: ./sources.yaml)")
        p.add_argument("--origin", action="append", default=[], metavar="HOST=URL",
                       help="serve HOST from another origin, e.g. baocantho.com.vn=http://127.0.0.1:8080")
        if archive:
            p.add_argument("--archive", type=Path, default=Path("archive"), help="archive directory (default: archive)")

    p = sub.add_parser("parse", help="print the snapshot of a saved page (no network)")
    common(p, archive=False)
    p.add_argument("--url", required=True, help="the page's URL (chooses the source and adapter)")
    p.add_argument("file", type=Path, help="saved HTML file")
    p.set_defaults(func=cmd_parse)

    p = sub.add_parser("fetch", help="archive one article: WARC + snapshot + catalog row")
    common(p)
    p.add_argument("url")
    p.add_argument("--timeout", type=float, default=30.0)
    p.set_defaults(func=cmd_fetch)

    p = sub.add_parser("crawl", help="the incremental crawl (what cron runs)")
    common(p)
    p.add_argument("--source", action="append", dest="only", default=[], metavar="KEY",
                   help="crawl only this source (repeatable)")
    p.add_argument("--max-articles", type=int, default=None, help="at most N new articles per source")
    p.add_argument("--since", type=_date, default=None, help="skip articles published before DATE (YYYY-MM-DD)")
    p.add_argument("--refresh", action="store_true", help="re-fetch archived articles (revisit or new version)")
    p.add_argument("--wait", action="store_true", help="wait for another run on the archive instead of exiting")
    p.add_argument("--quiet", action="store_true", help="no output unless something is wrong (for cron)")
    p.add_argument("--log-json", action="store_true", help="log lines as JSON")
    p.add_argument("--no-progress", action="store_true", help="log lines even on a terminal")
    p.add_argument("--delay", type=float, default=None, help="seconds between requests to a host (all sources)")
    p.add_argument("--host-concurrency", type=int, default=None, help="requests in flight per host (all sources)")
    p.add_argument("--concurrency", type=int, default=16, help="requests in flight in all (default 16)")
    p.add_argument("--ignore-robots", action="store_true", help="do not fetch or obey robots.txt (mirror only!)")
    p.add_argument("--timeout", type=float, default=30.0)
    p.add_argument("--warc-size", type=int, default=1_000_000_000, help="rotate WARC files at this size (bytes)")
    p.add_argument("--workers", type=_workers, default=None, metavar="N|auto",
                   help="processes that parse articles and write snapshots beside the crawl process: 0 parses "
                        "in the crawl process; auto (default) uses 1 when a host's delay is under 0.1 s "
                        "and the machine has 2+ CPUs, else 0")
    p.set_defaults(func=cmd_crawl)

    p = sub.add_parser("mirror", help="serve the offline mirror of the portals until interrupted")
    p.add_argument("--port", type=int, default=None, help="first port (one port per host, consecutive)")
    p.add_argument("--articles", type=int, default=60, help="generated articles per source (default 60)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--faults", default=None, metavar="SPEC",
                   help="inject faults, e.g. 'transient=0.2' or '503=0.05,reset=0.02,cp1258=0.1' (see README)")
    p.set_defaults(func=cmd_mirror)

    p = sub.add_parser("demo", help="archive the whole offline mirror, replay it, print a summary")
    p.add_argument("--archive", type=Path, default=Path("archive/demo"), help="default: archive/demo")
    p.add_argument("--sources", type=Path, default=None)
    p.add_argument("--articles", type=int, default=60, help="generated articles per source (default 60)")
    p.add_argument("--seed", type=int, default=1)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("verify", help="check that catalog, snapshot files and WARCs agree")
    p.add_argument("--archive", type=Path, default=Path("archive"), help="archive directory (default: archive)")
    p.add_argument("--quick", action="store_true", help="skip the WARC digest check (offsets are still read)")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("replay", help="re-extract snapshots from WARC files, no network (resumable, parallel)")
    common(p)
    p.add_argument("warcs", nargs="*", type=Path,
                   help="WARC files or directories of them (.warc, .warc.gz, .warc.zst; default: every closed "
                        "WARC of the archive)")
    p.add_argument("--out", type=Path, default=None, help="write snapshots under DIR/text/<source>/...")
    p.add_argument("--jsonl", default=None, metavar="PATH",
                   help="one JSON object per article version: '-' (stdout), a file, or a directory (ending "
                        "with / or existing; partitioned: source=<key>/month=<YYYY-MM>/part-0.jsonl)")
    p.add_argument("--parquet", type=Path, default=None, metavar="DIR",
                   help="Parquet partitioned like --jsonl (needs the 'scale' extra)")
    p.add_argument("--source", action="append", default=[], metavar="KEY",
                   help="only this source (repeatable); given once, also the source of records on no "
                        "configured host")
    p.add_argument("--host", action="append", default=[], metavar="HOST", help="only records of this host (repeatable)")
    p.add_argument("--processes", type=int, default=None, metavar="N",
                   help="worker processes (default: the number of CPUs; 1 = in this process)")
    p.add_argument("--dask", default=None, metavar="ADDRESS",
                   help="run on a Dask cluster: tcp://HOST:PORT of its scheduler, or 'local' for a LocalCluster "
                        "of --processes workers (needs the 'scale' extra)")
    p.add_argument("--state", type=Path, default=None, metavar="DIR",
                   help="the job's manifest and intermediate files (default: OUT/.replay, or beside the output)")
    p.add_argument("--summary", type=Path, default=None, metavar="FILE", help="write the job's summary as JSON")
    p.add_argument("--reader", choices=["auto", "fastwarc", "python"], default="auto",
                   help="WARC reader (default auto: FastWARC when installed)")
    p.add_argument("--no-progress", action="store_true", help="no progress display even on a terminal")
    p.set_defaults(func=cmd_replay)
    return parser


def read_sources(args: argparse.Namespace) -> Sources:
    sources = load_sources(args.sources)
    origins: dict[str, str] = {}
    for item in getattr(args, "origin", []):
        host, sep, url = item.partition("=")
        if not sep or not url.startswith(("http://", "https://")):
            raise ConfigError(f"--origin wants HOST=URL, got {item!r}")
        origins[host.strip().lower()] = url
    return sources.rebased(origins) if origins else sources


def cmd_parse(args: argparse.Namespace) -> int:
    from crawler.adapters import get_adapter
    from crawler.archiver import parse_response
    from crawler.models import ExtractionFailure
    from crawler.normalize import render_snapshot

    source = read_sources(args).for_url(args.url)
    try:
        data = args.file.read_bytes()
    except OSError as err:
        print(f"crawler: cannot read {args.file}: {err.strerror}", file=sys.stderr)
        return EXIT_FAILED
    result = parse_response(get_adapter(source), data, None, args.url)
    if isinstance(result, ExtractionFailure):
        print(f"crawler: extraction failed: {result}", file=sys.stderr)
        return EXIT_FAILED
    sys.stdout.write(render_snapshot(result) + "\n")
    return EXIT_OK


def cmd_fetch(args: argparse.Namespace) -> int:
    from crawler.archiver import Archive, archive_article
    from crawler.fetcher import Fetcher, FetchPolicy

    sources = read_sources(args)
    source = sources.for_url(args.url)

    async def run() -> int:
        with Archive(args.archive, sources) as archive:
            async with Fetcher(FetchPolicy(timeout=args.timeout)) as fetcher:
                outcome = await archive_article(fetcher, archive, source, args.url)
        if not outcome.ok or outcome.snapshot is None:
            print(f"crawler: {outcome.status}: {outcome.message}", file=sys.stderr)
            return EXIT_FAILED
        print(outcome.snapshot.text_path)
        return EXIT_OK

    return trio.run(run)


def _date(text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD or ISO 8601): {text!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=VN_TZ)


def _workers(text: str) -> int | None:
    from crawler.workers import MAX_WORKERS

    if text == "auto":
        return None
    if not text.isdigit() or int(text) > MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"expected auto or a number of processes 0..{MAX_WORKERS}, got {text!r}")
    return int(text)


def cmd_crawl(args: argparse.Namespace) -> int:
    from crawler.crawl import CrawlOptions
    from crawler.run import RunSettings, crawl_command
    from crawler.workers import auto_workers

    sources = read_sources(args)
    if args.only:
        sources = Sources(tuple(sources.get(key) for key in args.only))
    for name in ("max_articles", "host_concurrency", "concurrency"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise ConfigError(f"--{name.replace('_', '-')} must be at least 1, got {value}")
    if args.delay is not None and args.delay < 0:
        raise ConfigError(f"--delay must not be negative, got {args.delay}")
    options = CrawlOptions(
        max_articles=args.max_articles, since=args.since, refresh=args.refresh,
        global_concurrency=args.concurrency, delay=args.delay, host_concurrency=args.host_concurrency,
        respect_robots=False if args.ignore_robots else None,
    )
    delays = [s.politeness.delay if args.delay is None else args.delay for s in sources]
    options.workers = auto_workers(delays) if args.workers is None else args.workers
    settings = RunSettings(archive=args.archive, wait=args.wait, quiet=args.quiet, log_json=args.log_json,
                           progress=False if args.no_progress else None, timeout=args.timeout,
                           warc_size=args.warc_size)
    return crawl_command(sources, options, settings)


def cmd_mirror(args: argparse.Namespace) -> int:
    from crawler.errors import MirrorError
    from crawler.mirror import serve

    try:
        serve(port=args.port, articles=args.articles, seed=args.seed, faults=args.faults)
    except MirrorError as err:
        print(f"crawler: {err}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def cmd_replay(args: argparse.Namespace) -> int:
    import json
    import os

    from crawler.fetcher import DEFAULT_POLICY
    from crawler.replay import collection_files, warc_files
    from crawler.replay_engine import FileTask, ReplayConfig
    from crawler.replay_job import JobOptions, Outputs, ScaleExtraMissing, run_job
    from crawler.urls import host_key
    from crawler.warc_read import fastwarc_available

    sources = read_sources(args)
    for key in args.source:
        sources.get(key)  # UnknownSourceError -> exit 2
    if args.out is None and args.jsonl is None and args.parquet is None:
        print("crawler: nothing to write: give --out DIR, --jsonl PATH|- and/or --parquet DIR", file=sys.stderr)
        return EXIT_USAGE
    if args.processes is not None and args.processes < 1:
        raise ConfigError(f"--processes must be at least 1, got {args.processes}")
    paths: list[Path] = []
    for given in args.warcs:
        if given.is_dir():
            paths.extend(collection_files(given))
        elif given.is_file():
            paths.append(given)
        else:
            print(f"crawler: no such WARC file: {given}", file=sys.stderr)
            return EXIT_FAILED
    if not args.warcs:
        paths = warc_files(args.archive)
    if not paths:
        where = ", ".join(map(str, args.warcs)) if args.warcs else args.archive / "warc"
        print(f"crawler: no WARC files given and none in {where}", file=sys.stderr)
        return EXIT_FAILED
    config = ReplayConfig(
        sources,
        source_key=args.source[0] if len(args.source) == 1 else None,
        only_sources=frozenset(args.source),
        only_hosts=frozenset(host_key(h) for h in args.host),
        engine=args.reader,
        max_block=DEFAULT_POLICY.max_bytes,
        max_decoded=DEFAULT_POLICY.max_decoded_bytes,
    )
    if args.reader == "fastwarc" and not fastwarc_available():
        raise ScaleExtraMissing("--reader fastwarc needs the 'scale' extra: pip install 'crawler[scale]'")
    processes = args.processes or os.cpu_count() or 1
    progress = not args.no_progress and sys.stderr.isatty()
    # Absolute: Dask workers (maybe on other machines) have another working directory.
    options = JobOptions(tasks=[FileTask(str(p.absolute())) for p in paths],
                         outputs=Outputs(out=args.out, jsonl=args.jsonl, parquet=args.parquet),
                         state=args.state, processes=processes, dask=args.dask, progress=progress)
    summary = run_job(options, config)
    report = summary.to_json()
    if summary.state and Path(summary.state).is_dir():
        (Path(summary.state) / "summary.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n",
                                                         encoding="utf-8")
    if args.summary is not None:
        try:
            args.summary.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        except OSError as err:
            print(f"crawler: cannot write {args.summary}: {err.strerror}", file=sys.stderr)
    skipped = sum(summary.skipped_hosts.values())
    resumed = f" ({summary.files_resumed} done by an earlier run)" if summary.files_resumed else ""
    print(f"replay: {summary.files} WARC file(s){resumed}, {summary.records:,} response records, "
          f"{summary.articles} articles, {len(summary.failures)} extraction failures, "
          f"{len(summary.problems)} bad records, {summary.versions} versions, {summary.snapshots_written} "
          f"snapshots written, {skipped:,} records of {len(summary.skipped_hosts)} unrelated hosts skipped, "
          f"{summary.seconds:.1f} s", file=sys.stderr)
    if summary.temporaries_removed:
        print(f"  removed {summary.temporaries_removed} temporary file(s) left by killed runs", file=sys.stderr)
    if summary.restarted:
        print(f"  {summary.state}: state of another configuration dropped; started over", file=sys.stderr)
    if summary.templates:
        print("  templates: " + ", ".join(f"{k} {v}" for k, v in summary.templates.most_common()), file=sys.stderr)
    for line in summary.failures[:20]:
        print(f"  failed: {line}", file=sys.stderr)
    for problem in summary.problems[:20]:
        print(f"  bad record: {problem['file']} at offset {problem['offset']}: {problem['reason']}", file=sys.stderr)
    if len(summary.problems) > 20:
        print(f"  … {len(summary.problems) - 20} more bad records in {summary.state}/summary.json", file=sys.stderr)
    if summary.failures:
        return EXIT_FAILED
    return EXIT_PROBLEMS if summary.problems else EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    from crawler.verify import verify

    report = verify(args.archive, check_digests=not args.quick)
    for problem in report.problems:
        print(problem)
    verdict = "OK" if report.ok else f"{len(report.problems)} problem(s)"
    print(f"verify: {args.archive}: {report.warcs} WARC files, {report.snapshots} snapshots: {verdict}",
          file=sys.stderr)
    return EXIT_OK if report.ok else EXIT_FAILED


def cmd_demo(args: argparse.Namespace) -> int:
    from crawler.demo import run_demo

    return run_demo(archive=args.archive, sources_path=args.sources, articles=args.articles, seed=args.seed)

