"""Every JSON Lines output holds one record per line for every JSON Lines reader.

JSON leaves U+2028, U+2029 and U+0085 raw (orjson too); ``str.splitlines``, JavaScript and many
JSON Lines readers end a line at each.  Titles, texts and URLs with them (and with other
separators, NUL, C1 controls) must come out escaped from ``replay --jsonl``, ``export --format
jsonl``, ``failed --json``, ``search --json`` and the crawl journals.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.archive import jsonlines
from crawler.archive.catalog import Store
from crawler.archive.snapshots import SnapshotRow
from crawler.cli import main

from .replay_samples import articles, gz, http_response, record, write

HOSTILE = ["\u2028", "\u2029", "\x85", "\x1c\x1d\x1e", "\x0b\x0c", "\x00", "\x9b[31m", "\r\n"]


def one_record_per_line(text: str, records: int) -> list[dict[str, object]]:
    """The lines as every reader splits them: Python's splitlines, bytes lines, JavaScript's line terminators."""
    assert len(text.splitlines()) == records
    assert len(text.encode("utf-8").splitlines()) == records
    assert not any(c in text for c in "\u2028\u2029\x85")
    return [json.loads(line) for line in text.splitlines()]


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=5), st.text(alphabet=st.characters(codec=None), max_size=40), max_size=4))
def test_dumps_is_one_line_and_round_trips(value: dict[str, str]) -> None:
    for line in (jsonlines.dumps(value), jsonlines.dumps_bytes(value).decode("utf-8")):
        assert line.splitlines() == [line] or line == ""
        assert json.loads(line) == value


@pytest.mark.parametrize("chars", HOSTILE)
def test_replay_jsonl_escapes_separators(chars: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = articles(per_source=1)[0]
    html = page.html.replace(b"<title>", f"<title>A{chars}B ".encode(), 1)
    url = f"{page.url}?q=x{chars}y".replace("\r\n", "%0D%0A")
    warc = write(tmp_path / "s.warc.gz", [gz(record(url, http_response(html)))])
    for target in ("-", str(tmp_path / "one.jsonl"), f"{tmp_path / 'parts'}/"):
        code = main(["replay", str(warc), "--jsonl", target, "--processes", "1", "--state",
                     str(tmp_path / f"state{len(target)}")])
        captured = capsys.readouterr()
        assert code == 0, captured.err
        if target == "-":
            text = captured.out
        elif target.endswith("/"):
            [part] = list(Path(target).rglob("*.jsonl"))
            text = part.read_text(encoding="utf-8")
        else:
            text = Path(target).read_text(encoding="utf-8")
        [row] = one_record_per_line(text, 1)
        assert row["url"] == url


def _archive(tmp_path: Path, chars: str) -> Path:
    archive = tmp_path / "a"
    rel = "text/hue/2024/05/9.txt"
    body = f"Dòng một{chars}dòng hai gió mùa\n"
    (archive / rel).parent.mkdir(parents=True)
    (archive / rel).write_text(body, encoding="utf-8")
    with Store(archive) as store:
        store.commit([SnapshotRow("hue", "9", 1, f"https://huengaynay.vn/a-9.html?x={chars}",
                                  "2024-05-02T10:00:00+07:00", f"Tiêu{chars}đề gió mùa", rel,
                                  hashlib.sha256(body.encode()).hexdigest(), "w.warc.gz", 0,
                                  "2024-05-02T03:00:00+00:00", "1", json.dumps({"sapo": f"s{chars}s"}))])
        store.fail("hue", "10", f"https://huengaynay.vn/b-10.html?y={chars}", f"HTTP 404 {chars}", permanent=True)
    return archive


@pytest.mark.parametrize("chars", HOSTILE)
def test_archive_json_outputs_escape_separators(chars: str, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    archive = _archive(tmp_path, chars)
    assert main(["export", "--archive", str(archive), "-o", "-", "--format", "jsonl"]) == 0
    [row] = one_record_per_line(capsys.readouterr().out, 1)
    assert row["title"] == f"Tiêu{chars}đề gió mùa" and row["sapo"] == f"s{chars}s"
    assert main(["export", "--archive", str(archive), "-o", str(tmp_path / "e.jsonl")]) == 0
    one_record_per_line((tmp_path / "e.jsonl").read_text(encoding="utf-8"), 1)
    capsys.readouterr()
    assert main(["failed", "--archive", str(archive), "--json"]) == 0
    [failed] = one_record_per_line(capsys.readouterr().out, 1)
    assert failed["url"] == f"https://huengaynay.vn/b-10.html?y={chars}"
    assert main(["search", "gió mùa", "--archive", str(archive), "--json"]) == 0
    [result] = one_record_per_line(capsys.readouterr().out, 1)
    assert result["hits"]


@pytest.mark.parametrize("chars", HOSTILE)
def test_a_journal_line_is_one_line_and_is_recovered(chars: str, tmp_path: Path) -> None:
    from crawler.archive.recovery import replay_journals

    row = SnapshotRow("hue", "9", 1, f"https://huengaynay.vn/a-9.html?x={chars}", "2024-05-02T10:00:00+07:00",
                      f"Tiêu{chars}đề", "text/hue/2024/05/9.txt", "0" * 64, "w.warc.gz", 0,
                      "2024-05-02T03:00:00+00:00", "1", json.dumps({"title": f"Tiêu{chars}đề"}))
    line = row.as_json_bytes().decode("utf-8")
    assert one_record_per_line(line, 1)
    assert SnapshotRow.from_json(line) == row
    archive = tmp_path / "a"
    body = b"text\n"
    good = dataclasses.replace(row, sha256=hashlib.sha256(body).hexdigest())
    (archive / good.text_path).parent.mkdir(parents=True)
    (archive / good.text_path).write_bytes(body)
    (archive / "warc").mkdir()
    (archive / "warc" / "w.warc.gz").write_bytes(b"x" * 10)
    (archive / "journal").mkdir()
    # Written raw, as an older crawler did: the reader must not split the line at U+2028 either.
    raw = json.dumps([good.source, good.article_id, good.version, good.url, good.published, good.title,
                      good.text_path, good.sha256, good.warc_file, good.warc_offset, good.fetched_at,
                      good.extractor_version, good.meta], ensure_ascii=False)
    (archive / "journal" / "w1.jsonl").write_text(raw + "\n", encoding="utf-8")
    with Store(archive) as store:
        recovered = replay_journals(store)
        assert len(recovered) == 1 and store.has_article_version("hue", "9", 1)


@pytest.mark.parametrize("chars", HOSTILE)
def test_parse_json_escapes_separators(chars: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = articles(per_source=1)[0]
    html = tmp_path / "p.html"
    html.write_bytes(page.html.replace(b"<title>", f"<title>A{chars}B ".encode(), 1)
                     .replace(b"</p>", f" x{chars}y</p>".encode(), 1))
    assert main(["parse", "--json", "--url", page.url, str(html)]) == 0
    [fields] = one_record_per_line(capsys.readouterr().out, 1)
    assert fields["article_id"] == page.article_id


# -- issue 22: the fast paths of dumps and escape write what json.dumps and the regular expression wrote -------

_TEXT = st.text(alphabet=st.one_of(st.characters(codec=None), st.sampled_from("\x85\x9f\x80\xa0\u2028\u2029\ud800\udfff"
                                                                             "\"\\\n\r\t\x00\x1f\x7f/ ")), max_size=12)
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(min_value=2**62, max_value=2**66),
                     st.floats(allow_nan=True), st.sampled_from([1e16, 1e-7, 0.1, -0.0, 1e300]), _TEXT)
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.lists(inner, max_size=3).map(tuple),
    st.dictionaries(_TEXT, inner, max_size=4), st.dictionaries(st.integers(), inner, max_size=2)), max_leaves=20)


def _reference_dumps(value: object) -> str:
    import json
    import re

    raw = re.compile("[\x80-\x9f\u2028\u2029\ud800-\udfff]")
    return raw.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(value, ensure_ascii=False))


@settings(deadline=None, max_examples=500)
@given(_VALUES)
def test_dumps_writes_what_json_dumps_and_the_escape_wrote(value: object) -> None:
    from crawler.archive import jsonlines

    assert jsonlines.dumps(value) == _reference_dumps(value)


@settings(deadline=None, max_examples=500)
@given(_TEXT, _TEXT)
def test_escape_and_escape_bytes_escape_what_the_regular_expression_did(left: str, right: str) -> None:
    import re

    from crawler.archive import jsonlines

    text = left + "Việt Nam\u00a0" + right  # a non-ASCII text with C2 bytes that are no C1 control
    expected = re.sub("[\x80-\x9f\u2028\u2029\ud800-\udfff]", lambda m: f"\\u{ord(m.group()):04x}", text)
    assert jsonlines.escape(text) == expected
    if not re.search("[\ud800-\udfff]", text):
        assert jsonlines.escape_bytes(text.encode("utf-8")) == expected.encode("utf-8")


def test_a_deep_or_circular_value_is_written_or_refused_as_before() -> None:
    from crawler.archive import jsonlines

    deep: list[object] = []
    for _ in range(100):
        deep = [deep]
    assert jsonlines.dumps(deep) == _reference_dumps(deep)
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular"):
        jsonlines.dumps(loop)
