"""The fetch step of a crawl: robots.txt, per-host gates, the global cap, and what a fetch came to.

:class:`Fetching` asks the :class:`~crawler.net.fetcher.Fetcher` for a URL once robots.txt allows
it and the host's :class:`~crawler.net.politeness.HostGate` and the global limiter let it go.  It
never raises for a page: the outcome is a :class:`Fetched` (the exchanges, or why there are
none: a failure, robots.txt, a host given up for this run).  Exchanges of a failed redirect
chain and robots.txt itself are handed to ``record`` so that they are archived too.

Time budgets: each host may take ``Politeness.budget`` seconds of the run, counted from its
first request, and no host goes past the run's deadline.  Everything a fetch waits for (the
global cap, the host's turn, DNS, TLS, the exchange, the fetcher's retries and their
``Retry-After``) is cancelled at that moment: the host is deferred (``HostPolicy.ran_out``),
the URL stays in the frontier, and nothing half-fetched is recorded.

Hosts that cannot be reached: a host whose name does not exist (NXDOMAIN:
:class:`~crawler.net.fetch_policy.HostNotFound`) is given up for the run at once, as a deferred host
(its URLs stay pending, the stats file names it under ``deferred`` with the reason; the fetcher does
not resolve it again).  And when the first attempt to every *seed* host (those of the sources' start
pages, feeds, sitemaps and feed indexes) failed to resolve or connect
(:class:`~crawler.net.fetch_policy.HostUnreachable`) before any host answered, nothing is reachable:
every host is given up at once, retries and their back-off included, so the run ends within seconds
(exit 4) instead of after every host's retries.  ``on_unreachable(host, why)`` is told of each host
given up so (the run prints a line at once).
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import trio

from crawler.codings import ContentDecodingError, decode_prefix
from crawler.config import SourceConfig
from crawler.errors import FetchError, PermanentFetchError, TransientFetchError, without_url
from crawler.models import FetchResult
from crawler.net.fetch_policy import HostNotFound, HostUnreachable
from crawler.net.fetcher import Fetcher
from crawler.net.politeness import MAX_DELAY, MAX_WAIT, HostDeferred, HostGate, acquire_without_switch
from crawler.net.redirects import RedirectError
from crawler.net.robots import ROBOTS_MAX_BYTES, ROBOTS_MAX_REDIRECTS, Robots, agent_token
from crawler.net.urls import host_key, origin


@dataclass(frozen=True, slots=True)
class Fetched:
    """What one fetch came to: ``results`` (every hop, the final last), or why there are none."""

    results: list[FetchResult] | None
    why: str = ""
    permanent: bool = False  # the failure will not go away by itself (4xx, too large, bad redirect)
    deferred: bool = False  # the host was given up for this run (the URL was not asked for)
    disallowed: bool = False
    status: int | None = None  # the HTTP status of a failed fetch, when the server answered one


class _Cap:
    """The run's cap on requests in flight, entered without a task switch when a slot is free."""

    __slots__ = ("limiter",)

    def __init__(self, limiter: trio.CapacityLimiter) -> None:
        self.limiter = limiter

    async def __aenter__(self) -> None:
        await acquire_without_switch(self.limiter)

    async def __aexit__(self, *exc: object) -> None:
        self.limiter.release()


NOTHING_REACHABLE = "no host could be reached (every one failed to resolve or connect)"

# robots.txt gets this long, retries included, before the host counts as unreachable for the run.
ROBOTS_DEADLINE = 30.0

Recorder = Callable[[SourceConfig, list[FetchResult]], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class Politeness:
    concurrency: int
    delay: float
    respect_robots: bool
    threshold: int = 5
    max_wait: float = MAX_WAIT
    budget: float | None = None  # seconds the host may take in this run (None: no budget of its own)


class Fetching:
    """Robots, gates and the global cap for one run (one instance per :class:`~crawler.crawl.Crawl`)."""

    def __init__(self, fetcher: Fetcher, politeness: Callable[[SourceConfig], Politeness], record: Recorder, *,
                 global_concurrency: int, run_deadline: float = math.inf, run_budget: float | None = None,
                 seeds: Iterable[str] = (), on_unreachable: Callable[[str, str], None] | None = None) -> None:
        """``run_deadline`` (trio time): when the run's budget of ``run_budget`` seconds ends; ``seeds``: the
        host keys a run starts from (see the module docstring)."""
        self.fetcher = fetcher
        self.politeness = politeness
        self.record = record
        self.agent = agent_token(fetcher.policy.user_agent)
        self._allow_all = Robots.allow_all(self.agent)
        self._gates: dict[str, HostGate] = {}
        self._robots: dict[str, Robots] = {}
        self._robots_lock: dict[str, trio.Lock] = {}
        self._limiter = _Cap(trio.CapacityLimiter(max(1, global_concurrency)))
        self.robots_deadline = ROBOTS_DEADLINE
        self.run_deadline = run_deadline
        self.run_budget = run_budget
        self.seeds = frozenset(seeds)
        self.on_unreachable = on_unreachable or (lambda host, why: None)
        self.nothing_reachable = False  # every seed host failed to resolve or connect, none answered
        self._reached: set[str] = set()  # hosts that answered something (any status)
        self._unreached: dict[str, str] = {}  # host -> its first failure to resolve or connect
        self._announced: set[str] = set()
        self._in_flight: set[trio.CancelScope] = set()

    def gate(self, source: SourceConfig, url: str) -> HostGate:
        host = host_key(url)
        gate = self._gates.get(host)
        if gate is None:
            rules = self.politeness(source)
            deadline, why = self.run_deadline, "the run's time budget ran out"
            if self.run_budget is not None:
                why = f"the run's time budget ({self.run_budget:g} s) ran out"
            if rules.budget is not None and trio.current_time() + rules.budget < deadline:
                deadline = trio.current_time() + rules.budget
                why = f"its time budget of {rules.budget:g} s for this run ran out"
            gate = self._gates[host] = HostGate(host, concurrency=rules.concurrency, delay=rules.delay,
                                                threshold=rules.threshold, max_wait=rules.max_wait,
                                                deadline=deadline, out_of_time=why)
            if self.nothing_reachable:
                gate.policy.deferred = NOTHING_REACHABLE
        return gate

    # -- hosts that cannot be reached --------------------------------------------------------------

    def _reached_host(self, host: str) -> None:
        self._reached.add(host)
        self._unreached.pop(host, None)

    def _failed_attempt(self, gate: HostGate, err: TransientFetchError) -> bool:
        """One attempt to ``gate``'s host failed (the fetcher asks before a retry): True to give up now."""
        if isinstance(err, HostUnreachable):
            self._host_unreachable(gate, err)
        else:
            self._reached_host(gate.host)  # it answered (5xx, 429, a cut connection): reached
        return gate.deferred is not None

    def _host_unreachable(self, gate: HostGate, err: HostUnreachable) -> None:
        why = err.reason
        if isinstance(err, HostNotFound) and gate.policy.deferred is None:
            gate.policy.deferred = why
            self._announce(gate.host, why)
        if gate.host in self._reached or self.nothing_reachable:
            return
        self._unreached.setdefault(gate.host, why)
        if not self._reached and self.seeds and self.seeds <= self._unreached.keys():
            self._give_up_everything()

    def _give_up_everything(self) -> None:
        """No seed host could be reached: every host is given up, in-flight retries and waits are cancelled."""
        self.nothing_reachable = True
        for host in sorted(self.seeds):
            self._announce(host, self._unreached[host])
        for host, gate in self._gates.items():
            if gate.policy.deferred is None:
                # its own reason (the run's last line says that nothing was reachable)
                gate.policy.deferred = self._unreached.get(host) or NOTHING_REACHABLE
        for scope in self._in_flight:
            scope.cancel()

    def _announce(self, host: str, why: str) -> None:
        if host not in self._announced:
            self._announced.add(host)
            self.on_unreachable(host, why)

    def out_of_time(self) -> list[str]:
        """The hosts deferred because their time budget (or the run's) ran out."""
        return [host for host, gate in self._gates.items() if gate.policy.ran_out]

    def deferred_hosts(self) -> dict[str, str]:
        return {host: gate.deferred for host, gate in self._gates.items() if gate.deferred is not None}

    async def robots_for(self, source: SourceConfig, url: str) -> Robots:
        host = host_key(url)
        known = self._robots.get(host)
        if known is not None:
            return known
        if not self.politeness(source).respect_robots:
            return self._allow_all
        async with self._robots_lock.setdefault(host, trio.Lock()):
            if host not in self._robots:
                self._robots[host] = robots = await self._fetch_robots(source, origin(url) + "/robots.txt")
                if robots.crawl_delay is not None and self.politeness(source).delay < robots.crawl_delay:
                    self.gate(source, url).set_delay(min(robots.crawl_delay, MAX_DELAY))
        return self._robots[host]

    async def _fetch_robots(self, source: SourceConfig, url: str) -> Robots:
        """The host's rules per RFC 9309; unreachable (5xx, 429, no answer within ``robots_deadline``,
        an undecodable body, a redirect chain not followed) means none of the host this run."""
        fetched: Fetched | None = None
        with trio.move_on_after(self.robots_deadline):
            fetched = await self._get(source, url, None, stopping=None, max_redirects=ROBOTS_MAX_REDIRECTS,
                                      allow=lambda target: self._robots_redirect_allowed(source, target))
        if fetched is None:
            return self._unreachable(source, url, f"no answer within {self.robots_deadline:g} s")
        if fetched.results is not None:
            await self.record(source, fetched.results)
        if fetched.results is None:
            if fetched.status is not None and 400 <= fetched.status < 500:
                return self._allow_all  # a 4xx is "unavailable" whatever its body (one in a coding we refuse)
            return self._unreachable(source, url, fetched.why)
        final = fetched.results[-1]
        if 400 <= final.status < 500 or final.status == 204:
            return self._allow_all  # "unavailable": no rules (RFC 9309 2.3.1.3)
        if final.status != 200:
            return self._unreachable(source, url, f"HTTP {final.status}")
        try:
            text = decode_prefix(final.body, final.content_encoding, ROBOTS_MAX_BYTES + 1)
        except ContentDecodingError as err:
            return self._unreachable(source, url, str(err))
        return Robots.parse_prefix(text, self.agent)

    def _unreachable(self, source: SourceConfig, url: str, why: str) -> Robots:
        reason = f"robots.txt unreachable ({without_url(why, url)}): nothing fetched from the host this run"
        gate = self.gate(source, url)
        if gate.policy.deferred is None:
            gate.policy.deferred = reason
        return Robots.unreachable_because(gate.policy.deferred, self.agent)

    def _robots_redirect_allowed(self, source: SourceConfig, url: str) -> bool:
        """RFC 9309 follows robots.txt redirects across hosts; not to an address or unmapped host, though.

        An IP literal only ever comes from configuration (a redirect to one could reach an
        internal service), and with ``--origin`` a host no origin serves is never requested.
        """
        if source.covers(url):
            return True
        if self.fetcher.origins:
            return False
        host = urlsplit(url).hostname or ""
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return bool(host_key(url))
        return False

    async def fetch(self, source: SourceConfig, url: str, headers: dict[str, str] | None = None, *,
                    stopping: Callable[[], bool] | None = None) -> Fetched:
        """Fetch ``url`` (following redirects on the source's hosts) when robots.txt and politeness allow.

        ``stopping``: asked once the host's turn has come; True means the run is stopping and no
        new request should start (the URL stays in the frontier).
        """
        refused = self.fetcher.refusal(url)  # before robots.txt: that would be a request to the host too
        if refused is not None:
            return Fetched(None, refused, permanent=True)
        robots = await self.robots_for(source, url)
        if robots.unreachable is not None:  # the URL stays pending: the next run asks robots.txt again
            return Fetched(None, robots.unreachable, deferred=True)
        if not robots.allowed(url):
            return Fetched(None, "disallowed by robots.txt", permanent=True, disallowed=True)
        return await self._get(source, url, headers, stopping=stopping)

    async def _get(self, source: SourceConfig, url: str, headers: dict[str, str] | None, *,
                   stopping: Callable[[], bool] | None, max_redirects: int = 10,
                   allow: Callable[[str], bool] | None = None) -> Fetched:
        gate = self.gate(source, url)
        with trio.move_on_at(gate.policy.deadline) as scope:
            self._in_flight.add(scope)
            try:
                return await self._get_in_time(source, url, headers, gate, stopping=stopping,
                                               max_redirects=max_redirects, allow=allow)
            finally:
                self._in_flight.discard(scope)
        # The budget ran out while waiting or fetching, or no host could be reached: nothing is
        # recorded, the URL stays for the next run.
        gate.policy.expire()
        return Fetched(None, gate.deferred or "", deferred=True)

    async def _get_in_time(self, source: SourceConfig, url: str, headers: dict[str, str] | None, gate: HostGate, *,
                           stopping: Callable[[], bool] | None, max_redirects: int,
                           allow: Callable[[str], bool] | None) -> Fetched:
        try:
            async with self._limiter, gate:
                if stopping is not None and stopping():
                    return Fetched(None, "stopped", deferred=True)
                started = trio.current_time()
                try:
                    results = await self.fetcher.fetch_following(
                        url, headers, allow=allow or source.covers, on_send=gate.send_hook,
                        max_redirects=max_redirects, give_up=lambda exc: self._failed_attempt(gate, exc))
                except FetchError as err:
                    now = trio.current_time()
                    if isinstance(err, RedirectError) and err.hops:
                        await self.record(source, list(err.hops))  # raw first, even for a bad chain
                    if isinstance(err, HostUnreachable):
                        self._host_unreachable(gate, err)
                        if gate.deferred is not None:  # the name does not exist, or nothing is reachable
                            return Fetched(None, gate.deferred, deferred=True)
                    elif err.status is not None or isinstance(err, RedirectError):
                        self._reached_host(gate.host)
                    if isinstance(err, PermanentFetchError):
                        gate.policy.success(now, now - started)  # the host answered
                    else:
                        gate.failure(now, getattr(err, "retry_after", None), reason=str(err))
                    return Fetched(None, str(err), permanent=isinstance(err, PermanentFetchError), status=err.status)
                now = trio.current_time()
                gate.policy.success(now, now - started)
                self._reached_host(gate.host)
        except HostDeferred as err:
            return Fetched(None, err.reason, deferred=True)
        return Fetched(results)
