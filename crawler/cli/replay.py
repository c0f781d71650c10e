"""``crawler replay``: re-extract snapshots from WARC files, no network (its options, its outputs' checks, its
summary and exit code).

Part of the command line (:mod:`crawler.cli`); the job itself is :mod:`crawler.replay.job`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from crawler.archive.outputs import check_output, check_output_dir, write_atomic
from crawler.cli import argtypes
from crawler.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    add_common_options,
    print_error,
    read_sources,
)
from crawler.errors import ConfigError, CrawlerError
from crawler.terminal import plural


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The replay command."""
    p = sub.add_parser("replay", help="re-extract snapshots from WARC files, no network (resumable, parallel)")
    add_common_options(p)
    p.add_argument("warcs", nargs="*", type=Path,
                   help="WARC files or directories of them (.warc, .warc.gz, .warc.zst; default: every closed "
                        "WARC of the archive)")
    p.add_argument("--out", type=argtypes.archive_dir, default=None, help="write snapshots under DIR/text/<source>/...")
    p.add_argument("--jsonl", default=None, metavar="PATH",
                   help="one JSON object per article version: '-' (stdout), a file, or a directory (ending "
                        "with / or existing; partitioned: source=<key>/month=<YYYY-MM>/part-0.jsonl)")
    p.add_argument("--parquet", type=Path, default=None, metavar="DIR",
                   help="Parquet partitioned like --jsonl")
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


def cmd_replay(args: argparse.Namespace) -> int:
    import json

    from crawler.codings import MAX_BODY_BYTES, MAX_DECODED_BYTES
    from crawler.net.urls import host_key
    from crawler.replay.collection import fastwarc_available
    from crawler.replay.engine import FileTask, ReplayConfig
    from crawler.replay.job import run_job
    from crawler.replay.job_options import JobOptions, Outputs, ScaleExtraMissing
    from crawler.replay.simple import collection_files, warc_files

    sources = read_sources(args)
    if not args.warcs:
        for directory in (args.archive, args.archive / "warc"):
            try:
                os.listdir(directory)  # glob would hide an unreadable directory
            except FileNotFoundError:
                break
            except OSError as err:
                print(f"crawler: cannot read archive {args.archive}: {err.strerror}", file=sys.stderr)
                return EXIT_FAILED
    for key in args.source:
        sources.get(key)  # UnknownSourceError -> exit 2
    hosts = {host_key(h): h for h in args.host}
    if "" in hosts:
        raise ConfigError(f"--host {hosts['']!r} is not a host name")
    if args.out is None and args.jsonl is None and args.parquet is None:
        print("crawler: nothing to write: give --out DIR, --jsonl PATH|- and/or --parquet DIR", file=sys.stderr)
        return EXIT_USAGE
    if args.processes is not None and args.processes < 1:
        raise ConfigError(f"--processes must be at least 1, got {args.processes}")
    _check_replay_outputs(args)
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
        only_hosts=frozenset(hosts),
        engine=args.reader,
        max_block=MAX_BODY_BYTES,
        max_decoded=MAX_DECODED_BYTES,
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
    data = (json.dumps(report, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    unwritten = False
    for where in ([Path(summary.state) / "summary.json"] if summary.state and Path(summary.state).is_dir() else []) \
            + ([args.summary] if args.summary is not None else []):
        try:
            write_atomic(where, data, durable=False, mkdir=False)
        except CrawlerError as err:
            print_error(err)
            unwritten = True
    skipped = sum(summary.skipped_hosts.values())
    resumed = f" ({summary.files_resumed} done by an earlier run)" if summary.files_resumed else ""
    print(f"replay: {plural(summary.files, 'WARC file')}{resumed}, {summary.records:,} response records, "
          f"{summary.articles} articles, {len(summary.failures)} extraction failures, "
          f"{len(summary.problems)} bad records, {summary.versions} versions, {summary.snapshots_written} "
          f"snapshots written, {skipped:,} records of {len(summary.skipped_hosts)} unrelated hosts skipped, "
          f"{summary.seconds:.1f} s", file=sys.stderr)
    if summary.temporaries_removed:
        print(f"  removed {plural(summary.temporaries_removed, 'temporary file')} left by killed runs", file=sys.stderr)
    if summary.restarted:
        print(f"  {summary.state}: state of another configuration dropped; started over", file=sys.stderr)
    for note in summary.notes:
        print(f"  {note}", file=sys.stderr)
    if summary.templates:
        print("  templates: " + ", ".join(f"{k} {v}" for k, v in summary.templates.most_common()), file=sys.stderr)
    for line in summary.failures[:20]:
        print(f"  failed: {line}", file=sys.stderr)
    for problem in summary.problems[:20]:
        print(f"  bad record: {problem['file']} at offset {problem['offset']}: {problem['reason']}", file=sys.stderr)
    if len(summary.problems) > 20:
        print(f"  … {len(summary.problems) - 20} more bad records in {summary.state}/summary.json", file=sys.stderr)
    unmatched = [given for key, given in hosts.items() if not summary.host_hits.get(key)]
    for given in unmatched:
        print(f"crawler: --host {given} matched no response record in the {plural(summary.files, 'WARC file')}",
              file=sys.stderr)
    if summary.failures or unwritten:
        return EXIT_FAILED
    if unmatched:
        return EXIT_USAGE
    return EXIT_PROBLEMS if summary.problems else EXIT_OK


def _check_replay_outputs(args: argparse.Namespace) -> None:
    """Replay's outputs: never an archive's own files, nor a FIFO or device (exit 2, naming the path)."""
    if args.out is not None:
        check_output_dir(args.out, "--out", refuse_archive=True)
    if args.jsonl is not None and args.jsonl != "-":
        jsonl = Path(args.jsonl)
        if args.jsonl.endswith("/") or jsonl.is_dir():
            check_output_dir(jsonl, "--jsonl")
        else:
            check_output(jsonl, "--jsonl")
    if args.parquet is not None:
        check_output_dir(args.parquet, "--parquet")
    if args.state is not None:
        check_output_dir(args.state, "--state", refuse_archive=True)
    if args.summary is not None:
        check_output(args.summary, "--summary")
