"""Crawled text never drives the terminal: every command prints controls as visible escapes.

Titles, URLs and HTTP reason phrases come from the sites; source keys and error texts from a
received archive.  One function (:func:`crawler.terminal.printable`) neutralises them and every
stream ``crawler`` prints to goes through it.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from crawler.cli import main
from crawler.terminal import PrintableStream, printable

from .conftest import FIXTURES, one_source_config, send_html, serving

# What must never reach a terminal raw: C0 (but layout \n \t), ESC, DEL, C1 (CSI U+009B, NEL U+0085),
# bidi controls, line separators, lone surrogates.
FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                       "\ud800-\udfff]")
HOSTILE = ["\x1b]0;pwned\x07", "\x1b[2J\x1b[H", "\r\x1b[1A", "\x9b31m", "\u202egnp.exe", "\u2066x\u2069",
           "\x08\x08\x7f", "\x85\u2028\u2029", "\x00", "\udcff"]


@pytest.mark.parametrize("text", HOSTILE)
def test_printable_leaves_no_control_and_keeps_the_rest(text: str) -> None:
    shown = printable(f"Tin tức {text} hôm nay\n\t")
    assert not FORBIDDEN.search(shown) and "\n" not in shown and "\t" not in shown
    assert shown.startswith("Tin tức ") and shown.endswith(" hôm nay\\u000a\\u0009")
    layout = printable(f"a{text}\n\tb", layout=True)
    assert not FORBIDDEN.search(layout) and layout.endswith("\n\tb")


@pytest.mark.parametrize("text", [t for t in HOSTILE if "\udcff" not in t])
def test_json_through_the_stream_reads_back_unchanged(text: str) -> None:
    out = io.StringIO()
    value = {"title": f"x{text}y", "url": f"http://h/{text}"}
    PrintableStream(out).write(json.dumps(value, ensure_ascii=False) + "\n")
    assert not FORBIDDEN.search(out.getvalue())
    assert json.loads(out.getvalue()) == value


TITLE = "Chống \x1b]0;pwned\x07\x1b[2J\u202egnp.exe\x9b31m\u0085 mù lòa"
ARTICLE = (FIXTURES / "real" / "baocantho-a80443.html").read_bytes().replace(
    "Chống mù lòa".encode(), TITLE.encode())
REASON = "Gone \x1b[31mRED\x9b2J"


class _Hostile(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/":
            send_html(self, b'<a href="/chong-mu-loa-a80443.html">a</a>'
                            b'<a href="/bai-\x1b[2J-\xe2\x80\xae-a80444.html">b</a>'
                            b'<a href="/x%1B%5B2J-a80445.html">c</a>')
        elif self.path == "/chong-mu-loa-a80443.html":
            send_html(self, ARTICLE)
        else:
            self.send_response(500, REASON)
            self.send_header("Content-Length", "0")
            self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hostile_site(tmp_path: Path) -> Iterator[Path]:
    with serving(_Hostile) as port:
        yield one_source_config(tmp_path / "sources.yaml", "site", port)


def _clean(capsys: pytest.CaptureFixture[str], what: str) -> str:
    out, err = capsys.readouterr()
    for name, text in (("stdout", out), ("stderr", err)):
        found = FORBIDDEN.search(text)
        assert found is None, f"{what}: {name} has {found.group()!r}: {text!r}" if found else ""
    return out + err


def test_no_command_prints_a_control_from_crawled_data(hostile_site: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "archive"
    config = ["--sources", str(hostile_site)]
    main(["crawl", *config, "--archive", str(archive), "--no-progress"])
    assert "\\u001b" in _clean(capsys, "crawl summary")  # the failures are shown, escaped
    main(["failed", "--archive", str(archive)])
    assert "Gone \\u001b[31mRED" in _clean(capsys, "failed")  # the reason phrase, escaped
    main(["failed", "--archive", str(archive), "--json"])
    _clean(capsys, "failed --json")
    main(["search", "--archive", str(archive), "mù"])
    assert "\\u202e" in _clean(capsys, "search")
    main(["search", "--archive", str(archive), "--json", "mù"])
    _clean(capsys, "search --json")
    main(["stats", "--archive", str(archive)])
    _clean(capsys, "stats")
    main(["index", "--archive", str(archive)])
    _clean(capsys, "index")
    main(["sources", *config, "--check", "--fetch", "--timeout", "5"])
    _clean(capsys, "sources --check")
    page = tmp_path / "home.html"
    page.write_bytes(b'<a href="http://127.0.0.1/a-\x1b]0;x\x07-a1.html">x</a><a href="/\xc2\x9b2J-a2.html">y</a>')
    port = hostile_site.read_text().split("127.0.0.1:")[1].split('"')[0].rstrip("/")
    main(["parse", *config, "--listing", str(page), "--url", f"http://127.0.0.1:{port}/"])
    _clean(capsys, "parse --listing")
    bad_page = tmp_path / "a.html"
    bad_page.write_bytes(ARTICLE)
    main(["parse", *config, str(bad_page), "--url", f"http://127.0.0.1:{port}/x-a80443.html"])
    _clean(capsys, "parse")
    with pytest.raises(SystemExit):  # a usage error quotes the argument: escaped too
        main(["parse", *config, str(bad_page), "--url", f"http://127.0.0.1:{port}/x\x1b[2J\udcff-a80443.html"])
    _clean(capsys, "parse --url")


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_displays_keep_their_own_escape_sequences(monkeypatch: pytest.MonkeyPatch) -> None:
    """rich styles a terminal with escape sequences: its consoles write past the filter (values are escaped)."""
    from crawler.config import load_sources
    from crawler.crawl.run import Reporter

    tty = _Tty()
    monkeypatch.setattr("sys.stdout", PrintableStream(tty))
    reporter = Reporter(load_sources(), progress=True, quiet=False)
    assert reporter.progress is not None
    reporter.progress.console.print("[red]x[/red]")
    assert "\x1b[" in tty.getvalue()  # a colour, as rich wrote it


def test_no_message_says_word_s() -> None:
    """Counts are said in the right number (``1 run``, ``2 runs``), never ``run(s)``: every user-facing string
    of the package goes through :func:`crawler.terminal.plural`."""
    import re

    from crawler.terminal import plural

    assert [plural(n, "run") for n in (0, 1, 2, 1000)] == ["0 runs", "1 run", "2 runs", "1,000 runs"]
    assert plural(1, "match", "matches") == "1 match" and plural(3, "match", "matches") == "3 matches"
    import tokenize

    package = Path(__file__).resolve().parent.parent / "crawler"
    found = []
    for path in sorted(package.rglob("*.py")):
        with path.open("rb") as source:
            for token in tokenize.tokenize(source.readline):
                text = token.string
                if token.type != tokenize.STRING or text.lstrip("rbfuRBFU").startswith(('"' * 3, "'" * 3)):
                    continue  # docstrings may say "line(s)"
                said = re.sub(r"\{[^{}]*\}", "", text) if text.lstrip("rbRB").startswith(("f", "F")) else text
                if re.search(r"[a-z]\((s|es)\)", said.replace("http(s)", "")):  # not in an f-string's code
                    found.append(f"{path.name}:{token.start[0]}: {text}")
    assert found == []
