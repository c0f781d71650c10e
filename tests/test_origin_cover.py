"""With ``--origin``, a host no origin serves is never resolved or requested (issue 17, item 24):
image sub-domains, links and redirects elsewhere are refused with a reason instead."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import trio

from crawler.cli import main
from crawler.mirror import Mirror
from crawler.mirror.images import IMAGE_HOSTS
from crawler.net.fetcher import Fetcher
from crawler.net.origins import Origins


def test_images_on_an_unmapped_sub_domain_are_not_resolved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    looked_up: list[str] = []
    real_getaddrinfo = trio.socket.getaddrinfo

    async def recording(host: object, *args: object, **kwargs: object) -> object:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if not name.replace(".", "").isdigit() and ":" not in name:
            looked_up.append(name)
            raise OSError(f"test: no lookups allowed ({name})")
        return await real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(trio.socket, "getaddrinfo", recording)
    archive = tmp_path / "archive"
    with Mirror(articles=4, seed=2) as m:
        origins = [f"--origin={host}={url}" for host, url in m.origins.items() if host not in IMAGE_HOSTS]
        code = main(["crawl", "--archive", str(archive), *origins, "--delay", "0", "--no-progress", "--quiet",
                     "--images"])
        err = capsys.readouterr().err
        image_hits = [e for e in m.request_log if e.real_host in IMAGE_HOSTS]
    assert looked_up == [], looked_up
    assert not image_hits
    assert code in (0, 1), err
    runs = sorted((archive / "runs").glob("*.json"))
    figures = json.loads(runs[-1].read_text(encoding="utf-8"))["sources"]
    assert sum(f["images_failed"] for f in figures.values()) > 0, figures


@pytest.mark.parametrize("url", ["https://images.baoangiang.com.vn/a.jpg", "https://evil.example/x",
                                 "http://127.0.0.2:9/x", "https://baocantho.com.vn.evil.example/"])
def test_the_fetcher_refuses_hosts_no_origin_serves(url: str) -> None:
    origins = Origins.build([("baocantho.com.vn", "http://127.0.0.1:9")], {"baocantho.com.vn": "https://baocantho.com.vn"})
    fetcher = Fetcher(origins=origins)
    reason = fetcher.refusal(url)
    assert reason is not None and "no --origin" in reason
    assert fetcher.refusal("https://baocantho.com.vn/x") is None
    assert fetcher.refusal("http://127.0.0.1:9/x") is None  # the mirror's own address
    assert Fetcher().refusal(url) is None  # no --origin: the real world
