"""FORMAT.md text rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

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


def test_decode_html_charset_precedence() -> None:
    page = "<meta charset='windows-1258'><p>Hu\u00ea\u0301</p>".encode("cp1258")  # ê + combining acute
    assert "Huế" in clean_line(decode_html(page))  # from the meta tag
    assert "Huế" in decode_html("Huế".encode(), "text/html; charset=utf-8")
    # A wrong header charset that cannot decode falls through to the next candidate.
    assert "Huế" in decode_html("Huế".encode(), "text/html; charset=ascii")
    assert decode_html(b"\xff\xfe broken") is not None
