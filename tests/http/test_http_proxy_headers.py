"""--proxy-headers on the wire: every X-Forwarded-For / X-Forwarded-Proto shape uvicorn 0.54's
own tests cover, through real sockets, against servers with different --forwarded-allow-ips.

The app answers "scheme://host:port" of scope["client"] (tests/http/proxy_app.py). The direct
peer is this test's socket (127.0.0.1 and its ephemeral port, written PEER below).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Iterator

import pytest
from http_wire import Conn, request

from helpers import ServerProcess, start_server
from ruvicorn.middleware.proxy_headers import ProxyHeadersMiddleware, TrustedHosts

APP = "tests.http.proxy_app:app"
XFF, XFP = "X-Forwarded-For", "X-Forwarded-Proto"

# Every --forwarded-allow-ips the cases below use; the servers start together, once per module.
SPECS = [
    "*",
    "127.0.0.1",
    "127.0.0.1, 10.0.0.1",
    "127.0.0.0/24, 10.0.0.1",
    "192.168.0.1",
    "192.168.0.0/16",
    "127.0.0.1, 1.2.3.4",
    "127.0.0.1, 10.0.0.0/8",
    "127.0.0.1, 10.0.2.1, 192.168.0.2",
    "10.0.2.1, 192.168.0.2, 127.0.0.1",
    "192.168.0.2, 127.0.0.1",
    "127.0.0.1, 10.0.0.0/8, 192.168.0.2",
    "127.0.0.1, 2001:db8::1, 192.168.0.2",
    "127.0.0.1, 2001:db8::/32, 192.168.0.2",
]


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, ServerProcess]]:
    repo = str(Path(__file__).resolve().parents[2])
    started: dict[str, ServerProcess] = {}
    try:
        for spec in SPECS:
            started[spec] = start_server(
                [APP, "--forwarded-allow-ips", spec, "--no-access-log", "--lifespan", "off",
                 "--timeout-graceful-shutdown", "3"], cwd=repo)
        for server in started.values():
            assert server.wait_for_stderr("Ruvicorn running on"), server.stderr_text()
        yield started
    finally:
        for server in started.values():
            server.stop()


def client_seen(server: ServerProcess, headers: list[tuple[str, str]]) -> str:
    """The app's "scheme://host:port", with the test's own port written as PEER."""
    with Conn(server.port) as conn:  # type: ignore[arg-type]
        peer_port = conn.sock.getsockname()[1]
        conn.send(request("GET", "/", headers))
        response = conn.read_response()
    assert response.status == 200, response
    return response.body.decode("latin-1").replace(f"127.0.0.1:{peer_port}", "127.0.0.1:PEER")


def _headers(forwarded_for: str | None, proto: str | None = "https") -> list[tuple[str, str]]:
    headers = []
    if forwarded_for is not None:
        headers.append((XFF, forwarded_for))
    if proto is not None:
        headers.append((XFP, proto))
    return headers


@pytest.mark.parametrize(("spec", "expected"), [
    ("*", "https://1.2.3.4:0"),
    ("127.0.0.1", "https://1.2.3.4:0"),
    ("127.0.0.1, 10.0.0.1", "https://1.2.3.4:0"),
    ("127.0.0.0/24, 10.0.0.1", "https://1.2.3.4:0"),
    ("192.168.0.1", "http://127.0.0.1:PEER"),  # the peer is not a trusted proxy
    ("192.168.0.0/16", "http://127.0.0.1:PEER"),
    ("127.0.0.1, 1.2.3.4", "https://1.2.3.4:0"),  # a client on the proxy's own machine
])
def test_trusted_peer(servers: dict[str, ServerProcess], spec: str, expected: str) -> None:
    assert client_seen(servers[spec], _headers("1.2.3.4")) == expected


@pytest.mark.parametrize(("forwarded_for", "proto", "expected"), [
    ("", "", "http://127.0.0.1:PEER"),
    ("", None, "http://127.0.0.1:PEER"),
    ("", "asdf", "http://127.0.0.1:PEER"),
    (" , ", "https", "https://127.0.0.1:PEER"),
    (", , ", "https", "https://127.0.0.1:PEER"),
    (" , 10.0.0.1", "https", "https://127.0.0.1:PEER"),
    ("9.9.9.9 , , , 10.0.0.1", "https", "https://127.0.0.1:PEER"),
    (", , 9.9.9.9", "https", "https://9.9.9.9:0"),
    (", , 9.9.9.9, , ", "https", "https://127.0.0.1:PEER"),
])
def test_empty_or_malformed_hops_never_make_a_proxy_the_client(
        servers: dict[str, ServerProcess], forwarded_for: str, proto: str | None,
        expected: str) -> None:
    seen = client_seen(servers["127.0.0.1, 10.0.0.0/8"], _headers(forwarded_for, proto))
    assert seen == expected


@pytest.mark.parametrize(("spec", "expected"), [
    ("*", "https://1.2.3.4:0"),
    ("127.0.0.1, 10.0.2.1, 192.168.0.2", "https://1.2.3.4:0"),
    ("10.0.2.1, 192.168.0.2, 127.0.0.1", "https://1.2.3.4:0"),
    ("192.168.0.2, 127.0.0.1", "https://10.0.2.1:0"),  # the right-most untrusted hop
    ("127.0.0.1, 10.0.0.0/8, 192.168.0.2", "https://1.2.3.4:0"),
])
def test_chain_of_proxies(servers: dict[str, ServerProcess], spec: str, expected: str) -> None:
    seen = client_seen(servers[spec], _headers("1.2.3.4, 10.0.2.1, 192.168.0.2"))
    assert seen == expected


@pytest.mark.parametrize(("spec", "expected"), [
    ("*", "https://1.2.3.4:1234"),
    ("127.0.0.1, 2001:db8::1, 192.168.0.2", "https://1.2.3.4:1234"),
    ("192.168.0.2, 127.0.0.1", "https://[2001:db8::1]:8080"),
    ("127.0.0.1, 2001:db8::/32, 192.168.0.2", "https://1.2.3.4:1234"),
])
def test_chain_with_ports_is_trust_checked_by_address(
        servers: dict[str, ServerProcess], spec: str, expected: str) -> None:
    hops = "1.2.3.4:1234, [2001:db8::1]:8080, 192.168.0.2:9000"
    assert client_seen(servers[spec], _headers(hops)) == expected


@pytest.mark.parametrize(("forwarded_for", "expected"), [
    ("1.2.3.4", "https://1.2.3.4:0"),
    ("1.2.3.4:1234", "https://1.2.3.4:1234"),
    ("[2001:db8::1]:443", "https://[2001:db8::1]:443"),
    ("[2001:db8::1]", "https://[2001:db8::1]:0"),
    ("2001:db8::1", "https://[2001:db8::1]:0"),
    ("1.2.3.4:notaport", "https://1.2.3.4:notaport:0"),  # kept whole: no guessing
    ("[2001:db8::1]:notaport", "https://[2001:db8::1]:0"),
    ("[2001:db8::1]extra", "https://[2001:db8::1]extra:0"),
    ("[2001:db8::1", "https://[2001:db8::1:0"),
    ("1.2.3.4:99999", "https://1.2.3.4:99999:0"),  # not a port
])
def test_hop_shapes(servers: dict[str, ServerProcess], forwarded_for: str, expected: str) -> None:
    assert client_seen(servers["*"], _headers(forwarded_for)) == expected


def test_hop_with_bytes_outside_ascii(servers: dict[str, ServerProcess]) -> None:
    headers = _headers("1.2.3.4, \xf0\xfd\xfd\xfd, unix:, ::1")
    assert client_seen(servers["*"], headers) == "https://1.2.3.4:0"


def test_empty_forwarded_for_keeps_the_peer(servers: dict[str, ServerProcess]) -> None:
    assert client_seen(servers["*"], _headers("")) == "https://127.0.0.1:PEER"


@pytest.mark.parametrize(("protos", "expected"), [
    (["https", "http"], "http://127.0.0.1:PEER"),  # the last header wins
    (["http", "https"], "https://127.0.0.1:PEER"),
    (["HTTPS"], "http://127.0.0.1:PEER"),  # only the exact lower-case names count
    (["https, http"], "http://127.0.0.1:PEER"),  # one value, not a list
    (["wss"], "https://127.0.0.1:PEER"),  # an HTTP scope keeps an HTTP scheme
    (["ws"], "http://127.0.0.1:PEER"),
])
def test_forwarded_proto(servers: dict[str, ServerProcess], protos: list[str],
                         expected: str) -> None:
    assert client_seen(servers["127.0.0.1"], [(XFP, p) for p in protos]) == expected


def test_several_forwarded_for_headers_are_combined_in_order(
        servers: dict[str, ServerProcess]) -> None:
    headers = [(XFF, "203.0.113.66, 198.51.100.23"), (XFF, "127.0.0.1")]
    assert client_seen(servers["127.0.0.1"], headers) == "http://198.51.100.23:0"


def test_haproxy_behind_a_load_balancer(servers: dict[str, ServerProcess]) -> None:
    headers = [(XFF, "1.2.3.4"), (XFF, "10.0.0.1"), (XFP, "https"), (XFP, "https")]
    assert client_seen(servers["127.0.0.1, 10.0.0.1"], headers) == "https://1.2.3.4:0"


@pytest.mark.parametrize(("proto", "expected"), [
    ("http", "ws://1.2.3.4:0"),
    ("https", "wss://1.2.3.4:0"),
    ("ws", "ws://1.2.3.4:0"),
    ("wss", "wss://1.2.3.4:0"),
])
def test_websocket_scheme(servers: dict[str, ServerProcess], proto: str, expected: str) -> None:
    from websockets.sync.client import connect

    url = f"ws://127.0.0.1:{servers['*'].port}/"
    with connect(url, additional_headers={XFF: "1.2.3.4", XFP: proto}, open_timeout=10) as ws:
        assert ws.recv(timeout=10) == expected


# --- the same rules, asked directly -------------------------------------------------------------

@pytest.mark.parametrize(("spec", "host", "trusted"), [
    ([], "127.0.0.1", False),
    ([], "", False),
    ("*", "127.0.0.1", True),
    (["*"], "::1", True),
    ("*", "some-literal", True),
    ("127.0.0.1, 10.0.0.1", "127.0.0.1", True),
    ("127.0.0.1, 10.0.0.1", "10.0.0.2", False),
    (["127.0.0.0/8", "10.0.0.0/8"], "127.255.255.255", True),
    (["127.0.0.0/8", "10.0.0.0/8"], "192.168.0.1", False),
    # IPv6 addresses compare as addresses, whatever their spelling.
    (["2001:db8::", "2001:0db8:0001:0000:0000:0ab9:C0A8:0102"], "2001:db8:1::ab9:c0a8:102", True),
    (["2001:db8:3333:4444:5555:6666:1.2.3.4"], "2001:db8:3333:4444:5555:6666:102:304", True),
    (["::11.22.33.44"], "::b16:212c", True),
    ("2001:db8:abcd:0012::0/64", "2001:db8:abcd:12::1:1", True),
    ("2001:db8:abcd:0012::0/64", "2001:db8:abcd:13::", False),
    # Anything else is a literal, matched as written.
    ("some-literal , unix:///foo/bar  ,  /foo/bar, garba*gewith*", "unix:///foo/bar", True),
    ("some-literal , unix:///foo/bar  ,  /foo/bar, garba*gewith*", "/foo/bar", True),
    ("some-literal , unix:///foo/bar  ,  /foo/bar, garba*gewith*", "*", False),
    ("some-literal , unix:///foo/bar  ,  /foo/bar, garba*gewith*", "", False),
    ("127.0.0.1, *", "8.8.8.8", False),  # '*' trusts all only on its own
    ("10.0.0.1/8", "10.0.0.2", False),  # host bits set: not a network, a literal
])
def test_trusted_hosts(spec: str | list[str], host: str, trusted: bool) -> None:
    assert (host in TrustedHosts(spec)) is trusted


def _through_middleware(trusted: str, headers: list[tuple[bytes, bytes]]) -> dict:
    seen: dict = {}

    async def app(scope: dict, receive: object, send: object) -> None:
        seen.update(scope)

    scope = {"type": "http", "scheme": "http", "headers": headers,
             "client": ("127.0.0.1", 12345)}
    asyncio.run(ProxyHeadersMiddleware(app, trusted)(scope, None, None))
    return seen


def test_middleware_combines_forwarded_for_headers_in_order() -> None:
    seen = _through_middleware("127.0.0.1", [(b"x-forwarded-for", b"203.0.113.66, 198.51.100.23"),
                                             (b"x-forwarded-for", b"127.0.0.1")])
    assert seen["client"] == ("198.51.100.23", 0)


def test_middleware_haproxy_behind_a_load_balancer() -> None:
    seen = _through_middleware("127.0.0.1, 10.0.0.1", [
        (b"x-forwarded-for", b"1.2.3.4"), (b"x-forwarded-for", b"10.0.0.1"),
        (b"x-forwarded-proto", b"https"), (b"x-forwarded-proto", b"https")])
    assert seen["client"] == ("1.2.3.4", 0) and seen["scheme"] == "https"
