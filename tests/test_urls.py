"""crawler.net.urls: host identity (``host_key``) agrees with where httpx2 connects; ``absolute``.

The property tests generate URL shapes (DNS names, IPv4, IPv6 literals, ports, ``www.``,
upper case, trailing dots, credentials) and arbitrary authority strings, and compare
``host_key`` with ``httpx2.URL``: what a source's ``covers`` check accepts must be the host and
port the connection goes to.
"""

from __future__ import annotations

import ipaddress
import string
from urllib.parse import urljoin

import httpx2
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from crawler.config import parse_sources
from crawler.errors import ConfigError
from crawler.net.urls import absolute, host_key

DEFAULT_PORTS = {"http": 80, "https": 443}


def connects_to(url: str | httpx2.URL) -> tuple[str, int | None] | None:
    """(host, port) httpx2 connects to for ``url``, as a host key writes them; None if httpx2 refuses it.

    The port is None for the scheme's default; an IPv6 host is bracketed and compressed; a DNS
    name drops one trailing dot and leading ``www.`` labels while two labels remain.
    """
    try:
        parsed = url if isinstance(url, httpx2.URL) else httpx2.URL(url)
    except (httpx2.InvalidURL, ValueError):
        return None
    if parsed.scheme not in DEFAULT_PORTS or not parsed.raw_host:
        return None
    host = parsed.raw_host.decode("ascii")  # what the transport connects to (.host undoes IDNA)
    if ":" in host:
        host = f"[{ipaddress.IPv6Address(host).compressed}]"
    else:
        host = host.removesuffix(".")
        while host.startswith("www.") and "." in host[4:]:
            host = host[4:]
    port = parsed.port
    return host, None if port == DEFAULT_PORTS[parsed.scheme] else port


def key_of(host: str, port: int | None) -> str:
    return host if port is None else f"{host}:{port}"


# -- strategies ------------------------------------------------------------------------------------

label = st.text(alphabet=string.ascii_lowercase + string.digits + "-", min_size=1, max_size=8)
tld = st.builds(lambda first, rest: first + rest, st.sampled_from(string.ascii_lowercase),
                st.text(alphabet=string.ascii_lowercase + string.digits, max_size=4))
dns_name = st.builds(lambda labels, last: ".".join([*labels, last]), st.lists(label, min_size=0, max_size=3), tld)


@st.composite
def hosts(draw: st.DrawFn) -> tuple[str, str]:
    """(host as written in a URL, kind)."""
    kind = draw(st.sampled_from(["dns", "ipv4", "ipv6"]))
    if kind == "ipv4":
        return str(draw(st.ip_addresses(v=4))), kind
    if kind == "ipv6":
        address = draw(st.ip_addresses(v=6))
        written = draw(st.sampled_from([address.compressed, address.exploded, address.exploded.upper()]))
        return f"[{written}]", kind
    name = draw(dns_name)
    if draw(st.booleans()):
        name = "www." + name
    if draw(st.booleans()):
        name = "".join(c.upper() if draw(st.booleans()) else c for c in name)
    if draw(st.booleans()):
        name += "."
    return name, kind


@st.composite
def urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https", "HTTP", "Https"]))
    host, _ = draw(hosts())
    port = draw(st.one_of(st.just(""), st.just(":"), st.sampled_from([":80", ":443", ":8080", ":080"]),
                          st.integers(1, 65535).map(lambda p: f":{p}")))
    userinfo = draw(st.sampled_from(["", "user@", "user:pw@", "baocantho.com.vn@"]))
    tail = draw(st.sampled_from(["", "/", "/a/b?x=1", "?q", "#f", "/p@q/"]))
    return f"{scheme}://{userinfo}{host}{port}{tail}"


# Characters that make parsers disagree: delimiters, brackets, escapes, whitespace, look-alikes.
NASTY = string.ascii_letters[:6] + "0123456789.:@[]/\\?#%-_ \t\n\r\x00" + "٨１．。ＡK\u212a\u0130ß"


# -- properties ---------------------------------------------------------------------------------------


@settings(max_examples=400)
@given(urls())
def test_key_is_what_httpx_connects_to(url: str) -> None:
    key = host_key(url)
    target = connects_to(url)
    assert target is not None, url  # every generated shape is a valid URL ...
    assert key == key_of(*target), url  # ... and its key names exactly the host and port connected to


@settings(max_examples=400)
@given(urls())
def test_host_key_is_idempotent(url: str) -> None:
    key = host_key(url)
    assert host_key(key) == key
    assert host_key("//" + key) == key


@settings(max_examples=300)
@given(urls(), urls())
def test_same_key_only_for_the_same_host_and_port(a: str, b: str) -> None:
    if host_key(a) == host_key(b):
        assert connects_to(a) == connects_to(b), (a, b)


@given(hosts(), st.integers(1, 65535))
def test_equal_hosts_and_ports_get_equal_keys(host: tuple[str, str], port: int) -> None:
    written, _ = host
    for scheme in ("http", "https"):
        url = f"{scheme}://{written}:{port}/"
        upper = f"{scheme.upper()}://{written.upper()}:{port}/x"
        assert host_key(url) == host_key(upper) != ""


@settings(max_examples=1500)
@given(st.text(alphabet=NASTY, max_size=30), st.sampled_from(["http://", "https://", "//", ""]))
@example("[::1:8080]", "http://")
@example("www.127.0.0.1:8001", "http://")
@example("baocantho.com.vn@127.0.0.1", "http://")
@example("a.b\\@127.0.0.1:80", "http://")
@example("127.0.0.1:+80", "http://")
@example("127.0.0.1:٨٠", "http://")
@example("a.b:80\t.c", "http://")
@example("\u212aien.vn", "http://")
@example("a．b", "http://")
def test_a_non_empty_key_is_where_httpx_connects(authority: str, prefix: str) -> None:
    """Arbitrary authorities: host_key gives "" or exactly httpx2's host and port, never another one."""
    url = prefix + authority + "/x"
    key = host_key(url)
    if not key:
        return
    if prefix in ("", "//"):  # a bare host[:port] (sources.yaml): as httpx2 reads it after http://
        url = "http:" + url if url.startswith("//") else "http://" + url
        if host_key(url) != key:  # an explicit :80 stays in a bare key, http:// drops it
            assert key.endswith(":80") and host_key(url) == key.removesuffix(":80")
            return
    target = connects_to(url)
    # httpx2 refusing the URL (a control character anywhere, ...) means no connection at all.
    assert target is None or key == key_of(*target), url


@settings(max_examples=800)
@given(st.text(alphabet=NASTY, max_size=30),
       st.sampled_from(["http://127.0.0.1:8001/a/b", "https://baocantho.com.vn/x/", "http://[::1]:8080/"]))
@example("http://baocantho.com.vn@127.0.0.1/", "http://127.0.0.1:8001/a/b")
@example("//[::1:8080]/p", "http://[::1]:8080/")
@example("http:\\\\127.0.0.1/", "https://baocantho.com.vn/x/")
@example("ht\ttp://127.0.0.1:9/", "https://baocantho.com.vn/x/")
@example("http://127.0.0.1\n:9/", "https://baocantho.com.vn/x/")
def test_a_redirect_target_is_keyed_as_it_is_fetched(location: str, base: str) -> None:
    """The Fetcher resolves a Location with urljoin, vets that string, fetches that string."""
    try:
        target = urljoin(base, location.strip())
    except ValueError:
        return
    key = host_key(target)
    if key and target.lower().startswith(("http://", "https://")):
        found = connects_to(target)
        assert found is None or key == key_of(*found), (location, target)


# -- examples: the reported collisions and their siblings -------------------------------------------------


def test_ipv6_brackets_and_ports_stay_apart() -> None:
    assert host_key("http://[::1]:8080") == "[::1]:8080"
    assert host_key("http://[::1:8080]/") == "[::1:8080]"  # the address ::1:8080, port 80
    assert host_key("https://[::1:8080]:443/") == "[::1:8080]"
    assert host_key("http://[0:0::1]/") == host_key("http://[::1]:80/") == "[::1]"
    assert host_key("http://[::1]8080/") == ""  # httpx2 would read port 8080 without the colon
    assert host_key("http://[::1/") == host_key("http://[v1.x]/") == host_key("http://[127.0.0.1]/") == ""


@pytest.mark.parametrize("bare", ["::1:8080", "::1", "fe80::1", "2001:db8::1:443"])
def test_an_unbracketed_ipv6_host_has_no_key(bare: str) -> None:
    assert host_key(bare) == ""
    assert host_key(f"[{bare}]") == f"[{ipaddress.IPv6Address(bare).compressed}]"


@pytest.mark.parametrize("url", [
    "http://www.127.0.0.1:8001/", "http://www.127.0.0.1/", "http://127.1/", "http://127.0.0.1./",
    "http://0x7f000001/", "http://2130706433/", "http://www.0x7f.1/", "http://127.000.0.1/", "http://1.2.3.256/",
])
def test_numeric_names_are_not_hosts(url: str) -> None:
    """Names a resolver reads as IPv4 addresses (and www. before a literal) have no identity."""
    assert host_key(url) == ""


def test_www_is_dropped_from_dns_names_only() -> None:
    assert host_key("http://www.baocantho.com.vn/") == "baocantho.com.vn"
    assert host_key("http://www.www.baocantho.com.vn/") == "baocantho.com.vn"
    assert host_key("http://www.vn/") == "www.vn"  # "vn" alone is not the same site
    assert host_key("http://www./") == "www"
    assert host_key("www.") == "www"


@pytest.mark.parametrize(("url", "key"), [
    ("http://baocantho.com.vn@127.0.0.1/", "127.0.0.1"),  # credentials: the host is after the last '@'
    ("http://a@b@127.0.0.1:9/", "127.0.0.1:9"),
    ("http://baocantho.com.vn\\@127.0.0.1:8001/", "127.0.0.1:8001"),
    ("http://127.0.0.1:8001\\@baocantho.com.vn/", "baocantho.com.vn"),
    ("http://baocantho.com.vn#@127.0.0.1/", "baocantho.com.vn"),
    ("http://baocantho.com.vn?@127.0.0.1/", "baocantho.com.vn"),
    ("http://bàocantho.com.vn/", "xn--bocantho-zya.com.vn"),  # IDNA, as httpx2 encodes it
    ("http://baocantho\uff0ecom\uff0evn/", "baocantho.com.vn"),  # full-width dots are dots to IDNA
    ("http://\u212aiengiang.vn/", "kiengiang.vn"),  # KELVIN SIGN lower-cases to ASCII k
    ("http://%62aocantho.com.vn/", ""),  # percent-encoded host bytes: httpx2 keeps them, DNS fails
    ("http://baocantho.com.vn%2e127.0.0.1/", ""),
    ("http://127.0.0.1:+8001/", ""),  # int() accepts these, urllib does not: no port is safer than a wrong one
    ("http://127.0.0.1:\u0668\u0660/", ""),
    ("http://127.0.0.1: 80/", ""),
    ("http://127.0.0.1:0/", ""),
    ("http://127.0.0.1:65536/", ""),
    ("http://baocantho.com.vn:/", "baocantho.com.vn"),
    ("http://bao cantho.com.vn/", ""),
    ("http://baocantho.com.vn\t/", ""),
    ("http://a..b/", ""),
    ("ftp://baocantho.com.vn/", ""),
    ("javascript://baocantho.com.vn/", ""),
    (" http://baocantho.com.vn/", ""),
])
def test_hostile_authorities(url: str, key: str) -> None:
    assert host_key(url) == key
    if key:
        assert key_of(*connects_to(url) or ("?", None)) == key


def test_an_empty_key_is_covered_by_no_source() -> None:
    data = {"sources": {"s": {"name": "S", "adapter": "vdoc", "hosts": ["127.0.0.1:8001"], "base_url": "http://127.0.0.1:8001/",
                  "start_pages": ["/"], "article_url_pattern": r"-(?P<id>[0-9]+)\.html$", "pagination": "query:p",
                  "listing_depth": 1}}}
    source = parse_sources(data).get("s")
    for url in ("http://www.127.0.0.1:8001/x", "http://[::1:8001]/x", "http://127.0.0.1:+8001/x", "http://:8001/x"):
        assert not source.covers(url), url
    assert source.covers("http://127.0.0.1:8001/x")


def test_a_host_without_identity_is_refused_by_the_configuration() -> None:
    data = {"sources": {"s": {"name": "S", "adapter": "vdoc", "hosts": ["::1:8080"], "base_url": "http://::1:8080/",
                              "start_pages": ["/"], "article_url_pattern": r"-(?P<id>[0-9]+)\.html$",
                              "pagination": "query:p", "listing_depth": 1}}}
    with pytest.raises(ConfigError):
        parse_sources(data)


def test_bare_hosts_keep_their_port() -> None:
    assert host_key("baocantho.com.vn") == "baocantho.com.vn"
    assert host_key("BaoCanTho.com.vn.") == "baocantho.com.vn"
    assert host_key("127.0.0.1:8001") == "127.0.0.1:8001"
    assert host_key("[::1]:8001") == "[::1]:8001"
    assert host_key("example.com:443") == "example.com:443"  # no scheme, so no default port to drop
    assert host_key("http://example.com:443/") == "example.com:443"
    assert host_key("https://example.com:443/") == "example.com"


# -- absolute() ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("href", "expected"), [
    ("http://baocantho.com.vn/a", "http://baocantho.com.vn/a"),
    ("/a?b=1#c", "https://baocantho.com.vn/a?b=1"),
    ("//baocantho.com.vn", "https://baocantho.com.vn/"),
    ("http://baocantho.com.vn:8080", "http://baocantho.com.vn:8080/"),
    ("http://baocantho.com.vn:99999/", None),
    ("mailto:x@y", None),
])
def test_absolute(href: str, expected: str | None) -> None:
    assert absolute("https://baocantho.com.vn/x/", href) == expected


def test_absolute_does_not_pass_non_ascii_digits_as_a_port() -> None:
    """The fast path used ``\\d``: "٨٠٨٠" passed as a port, and httpx2's int() reads it as 8080."""
    href = "http://baocantho.com.vn:\u0668\u0660\u0668\u0660/a"
    result = absolute("https://baocantho.com.vn/", href)
    assert result is None or host_key(result) == ""


@settings(max_examples=500)
@given(st.text(alphabet=NASTY, max_size=30))
def test_absolute_links_are_keyed_as_they_are_fetched(href: str) -> None:
    link = absolute("https://baocantho.com.vn/x/", href)
    assume(link is not None)
    assert link is not None
    key = host_key(link)
    if key:
        found = connects_to(link)
        assert found is None or key == key_of(*found), (href, link)


def test_a_huge_authority_has_no_key() -> None:
    assert host_key("http://" + "a" * 600 + "@baocantho.com.vn/") == ""
    assert host_key("http://" + "a" * 400 + "@baocantho.com.vn/") == "baocantho.com.vn"
