"""Fault injection for the mirror server: ``crawler mirror --faults SPEC`` and ``Mirror(faults=SPEC)``.

Part of the offline mirror.  The server asks its :class:`FaultPolicy` about every
parsed request; ``None`` means "answer normally".  A :class:`Fault` takes over the
delivery of that one response: it receives the complete wire bytes the server
would have sent and the stream to the client, and may delay, replace, truncate or
abort them.  It reports the status it actually sent and whether the connection may
serve another request, which the server records in its request log.

A SPEC is a comma-separated list of ``kind=share`` (share of requests, 0..1), plus
the options ``seed=N``, ``streak=N`` and ``delay=S``::

    500=0.05,503=0.05,429=0.04,slow=0.02,drip=0.02,reset=0.01,truncate=0.01
    transient=0.2                  # the transient kinds above, mixed, 20 % in all
    redirect-loop=0.01,redirect-chain=0.01,big=0.005,bad-gzip=0.01   # permanent failures
    cp1258=0.1,wrong-charset=0.1,malformed=0.1                        # bad but readable pages

Transient kinds (a client that retries gets the page in the end): ``500``, ``503``,
``429`` (with ``Retry-After: 1``), ``slow`` (first byte after ``delay`` seconds,
default 3: longer than a short client timeout), ``drip`` (the response in 20 pieces
over about a second), ``reset`` (connection reset mid-body), ``truncate`` (half the
body under the full ``Content-Length``, then close).  The same URL never gets more
than ``streak`` (default 2) transient faults in a row.

Permanent and readable kinds are decided per URL, so a URL either always or never
has them, and only article pages (paths ending ``.html``) get them, so that every
article stays reachable through the listings:
``redirect-loop`` (A -> B -> A), ``redirect-chain`` (15 hops), ``big`` (a 21 MB
body), ``bad-gzip`` (``Content-Encoding: gzip`` over bytes that are not gzip).
Readable kinds serve the right text in an awkward form: ``cp1258`` (the page in
windows-1258, declared so in the header and the meta tag), ``wrong-charset`` (UTF-8
bytes under a ``charset=windows-1252`` header), ``malformed`` (end tags dropped,
tag names upper-cased, stray ``</div>`` and ``<`` characters).  Decisions hash
(seed, host, path, attempt), so a run is reproducible.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import socket
import struct
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from crawler.errors import MirrorError
from crawler.mirror.responses import Request

TRANSIENT = ("500", "503", "429", "slow", "drip", "reset", "truncate")
PERMANENT = ("redirect-loop", "redirect-chain", "big", "bad-gzip")
READABLE = ("cp1258", "wrong-charset", "malformed")
KINDS = TRANSIENT + PERMANENT + READABLE


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


@dataclass(frozen=True, slots=True)
class FaultSpec:
    shares: dict[str, float]
    seed: int = 0
    streak: int = 2
    delay: float = 3.0

    @classmethod
    def parse(cls, text: str) -> FaultSpec:
        shares: dict[str, float] = {}
        options: dict[str, float] = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            name, sep, value = item.partition("=")
            name = name.strip().lower()
            try:
                number = float(value)
            except ValueError:
                raise MirrorError(f"fault spec: {item!r} needs kind=share (e.g. 503=0.05)") from None
            if not sep:
                raise MirrorError(f"fault spec: {item!r} needs kind=share (e.g. 503=0.05)")
            if name in ("seed", "streak", "delay"):
                options[name] = number
            elif name == "transient":
                for kind in TRANSIENT:
                    shares[kind] = shares.get(kind, 0.0) + number / len(TRANSIENT)
            elif name in KINDS:
                shares[name] = shares.get(name, 0.0) + number
            else:
                raise MirrorError(f"fault spec: unknown fault kind {name!r} (known: transient, {', '.join(KINDS)})")
        for kind, share in shares.items():
            if not 0.0 <= share <= 1.0:
                raise MirrorError(f"fault spec: share of {kind!r} must be between 0 and 1, got {share}")
        if sum(shares.get(k, 0.0) for k in TRANSIENT) > 1.0:
            raise MirrorError("fault spec: transient shares add up to more than 1")
        return cls(shares, seed=int(options.get("seed", 0)), streak=int(options.get("streak", 2)),
                   delay=options.get("delay", 3.0))


def _fraction(*parts: object) -> float:
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


@dataclass
class SpecPolicy:
    """Decides, per request, which fault of a :class:`FaultSpec` (if any) applies."""

    spec: FaultSpec
    page_text: Callable[[str, str], bytes | None]  # (host, target) -> the page's HTML, for re-encoding
    _attempts: dict[tuple[str, str], int] = field(default_factory=dict)
    _streaks: dict[tuple[str, str], int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    injected: dict[str, int] = field(default_factory=dict)

    def __call__(self, request: Request) -> Fault | None:
        key = (request.host, request.target.split("#", 1)[0])
        if key[1].startswith("/_fault/"):
            return _redirect_hop(key[1])
        with self._lock:
            attempt = self._attempts.get(key, 0)
            self._attempts[key] = attempt + 1
            fault = self._choose(key, attempt)
            if fault is not None:
                self.injected[fault[0]] = self.injected.get(fault[0], 0) + 1
        return fault[1] if fault is not None else None

    def permanent_kind(self, host: str, target: str) -> str | None:
        """The permanent or readable fault an article URL always gets (None for most)."""
        if not target.split("?", 1)[0].endswith(".html"):
            return None
        edge = 0.0
        pick = _fraction(self.spec.seed, "permanent", host, target)
        for kind in PERMANENT + READABLE:
            edge += self.spec.shares.get(kind, 0.0)
            if pick < edge:
                return kind
        return None

    def _choose(self, key: tuple[str, str], attempt: int) -> tuple[str, Fault] | None:
        spec = self.spec
        if key[1] == "/robots.txt":
            return None  # robots.txt stays clean: its faults would only hide the others
        permanent = self.permanent_kind(*key)
        if permanent is not None:
            return permanent, self._permanent(permanent, key)
        if self._streaks.get(key, 0) >= spec.streak:
            self._streaks[key] = 0
            return None
        edge = 0.0
        pick = _fraction(spec.seed, "transient", attempt, *key)
        for kind in TRANSIENT:
            edge += spec.shares.get(kind, 0.0)
            if pick < edge:
                self._streaks[key] = self._streaks.get(key, 0) + 1
                return kind, self._transient(kind)
        self._streaks[key] = 0
        return None

    def _transient(self, kind: str) -> Fault:
        if kind in ("500", "503"):
            return _Replace(int(kind), [])
        if kind == "429":
            return _Replace(429, [("Retry-After", "1")])
        if kind == "slow":
            return _Slow(self.spec.delay)
        if kind == "drip":
            return _Drip()
        if kind == "reset":
            return _Reset()
        return _Truncate()

    def _permanent(self, kind: str, key: tuple[str, str]) -> Fault:
        host, target = key
        if kind == "redirect-loop":
            return _Redirect(f"/_fault/loop/a{target}")
        if kind == "redirect-chain":
            return _Redirect(f"/_fault/chain/1{target}")
        if kind == "big":
            return _Big()
        if kind == "bad-gzip":
            return _BadGzip()
        html = self.page_text(host, target)
        if kind == "cp1258":
            return _Recode(html, "cp1258")
        if kind == "wrong-charset":
            return _Recode(html, "wrong-charset")
        return _Recode(html, "malformed")


def _head(status: int, reason: str, headers: list[tuple[str, str]], length: int) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}", *(f"{k}: {v}" for k, v in headers), f"Content-Length: {length}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _split(wire: bytes) -> tuple[bytes, bytes]:
    head, _, body = wire.partition(b"\r\n\r\n")
    return head + b"\r\n\r\n", body


async def _send(writer: asyncio.StreamWriter, data: bytes) -> None:
    writer.write(data)
    await writer.drain()


class _Replace:
    def __init__(self, status: int, headers: list[tuple[str, str]]) -> None:
        self.status, self.headers = status, headers

    async def deliver(self, request: Request, wire: bytes, status: int, writer: asyncio.StreamWriter) -> Delivery:
        body = f"<html><body><h1>{self.status}</h1><p>injected fault</p></body></html>".encode()
        reason = {500: "Internal Server Error", 503: "Service Unavailable", 429: "Too Many Requests"}[self.status]
        await _send(writer, _head(self.status, reason, [("Content-Type", "text/html"), *self.headers],
                                  len(body)) + body)
        return Delivery(self.status, True)


class _Slow:
    def __init__(self, delay: float) -> None:
        self.delay = delay

    async def deliver(self, request: Request, wire: bytes, status: int, writer: asyncio.StreamWriter) -> Delivery:
        await asyncio.sleep(self.delay)
        await _send(writer, wire)
        return Delivery(status, True)


class _Drip:
    async def deliver(self, request: Request, wire: bytes, status: int, writer: asyncio.StreamWriter) -> Delivery:
        piece = max(1, len(wire) // 20)
        for start in range(0, len(wire), piece):
            await _send(writer, wire[start : start + piece])
            await asyncio.sleep(0.05)
        return Delivery(status, True)


class _Reset:
    async def deliver(self, request: Request, wire: bytes, status: int, writer: asyncio.StreamWriter) -> Delivery:
        await _send(writer, wire[: max(1, len(wire) // 2)])
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close -> RST
        writer.transport.abort()
        return Delivery(0, False)


class _Truncate:
    async def deliver(self, request: Request, wire: bytes, status: int, writer: asyncio.StreamWriter) -> Delivery:
        head, body = _split(wire)
        if b"transfer-encoding: chunked" in head.lower():
            await _send(writer, wire[: len(head) + len(body) // 2])  # a chunk stream that stops
        else:
            await _send(writer, head + body[: len(body) // 2])
        writer.close()
        return Delivery(0, False)


class _Redirect:
    def __init__(self, location: str) -> None:
        self.location = location

    async def deliver(self, request: Request, wire: bytes, status: int, writer: asyncio.StreamWriter) -> Delivery:
        await _send(writer, _head(302, "Found", [("Location", self.location)], 0))
        return Delivery(302, True)


def _redirect_hop(target: str) -> Fault:
    """The hops of the redirect faults: ``/_fault/loop/{a,b}<path>`` and ``/_fault/chain/<n><path>``."""
    match = re.match(r"^/_fault/(loop|chain)/([a-z]|\d+)(/.*)$", target)
    if match is None:
        return _Replace(500, [])
    kind, step, rest = match.groups()
    if kind == "loop":
        return _Redirect(f"/_fault/loop/{'b' if step == 'a' else 'a'}{rest}")
    hop = int(step)
    return _Redirect(f"/_fault/chain/{hop + 1}{rest}" if hop < 15 else rest)


class _Big:
    SIZE = 21 * 1024 * 1024  # over the crawler's 20 MiB cap

    async def deliver(self, request: Request, wire: bytes, status: int, writer: asyncio.StreamWriter) -> Delivery:
        filler = b"<p>" + b"x" * 1021 + b"</p>\n"
        writer.write(_head(200, "OK", [("Content-Type", "text/html; charset=utf-8")], self.SIZE))
        for _ in range(self.SIZE // len(filler)):
            if writer.transport.is_closing():
                return Delivery(200, False)  # the client gave up (it caps bodies): stop writing
            writer.write(filler)
            if writer.transport.get_write_buffer_size() > 1 << 20:
                await writer.drain()
        writer.write(b"x" * (self.SIZE % len(filler)))
        await writer.drain()
        return Delivery(200, True)


class _BadGzip:
    async def deliver(self, request: Request, wire: bytes, status: int, writer: asyncio.StreamWriter) -> Delivery:
        body = b"\x1f\x8b\x08\x00this is not a gzip stream at all" * 4
        await _send(writer, _head(200, "OK", [("Content-Type", "text/html; charset=utf-8"),
                                              ("Content-Encoding", "gzip")], len(body)) + body)
        return Delivery(200, True)


class _Recode:
    def __init__(self, html: bytes | None, mode: str) -> None:
        self.html, self.mode = html, mode

    async def deliver(self, request: Request, wire: bytes, status: int, writer: asyncio.StreamWriter) -> Delivery:
        if self.html is None or status != 200:
            await _send(writer, wire)
            return Delivery(status, True)
        text = self.html.decode("utf-8")
        charset = "utf-8"
        if self.mode == "cp1258":
            # windows-1258 writes most Vietnamese letters as a base letter + a combining tone mark.
            text = re.sub(r'charset=["\']?utf-8', "charset=windows-1258", text, flags=re.IGNORECASE)
            body = _compose_for_cp1258(text)
            charset = "windows-1258"
        elif self.mode == "wrong-charset":
            body, charset = text.encode("utf-8"), "windows-1252"
        else:
            body = _malform(text).encode("utf-8")
        headers = [("Content-Type", f"text/html; charset={charset}")]
        await _send(writer, _head(200, "OK", headers, len(body)) + body)
        return Delivery(200, True)


def _compose_for_cp1258(text: str) -> bytes:
    """Encode text in windows-1258: precomposed where the code page has the letter, else base + tone mark."""
    out = bytearray()
    for char in text:
        try:
            out += char.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        decomposed = unicodedata.normalize("NFD", char)
        # Recompose the base with non-tone marks (â, ê, ô, ơ, ư, ă keep their own code points).
        base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONES))
        tones = "".join(c for c in decomposed if c in _TONES)
        try:
            out += (base + tones).encode("cp1258")
        except UnicodeEncodeError:
            out += f"&#{ord(char)};".encode("ascii")
    return bytes(out)


_TONES = "\u0300\u0301\u0303\u0309\u0323"


def _malform(text: str) -> str:
    text = re.sub(r"</(p|li|td|tr)>", "", text)
    text = re.sub(r"<(/?)(div|span|h1)\b", lambda m: f"<{m.group(1)}{m.group(2).upper()}", text)
    text = text.replace("</body>", "</div></div><p>a < b</body>", 1)
    return text.replace("</html>", "")
