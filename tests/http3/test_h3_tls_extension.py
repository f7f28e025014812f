"""The ASGI tls extension over HTTP/3: QUIC is TLS 1.3, so every request stream's scope carries
``extensions["tls"]`` as over TCP, with the cipher suite the handshake chose and ALPN "h3"."""

from __future__ import annotations

import json
import ssl

import pytest
from h3_client import H3Client

from helpers import ServerProcess

TLS_AES_128_GCM_SHA256 = 0x1301
TLS_CHACHA20_POLY1305_SHA256 = 0x1303


def server_pem(certfile: str) -> str:
    text = open(certfile).read()
    end = text.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----")
    return ssl.DER_cert_to_PEM_cert(ssl.PEM_cert_to_DER_cert(text[:end]))


@pytest.mark.parametrize("cipher", [TLS_AES_128_GCM_SHA256, TLS_CHACHA20_POLY1305_SHA256])
def test_scope_has_the_tls_extension(h3_server: ServerProcess, cert_files: tuple[str, str],
                                     cipher: int) -> None:
    with H3Client(h3_server.port, cipher_suites=[cipher]) as c:
        first = json.loads(c.get("/scope").body)
        second = json.loads(c.get("/scope").body)
    tls = first["extensions"]["tls"]
    assert tls == second["extensions"]["tls"]  # one connection, one extension
    assert tls["tls_version"] == 0x0304
    assert tls["cipher_suite"] == cipher  # what this client offered alone, so the handshake's
    assert tls["alpn_protocol"] == "h3"
    assert tls["server_cert"] == server_pem(cert_files[0])
    assert tls["client_cert_chain"] == []
    assert tls["client_cert_name"] is None
    assert tls["client_cert_error"] is None
    assert tls["server_name"] is None  # the QUIC libraries do not keep the SNI name
