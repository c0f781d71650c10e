"""FORMAT.md text rules."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.models import Article
from crawler.parse.normalize import (
    SHARE_LABEL,
    VN_TZ,
    canonical_blocks,
    clean_line,
    decode_html,
    find_vn_datetime,
    format_date_line,
    render_snapshot,
)


def test_clean_line_collapses_nbsp_and_runs_and_applies_nfc() -> None:
    decomposed = "Hue\u0302\u0301"  # "Huế" written with combining marks
    assert clean_line(f"  a\u00a0\u00a0 b\t\n{decomposed}\u200b ") == "a b Huế"


def test_canonical_blocks_rule() -> None:
    text = "A\n\n\u00a0\nB  b\nB b\n\nChia sẻ bài viết\n\nBOX AFTER"
    assert canonical_blocks(text) == ["A", "B b", SHARE_LABEL]


def test_date_parsing_and_formatting() -> None:
    found = find_vn_datetime("Thứ tư, 09/03/2022 - 19:50 GMT+7")
    assert found == datetime(2022, 3, 9, 19, 50, tzinfo=VN_TZ)
    assert format_date_line(datetime(2022, 3, 9, 12, 50, tzinfo=UTC)) == "09/03/2022 - 19:50"
    assert find_vn_datetime("31/02/2022 - 10:00") is None
    assert find_vn_datetime("no date") is None


def _article(**changes: object) -> Article:
    fields: dict[str, object] = dict(
        source="s", article_id="1", url="u", canonical_url="u", breadcrumb=("Thời sự", "Cần Thơ"),
        category_slugs=(), published=datetime(2021, 3, 26, 21, 27, tzinfo=timezone(timedelta(hours=7))),
        kicker=None, title="Tiêu đề", sapo="(CT) - Mở đầu", body=("Đoạn 1", "Đoạn 1", "Đoạn 2"),
        byline="Bài: A\nẢnh: B",
    )
    fields.update(changes)
    return Article(**fields)  # type: ignore[arg-type]


def test_render_snapshot_layout() -> None:
    text = render_snapshot(_article())
    assert text == (
        "Thời sự Cần Thơ\n\n26/03/2021 - 21:27\n\nTiêu đề\n\n(CT) - Mở đầu\n\nĐoạn 1\n\nĐoạn 2\n\n"
        "Bài: A\n\nẢnh: B\n\nChia sẻ bài viết"
    )
    assert not text.endswith("\n")
    assert canonical_blocks(text) == text.split("\n\n")


def test_render_snapshot_optional_blocks_absent() -> None:
    text = render_snapshot(_article(breadcrumb=(), sapo=None, byline=None, kicker="Kicker:"))
    assert text.split("\n\n")[:3] == ["26/03/2021 - 21:27", "Kicker:", "Tiêu đề"]


@pytest.mark.parametrize("field", ["breadcrumb", "kicker", "sapo", "body", "byline"])
def test_a_field_that_reads_the_share_label_does_not_end_the_text_early(field: str) -> None:
    """The share label closes a snapshot (FORMAT.md): one in a field (a mutated page's kicker) is dropped there,
    else the comparison rule would cut the title and the body off (found by tests/test_fuzz.py)."""
    values: dict[str, object] = {"breadcrumb": (SHARE_LABEL,), "kicker": SHARE_LABEL, "sapo": SHARE_LABEL,
                                 "body": ("Đoạn 1", SHARE_LABEL, "Đoạn 2"), "byline": f"Bài: A\n{SHARE_LABEL}"}
    text = render_snapshot(_article(**{field: values[field]}))
    blocks = text.split("\n\n")
    assert canonical_blocks(text) == blocks
    assert blocks.count(SHARE_LABEL) == 1 and blocks[-1] == SHARE_LABEL
    assert "Tiêu đề" in blocks and "Đoạn 2" in blocks


def test_decode_html_charset_precedence() -> None:
    page = "<meta charset='windows-1258'><p>Hu\u00ea\u0301</p>".encode("cp1258")  # ê + combining acute
    assert "Huế" in clean_line(decode_html(page))  # from the meta tag
    assert "Huế" in decode_html("Huế".encode(), "text/html; charset=utf-8")
    # A wrong header charset that cannot decode falls through to the next candidate.
    assert "Huế" in decode_html("Huế".encode(), "text/html; charset=ascii")
    assert decode_html(b"\xff\xfe broken") is not None


# -- clean_line's fast path (issue 22): the same lines as the split-and-join on every line, much cheaper ------------

_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_SPACES = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2005\u200a\u2028\u2029\u202f\u205f\u3000"


def _reference_clean_line(text: str) -> str:
    """FORMAT.md's rule spelled out: invisible characters out (U+FEFF as a space), white-space runs to one
    space, stripped, NFC."""
    for char in _INVISIBLE:
        text = text.replace(char, " " if char == "\ufeff" else "")
    return unicodedata.normalize("NFC", " ".join(text.split()))


@given(st.text(alphabet=st.sampled_from(list("aẾế ếHuê\u0301\u0302e\u00e9x.,") + list(_INVISIBLE) + list(_SPACES))
               | st.characters(), max_size=40))
@settings(max_examples=1500, deadline=None)
def test_clean_line_equals_the_rule_on_any_text(text: str) -> None:
    assert clean_line(text) == _reference_clean_line(text)


@pytest.mark.parametrize("char", list(_INVISIBLE) + list(_SPACES))
@pytest.mark.parametrize("where", ["start", "middle", "end", "double"])
def test_clean_line_sees_every_space_and_invisible_character(char: str, where: str) -> None:
    word = "Huế"  # non-ASCII, and the same with "Hue" (ASCII)
    for w in (word, "Hue"):
        text = {"start": char + w + " a", "middle": w + char + "a", "end": w + " a" + char,
                "double": w + " " + char + "a"}[where]
        assert clean_line(text) == _reference_clean_line(text)


def test_every_white_space_and_invisible_character_is_unprintable() -> None:
    """What clean_line's fast path rests on, checked over every code point: str.split() splits on exactly
    the characters str.isspace() names, and none but the ASCII space may be printable."""
    printable_spaces = [hex(i) for i in range(0x110000) if chr(i).isspace() and chr(i).isprintable() and i != 0x20]
    assert printable_spaces == []
    assert not any(char.isprintable() for char in _INVISIBLE)
