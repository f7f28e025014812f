"""The ASGI TLS extension (scope["extensions"]["tls"]) with real TLS clients: a client
certificate (trustme) and without one, over HTTP/1.1, HTTP/2 (ALPN) and WebSocket, TLS 1.3 and
1.2; the subject name is compared with cryptography's RFC 4514 rendering, cipher suites with
their IANA numbers."""

from __future__ import annotations

import json
import socket
import ssl
from typing import Any, Iterator

import httpx
import pytest
from h2_support import REPO, server_args

from helpers import ServerProcess, run_server

APP = "tests.http2.tls_app:app"
# IANA TLS cipher suite numbers (RFC 8446 B.4, RFC 5289), independent of OpenSSL's ids.
IANA = {"TLS_AES_128_GCM_SHA256": 0x1301, "TLS_AES_256_GCM_SHA384": 0x1302,
        "TLS_CHACHA20_POLY1305_SHA256": 0x1303, "ECDHE-ECDSA-AES128-GCM-SHA256": 0xC02B,
        "ECDHE-ECDSA-AES256-GCM-SHA384": 0xC02C, "ECDHE-ECDSA-CHACHA20-POLY1305": 0xCCA9}


@pytest.fixture(scope="module")
def client_cert(ca: Any) -> Any:
    # A comma and a plus in the organisation: RFC 4514 escapes both.
    return ca.issue_cert("client.example", common_name="alice",
                         organization_name="Example, Inc. + Co")


@pytest.fixture(scope="module")
def mtls_server(cert_files: tuple[str, str], ca_file: str) -> Iterator[ServerProcess]:
    certfile, keyfile = cert_files
    extra = ["--ssl-certfile", certfile, "--ssl-keyfile", keyfile,
             "--ssl-cert-reqs", str(int(ssl.CERT_OPTIONAL)), "--ssl-ca-certs", ca_file]
    with run_server(server_args(extra, APP), cwd=str(REPO)) as proc:
        yield proc


def client_context(ca: Any, cert: Any = None, alpn: list[str] | None = None,
                   tls12: bool = False) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    if cert is not None:
        cert.configure_cert(context)
    if alpn:
        context.set_alpn_protocols(alpn)
    if tls12:
        context.maximum_version = ssl.TLSVersion.TLSv1_2
    return context


def raw_get(port: int, context: ssl.SSLContext) -> tuple[dict, ssl.SSLSocket]:
    """GET / over one TLS connection; the scope's tls dict and the (closed) socket's view."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    with context.wrap_socket(sock, server_hostname="localhost") as tls:
        tls.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := tls.recv(65536):
            data += chunk
        info = (tls.version(), tls.cipher(), tls.selected_alpn_protocol())
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    return json.loads(body)["tls"], info  # type: ignore[return-value]


def expected_name(pem: bytes) -> str:
    x509 = pytest.importorskip("cryptography.x509", reason="RFC 4514 reference rendering")
    return x509.load_pem_x509_certificate(pem).subject.rfc4514_string()


def server_pem(cert_files: tuple[str, str]) -> str:
    text = open(cert_files[0]).read()
    end = text.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----")
    return ssl.DER_cert_to_PEM_cert(ssl.PEM_cert_to_DER_cert(text[:end]))


def test_http1_with_a_client_certificate(mtls_server: ServerProcess, ca: Any, client_cert: Any,
                                         cert_files: tuple[str, str]) -> None:
    tls, (version, cipher, alpn) = raw_get(
        mtls_server.port, client_context(ca, client_cert, alpn=["http/1.1"]))
    leaf = client_cert.cert_chain_pems[0].bytes()
    assert tls["client_cert_chain"][0] == leaf.decode()
    assert ssl.PEM_cert_to_DER_cert(tls["client_cert_chain"][0]) == \
        ssl.PEM_cert_to_DER_cert(leaf.decode())
    assert tls["client_cert_name"] == expected_name(leaf)
    assert "O=Example\\, Inc. \\+ Co" in tls["client_cert_name"]
    assert tls["client_cert_error"] is None
    assert tls["server_cert"] == server_pem(cert_files)
    assert version == "TLSv1.3" and tls["tls_version"] == 0x0304
    assert tls["cipher_suite"] == IANA[cipher[0]]
    assert tls["server_name"] == "localhost"
    assert alpn == "http/1.1" and tls["alpn_protocol"] == "http/1.1"


def test_tls12_without_a_client_certificate(mtls_server: ServerProcess, ca: Any) -> None:
    tls, (version, cipher, alpn) = raw_get(mtls_server.port, client_context(ca, tls12=True))
    assert version == "TLSv1.2" and tls["tls_version"] == 0x0303
    assert tls["cipher_suite"] == IANA[cipher[0]]
    assert tls["client_cert_chain"] == []
    assert tls["client_cert_name"] is None
    assert alpn is None and tls["alpn_protocol"] is None


def test_http2_streams_share_the_connections_extension(mtls_server: ServerProcess, ca: Any,
                                                       client_cert: Any) -> None:
    context = client_context(ca, client_cert, alpn=["h2"])
    url = f"https://localhost:{mtls_server.port}/"
    with httpx.Client(http1=False, http2=True, verify=context) as client:
        first, second = client.get(url), client.get(url)
    assert first.http_version == second.http_version == "HTTP/2"
    assert first.json()["http_version"] == "2"
    tls = first.json()["tls"]
    assert tls == second.json()["tls"]
    assert tls["alpn_protocol"] == "h2"
    assert tls["client_cert_name"] == expected_name(client_cert.cert_chain_pems[0].bytes())
    assert tls["tls_version"] == 0x0304


def test_websocket_over_tls(mtls_server: ServerProcess, ca: Any, client_cert: Any) -> None:
    client = pytest.importorskip("websockets.sync.client",
                                 reason="the WebSocket test needs the websockets client")
    context = client_context(ca, client_cert, alpn=["http/1.1"])
    with client.connect(f"wss://localhost:{mtls_server.port}/ws", ssl=context) as ws:
        message = json.loads(ws.recv(timeout=10))
    assert message["tls"]["client_cert_name"] == \
        expected_name(client_cert.cert_chain_pems[0].bytes())
    assert message["tls"]["server_name"] == "localhost"


def test_no_tls_extension_on_cleartext() -> None:
    with run_server(server_args([], APP), cwd=str(REPO)) as proc:
        response = httpx.get(f"{proc.url}/")
    assert response.json() == {"tls": None, "http_version": "1.1"}
