"""Safety: no SSRF through names or redirects, and disk-full / permission errors stop cleanly.

The address checks are tested with real sockets: servers on 127.0.0.1 / ::1 count the
connections they accept, and a refused name must leave that count at zero.
"""

from __future__ import annotations

import errno
import ipaddress
import json
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote

import httpx2
import pytest
import trio

from crawler.archive.verify import verify
from crawler.cli import main
from crawler.errors import PermanentFetchError, TransientFetchError
from crawler.mirror import Mirror
from crawler.models import FetchResult
from crawler.net.connect import AddressRefusedError, CheckedBackend, CheckedTransport, is_public_address
from crawler.net.fetch_policy import FetchPolicy
from crawler.net.fetcher import Fetcher
from crawler.net.redirects import RedirectError
from crawler.net.urls import host_key

from .conftest import origin_args, send_html, serving


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        recorder = getattr(self.server, "record", None)
        if recorder is not None:
            recorder(self.path, self.headers.get("Host", ""))
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", unquote(self.path.split("to=", 1)[1]))  # %09: a tab in the Location
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b"<html><body><p>ok</p></body></html>"
        send_html(self, body, "text/html")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[int]:
    with serving(_Handler) as port:
        yield port


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

        from crawler.archive import warc

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
    record = json.loads(runs[-1].read_text(encoding="utf-8"))
    assert record["exit_code"] == 1
    assert "No space left on device" in record["error"]  # the stats file says why, for cron's reader


def test_permission_error_on_snapshot_write_is_a_clear_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "archive"
    with Mirror(articles=3, seed=4) as mirror:
        url = mirror.article_url("baocantho", mirror.article_ids("baocantho")[-1])
        from crawler.archive import snapshots

        def denied(path: Path, data: bytes) -> None:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))

        monkeypatch.setattr(snapshots, "write_new_file", denied)
        code = main(["fetch", url, *origin_args(mirror), "--archive", str(archive)])
    err = capsys.readouterr().err
    assert code == 1
    assert "Permission denied" in err and "cannot write" in err and "/text/baocantho/" in err
    assert not list(archive.rglob("*.open"))  # the WARC was still closed properly


# -- address checks before connecting (issue 8, point 5) -------------------------------------------


class CountingServer(ThreadingHTTPServer):
    """An HTTP server that counts the connections it accepts and records each request."""

    daemon_threads = True

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, port), _Handler)
        self.connections = 0
        self.requests: list[tuple[str, str]] = []  # (path, Host header)
        self.lock = threading.Lock()

    def verify_request(self, request: object, client_address: object) -> bool:
        with self.lock:
            self.connections += 1
        return True

    def record(self, path: str, host: str) -> None:
        with self.lock:
            self.requests.append((path, host))

    @property
    def port(self) -> int:
        return int(self.server_address[1])


def _serve(srv: CountingServer) -> Iterator[CountingServer]:
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(5)


@pytest.fixture
def counting() -> Iterator[CountingServer]:
    yield from _serve(CountingServer())


@pytest.fixture
def counting6() -> Iterator[CountingServer]:
    try:
        srv = CountingServer("::1")
    except OSError as exc:
        pytest.skip(f"no IPv6 loopback on this machine ({exc})")
    yield from _serve(srv)


class FakeDNS:
    """An injectable resolver: name -> addresses, counting the lookups."""

    def __init__(self, table: dict[str, Sequence[str]]) -> None:
        self.table = table
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        self.calls.append(host)
        await trio.lowlevel.checkpoint()
        if host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return self.table[host]


def _follow(url: str, *, resolver: FakeDNS | None = None, allow_private: bool = False, retries: int = 0,
            allow: Callable[[str], bool] | None = None) -> list[FetchResult]:
    async def go() -> list[FetchResult]:
        policy = FetchPolicy(timeout=5, retries=retries, allow_private_addresses=allow_private)
        async with Fetcher(policy, resolver=resolver) as fetcher:
            if allow is None:
                return await fetcher.fetch_following(url)
            return await fetcher.fetch_following(url, allow=allow)

    return trio.run(go)


@pytest.mark.parametrize("name", ["localhost", "LOCALHOST", "127.1", "0x7f000001", "2130706433", "0"])
def test_a_name_for_loopback_is_refused_before_connecting(counting: CountingServer, name: str) -> None:
    """The system resolver's answer is checked before a socket is opened: the server sees nothing.
    (127.1, 0x7f000001, ... are names to the URL parser; getaddrinfo reads them as 127.0.0.1.)"""
    with pytest.raises(AddressRefusedError, match=rf"host {name.lower()} resolves to the non-public address "
                                                  r"(127\.0\.0\.1|0\.0\.0\.0|::1)") as info:
        _follow(f"http://{name}:{counting.port}/page")
    assert isinstance(info.value, PermanentFetchError)
    assert counting.connections == 0 and counting.requests == []


def test_an_injected_name_for_loopback_is_refused_before_connecting(counting: CountingServer) -> None:
    dns = FakeDNS({"news.test": ["127.0.0.1"]})
    with pytest.raises(AddressRefusedError, match=r"host news\.test resolves to the non-public address 127\.0\.0\.1"):
        _follow(f"http://news.test:{counting.port}/page", resolver=dns)
    assert counting.connections == 0 and counting.requests == []
    assert dns.calls == ["news.test"]


def test_a_refusal_is_permanent_and_not_retried(counting: CountingServer) -> None:
    dns = FakeDNS({"news.test": ["127.0.0.1"]})
    with pytest.raises(AddressRefusedError):
        _follow(f"http://news.test:{counting.port}/page", resolver=dns, retries=3)
    assert dns.calls == ["news.test"]
    assert counting.connections == 0


@pytest.mark.parametrize("target", ["http://news.test:{port}/page", "http://localhost:{port}/page",
                                    "http://local\thost:{port}/page", " //news.test:{port}/page\t"])
def test_a_redirect_hop_to_a_loopback_name_is_refused_before_connecting(counting: CountingServer,
                                                                        target: str) -> None:
    """The origin is an IP literal (allowed); the hop's name resolves to loopback: nothing reaches
    the server for it.  (The Fetcher drops tabs and surrounding blanks from a Location, as urljoin does.)"""
    location = quote(target.format(port=counting.port), safe=":/")
    dns = FakeDNS({"news.test": ["127.0.0.1"], "localhost": ["127.0.0.1"]})
    with pytest.raises(AddressRefusedError, match=r"non-public address 127\.0\.0\.1"):
        _follow(f"http://127.0.0.1:{counting.port}/redirect?to={location}", resolver=dns)
    assert [path for path, _ in counting.requests] == [f"/redirect?to={location}"]
    assert counting.connections == 1  # the origin's; none for the hop


def test_an_ipv6_loopback_name_is_refused_and_the_literal_allowed(counting6: CountingServer) -> None:
    dns = FakeDNS({"v6.test": ["::1"]})
    with pytest.raises(AddressRefusedError, match=r"host v6\.test resolves to the non-public address ::1"):
        _follow(f"http://v6.test:{counting6.port}/page", resolver=dns)
    assert counting6.connections == 0
    results = _follow(f"http://[::1]:{counting6.port}/page", resolver=dns)  # an IP literal: configuration
    assert results[-1].status == 200 and results[-1].peer_ip == "::1"
    assert counting6.connections == 1
    assert dns.calls == ["v6.test"]  # literals are not looked up


@pytest.mark.parametrize("addresses", [
    ["93.184.216.34", "127.0.0.1"],
    ["127.0.0.1", "93.184.216.34"],
    ["2606:4700::1111", "93.184.216.34", "10.0.0.7"],
    ["93.184.216.34", "::ffff:127.0.0.1"],
    ["93.184.216.34", "169.254.169.254"],
])
def test_a_name_with_one_private_address_among_several_is_refused(counting: CountingServer,
                                                                 addresses: list[str]) -> None:
    """Every address is checked, not only the one that would be tried first."""
    dns = FakeDNS({"mixed.test": addresses})
    with pytest.raises(AddressRefusedError, match=r"host mixed\.test resolves to the non-public address"):
        _follow(f"http://mixed.test:{counting.port}/page", resolver=dns)
    assert counting.connections == 0


def test_allowed_private_names_connect_to_the_resolved_address_once(counting: CountingServer) -> None:
    """With private addresses allowed, the connection goes to the address the resolver gave (the
    system cannot resolve news.test), the name is looked up once per new connection (not per
    request, and never again by the socket layer), and the Host header is still the URL's."""
    socket_layer_lookups: list[object] = []

    class Recording(trio.abc.HostnameResolver):  # trio's hook for every lookup of a non-numeric host
        async def getaddrinfo(self, host: object, *args: object) -> list[object]:  # type: ignore[override]
            socket_layer_lookups.append(host)
            raise socket.gaierror(socket.EAI_NONAME, "the test allows no lookup here")

        async def getnameinfo(self, sockaddr: object, flags: int) -> tuple[str, str]:  # type: ignore[override]
            raise NotImplementedError

    dns = FakeDNS({"news.test": ["127.0.0.1"]})

    async def go() -> list[FetchResult]:
        trio.socket.set_custom_hostname_resolver(Recording())
        async with Fetcher(FetchPolicy(timeout=5, retries=0, allow_private_addresses=True), resolver=dns) as fetcher:
            return [await fetcher.fetch(f"http://news.test:{counting.port}/page?{i}") for i in range(3)]

    results = trio.run(go)
    assert [r.status for r in results] == [200, 200, 200]
    assert {r.peer_ip for r in results} == {"127.0.0.1"}
    assert dns.calls == ["news.test"] and counting.connections == 1
    assert {host for _, host in counting.requests} == {f"news.test:{counting.port}"}
    assert socket_layer_lookups == []  # the checked address is the one connected to: no second resolution


def _loopback_alias() -> bool:
    try:
        with socket.create_connection(("127.0.0.2", 9), timeout=1):
            return True
    except ConnectionRefusedError:
        return True  # reachable, nothing listening: what the test needs
    except OSError:
        return False


def test_the_next_address_is_tried_when_one_does_not_answer(counting: CountingServer) -> None:
    """Staggered attempts over the checked addresses (nothing listens on the first)."""
    dns = FakeDNS({"two.test": ["127.0.0.2" if _loopback_alias() else "::1", "127.0.0.1"]})
    results = _follow(f"http://two.test:{counting.port}/page", resolver=dns, allow_private=True)
    assert results[-1].status == 200 and results[-1].peer_ip == "127.0.0.1"


def test_a_name_that_does_not_resolve_is_transient(counting: CountingServer) -> None:
    with pytest.raises(TransientFetchError, match=r"nowhere\.test.*: host name not found"):
        _follow(f"http://nowhere.test:{counting.port}/", resolver=FakeDNS({}))


def test_a_resolver_answer_that_is_not_an_address_is_refused(counting: CountingServer) -> None:
    with pytest.raises(AddressRefusedError, match="not an IP address"):
        _follow(f"http://odd.test:{counting.port}/", resolver=FakeDNS({"odd.test": ["localhost"]}))


def test_a_custom_transport_still_gets_the_response_time_check(counting: CountingServer) -> None:
    """``transport_factory`` bypasses the connection layer; the peer address check stays behind it."""
    async def go() -> FetchResult:
        async with Fetcher(FetchPolicy(timeout=5, retries=0),
                           transport_factory=lambda: httpx2.AsyncHTTPTransport(trust_env=False)) as fetcher:
            return await fetcher.fetch(f"http://localhost:{counting.port}/page")

    with pytest.raises(PermanentFetchError, match="non-public address"):
        trio.run(go)


@pytest.mark.parametrize(("address", "public"), [
    ("127.0.0.1", False), ("10.1.2.3", False), ("172.16.0.1", False), ("192.168.1.1", False),
    ("169.254.169.254", False), ("100.64.0.1", False), ("0.0.0.0", False), ("255.255.255.255", False),
    ("224.0.0.1", False), ("240.0.0.1", False), ("198.18.0.1", False),
    ("::1", False), ("::", False), ("fe80::1", False), ("fc00::1", False), ("fec0::1", False), ("ff0e::1", False),
    ("::ffff:127.0.0.1", False), ("::ffff:10.0.0.1", False), ("2002:7f00:1::", False), ("64:ff9b::7f00:1", False),
    ("2001::1", False), ("2001:db8::1", False), ("::127.0.0.1", False),
    ("93.184.216.34", True), ("8.8.8.8", True), ("2606:4700::1111", True), ("::ffff:8.8.8.8", True),
    ("2002:808:808::", True), ("64:ff9b::808:808", True),
])
def test_public_addresses(address: str, public: bool) -> None:
    assert is_public_address(ipaddress.ip_address(address)) is public


def test_a_redirect_with_credentials_is_refused(counting: CountingServer) -> None:
    location = f"http://baocantho.com.vn@127.0.0.1:{counting.port}/page"
    with pytest.raises(RedirectError, match="credentials"):
        _follow(f"http://127.0.0.1:{counting.port}/redirect?to={location}")
    assert [path for path, _ in counting.requests] == [f"/redirect?to={location}"]


@pytest.mark.parametrize("location", ["http://www.127.0.0.1:{port}/page", "http://127.1:{port}/page",
                                      "http://127.0.0.1:+{port}/page", "http://127.0.0.1.:{port}/page"])
def test_redirects_that_only_look_like_the_origin_are_not_followed(counting: CountingServer, location: str) -> None:
    """Host identity refuses hosts that merely resemble the source's, so nothing is fetched there."""
    origin = f"127.0.0.1:{counting.port}"
    target = location.format(port=counting.port)
    with pytest.raises(RedirectError, match="not allowed"):
        _follow(f"http://{origin}/redirect?to={target}", allow=lambda u: host_key(u) == origin)
    assert len(counting.requests) == 1


def test_an_ipv6_origin_does_not_cover_a_bracket_twin() -> None:
    """``[::1]:PORT`` and ``[::1:PORT]`` (the address ::1:PORT, port 80) are different hosts: the
    redirect is not followed.  The port must read as an IPv6 group (4 digits) for the twin to exist."""
    srv = None
    for port in range(8080, 8180):
        try:
            srv = CountingServer("::1", port)
            break
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                pytest.skip(f"no IPv6 loopback on this machine ({exc})")
    if srv is None:
        pytest.skip("no free port in 8080-8179 on ::1")
    for served in _serve(srv):
        origin = f"[::1]:{served.port}"

        def covers(url: str, origin: str = origin) -> bool:
            return host_key(url) == origin

        with pytest.raises(RedirectError, match="not allowed"):
            _follow(f"http://{origin}/redirect?to=http://[::1:{served.port}]/page", allow=covers)
        assert len(served.requests) == 1


# -- TLS: the server name stays the URL's host ------------------------------------------------------


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: cannot make a test certificate")
    where = tmp_path_factory.mktemp("tls")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
             "-subj", "/CN=crawler test CA", cwd=where)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
             "-subj", "/CN=tls.test", cwd=where)
    (where / "ext.cnf").write_text("subjectAltName=DNS:tls.test\n", encoding="ascii")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf", cwd=where)
    return where


def test_tls_keeps_the_url_host_as_server_name(certificates: Path) -> None:
    """Connected to a checked address, TLS still sends the URL's name (SNI) and verifies the
    certificate against it; the Host header is the URL's too."""
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(certificates / "server.pem", certificates / "server.key")
    names: list[str | None] = []

    def sni(sock: object, name: str | None, context: object) -> None:
        names.append(name)

    server_context.sni_callback = sni  # type: ignore[assignment]
    srv = CountingServer()
    srv.socket = server_context.wrap_socket(srv.socket, server_side=True)
    client_context = ssl.create_default_context(cafile=str(certificates / "ca.pem"))
    dns = FakeDNS({"tls.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]})

    async def get(url: str) -> httpx2.Response:
        transport = CheckedTransport(verify=client_context, limits=httpx2.Limits(),
                                     backend=CheckedBackend(allow_private=True, resolver=dns))
        async with httpx2.AsyncClient(transport=transport) as client:
            return await client.get(url)

    for served in _serve(srv):
        response = trio.run(get, f"https://tls.test:{served.port}/page")
        assert response.status_code == 200
        assert names == ["tls.test"]
        assert served.requests == [("/page", f"tls.test:{served.port}")]
        with pytest.raises(httpx2.ConnectError) as info:
            trio.run(get, f"https://other.test:{served.port}/page")  # the certificate is checked against the name
        cause: BaseException | None = info.value
        while cause is not None and not isinstance(cause, ssl.SSLCertVerificationError):
            cause = cause.__cause__ or cause.__context__
        assert cause is not None and "other.test" in str(cause)
        assert names == ["tls.test", "other.test"]


def test_a_port_out_of_range_is_refused_not_crashed() -> None:
    """httpx2 parses ``:70000`` as a port; the connection layer refuses it (permanent) before any socket."""
    with pytest.raises(AddressRefusedError, match=r"port 70000 of host 127\.0\.0\.1 is out of range"):
        _follow("http://127.0.0.1:70000/")
