"""Safety: no SSRF through names or redirects, and disk-full / permission errors stop cleanly."""

from __future__ import annotations

import errno
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import trio

from crawler.cli import main
from crawler.errors import PermanentFetchError
from crawler.fetcher import Fetcher, FetchPolicy
from crawler.mirror import Mirror
from crawler.verify import verify

from .conftest import origin_args


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", self.path.split("to=", 1)[1])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b"<html><body><p>ok</p></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[int]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_port
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def _fetch(url: str, policy: FetchPolicy | None = None, allow: object = None) -> object:
    async def go() -> object:
        async with Fetcher(policy or FetchPolicy(timeout=5, retries=0)) as fetcher:
            if allow is None:
                return await fetcher.fetch_following(url)
            return await fetcher.fetch_following(url, allow=allow)  # type: ignore[arg-type]

    return trio.run(go)


def test_a_name_resolving_to_loopback_is_refused(server: int) -> None:
    with pytest.raises(PermanentFetchError, match="non-public address"):
        _fetch(f"http://localhost:{server}/page")
    # An IP literal comes from configuration (the mirror) and is allowed.
    results = _fetch(f"http://127.0.0.1:{server}/page")
    assert isinstance(results, list) and results[-1].status == 200
    # So is a name, when the policy says private addresses are fine.
    allowed = _fetch(f"http://localhost:{server}/page", FetchPolicy(timeout=5, retries=0, allow_private_addresses=True))
    assert isinstance(allowed, list) and allowed[-1].status == 200


def test_redirects_to_private_names_or_other_hosts_are_refused(server: int) -> None:
    base = f"http://127.0.0.1:{server}"
    with pytest.raises(PermanentFetchError, match="non-public address"):
        _fetch(f"{base}/redirect?to=http://localhost:{server}/page")
    with pytest.raises(PermanentFetchError, match=r"not allowed|refused|allow"):
        _fetch(f"{base}/redirect?to=http://169.254.169.254/latest/meta-data/",
               allow=lambda url: url.startswith(base))


def test_disk_full_mid_crawl_stops_cleanly_and_keeps_the_archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "archive"
    with Mirror(articles=20, seed=4) as mirror:
        args = ["crawl", *origin_args(mirror), "--archive", str(archive), "--delay", "0", "--no-progress", "--quiet",
                "--workers", "0"]  # in this process: the injected fault reaches the WARC writer
        assert main([*args, "--source", "baocantho"]) == 0
        before = {p: p.read_bytes() for p in (archive / "text").rglob("*.txt")}
        assert before

        from crawler import warc

        real_append = warc.WarcWriter._append
        calls = {"n": 0}

        def full_disk(self: warc.WarcWriter, handle: object, members: list[bytes]) -> int:
            calls["n"] += 1
            if calls["n"] > 5:
                raise warc.StorageError.from_os(OSError(errno.ENOSPC, "No space left on device"), "write",
                                                self.current_path)
            return real_append(self, handle, members)  # type: ignore[arg-type]

        monkeypatch.setattr(warc.WarcWriter, "_append", full_disk)
        code = main([*args, "--source", "hue"])
        monkeypatch.undo()
    err = capsys.readouterr().err
    assert code == 1
    assert "No space left on device" in err and "the run failed" in err
    for path, data in before.items():
        assert path.read_bytes() == data
    report = verify(archive)
    assert report.ok, report.problems
    runs = sorted((archive / "runs").glob("*.json"))
    assert json.loads(runs[-1].read_text(encoding="utf-8"))["exit_code"] == 1


def test_permission_error_on_snapshot_write_is_a_clear_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "archive"
    with Mirror(articles=3, seed=4) as mirror:
        url = mirror.article_url("baocantho", mirror.article_ids("baocantho")[-1])
        from crawler import snapshots

        def denied(path: Path, data: bytes) -> None:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))

        monkeypatch.setattr(snapshots, "write_new_file", denied)
        code = main(["fetch", url, *origin_args(mirror), "--archive", str(archive)])
    err = capsys.readouterr().err
    assert code == 1
    assert "Permission denied" in err and "cannot write" in err and "/text/baocantho/" in err
    assert not list(archive.rglob("*.open"))  # the WARC was still closed properly
