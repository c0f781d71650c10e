"""Charsets (issue 17, items 2 and 22): a declared UTF-8 page with a few stray bytes stays UTF-8,
only a page that is clearly something else falls back; byte order marks win (WHATWG sniffing).

The pages are the real fixture pages with bytes injected at several places; ``parse``, the crawl
and replay all go through :func:`crawler.parse.extraction.parse_response`, which is checked here too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import ClassVar

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from crawler.cli import main
from crawler.config import load_sources
from crawler.mirror.faults import _compose_for_cp1258
from crawler.models import Article
from crawler.parse.adapters import get_adapter
from crawler.parse.extraction import parse_response
from crawler.parse.normalize import _CHARSET_CODECS, DAMAGED_UTF8, choose_charset, decode_html, render_snapshot

from .conftest import FIXTURES, ROOT, one_source_config, send_html, serving

REAL = FIXTURES / "real"
PAGES = {  # fixture -> (source, url)
    "baocantho-a80443": ("baocantho", "https://baocantho.com.vn/chong-mu-loa-bang-thuoc-nho-mat-thay-vi-tiem-thuoc-a80443.html"),
    "baoangiang-a367201": ("baoangiang", "https://baoangiang.com.vn/x-a367201.html"),
}
# Stray bytes as they occur: a lone continuation byte, 0xFF, a truncated 2- and 3-byte sequence,
# an encoded surrogate, an overlong '/', a cp1258 'ệ' written by a legacy include.
STRAYS = [b"\xff", b"\x80", b"\xc3", b"\xe1\xba", b"\xed\xa0\x80", b"\xc0\xaf", b"\xea\xf2"]
UTF8 = "text/html; charset=utf-8"


def _snapshot(name: str, data: bytes, content_type: str | None = UTF8) -> str:
    key, url = PAGES[name]
    source = load_sources(ROOT / "sources.yaml").get(key)
    article = parse_response(get_adapter(source), data, content_type, url)
    assert isinstance(article, Article), article
    return render_snapshot(article)


def _expected(name: str) -> str:
    return (REAL / f"{name}.expected.txt").read_text(encoding="utf-8").rstrip("\n")


def _spots(name: str, html: bytes) -> dict[str, int]:
    """Byte offsets to damage: in a <script>, in the <head>, between tags, inside body text, at the end."""
    body_line = max(_expected(name).split("\n\n"), key=len)  # the longest body paragraph
    middle = body_line[len(body_line) // 2:][:24].encode("utf-8")
    inside_text = html.index(middle) + 1
    while 0x80 <= html[inside_text] < 0xC0:  # not in the middle of a character
        inside_text += 1
    return {
        "script": html.index(b"</script>"),
        "head": html.index(b"<head>") + len(b"<head>"),
        "between-tags": html.index(b"<meta"),
        "text": inside_text,
        "end": len(html),
    }


@pytest.mark.parametrize("name", list(PAGES))
@pytest.mark.parametrize("stray", STRAYS, ids=[s.hex() for s in STRAYS])
def test_a_declared_utf8_page_with_a_stray_byte_stays_utf8(name: str, stray: bytes) -> None:
    html = (REAL / f"{name}.html").read_bytes()
    expected = _expected(name)
    assert _snapshot(name, html) == expected
    for spot, at in _spots(name, html).items():
        damaged = html[:at] + stray + html[at:]
        for content_type in (UTF8, None, "text/html"):  # header, meta tag only: the meta tag says UTF-8 too
            assert choose_charset(damaged, content_type).startswith("utf-8"), (spot, content_type)
            got = _snapshot(name, damaged, content_type)
            if spot != "text":
                assert got == expected, (spot, content_type)
                continue
            # Only the damaged line differs, by the replacement character(s) alone.
            got_lines, want_lines = got.split("\n\n"), expected.split("\n\n")
            assert len(got_lines) == len(want_lines)
            diff = [(g, w) for g, w in zip(got_lines, want_lines, strict=True) if g != w]
            assert len(diff) == 1, (spot, diff)
            (g, w), = diff
            assert "\ufffd" in g and re.sub("\ufffd+", "", g) == w


@pytest.mark.parametrize("name", list(PAGES))
def test_a_page_that_is_clearly_not_utf8_still_falls_back(name: str) -> None:
    """The same page in windows-1258, wrongly declared UTF-8 in the header: the legacy code page wins."""
    text = (REAL / f"{name}.html").read_text(encoding="utf-8")
    legacy = _compose_for_cp1258(text)
    assert choose_charset(legacy, UTF8) == "cp1258"
    assert _snapshot(name, legacy) == _expected(name)
    # ... even with a few valid UTF-8 sequences in it (a UTF-8 include in a legacy page).
    mixed = legacy[:200] + "Huế".encode() + legacy[200:]
    assert choose_charset(mixed, UTF8) == "cp1258"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.floats(0, 1), st.binary(min_size=1, max_size=3)), min_size=1, max_size=6))
def test_a_few_invalid_bytes_anywhere_never_switch_the_page(damage: list[tuple[float, bytes]]) -> None:
    html = (REAL / "baocantho-a80443.html").read_bytes()
    for where, junk in sorted(damage, reverse=True):
        at = int(where * len(html))
        while at < len(html) and 0x80 <= html[at] < 0xC0:
            at += 1
        html = html[:at] + junk + html[at:]
    # Junk that makes a UTF-16 byte order mark at the very start is one (WHATWG: a BOM wins, see the BOM tests).
    assume(not html.startswith((b"\xff\xfe", b"\xfe\xff")))
    assert choose_charset(html, UTF8).startswith("utf-8")
    text = decode_html(html, UTF8)
    assert "Chống mù lòa" in text or "\ufffd" in text


BOM_TEXT = "<html><head><meta charset='utf-8'><title>Huế</title></head><body><p>Cần Thơ</p></body></html>"


@pytest.mark.parametrize(("bom", "codec"), [(b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"),
                                            (b"\xef\xbb\xbf", "utf-8")])
@pytest.mark.parametrize("content_type", [None, UTF8, "text/html; charset=windows-1258", "text/html; charset=utf-16"])
def test_a_byte_order_mark_wins_over_the_header(bom: bytes, codec: str, content_type: str | None) -> None:
    data = bom + BOM_TEXT.encode(codec)
    assert decode_html(data, content_type) == BOM_TEXT


def test_a_utf16_page_parses_like_its_utf8_twin() -> None:
    html = (REAL / "baocantho-a80443.html").read_text(encoding="utf-8")
    want = _expected("baocantho-a80443")
    for data in (b"\xff\xfe" + html.encode("utf-16-le"), b"\xfe\xff" + html.encode("utf-16-be"),
                 b"\xef\xbb\xbf" + html.encode("utf-8")):
        assert _snapshot("baocantho-a80443", data) == want
        assert _snapshot("baocantho-a80443", data, "text/html; charset=iso-8859-1") == want


class _Damaged(BaseHTTPRequestHandler):
    """A listing linking one article whose bytes carry a stray byte in a script; ``listing_body`` too."""

    article: ClassVar[bytes] = b""
    listing: ClassVar[bytes] = b""

    def do_GET(self) -> None:
        if self.path == "/":
            send_html(self, type(self).listing)
        elif self.path == "/chong-mu-loa-a80443.html":
            send_html(self, type(self).article)
        else:
            self.send_error(404)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def damaged_site(tmp_path: Path) -> Iterator[Path]:
    html = (REAL / "baocantho-a80443.html").read_bytes()
    at = html.index(b"</script>")
    _Damaged.article = html[:at] + b"/* \xff\xfe */" + html[at:]
    # The listing is damaged too, and its link text is Vietnamese: the link must still be found.
    _Damaged.listing = ("<html><head><meta charset='utf-8'></head><body>\xff".encode("latin-1")
                        + "<a href='/chong-mu-loa-a80443.html'>Chống mù lòa</a></body></html>".encode())
    with serving(_Damaged) as port:
        yield one_source_config(tmp_path / "sources.yaml", "site", port)


def test_crawl_replay_and_parse_agree_on_a_damaged_utf8_page(damaged_site: Path, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "archive"
    assert main(["crawl", "--sources", str(damaged_site), "--archive", str(archive), "--no-progress",
                 "--quiet"]) == 0, capsys.readouterr().err
    (snapshot,) = [p for p in archive.rglob("*.txt") if "a80443" in p.name or "80443" in str(p)]
    crawled = snapshot.read_text(encoding="utf-8")
    assert crawled.rstrip("\n") == _expected("baocantho-a80443")
    out = tmp_path / "replayed"
    assert main(["replay", "--sources", str(damaged_site), "--archive", str(archive), "--out", str(out),
                 "--no-progress"]) == 0, capsys.readouterr().err
    (replayed,) = [p for p in out.rglob("*.txt") if "80443" in str(p)]
    assert replayed.read_text(encoding="utf-8") == crawled


# Names Python's codecs know that are no charset a page can be written in: bytes-to-bytes codecs
# (uu, base64, zlib, ...: LookupError on bytes.decode), escape and IDNA codecs, UTF-7/UTF-32, and
# codecs that always fail.  A declaration of one is ignored, as a browser ignores a label outside the
# WHATWG Encoding Standard (the page did fail to parse: LookupError, and replay lost the whole file).
NOT_CHARSETS = ["uu", "uu_codec", "base64", "base_64", "hex", "zlib", "bz2", "rot13", "rot_13", "quopri",
                "unicode_escape", "raw_unicode_escape", "idna", "punycode", "undefined", "utf-7", "utf-32",
                "utf_32_be", "mbcs", "palmos", "charmap", "string_escape"]


@pytest.mark.parametrize("label", NOT_CHARSETS)
@pytest.mark.parametrize("where", ["meta", "header"])
def test_a_declared_codec_that_is_no_charset_is_ignored(label: str, where: str) -> None:
    name = "baocantho-a80443"
    source, url = PAGES[name]
    page = (REAL / f"{name}.html").read_bytes()
    honest = parse_response(get_adapter(load_sources(None).get(source)), page, UTF8, url)
    assert isinstance(honest, Article)
    if where == "meta":
        data, content_type = re.sub(rb'charset="?[\w-]+"?', f'charset="{label}"'.encode(), page, count=1), None
        assert f'charset="{label}"'.encode() in data[:4096]
    else:
        data, content_type = page, f"text/html; charset={label}"
    assert choose_charset(data, content_type) == "utf-8"
    article = parse_response(get_adapter(load_sources(None).get(source)), data, content_type, url)
    assert isinstance(article, Article), article
    assert render_snapshot(article) == render_snapshot(honest)


@given(st.sampled_from(NOT_CHARSETS), st.binary(max_size=300))
def test_choose_charset_never_raises_on_any_declared_label(label: str, body: bytes) -> None:
    for data, content_type in ((b'<meta charset="' + label.encode() + b'">' + body, None),
                               (body, "text/html; charset=" + label)):
        codec = choose_charset(data, content_type)
        decode_html(data, content_type)  # raises nothing
        # a charset of the WHATWG list, or what a byte order mark or the detection chose
        assert codec in _CHARSET_CODECS | {"utf-8-sig", "utf-16", DAMAGED_UTF8, "cp1258"}, codec
