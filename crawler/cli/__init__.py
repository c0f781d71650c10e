"""Command line: argv, logging and output; the only reader of argv and the environment.

Exit codes (also in README.md):

- 0: success (``fetch``: also "already archived");
- 1: the requested work failed (HTTP failure, not an article, extraction failure), the
  archive cannot be read or written (read-only file system, permissions, disk full), or
  ``verify`` found problems;
- 2: bad usage or configuration (an unknown option or a value out of range, an unknown
  source, an invalid sources.yaml); the message names what was wrong;
- 3 and 130: see :mod:`crawler.crawl.run` (``crawl``);
- 5 (``replay``): completed with problems: some records were bad (unreadable, too large,
  an article id unfit for a file name) and were skipped, every other record was replayed;
  (``replay --host H``): 2 when no response record of ``H`` was found, as for an unknown
  ``--source``, after writing what the other ``--host`` hosts matched;
- 75 (EX_TEMPFAIL): ``verify`` found the archive busy: a crawl is writing it (``--wait``
  waits for it instead).

This module: :func:`main`, the parser assembled from the command groups (each module's ``add_parsers``
registers its commands, ``set_defaults(func=...)``) and the error handling that turns errors into those
codes.  The groups: :mod:`~crawler.cli.pages` (parse, fetch), :mod:`~crawler.cli.crawling` (crawl, failed,
mirror, demo), :mod:`~crawler.cli.archive` (verify, index, wacz), :mod:`~crawler.cli.replay`,
:mod:`~crawler.cli.reading` (export, search), :mod:`~crawler.cli.sources`, :mod:`~crawler.cli.health`
(report, stats); what they share (exit codes, common options, the default archive) is
:mod:`crawler.cli.common`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from crawler import USER_AGENT, __version__
from crawler.archive.lock import ArchiveBusy
from crawler.cli import archive, crawling, health, pages, reading, replay, sources
from crawler.cli.common import EXIT_BUSY, EXIT_FAILED, EXIT_OK, EXIT_USAGE, default_archive, print_error
from crawler.errors import ConfigError, CrawlerError, UnknownSourceError
from crawler.terminal import PrintableStream


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; all it prints goes through :func:`crawler.terminal.printable`."""
    saved = sys.stdout, sys.stderr
    if sys.stdout is not None:
        sys.stdout = PrintableStream(sys.stdout)
    if sys.stderr is not None:
        sys.stderr = PrintableStream(sys.stderr)
    try:
        return _main(argv)
    finally:
        sys.stdout, sys.stderr = saved


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    _suggest_command(parser, sys.argv[1:] if argv is None else list(argv))
    args, extra = parser.parse_known_args(argv)
    args.whole_process = argv is None  # the process's own command line: it runs this command and nothing else
    if args.command == "search" and (problem := query_read_as_options(
            args.query, extra, sys.argv[1:] if argv is None else list(argv))):
        args.parser.error(problem)
    if extra:
        # argparse would print the top-level usage; the subcommand's is the useful one.
        args.parser.error(f"unrecognized arguments: {' '.join(extra)}{_suggest_options(args.parser, extra)}")
    restore = _interrupt_on_sigterm() if args.command in _TERM_CLEANS else None
    try:
        return _run(args)
    finally:
        if restore is not None:
            restore()


def _run(args: argparse.Namespace) -> int:
    try:
        if getattr(args, "archive", ...) is None:
            args.archive = default_archive(args.command, replay_inputs=bool(getattr(args, "warcs", None)))
        return int(args.func(args))
    except (ConfigError, UnknownSourceError) as err:
        print_error(err)
        return EXIT_USAGE
    except ArchiveBusy as err:  # whichever command met the lock: "try again later" (EX_TEMPFAIL)
        print_error(err if "try again" in str(err) else f"{err}; try again later")
        return EXIT_BUSY
    except CrawlerError as err:
        print_error(err)
        return EXIT_FAILED
    except BrokenPipeError:  # the reader went away (`crawler export -o - | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit's flush
        return EXIT_OK
    except OSError as err:  # an environment problem no module turned into a CrawlerError
        print_error(f"{err.filename}: {err.strerror}" if err.filename and err.strerror else err)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("crawler: interrupted", file=sys.stderr)
        return 130


# Commands whose SIGTERM unwinds like Ctrl-C, removing their temporary files (crawl has its own handling).
_TERM_CLEANS = frozenset({"export", "wacz", "report", "index", "replay", "stats", "search", "verify"})


def _interrupt_on_sigterm() -> Callable[[], None] | None:
    """SIGTERM raises KeyboardInterrupt (writers then remove their temporaries); returns what restores the
    handler before, or None when it could not be set (not the main thread)."""
    import signal

    parent = os.getpid()

    def interrupt(signum: int, frame: object) -> None:
        if os.getpid() != parent:  # a forked child: die as SIGTERM would have
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
            return
        raise KeyboardInterrupt

    try:
        before = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread (main() called from a thread): the default stays
        return None

    def restore() -> None:
        signal.signal(signal.SIGTERM, before)

    return restore


def query_read_as_options(query: str | None, extra: list[str], argv: list[str]) -> str | None:
    """Why ``crawler search`` cannot run when its query is missing or words of it were read as options
    (``-word``, a negative query, typed without ``--`` or quotes), with the way to type it; else None."""
    import shlex

    words = [arg for arg in extra if arg.startswith("-") and not arg.startswith("--")]
    if not words:
        return None if query is not None else "the following arguments are required: query"
    typed = " ".join(arg for arg in argv if arg in words or arg == query)
    dashes = "-- " if typed.startswith("-") else ""
    return (f"{words[0]!r} reads as an option; type the query as one argument: "
            f"crawler search {dashes}{shlex.quote(typed)}")


def _suggest_command(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    """A mistyped command: refused naming the closest commands (difflib), before argparse's bare refusal."""
    typed = next((arg for arg in argv if not arg.startswith("-")), None)
    commands = [name for action in parser._actions if isinstance(action, argparse._SubParsersAction)
                for name in action.choices]
    if typed is None or typed in commands:
        return
    import difflib  # only for a command that is not one: every other run skips its import

    close = difflib.get_close_matches(typed, commands, n=1, cutoff=0.6)
    if close:
        parser.error(f"unknown command {typed!r}; did you mean {close[0]!r}? (crawler --help lists them)")


def _suggest_options(parser: argparse.ArgumentParser, extra: list[str]) -> str:
    """``; did you mean --since?`` for unknown ``--options`` close to one of ``parser``'s, else ``""``."""
    import difflib

    options = [name for action in parser._actions for name in action.option_strings if name.startswith("--")]
    typed = [arg.split("=", 1)[0] for arg in extra if arg.startswith("--")]
    exact = [name for name in typed if name in options]  # only after "--", which makes every word an argument
    if exact:
        return f"; {exact[0]} comes after --, which makes it an argument: give the options before --"
    hints = [(name, close[0]) for name in typed
             if (close := difflib.get_close_matches(name, options, n=1, cutoff=0.7))]
    if len(hints) == 1 and len(typed) == 1:
        return f"; did you mean {hints[0][1]}?"
    return "".join(f"; did you mean {meant}? (for {name})" for name, meant in hints)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crawler", description="Crawl and archive Vietnamese provincial news portals."
    )
    parser.add_argument("--version", action="version", version=f"crawler {__version__} ({USER_AGENT})")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # In this order: `crawler --help` lists the commands as they are added.
    for group in (pages, crawling, archive, replay, reading, sources, health):
        group.add_parsers(sub)
    for command in sub.choices.values():
        command.set_defaults(parser=command)
    return parser
