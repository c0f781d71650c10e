"""robots.txt -> allow/deny, Crawl-delay and sitemaps for our User-Agent (pure; protego's only user).

What a fetch of robots.txt means follows RFC 9309: a 4xx is "no rules" (:meth:`Robots.allow_all`),
an unreachable robots.txt (5xx, 429, no answer, a damaged body, a redirect chain that cannot be
followed) is "disallow all" (:meth:`Robots.unreachable_because`: the crawl leaves the host for
this run and asks again next run), and an oversized one is read up to its first
:data:`ROBOTS_MAX_BYTES` (the RFC asks for at least 500 KiB).
"""

from __future__ import annotations

from dataclasses import dataclass

from protego import Protego

ROBOTS_MAX_BYTES = 512 * 1024  # Google reads the first 500 KiB; RFC 9309 asks for at least that
ROBOTS_MAX_REDIRECTS = 5  # RFC 9309 2.3.1.2: follow at least five consecutive redirects


@dataclass(frozen=True, slots=True)
class Robots:
    """The rules of one host. ``Robots.allow_all()`` when there is no robots.txt (404)."""

    _parser: Protego | None
    agent: str
    unreachable: str | None = None  # why robots.txt could not be had: every URL is disallowed

    @classmethod
    def parse(cls, text: str, agent: str) -> Robots:
        return cls(Protego.parse(text), agent)

    @classmethod
    def parse_prefix(cls, data: bytes, agent: str) -> Robots:
        """The rules of the first :data:`ROBOTS_MAX_BYTES` of a decoded robots.txt (UTF-8, RFC 9309).

        A cut file loses its last, incomplete line: ``Allow: /public/x`` cut to ``Allow: /``
        must not allow everything.
        """
        if len(data) > ROBOTS_MAX_BYTES:
            data = data[:ROBOTS_MAX_BYTES]
            data = data[: data.rfind(b"\n") + 1]
        return cls.parse(data.decode("utf-8", "replace"), agent)

    @classmethod
    def allow_all(cls, agent: str = "*") -> Robots:
        return cls(None, agent)

    @classmethod
    def unreachable_because(cls, why: str, agent: str = "*") -> Robots:
        return cls(None, agent, why)

    def allowed(self, url: str) -> bool:
        if self.unreachable is not None:
            return False
        return True if self._parser is None else bool(self._parser.can_fetch(url, self.agent))

    @property
    def crawl_delay(self) -> float | None:
        if self._parser is None:
            return None
        delay = self._parser.crawl_delay(self.agent)
        if delay is None:
            rate = self._parser.request_rate(self.agent)
            if rate is not None and rate.requests:
                return float(rate.seconds) / float(rate.requests)
            return None
        return float(delay)

    @property
    def sitemaps(self) -> list[str]:
        return [] if self._parser is None else list(self._parser.sitemaps)


def agent_token(user_agent: str) -> str:
    """The product token robots.txt groups match: ``crawler/0.1 (+url)`` -> ``crawler``."""
    return user_agent.split("/", 1)[0].split()[0]
