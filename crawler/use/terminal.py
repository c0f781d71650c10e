"""The terminal console of the reading commands (``search``, ``stats``): rich, ending quietly on a closed pipe.

rich's own answer to a reader that went away (``crawler search x | head -1``) is ``SystemExit(1)``; a
closed pipe is the reader's choice, not a failure: here it is a :class:`BrokenPipeError`, which
:func:`crawler.cli.main` turns into exit 0 without a message (as ``export -o - | head`` does).
"""

from __future__ import annotations

from typing import Any

from rich.console import Console


class PipeConsole(Console):
    """A rich console whose closed standard output is a :class:`BrokenPipeError`, not ``exit 1``."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError


def console(**options: Any) -> Console:
    return PipeConsole(**options)
