"""What a crawl run did, per source: the figures behind the summary lines, the stats file and the exit code."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from crawler.errors import Failures

EventKind = Literal["archived", "failed", "revisit", "discovered", "listing", "unreachable"]
# (kind, source, url); for "unreachable" (a host given up because it cannot be reached, said at once),
# the third is "HOST: why".
Listener = Callable[[EventKind, str, str], None]


@dataclass(slots=True)
class SourceStats:
    source: str
    archive: bool = False  # a frozen archive (sources.yaml ``archive: true``): fetching nothing is no alarm
    expect_articles: bool = True  # the source's start pages should list articles (false: a frozen archive)
    discovered: int = 0  # articles queued this run
    listed: int = 0  # article URLs of the source that its listing pages, feeds and sitemaps named (archived or not)
    new: int = 0  # first snapshot of an article
    changed: int = 0  # --refresh: a new snapshot version
    unchanged: int = 0  # --refresh: fetched again, same payload (revisit record) or same text
    listings: int = 0  # listing pages fetched (200 or 304)
    listings_not_modified: int = 0  # of which 304 (revisit records)
    feeds: int = 0
    sitemaps: int = 0
    entry_points: int = 0  # start pages, feeds and sitemaps tried (first page of each)
    entry_points_ok: int = 0
    articles_tried: int = 0  # article fetches that got an answer or failed (not deferred, not stopped)
    articles_ok: int = 0  # of which answered with a page (archived, unchanged or not extractable)
    disallowed: int = 0
    extraction_failures: int = 0
    waiting: int = 0  # articles skipped: they failed before and wait for their next try
    deferred: dict[str, str] = field(default_factory=dict)  # host -> why it was given up for this run
    out_of_time: list[str] = field(default_factory=list)  # of which: hosts whose time budget ran out
    failures: dict[str, str] = field(default_factory=Failures)  # URL -> why (this run), the URL not repeated
    templates: Counter[str] = field(default_factory=Counter)  # pages per adapter template
    images: int = 0  # images archived (crawler.crawl.images), revisits included
    image_bytes: int = 0
    images_failed: int = 0
    images_capped: int = 0  # images not fetched: the run's cap was reached
    requisites: int = 0  # page requisites archived (crawler.crawl.requisites), revisits included
    requisites_not_modified: int = 0  # of which: answered 304
    requisite_bytes: int = 0
    requisites_failed: int = 0
    requisites_capped: int = 0  # not fetched: a page's or the run's cap was reached
    requisites_unserved: int = 0  # not fetched: a host no --origin serves (a mirror run; never asked for)

    @property
    def collapsed(self) -> bool:
        """The sign of a redesign: articles were attempted, none gave a complete snapshot."""
        return self.extraction_failures > 0 and self.new + self.changed == 0 and self.extraction_failures >= min(
            3, self.discovered
        )

    @property
    def unreachable(self) -> str | None:
        """Why the source fetched nothing: none of its start pages, or no article it tried, or (unless
        ``expect_articles`` is off) start pages that answered but list no article while nothing was archived;
        else None."""
        first = next((f"{url}: {why}" for url, why in self.failures.items()), None)
        deferred = next(iter(self.deferred.items()), None)
        why = f"{deferred[0]}: {deferred[1]}" if deferred else first or "no answer"
        if self.entry_points and not self.entry_points_ok:
            return f"none of its {self.entry_points} start pages, feeds or sitemaps could be fetched ({why})"
        if self.articles_tried and not self.articles_ok:
            return f"none of the {self.articles_tried} articles it tried could be fetched ({why})"
        if self.deferred and not self.articles_ok and not self.entry_points_ok:
            return f"its hosts were given up ({why})"
        if self.expect_articles and self.entry_points_ok and not self.listed and not self.archived:
            # 200s that name nothing: a parked domain, a PDF home page, a redesign no pattern matches.
            return (f"its {self.entry_points_ok} start pages, feeds or sitemaps answered but list no article of "
                    f"the source (parked or redesigned?)")
        return None

    @property
    def archived(self) -> int:
        """Articles archived this run: new, changed, or fetched again unchanged."""
        return self.new + self.changed + self.unchanged

    def summary(self) -> str:
        extraction = f" ({self.extraction_failures} extraction)" if self.extraction_failures else ""
        extra = ""
        if self.waiting:
            extra += f", {self.waiting} waiting to be retried"
        if self.deferred:
            extra += f", deferred hosts: {', '.join(sorted(self.deferred))}"
        templates = ""
        if self.templates:
            templates = "; templates " + ", ".join(f"{name} {count}" for name, count in sorted(self.templates.items()))
        images = ""
        if self.images or self.images_failed or self.images_capped:
            images = f"; images: {self.images} ({self.image_bytes:,} bytes), {self.images_failed} failed"
            images += f", {self.images_capped} over the run's cap" if self.images_capped else ""
        if self.requisites or self.requisites_failed or self.requisites_capped:
            images += (f"; requisites: {self.requisites} ({self.requisites_not_modified} not modified, "
                       f"{self.requisite_bytes:,} bytes), {self.requisites_failed} failed")
            images += f", {self.requisites_capped} over a cap" if self.requisites_capped else ""
            images += f", {self.requisites_unserved} on hosts no --origin serves" if self.requisites_unserved else ""
        return (f"{self.source}: {self.new} new, {self.changed} changed, {self.unchanged} unchanged, "
                f"{len(self.failures)} failed{extraction}{extra}; pages: {self.listings} listings "
                f"({self.listings_not_modified} not modified), {self.feeds} feeds, {self.sitemaps} sitemaps"
                f"{templates}{images}")

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source, "archive": self.archive, "discovered": self.discovered, "listed": self.listed,
            "new": self.new, "changed": self.changed, "unchanged": self.unchanged, "listings": self.listings,
            "listings_not_modified": self.listings_not_modified, "feeds": self.feeds, "sitemaps": self.sitemaps,
            "entry_points": self.entry_points, "entry_points_ok": self.entry_points_ok,
            "articles_tried": self.articles_tried, "articles_ok": self.articles_ok,
            "disallowed": self.disallowed, "extraction_failures": self.extraction_failures, "waiting": self.waiting,
            "deferred": dict(sorted(self.deferred.items())), "out_of_time": sorted(self.out_of_time),
            "collapsed": self.collapsed,
            "unreachable": self.unreachable, "templates": dict(sorted(self.templates.items())),
            "failures": dict(sorted(self.failures.items())),
            "images": self.images, "image_bytes": self.image_bytes, "images_failed": self.images_failed,
            "images_capped": self.images_capped, "requisites": self.requisites,
            "requisites_not_modified": self.requisites_not_modified, "requisite_bytes": self.requisite_bytes,
            "requisites_failed": self.requisites_failed, "requisites_capped": self.requisites_capped,
            "requisites_unserved": self.requisites_unserved,
        }
