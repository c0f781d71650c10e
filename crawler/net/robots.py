"""robots.txt -> allow/deny, Crawl-delay and sitemaps for our User-Agent (pure; protego's only user)."""

from __future__ import annotations

from dataclasses import dataclass

from protego import Protego

ROBOTS_MAX_BYTES = 512 * 1024  # Google reads the first 500 KiB


@dataclass(frozen=True, slots=True)
class Robots:
    """The rules of one host. ``Robots.allow_all()`` when there is no robots.txt (404)."""

    _parser: Protego | None
    agent: str

    @classmethod
    def parse(cls, text: str, agent: str) -> Robots:
        return cls(Protego.parse(text[:ROBOTS_MAX_BYTES]), agent)

    @classmethod
    def allow_all(cls, agent: str = "*") -> Robots:
        return cls(None, agent)

    def allowed(self, url: str) -> bool:
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
