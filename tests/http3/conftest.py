"""Fixtures for the HTTP/3 tests: ruvicorn serving the HTTP test app (``tests.http.apps:app``)
over QUIC with a trustme certificate, once per QUIC library installed (qh3, aioquic: the same
tests pass with each), one server per module and library.

A module may set ``SERVER_ARGS`` (extra command-line options) and ``APP`` (another app). The
client is aioquic's (h3_client.py), so aioquic must be installed; without it the tests skip.
"""

from __future__ import annotations

from typing import Any, Iterator

import pytest
from h3_support import APP, REPO, quic_libraries, server_args

from helpers import ServerProcess, run_server

pytest.importorskip("aioquic", reason="the HTTP/3 tests' client needs aioquic "
                    "(pip install 'ruvicorn[http3]')")

LIBRARIES = quic_libraries()


@pytest.fixture(scope="session")
def ca() -> Any:
    trustme = pytest.importorskip("trustme")
    return trustme.CA()


@pytest.fixture(scope="session")
def cert_files(ca: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    cert = ca.issue_cert("localhost", "127.0.0.1", "::1")
    directory = tmp_path_factory.mktemp("h3tls")
    certfile, keyfile = directory / "cert.pem", directory / "key.pem"
    cert.cert_chain_pems[0].write_to_path(str(certfile))
    for pem in cert.cert_chain_pems[1:]:
        pem.write_to_path(str(certfile), append=True)
    cert.private_key_pem.write_to_path(str(keyfile))
    return str(certfile), str(keyfile)


@pytest.fixture(scope="session")
def ca_file(ca: Any, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("h3ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(scope="module", params=LIBRARIES or ["none"])
def quic_library(request: pytest.FixtureRequest) -> str:
    if request.param == "none":
        pytest.skip("no QUIC library installed (pip install 'ruvicorn[http3]')")
    return str(request.param)


@pytest.fixture(scope="module")
def h3_server(request: pytest.FixtureRequest, cert_files: tuple[str, str],
              quic_library: str) -> Iterator[ServerProcess]:
    extra = list(getattr(request.module, "SERVER_ARGS", []))
    app = getattr(request.module, "APP", APP)
    with run_server(server_args(*cert_files, extra, app), cwd=str(REPO),
                    env={"RUVICORN_QUIC": quic_library}) as proc:
        yield proc
