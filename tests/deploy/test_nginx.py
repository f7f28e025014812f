"""ruvicorn on a UNIX socket behind Debian's nginx, configured as docs/deployment.md says: TLS
ends at nginx, the upstream is HTTP/1.1 with keep-alive, WebSocket upgrades pass through, and the
client address and scheme come from X-Forwarded-For / -Proto only when the proxy is trusted.

The client connects from 127.0.0.2 so that the address nginx forwards is told apart from any
default. Upstream connection reuse is read from the kernel: the app lists the connections open on
its socket (/proc/net/unix) while it serves each request.
"""

from __future__ import annotations

import json
import socket
import ssl
import sys
from pathlib import Path
from typing import Iterator

import httpx
import pytest
from nginx_proxy import Nginx, find_nginx, run_nginx

from helpers import protocol_available, run_server

HERE = Path(__file__).resolve().parent
CLIENT_ADDRESS = "127.0.0.2"
pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux: /proc/net/unix"),
    pytest.mark.skipif(find_nginx() is None,
                       reason="nginx not installed (apt-get install nginx-light; .ci/run does)"),
    pytest.mark.skipif(not protocol_available(), reason="ruvicorn.protocols not built"),
]

# The proxy settings docs/deployment.md gives, in an http block around two upstreams.
PROXY = """
  map $http_upgrade $connection_upgrade {{ default upgrade; '' ''; }}
  upstream trusted {{ server unix:{trusted}; {keepalive} }}
  upstream untrusted {{ server unix:{untrusted}; {keepalive} }}
  server {{
    listen 127.0.0.1:{{port}} ssl;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    proxy_http_version {http_version};
    proxy_set_header Host $host;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto $scheme;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection $connection_upgrade;
    location / {{ proxy_pass http://trusted; }}
    location /untrusted/ {{ proxy_pass http://untrusted; }}
  }}
"""


class Stack:
    def __init__(self, nginx: Nginx, sockets: dict[str, Path], ca: str) -> None:
        self.nginx = nginx
        self.sockets = sockets
        self.context = ssl.create_default_context(cafile=ca)

    @property
    def url(self) -> str:
        return f"https://localhost:{self.nginx.port}"

    def get(self, path: str, headers: dict[str, str] | None = None) -> dict:
        """One request on a new client connection from CLIENT_ADDRESS."""
        transport = httpx.HTTPTransport(local_address=CLIENT_ADDRESS, verify=self.context)
        with httpx.Client(transport=transport, timeout=10) as client:
            response = client.get(self.url + path, headers=headers)
        assert response.status_code == 200, (response.status_code, self.nginx.error_log)
        return response.json()


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    cert = ca.issue_cert("localhost")
    base = tmp_path_factory.mktemp("tls")
    ca.cert_pem.write_to_path(str(base / "ca.pem"))
    cert.private_key_and_cert_chain_pem.write_to_path(str(base / "server.pem"))
    return {"ca": str(base / "ca.pem"), "cert": str(base / "server.pem")}


def start_stack(tmp: Path, certs: dict[str, str], keepalive: bool) -> Iterator[Stack]:
    sockets = {"trusted": tmp / "trusted.sock", "untrusted": tmp / "untrusted.sock"}
    base = ["deploy_apps:app", "--app-dir", str(HERE), "--lifespan", "off", "--no-access-log",
            # Longer than nginx's upstream keepalive_timeout (60 s): nginx, not ruvicorn, closes
            # idle upstream connections, so it never sends on one the server is closing.
            "--timeout-keep-alive", "75"]
    http = PROXY.format(trusted=sockets["trusted"], untrusted=sockets["untrusted"],
                        cert=certs["cert"], key=certs["cert"],
                        keepalive="keepalive 8;" if keepalive else "",
                        http_version="1.1" if keepalive else "1.0")
    # Over a UNIX socket the peer has no address: a literal (the socket's path) names it.
    with run_server([*base, "--uds", str(sockets["trusted"]),
                     "--forwarded-allow-ips", str(sockets["trusted"])]), \
         run_server([*base, "--uds", str(sockets["untrusted"]),
                     "--forwarded-allow-ips", "127.0.0.1,::1"]), \
         run_nginx(http, tmp / "nginx") as nginx:
        yield Stack(nginx, sockets, certs["ca"])


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, certs: dict[str, str]) -> Iterator[Stack]:
    yield from start_stack(tmp_path_factory.mktemp("deploy"), certs, keepalive=True)


def test_client_address_and_scheme_from_a_trusted_proxy(stack: Stack) -> None:
    report = stack.get("/info")
    assert report["client"] == CLIENT_ADDRESS
    assert report["scheme"] == "https"
    assert report["host"] == "localhost"
    assert report["http_version"] == "1.1"


def test_spoofed_forwarded_for_is_not_believed(stack: Stack) -> None:
    # nginx appends the address it saw; only the proxy's own hop is trusted.
    report = stack.get("/info", headers={"X-Forwarded-For": "198.51.100.9"})
    assert report["client"] == CLIENT_ADDRESS


def test_proxy_headers_ignored_when_the_proxy_is_not_trusted(stack: Stack) -> None:
    report = stack.get("/untrusted/info")
    assert report["client"] is None  # a UNIX socket peer has no address
    assert report["scheme"] == "http"


def test_upstream_connection_is_kept_alive_and_reused(stack: Stack) -> None:
    # Each report lists the server's open connections while that request was being served.
    seen = [stack.get("/info")["connections"] for _ in range(5)]
    assert all(len(open_now) == 1 for open_now in seen), seen
    assert len({inode for open_now in seen for inode in open_now}) == 1, seen


def test_without_upstream_keepalive_every_request_opens_a_connection(
        tmp_path: Path, certs: dict[str, str]) -> None:
    # The contrast that shows the reuse check above can fail.
    stack = start_stack(tmp_path, certs, keepalive=False)
    running = next(stack)
    try:
        seen = [running.get("/info")["connections"] for _ in range(3)]
    finally:
        stack.close()
    assert len({inode for open_now in seen for inode in open_now}) >= 3, seen


def test_websocket_through_the_proxy(stack: Stack) -> None:
    from websockets.sync.client import connect

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.bind((CLIENT_ADDRESS, 0))
    sock.connect(("127.0.0.1", stack.nginx.port))
    with connect(f"wss://localhost:{stack.nginx.port}/ws", sock=sock, ssl=stack.context,
                 open_timeout=10, close_timeout=5) as ws:
        report = json.loads(ws.recv(timeout=10))
        assert report["client"] == CLIENT_ADDRESS
        assert report["scheme"] == "wss"
        assert report["path"] == "/ws"
        ws.send("hello through nginx")
        assert ws.recv(timeout=10) == "hello through nginx"
        ws.send(b"\x00\x01" * 1000)
        assert ws.recv(timeout=10) == b"\x00\x01" * 1000
