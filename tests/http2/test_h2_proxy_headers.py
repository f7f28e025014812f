"""--proxy-headers over HTTP/2: the same scope builder as HTTP/1.1, so the same rules — several
X-Forwarded-For fields combined in order, the last X-Forwarded-Proto — on every stream."""

from __future__ import annotations

from h2_client import H2Client

from helpers import ServerProcess

APP = "tests.http.proxy_app:app"
SERVER_ARGS = ["--forwarded-allow-ips", "127.0.0.1, 10.0.0.1", "--lifespan", "off"]


def client_seen(server: ServerProcess, headers: list[tuple[bytes, bytes]]) -> str:
    with H2Client(server.port) as client:  # type: ignore[arg-type]
        peer_port = client.sock.getsockname()[1]
        result = client.get("/", headers=headers)
    assert result.status == 200, result
    return result.body.decode("latin-1").replace(f"127.0.0.1:{peer_port}", "127.0.0.1:PEER")


def test_several_forwarded_for_fields_are_combined_in_order(server: ServerProcess) -> None:
    headers = [(b"x-forwarded-for", b"203.0.113.66, 198.51.100.23"),
               (b"x-forwarded-for", b"10.0.0.1"), (b"x-forwarded-proto", b"https")]
    assert client_seen(server, headers) == "https://198.51.100.23:0"


def test_haproxy_behind_a_load_balancer(server: ServerProcess) -> None:
    headers = [(b"x-forwarded-for", b"1.2.3.4"), (b"x-forwarded-for", b"10.0.0.1"),
               (b"x-forwarded-proto", b"http"), (b"x-forwarded-proto", b"https")]
    assert client_seen(server, headers) == "https://1.2.3.4:0"

