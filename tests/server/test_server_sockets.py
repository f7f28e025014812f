"""Listening sockets: IPv4/IPv6, UNIX socket, inherited file descriptor, TLS."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

import httpx
import pytest

from helpers import free_port, protocol_available, run_server

APPS = str(Path(__file__).resolve().parent)
BASE = ["--app-dir", APPS]
pytestmark = pytest.mark.skipif(not protocol_available(), reason="ruvicorn.protocols not built")


def _raw_get(sock: socket.socket) -> bytes:
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    chunks = []
    while True:
        data = sock.recv(65536)
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks)


def _has_ipv6() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _has_ipv6(), reason="no IPv6 loopback")
def test_ipv6() -> None:
    with run_server([*BASE, "--host", "::1", "apps:hello"]) as server:
        assert f"Ruvicorn running on http://[::1]:{server.port}" in server.stderr_text()
        with socket.create_connection(("::1", server.port), timeout=10) as sock:
            response = _raw_get(sock)
        assert response.startswith(b"HTTP/1.1 200") and b"hello" in response


def test_unix_socket(tmp_path: Path) -> None:
    path = str(tmp_path / "s.sock")
    with run_server([*BASE, "--uds", path, "apps:hello"]) as server:
        assert f"Ruvicorn running on unix socket {path}" in server.stderr_text()
        transport = httpx.HTTPTransport(uds=path)
        with httpx.Client(transport=transport) as client:
            assert client.get("http://localhost/").text == "hello"
        assert server.stop() == 0
    assert not Path(path).exists()


def test_file_descriptor() -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]
    fd = listener.fileno()
    try:
        with run_server([*BASE, "--fd", str(fd), "apps:hello"], pass_fds=[fd]) as server:
            assert "Ruvicorn running on socket" in server.stderr_text()
            assert httpx.get(f"http://127.0.0.1:{port}/", timeout=10).text == "hello"
    finally:
        listener.close()


def test_backlog_option_is_accepted() -> None:
    with run_server([*BASE, "--backlog", "16", "apps:hello"]) as server:
        assert httpx.get(server.url + "/").text == "hello"


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    base = tmp_path_factory.mktemp("tls")
    paths = {"ca": base / "ca.pem", "cert": base / "cert.pem", "key": base / "key.pem",
             "client": base / "client.pem"}
    ca.cert_pem.write_to_path(str(paths["ca"]))
    cert.cert_chain_pems[0].write_to_path(str(paths["cert"]))
    cert.private_key_pem.write_to_path(str(paths["key"]))
    client_cert = ca.issue_cert("client@example.org")
    client_cert.private_key_and_cert_chain_pem.write_to_path(str(paths["client"]))
    return {k: str(v) for k, v in paths.items()}


def test_tls(certs: dict[str, str]) -> None:
    args = [*BASE, "--ssl-certfile", certs["cert"], "--ssl-keyfile", certs["key"],
            "apps:echo_scope"]
    with run_server(args) as server:
        assert f"Ruvicorn running on https://127.0.0.1:{server.port}" in server.stderr_text()
        context = ssl.create_default_context(cafile=certs["ca"])
        response = httpx.get(f"https://127.0.0.1:{server.port}/", verify=context, timeout=10)
        assert "scheme=https" in response.text


def test_tls_client_certificate_required(certs: dict[str, str]) -> None:
    args = [*BASE, "--ssl-certfile", certs["cert"], "--ssl-keyfile", certs["key"],
            "--ssl-ca-certs", certs["ca"], "--ssl-cert-reqs", str(int(ssl.CERT_REQUIRED)),
            "--ssl-ciphers", "ECDHE+AESGCM", "apps:hello"]
    with run_server(args) as server:
        url = f"https://127.0.0.1:{server.port}/"
        context = ssl.create_default_context(cafile=certs["ca"])
        with pytest.raises(httpx.HTTPError):
            httpx.get(url, verify=context, timeout=10).raise_for_status()
        context.load_cert_chain(certs["client"])
        assert httpx.get(url, verify=context, timeout=10).text == "hello"


def test_bad_certificate_path_exits() -> None:
    from helpers import run_cli

    result = run_cli([*BASE, "--ssl-certfile", "/no/such.pem", "--port", str(free_port()),
                      "apps:hello"])
    assert result.returncode == 3
    assert "Invalid TLS configuration" in result.stderr
