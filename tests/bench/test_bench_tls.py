"""bench/tls.py: the throw-away certificate of the TLS scenarios serves a real TLS handshake with
ALPN h2 on loopback, its key is PKCS#8 (the only form granian reads) and private to its owner."""

from __future__ import annotations

import socket
import ssl
import stat
import threading
from pathlib import Path

import pytest

from bench import tls


def test_certificate_serves_tls_with_alpn_h2(tmp_path: Path) -> None:
    if tls.openssl() is None:
        pytest.skip("openssl is not installed")
    files = tls.make_cert(tmp_path / "tls")
    assert files.key.read_text().startswith("-----BEGIN PRIVATE KEY-----\n")
    assert stat.S_IMODE(files.key.stat().st_mode) == 0o600

    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(str(files.cert), str(files.key))
    server_ctx.set_alpn_protocols(["h2", "http/1.1"])
    client_ctx = ssl.create_default_context(cafile=str(files.cert))  # verifies name and chain
    client_ctx.set_alpn_protocols(["h2"])
    chosen = {}
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(10)

        def serve() -> None:
            conn, _ = listener.accept()
            with server_ctx.wrap_socket(conn, server_side=True) as tls_conn:
                chosen["server"] = tls_conn.selected_alpn_protocol()
                tls_conn.sendall(b"ok")

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        port = listener.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, \
                client_ctx.wrap_socket(raw, server_hostname="127.0.0.1") as conn:
            assert conn.recv(2) == b"ok"
            assert conn.selected_alpn_protocol() == "h2"
        thread.join(10)
    assert chosen["server"] == "h2"


def test_a_second_run_replaces_the_certificate(tmp_path: Path) -> None:
    if tls.openssl() is None:
        pytest.skip("openssl is not installed")
    first = tls.make_cert(tmp_path).cert.read_text()
    assert tls.make_cert(tmp_path).cert.read_text() != first


def test_missing_openssl_is_a_clear_error(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tls.shutil, "which", lambda name: None)
    with pytest.raises(tls.TlsError, match="openssl is not installed"):
        tls.make_cert(tmp_path)
