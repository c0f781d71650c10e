"""Hosts in sources.yaml that resolvers read as IPv4 addresses without being dotted-quad literals are
refused with a clear message (issue 17, item 29): no source ever has an empty host key."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.cli import main
from crawler.config import parse_sources
from crawler.config.checks import host_problem
from crawler.errors import ConfigError
from crawler.net.urls import host_key

DISGUISED = ["127.1", "2130706433", "0x7f.1", "017700000001", "0x7f000001", "0177.0.0.1", "127.0.0.01",
             "127.0.0.1.", "1.2.3.4.5", "0x7F.0.0.1", "127.1:8080", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]:8001",
             "www.127.0.0.1", "example.0x10"]


def _sources(host: str, base_url: str | None = None) -> dict[str, object]:
    return {"sources": {"s": {"name": "S", "adapter": "vdoc", "hosts": [host],
                              "base_url": base_url or f"http://{host}/", "start_pages": ["/"],
                              "article_url_pattern": r"-(?P<id>[0-9]+)\.html$", "pagination": "query:p",
                              "listing_depth": 1}}}


@pytest.mark.parametrize("host", DISGUISED)
def test_a_disguised_address_is_refused_with_a_clear_message(host: str) -> None:
    problem = host_problem(host)
    assert problem is not None and ("IPv4" in problem or "number" in problem), problem
    with pytest.raises(ConfigError, match=r"IPv4|number"):
        parse_sources(_sources(host))


@pytest.mark.parametrize("host", DISGUISED[:6])
def test_the_cli_names_the_host_and_exits_2(host: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "sources.yaml"
    config.write_text(f"sources:\n  s:\n    adapter: vdoc\n    hosts: ['{host}']\n    base_url: 'http://{host}/'\n"
                      "    article_url_pattern: '-(?P<id>[0-9]+)[.]html$'\n", encoding="utf-8")
    code = main(["sources", "--sources", str(config), "--check"])
    err = capsys.readouterr().err
    assert code == 2 and host in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="0123456789abcdefx.:[]-", min_size=1, max_size=20))
def test_an_accepted_host_always_has_a_key(host: str) -> None:
    if host_problem(host) is None:
        assert host_key(host), host


@pytest.mark.parametrize("host", ["127.0.0.1:8001", "baocantho.com.vn", "[::1]:8080", "1e2.com", "a.b-c.vn"])
def test_real_hosts_still_pass(host: str) -> None:
    assert host_problem(host) is None and host_key(host)
    parse_sources(_sources(host))
