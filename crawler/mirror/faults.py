"""Fault-injection seam of the mirror server (no faults are implemented yet).

Part of the offline mirror.  The server asks its :class:`FaultPolicy` about every
parsed request; ``None`` means "answer normally".  A :class:`Fault` takes over the
delivery of that one response: it receives the complete wire bytes the server
would have sent and the stream to the client, and may delay them (slow server),
replace them (``503``/``429`` with ``Retry-After``), send only a prefix and close
(truncation) or abort the transport (connection reset).  It reports the status it
actually sent and whether the connection may serve another request, which the
server records in its request log.

A later change adds concrete faults and a policy (e.g. "every 7th article request
of host H gets a 503") and a ``Mirror(faults=...)`` parameter; the server does not
need to change for that.
"""

from __future__ import annotations

import asyncio
from typing import NamedTuple, Protocol

from crawler.mirror.responses import Request


class Delivery(NamedTuple):
    """What a fault did: the status the client saw (0 = none) and whether to keep the connection."""

    status: int
    keep_alive: bool


class Fault(Protocol):
    async def deliver(self, request: Request, wire: bytes, status: int, writer: asyncio.StreamWriter) -> Delivery:
        """Send (a damaged form of) ``wire`` -- the normal response, status ``status`` -- to ``writer``."""
        ...


class FaultPolicy(Protocol):
    def __call__(self, request: Request) -> Fault | None:
        """The fault to apply to this request, or None to answer normally."""
        ...
