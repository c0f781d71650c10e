"""The frontier on its own (crawler/crawl/frontier.py): no network, no trio, a real catalog."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.archive.catalog import Store
from crawler.config import SourceConfig, load_sources
from crawler.crawl.frontier import Frontier
from crawler.crawl.stats import SourceStats

ROOT = Path(__file__).resolve().parents[1]
CANTHO = "https://baocantho.com.vn"


@pytest.fixture
def source() -> SourceConfig:
    return load_sources(ROOT / "sources.yaml").get("baocantho")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path) as s:
        yield s


def frontier(source: SourceConfig, store: Store, *, budget: int | None = None, refresh: bool = False,
             archived: frozenset[str] = frozenset()) -> tuple[Frontier, SourceStats]:
    stats = SourceStats(source.key)
    return Frontier(source, store, stats, budget=budget, refresh=refresh,
                    archived=lambda _key, article_id: article_id in archived), stats


def test_admits_each_article_url_once_and_nothing_else(source: SourceConfig, store: Store) -> None:
    f, _ = frontier(source, store)
    urls = [
        f"{CANTHO}/mot-bai-a101.html",
        f"{CANTHO}/mot-bai-khac-a101.html",  # the same id under another slug: one article
        f"{CANTHO}/thoi-su/",  # a listing, not an article
        "https://example.org/mot-bai-a102.html",  # another host
        f"{CANTHO}/mot-bai-a\u0661\u0662\u0663.html",  # Arabic-Indic digits: not an id
        f"{CANTHO}/mot-bai-a{'9' * 100}.html",  # 100 digits: not an id
        f"{CANTHO}/hai-bai-a102.html",
    ]
    admitted, unarchived = f.admit(urls)
    assert admitted == [("101", f"{CANTHO}/mot-bai-a101.html"), ("102", f"{CANTHO}/hai-bai-a102.html")]
    assert unarchived == 3  # article URLs not archived (the repeated id counts per offer)
    assert f.admit([f"{CANTHO}/mot-bai-a101.html"])[0] == []  # offered before in this run
    # Admitted articles are in the catalog's frontier: a run that ends now leaves them to the next.
    assert [(a, u) for a, u, _n in store.pending(source.key)] == admitted


def test_archived_articles_only_with_refresh(source: SourceConfig, store: Store) -> None:
    urls = [f"{CANTHO}/a-a1.html", f"{CANTHO}/b-a2.html"]
    f, _ = frontier(source, store, archived=frozenset({"1"}))
    assert f.admit(urls) == ([("2", urls[1])], 1)
    f, _ = frontier(source, store, archived=frozenset({"1"}), refresh=True)
    assert [a for a, _u in f.admit(urls)[0]] == ["1", "2"]


def test_budget_counts_admitted_articles(source: SourceConfig, store: Store) -> None:
    f, _ = frontier(source, store, budget=2)
    admitted, _ = f.admit([f"{CANTHO}/x-a{n}.html" for n in range(1, 6)])
    assert [a for a, _u in admitted] == ["1", "2"] and not f.budget_left()
    assert f.admit([f"{CANTHO}/x-a9.html"])[0] == []


def test_articles_waiting_after_failures_are_not_admitted(source: SourceConfig, store: Store) -> None:
    url = f"{CANTHO}/hong-a404.html"
    store.enqueue_many(source.key, [("404", url)])
    store.fail(source.key, "404", url, "HTTP 404 Not Found", permanent=True)  # waits an hour at least
    f, stats = frontier(source, store)
    assert f.admit([url, f"{CANTHO}/tot-a5.html"])[0] == [("5", f"{CANTHO}/tot-a5.html")]
    assert stats.waiting == 1
    # Resumed URLs (from the catalog's own pending list) are not checked against the schedule again.
    f, _ = frontier(source, store)
    assert f.admit([url], resumed=True)[0] == [("404", url)]
