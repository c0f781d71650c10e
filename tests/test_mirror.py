"""The offline mirror over real sockets: lifecycle, routing, HTTP semantics, content oracle."""

from __future__ import annotations

import gzip
import re
import socket
import time
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from email.utils import format_datetime
from pathlib import Path

import httpx2
import pytest

from crawler.config import load_sources
from crawler.mirror import Mirror, canonical_blocks
from crawler.mirror.images import IMAGE_HOSTS

FIXTURES = Path(__file__).parent / "fixtures" / "seeds"
DATA = Path(__file__).parent.parent / "crawler" / "mirror" / "data"
CT, AG, HUE_OLD, HUE_NEW = "baocantho.com.vn", "baoangiang.com.vn", "baothuathienhue.vn", "huengaynay.vn"
HREF = re.compile(r'href="([^"]+)"')


@pytest.fixture(scope="module")
def mirror() -> Iterator[Mirror]:
    with Mirror(articles=60, seed=1) as m:
        yield m


@pytest.fixture(scope="module")
def client() -> Iterator[httpx2.Client]:
    with httpx2.Client(headers={"Accept-Encoding": "gzip"}, timeout=5) as c:
        yield c


def article_links(html: str, origin: str) -> list[str]:
    return [u for u in HREF.findall(html) if u.startswith(origin) and re.search(r"-a?\d+\.html$", u)]


def unrewrite(text: str, m: Mirror) -> str:
    for host, origin in m.origins.items():
        text = text.replace(origin, f"https://{host}")
    return text


def test_start_and_stop_on_free_ports() -> None:
    m = Mirror(articles=3)
    m.start()
    ports = {int(o.rsplit(":", 1)[1]) for o in m.origins.values()}
    # The four portals, then their image hosts (crawler.mirror.images), each on its own port.
    assert set(m.origins) == {CT, AG, HUE_OLD, HUE_NEW, *IMAGE_HOSTS} and len(ports) == 7
    with httpx2.Client() as c:
        assert [c.get(o + "/").status_code for o in m.origins.values()] == [200, 200, 301, 200, 404, 404, 404]
    m.stop()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", ports.pop()), timeout=1):
        pass


def test_home_links_point_at_the_mirror(mirror: Mirror, client: httpx2.Client) -> None:
    # Huế's real home page carries six teasers in its HTML (the rest is filled in by a script),
    # a banner to an older article and a footer link: eight articles.
    least = {CT: 40, AG: 40, HUE_NEW: 8}
    for host, origin in mirror.origins.items():
        if host in IMAGE_HOSTS:
            continue
        r = client.get(origin + "/")
        if host == HUE_OLD:  # the real old host redirects its home page to the new one
            assert (r.status_code, r.headers["location"]) == (301, mirror.origins[HUE_NEW] + "/")
            continue
        assert r.status_code == 200 and r.headers["content-type"] == "text/html; charset=utf-8"
        assert f"https://{host}" not in r.text
        links = [u for o in mirror.origins.values() for u in article_links(r.text, o)]
        assert len(set(links)) >= least[host]
        assert any(p in r.text for p in ("/tim-kiem", "/video/", "/video\""))


def test_feeds_and_robots(mirror: Mirror, client: httpx2.Client) -> None:
    ct = mirror.origins[CT]
    r = client.get(ct + "/rss/home")  # the real home page links /rss/home (no ".rss")
    assert r.headers["content-type"] == "application/rss+xml; charset=utf-8"
    items = ET.fromstring(r.content).findall("./channel/item")
    assert len(items) == 20 and all((i.findtext("link") or "").startswith(ct) for i in items)
    assert client.get(ct + "/rss/subcate/can-tho/").status_code == 200
    assert client.get(ct + "/rss/subcate/nope/").status_code == 404
    assert client.get(ct + "/rss/home.rss").status_code == 404
    # Neither An Giang's nor Huế's home page links a feed.
    assert client.get(mirror.origins[AG] + "/rss/home.rss").status_code == 404
    assert client.get(mirror.origins[HUE_NEW] + "/rss/kinh-te.rss").status_code == 404
    robots = client.get(ct + "/robots.txt")
    assert robots.text == "User-agent: *\nDisallow: /print/\nDisallow: /tim-kiem\n"
    with Mirror(articles=1, robots={AG: "User-agent: *\nDisallow: /\n"}) as other, httpx2.Client() as c:
        assert c.get(other.origins[AG] + "/robots.txt").text == "User-agent: *\nDisallow: /\n"
        assert "Disallow: /print/" in c.get(other.origins[CT] + "/robots.txt").text


def crawl_listings(m: Mirror, c: httpx2.Client, source: str) -> set[str]:
    """Follow every start page of sources.yaml to its last page; return the article ids seen."""
    hosts = {"baocantho": [CT], "baoangiang": [AG], "hue": [HUE_OLD, HUE_NEW]}[source]
    source_config = load_sources().with_origins(m.origins).get(source)
    starts = [source_config.origins.connect_url(u) or u for u in source_config.start_pages]  # mirror URLs
    seen: set[str] = set()
    for url in sorted(starts):
        pages = 0
        next_url: str | None = url
        while next_url:
            html = c.get(next_url).text
            pages += 1
            assert pages < 50
            for link in (u for h in hosts for u in article_links(html, m.origins[h])):
                found_id = source_config.article_id(link)  # not video items, tag pages, ...
                if found_id is not None:
                    seen.add(found_id)
            found = re.search(r'class="next" href="([^"]+)"', html)
            next_url = found.group(1).replace("&amp;", "&") if found else None
    return seen


@pytest.mark.parametrize("source", ["baocantho", "baoangiang", "hue"])
def test_listings_reach_every_article_and_end(mirror: Mirror, client: httpx2.Client, source: str) -> None:
    assert crawl_listings(mirror, client, source) == set(mirror.article_ids(source))
    for article_id in mirror.article_ids(source)[:3]:
        assert client.get(mirror.article_url(source, article_id)).status_code == 200


def test_page_past_the_end_lists_nothing(mirror: Mirror, client: httpx2.Client) -> None:
    r = client.get(mirror.origins[CT] + "/thoi-su/?p=99")
    assert r.status_code == 200 and article_links(r.text, mirror.origins[CT]) == [] and 'class="next"' not in r.text
    r = client.get(mirror.origins[HUE_NEW] + "/kinh-te/p/99")
    links = [u for h in (HUE_OLD, HUE_NEW) for u in article_links(r.text, mirror.origins[h])]
    assert r.status_code == 200 and "<article>" not in r.text and 'class="next"' not in r.text
    assert set(links) <= {mirror.article_url("hue", i) for i in mirror.listing("hue", "/")[-2:]}  # the side banners
    assert client.get(mirror.origins[CT] + "/thoi-su/?p=0").status_code == 404
    assert client.get(mirror.origins[CT] + "/no-such-cate/").status_code == 404


def test_conditional_requests_get_304(mirror: Mirror, client: httpx2.Client) -> None:
    ct = mirror.origins[CT]
    article = mirror.article_url("baocantho", mirror.article_ids("baocantho")[5])
    for url in (ct + "/", ct + "/thoi-su/?p=1", ct + "/rss/home", ct + "/robots.txt", article):
        first = client.get(url)
        etag, modified = first.headers["etag"], first.headers["last-modified"]
        assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
        assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304
        assert client.get(url, headers={"If-None-Match": '"stale"'}).status_code == 200
    old = format_datetime(mirror.article("baocantho", mirror.article_ids("baocantho")[0]).published, usegmt=False)
    assert client.get(ct + "/", headers={"If-Modified-Since": old}).status_code == 200


def test_gzip_and_chunked_framings_both_occur(mirror: Mirror) -> None:
    urls = [mirror.article_url("baoangiang", i) for i in mirror.article_ids("baoangiang")[:24]]
    seen: set[tuple[bool, bool]] = set()
    with httpx2.Client(headers={"Accept-Encoding": "gzip"}) as c:
        for url in urls:
            with c.stream("GET", url) as r:
                raw = b"".join(r.iter_raw())
            gz = r.headers.get("content-encoding") == "gzip"
            chunked = r.headers.get("transfer-encoding") == "chunked"
            assert chunked != ("content-length" in r.headers)
            text = (gzip.decompress(raw) if gz else raw).decode()
            assert "<h1>" in text
            seen.add((gz, chunked))
    assert seen == {(False, False), (False, True), (True, False), (True, True)}
    with httpx2.Client(headers={"Accept-Encoding": "identity"}) as c:
        assert all("content-encoding" not in c.get(u).headers for u in urls[:8])


def test_keep_alive_pipelining_head_and_errors(mirror: Mirror) -> None:
    port = int(mirror.origins[CT].rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET /robots.txt HTTP/1.1\r\nHost: x\r\n\r\nHEAD / HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nhiGET /nope HTTP/1.1\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    statuses = re.findall(rb"HTTP/1.1 (\d+)", data)
    assert statuses == [b"200", b"200", b"405", b"404"]
    head_block = data.split(b"HTTP/1.1 ")[2]
    assert b"<html" not in head_block.split(b"\r\n\r\n", 1)[1]


def test_same_seed_same_bytes(mirror: Mirror, client: httpx2.Client) -> None:
    paths = ["/", "/thoi-su/?p=1", "/rss/home"]
    with Mirror(articles=60, seed=1) as twin, Mirror(articles=60, seed=2) as other:
        for path in paths:
            a = unrewrite(client.get(mirror.origins[CT] + path).text, mirror)
            b = unrewrite(client.get(twin.origins[CT] + path).text, twin)
            assert a == b
        ids = mirror.article_ids("hue")
        assert ids == twin.article_ids("hue")
        for aid in ids[1:4]:
            a = unrewrite(client.get(mirror.article_url("hue", aid)).text, mirror)
            assert a == unrewrite(client.get(twin.article_url("hue", aid)).text, twin)
            assert mirror.expected_snapshot("hue", aid) == twin.expected_snapshot("hue", aid)
        assert other.expected_snapshot("hue", other.article_ids("hue")[5]) != mirror.expected_snapshot("hue", ids[5])


def test_a_hundred_thousand_articles_on_demand() -> None:
    started = time.perf_counter()
    with Mirror(articles=100_000) as m, httpx2.Client() as c:
        for source in ("baocantho", "baoangiang", "hue"):
            ids = m.article_ids(source)
            assert len(ids) == 100_000 + (source != "baoangiang")
            assert c.get(m.article_url(source, ids[-1])).status_code == 200  # index 99999
        deep = c.get(m.origins[CT] + "/thoi-su/?p=300")  # 3 of 44 leaves: about 340 pages
        assert deep.status_code == 200 and len(set(article_links(deep.text, m.origins[CT]))) == 20
        hue = m.site.catalogs["hue"]
        total = hue.total(m.site.generator.catalogs["hue"].info.leaves_under("giao-duc"))
        assert total % 20  # a last page that is not full
        last = c.get(m.origins[HUE_NEW] + f"/giao-duc/p/{total // 20 + 1}")
        oldest = m.listing("hue", "/giao-duc", total // 20 + 1)  # the section's oldest, of every era
        assert len(oldest) == total % 20 and all(m.article_url("hue", i) in last.text for i in oldest)
        assert ids[0] == "106825"
    assert time.perf_counter() - started < 5


def test_add_articles_puts_new_ones_first() -> None:
    with Mirror(articles=10) as m, httpx2.Client() as c:
        home = m.origins[CT] + "/"
        before = c.get(home)
        old_article = m.article_url("baocantho", m.article_ids("baocantho")[3])
        old_etag = c.get(old_article).headers["etag"]
        m.add_articles("baocantho", 2)
        ids = m.article_ids("baocantho")
        assert len(ids) == 13 and int(ids[-1]) > int(ids[-3])
        after = c.get(home, headers={"If-None-Match": before.headers["etag"]})
        assert after.status_code == 200
        newest = [m.article_url("baocantho", i) for i in (ids[-1], ids[-2])]
        slider = after.text.split('id="silde-index-top"', 1)[1]  # the home page's slider: newest first
        assert list(dict.fromkeys(article_links(slider, m.origins[CT])))[:2] == newest
        assert newest[0] not in before.text
        assert c.get(old_article, headers={"If-None-Match": old_etag}).status_code == 304
        feed = ET.fromstring(c.get(m.origins[CT] + "/rss/home").content)
        assert feed.findtext("./channel/item/link") == newest[0]


def test_request_log_records_requests(mirror: Mirror, client: httpx2.Client) -> None:
    mark = len(mirror.request_log)
    client.get(mirror.origins[AG] + "/no/such/page", headers={"X-Probe": "1"})
    entry = next(e for e in mirror.request_log[mark:] if e.path == "/no/such/page")
    assert (entry.real_host, entry.method, entry.status, entry.headers["x-probe"]) == (AG, "GET", 404, "1")
    assert "http://" + entry.host == mirror.origins[AG]
    assert entry.time <= time.monotonic()


@pytest.mark.parametrize(("source", "sample"), [("baocantho", "baocantho-seed.txt"), ("hue", "hue-seed.txt")])
def test_seed_snapshot_matches_sample(mirror: Mirror, client: httpx2.Client, source: str, sample: str) -> None:
    seed_id = mirror.article_ids(source)[0]
    expected = mirror.expected_snapshot(source, seed_id)
    assert expected.split("\n\n") == canonical_blocks((FIXTURES / sample).read_text(encoding="utf-8"))
    page = client.get(mirror.article_url(source, seed_id)).text
    assert unrewrite(page, mirror) == (DATA / f"seed-{source}.html").read_text(encoding="utf-8")
    assert (FIXTURES / f"seed-{source}.html").read_bytes() == (DATA / f"seed-{source}.html").read_bytes()


def test_seed_urls(mirror: Mirror) -> None:
    assert mirror.article_url("baocantho", "136049") == (
        mirror.origins[CT] + "/khac-phuc-tinh-trang-tren-nong-duoi-lanh-tren-quyet-liet-duoi-tho-o--a136049.html")
    # The Huế sample (9 March 2022) is of the VDOC era: https://baothuathienhue.vn/<slug>-a<ID>.html
    assert mirror.article_url("hue", "106825") == mirror.origins[HUE_OLD] + (
        "/huy-dong-suc-manh-xa-hoi-va-cac-tang-lop-nhan-dan-trong-thuc-hien-nghi-quyet-a106825.html")


def test_expected_snapshots_are_canonical(mirror: Mirror) -> None:
    date = re.compile(r"\d\d/\d\d/\d{4} - \d\d:\d\d")
    for source in mirror.sources:
        for aid in mirror.article_ids(source):
            text = mirror.expected_snapshot(source, aid)
            blocks = text.split("\n\n")
            assert canonical_blocks(text) == blocks and blocks[-1] == "Chia sẻ bài viết"
            assert unicodedata.is_normalized("NFC", text) and not text.endswith("\n")
            assert date.fullmatch(blocks[0]) or date.fullmatch(blocks[1])


def test_hue_three_eras_and_their_hosts(mirror: Mirror, client: httpx2.Client) -> None:
    """Huế: VDOC era and category-path era on the old host, DotNetNuke on the new one; every id on the new."""
    ids = mirror.article_ids("hue")  # seed, then 60 generated: 2 VDOC, 2 category path, 56 DNN (fixed by index)
    old, new = mirror.origins[HUE_OLD], mirror.origins[HUE_NEW]
    vdoc, path, dnn = (mirror.article_url("hue", ids[n]) for n in (1, 3, 45))
    assert re.fullmatch(re.escape(old) + r"/[a-z0-9-]+-a\d+\.html", vdoc)
    assert re.fullmatch(re.escape(old) + r"(/[a-z0-9-]+){2,3}-\d+\.html", path)
    assert re.fullmatch(re.escape(new) + r"(/[a-z0-9-]+){2,3}-\d+\.html", dnn)
    assert 'id="newscontents"' in client.get(vdoc).text  # VDOC markup
    assert 'class="detail-title"' in client.get(path).text
    page = client.get(dnn).text
    assert 'class="DnnModule' in page and 'class="post-title"' in page and "id=\"newscontents\"" not in page
    # the news module of the sibling site (SITES.md): the date before the title, ending "(GMT+7)"
    assert re.search(r'<span class="lbPublishedDate">Thứ \w+, \d\d/\d\d/\d{4} \d\d:\d\d \(GMT\+7\)</span>', page)
    assert page.index("lbPublishedDate") < page.index('class="post-title"')
    # One database: the same article ids answer on huengaynay.vn under their DotNetNuke path, in that template.
    for n in (1, 3):
        head = mirror.site.generator.headline("hue", mirror.site.catalogs["hue"].index_of(ids[n]) or 0)
        again = client.get(new + (head.dnn_path or ""))
        assert again.status_code == 200 and 'class="DnnModule' in again.text
    # What the old host does not serve itself moves to the new host; old URLs are not served on the new host.
    moved = client.get(dnn.replace(new, old))
    assert (moved.status_code, moved.headers["location"]) == (301, dnn)
    assert client.get(vdoc.replace(old, new)).status_code == 404
    assert client.get(old + "/kinh-te/").headers["location"] == new + "/kinh-te/"
    assert client.get(new + "/kinh-te/").headers["location"] == new + "/kinh-te"
    for origin in (old, new):
        amp = client.get(origin + f"/amp.aspx?newid={ids[45]}")
        assert amp.status_code == 200 and "<html amp" in amp.text


def test_real_host_header_gets_real_urls(mirror: Mirror) -> None:
    """Host: <real host> (a crawler connecting in the real site's place) -> real URLs, real Location headers;
    Host: <the mirror's address> (a browser) -> URLs of the mirror."""
    ct, old = mirror.origins[CT], mirror.origins[HUE_OLD]
    with httpx2.Client(timeout=5) as c:
        real = c.get(ct + "/", headers={"Host": "baocantho.com.vn"})
        assert "https://baocantho.com.vn/" in real.text and ct not in real.text
        assert "https://www.baocantho.com.vn" not in real.text
        www = c.get(ct + "/", headers={"Host": "WWW.BaoCanTho.com.vn:80"})
        assert www.text == real.text
        moved = c.get(old + "/", headers={"Host": "baothuathienhue.vn"})
        assert (moved.status_code, moved.headers["location"]) == (301, "https://huengaynay.vn/")
        browser = c.get(ct + "/")  # httpx sends Host: 127.0.0.1:PORT
        assert ct + "/" in browser.text and "https://baocantho.com.vn" not in browser.text
        assert c.get(old + "/").headers["location"] == mirror.origins[HUE_NEW] + "/"
        # Another mirrored host's name is not this port's real host: rewritten.
        other = c.get(ct + "/", headers={"Host": "baoangiang.com.vn"})
        assert other.text == browser.text
        assert real.headers["etag"] != browser.headers["etag"]


def test_non_article_pages(mirror: Mirror, client: httpx2.Client) -> None:
    ct = mirror.origins[CT]
    for path in ("/video/", "/xem-bao/bao-ngay/", "/tim-kiem.html?q=x", "/su-kien/chuyen-doi-so-toan-dien.9.html"):
        assert client.get(ct + path).status_code == 200
    article = mirror.article_url("baocantho", mirror.article_ids("baocantho")[2])
    assert client.get(article.replace(ct, ct + "/print")).status_code == 200
    assert client.get(article.replace(".html", "x.html")).status_code == 404
    assert client.get(article.replace("-a", "-b-a")).status_code == 404


def test_static_export_keeps_rewriting_links(tmp_path: Path) -> None:
    """The export (bench's nginx) has no Host header to go by: its pages always link the export's origins."""
    from crawler.mirror.export import export_site

    origins = {host: f"http://127.0.0.1:{9100 + n}" for n, host in enumerate((CT, AG, HUE_OLD, HUE_NEW))}
    stats = export_site(tmp_path, articles=2, origins=origins)
    assert stats.pages > 20
    home = (tmp_path / CT / "_index.html").read_text(encoding="utf-8")
    assert origins[CT] + "/" in home and f"https://{CT}" not in home
    hue_home = (tmp_path / HUE_NEW / "_index.html").read_text(encoding="utf-8")
    assert origins[HUE_NEW] in hue_home and f"https://{HUE_NEW}" not in hue_home
    assert (tmp_path / HUE_NEW / "kinh-te.html").is_file()  # a DotNetNuke listing: no trailing slash
    assert (tmp_path / CT / "rss" / "home.rss").is_file()  # /rss/home


def test_origin_args_for_a_person(mirror: Mirror) -> None:
    assert mirror.origin_args() == [f"--origin {host}={origin}" for host, origin in mirror.origins.items()]
