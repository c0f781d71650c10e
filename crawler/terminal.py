"""Text on its way to a terminal: control characters made visible, never obeyed (pure).

Titles, URLs, HTTP reason phrases, error texts and source keys come from crawled pages or from a
received archive; printed as they are, an ESC could move the cursor, rewrite earlier lines, set
the window title or hide text, a carriage return could overwrite a line, and a bidi control could
reorder what is shown.  :func:`printable` is the one place that neutralises them: each C0 and C1
control (ESC, CR, BEL, DEL, U+0085 ...), bidi control (U+200E/F, U+061C, U+202A..E, U+2066..9),
line or paragraph separator (U+2028/9) and lone surrogate (from undecodable bytes in a file name)
is written as its ``\\uXXXX`` escape.  That form is also a valid JSON string escape for the same
character, so JSON printed through it reads back unchanged.  ``\\n`` and ``\\t`` are kept only
where the caller says they are layout.

:class:`PrintableStream` applies it to everything written to ``sys.stdout`` and ``sys.stderr``
by ``crawler`` (installed by :func:`crawler.cli.main`); rich consoles, which style with escape
sequences of their own, print to :func:`raw` and pass each value through :func:`printable`.
"""

from __future__ import annotations

import re
from functools import cache
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:  # rich is imported where a console or a table is made: a command that prints none skips it
    from rich.console import Console, RenderableType
    from rich.table import Column, Table

_CONTROLS = (
    "\x00-\x08\x0b-\x1f\x7f-\x9f"  # C0 but \t and \n, DEL, C1
    "\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"  # bidi controls, line/paragraph separators
    "\ud800-\udfff"  # lone surrogates (undecodable bytes kept by surrogateescape)
)
_UNSAFE_IN_LINE = re.compile(f"[\t\n{_CONTROLS}]")
_UNSAFE_IN_TEXT = re.compile(f"[{_CONTROLS}]")


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def plural(count: int, word: str, words: str | None = None) -> str:
    """``1 run``, ``2 runs``, ``0 runs``: the count and the word in the right number (never ``run(s)``)."""
    return f"{count:,} {word if count == 1 else (words or word + 's')}"


def printable(value: object, *, layout: bool = False) -> str:
    """``value`` as text safe to print: controls as ``\\uXXXX``; ``layout``: keep ``\\n`` and ``\\t``."""
    text = value if isinstance(value, str) else str(value)
    return (_UNSAFE_IN_TEXT if layout else _UNSAFE_IN_LINE).sub(_escape, text)


class PrintableStream:
    """A text stream that writes through :func:`printable` (layout kept) to the stream it wraps."""

    def __init__(self, stream: IO[str]) -> None:
        self.raw = stream

    def write(self, text: str) -> int:
        self.raw.write(printable(text, layout=True))
        return len(text)

    def __getattr__(self, name: str) -> Any:  # flush, fileno, isatty, buffer, encoding ...
        return getattr(self.raw, name)


def raw(stream: IO[str]) -> IO[str]:
    """The stream a :class:`PrintableStream` wraps (for rich, which writes escape sequences of its own)."""
    return stream.raw if isinstance(stream, PrintableStream) else stream


@cache
def _pipe_console_class() -> type[Console]:
    from rich.console import Console

    class PipeConsole(Console):
        """A rich console whose closed output is a :class:`BrokenPipeError`, not rich's ``exit 1``.

        A reader that went away (``crawler search x | head -1``) is the reader's choice, not a failure:
        :func:`crawler.cli.main` turns the :class:`BrokenPipeError` into exit 0 without a message (as
        ``export -o - | head`` does).
        """

        def on_broken_pipe(self) -> None:
            self.quiet = True
            raise BrokenPipeError

    return PipeConsole


def pipe_console(**options: Any) -> Console:
    """A rich console for a reading command's output (``search``, ``stats``) whose closed output is a
    :class:`BrokenPipeError`, not rich's ``exit 1``: a reader that went away (``crawler search x | head -1``) is
    the reader's choice, not a failure; :func:`crawler.cli.main` turns it into exit 0 without a message (as
    ``export -o - | head`` does)."""
    return _pipe_console_class()(**options)


def fitted(table: Table, console: Console, width: int | None) -> list[RenderableType]:
    """``table`` laid out to fit ``width`` columns (``None``: one row per line, however wide).

    Generic over the table's columns (a new column needs no change here), and a header is never
    cut or wrapped: the whole table when it fits; else the columns split into several tables that
    each repeat the first (key) column; else, when a column does not fit even beside the key, one
    block per row with a ``header  value`` line per column, the value wrapped within ``width``.
    The title, when there is one, is its own first line.
    """
    from rich.text import Text

    columns = list(table.columns)
    title: list[RenderableType] = [Text.from_markup(table.title) if isinstance(table.title, str) else table.title] \
        if table.title is not None else []
    if width is None or _width(console, columns, table) <= width:
        return [*title, _table(columns, table)]
    key, rest = columns[0], columns[1:]
    groups: list[list[Column]] = []
    for column in rest:
        if groups and _width(console, [key, *groups[-1], column], table) <= width:
            groups[-1].append(column)
        elif _width(console, [key, column], table) <= width:
            groups.append([column])
        else:
            return [*title, *_records(columns, table.row_count, width)]
    return [*title, *(_table([key, *group], table) for group in groups)]


def _table(columns: list[Column], like: Table) -> Table:
    from rich.table import Table

    grid = Table(box=like.box, show_header=like.show_header, show_edge=like.show_edge, pad_edge=like.pad_edge)
    for column in columns:
        grid.add_column(column.header, justify=column.justify, style=column.style, no_wrap=True)
    for cells in zip(*(list(column.cells) for column in columns), strict=True):
        grid.add_row(*cells)
    return grid


def _width(console: Console, columns: list[Column], like: Table) -> int:
    """Columns the table of ``columns`` takes when nothing in it wraps."""
    from rich.measure import Measurement

    return Measurement.get(console, console.options.update(width=1 << 20), _table(columns, like)).maximum


def _records(columns: list[Column], rows: int, width: int) -> list[RenderableType]:
    """One block per row: ``first header: first cell``, then a ``header  value`` line per other column."""
    from rich.cells import cell_len
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    labels = max((cell_len(str(column.header)) for column in columns[1:]), default=0)
    out: list[RenderableType] = []
    cells = [list(column.cells) for column in columns]
    for n in range(rows):
        first = cells[0][n]
        key = Text.from_markup(first) if isinstance(first, str) else Text(str(first))
        out.append(Text.assemble((f"{columns[0].header}: ", "bold"), key, overflow="fold"))
        beside = width >= 2 + labels + 2 + 12  # room for the value beside its label
        grid = Table.grid(padding=(0, 2) if beside else 0, pad_edge=False)
        grid.add_column(no_wrap=beside, overflow="fold")
        if beside:
            grid.add_column(overflow="fold")
        for column, values in zip(columns[1:], cells[1:], strict=True):
            if beside:
                grid.add_row(str(column.header), values[n])
            else:
                grid.add_row(str(column.header))
                grid.add_row(Padding(values[n], (0, 0, 0, 2)))
        out.append(Padding(grid, (0, 0, 0, 2)))
    return out
