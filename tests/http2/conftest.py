"""Fixtures for the HTTP/2 tests: ruvicorn serving the HTTP test app (``tests.http.apps:app``),
on cleartext (prior knowledge, h2c) and over TLS (ALPN, with a trustme CA), one server per module.

A module may set ``SERVER_ARGS`` (extra command-line options) and ``APP`` (another app). No
``__init__.py`` on purpose (as in tests/http): the HTTP tests' wire helpers are imported from
there.
"""

from __future__ import annotations

import ssl
from typing import Any, Iterator

import pytest
from h2_support import APP, REPO, server_args

from helpers import ServerProcess, run_server


@pytest.fixture(scope="session")
def ca() -> Any:
    trustme = pytest.importorskip("trustme")
    return trustme.CA()


@pytest.fixture(scope="session")
def cert_files(ca: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    cert = ca.issue_cert("localhost", "127.0.0.1", "::1")
    directory = tmp_path_factory.mktemp("tls")
    certfile, keyfile = directory / "cert.pem", directory / "key.pem"
    cert.cert_chain_pems[0].write_to_path(str(certfile))
    for pem in cert.cert_chain_pems[1:]:
        pem.write_to_path(str(certfile), append=True)
    cert.private_key_pem.write_to_path(str(keyfile))
    return str(certfile), str(keyfile)


@pytest.fixture(scope="session")
def ca_file(ca: Any, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    """Cleartext: HTTP/2 by prior knowledge or Upgrade: h2c, HTTP/1.1 otherwise."""
    extra = list(getattr(request.module, "SERVER_ARGS", []))
    app = getattr(request.module, "APP", APP)
    with run_server(server_args(extra, app), cwd=str(REPO)) as proc:
        yield proc


@pytest.fixture(scope="module")
def tls_server(request: pytest.FixtureRequest,
               cert_files: tuple[str, str]) -> Iterator[ServerProcess]:
    """TLS: ALPN offers h2 and http/1.1."""
    extra = list(getattr(request.module, "SERVER_ARGS", []))
    app = getattr(request.module, "APP", APP)
    certfile, keyfile = cert_files
    with run_server(server_args(["--ssl-certfile", certfile, "--ssl-keyfile", keyfile, *extra],
                                app), cwd=str(REPO)) as proc:
        yield proc


@pytest.fixture
def tls_context(ca: Any) -> ssl.SSLContext:
    from h2_client import tls_client_context

    return tls_client_context(ca)
