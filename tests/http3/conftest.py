"""Fixtures for the HTTP/3 tests: ruvicorn serving the HTTP test app (``tests.http.apps:app``)
over QUIC with a trustme certificate, on the default QUIC library (aioquic) or the one
$RUVICORN_TEST_QUIC names (h3_support.quic_libraries), one server per module and library.

A module may set ``SERVER_ARGS`` (extra command-line options) and ``APP`` (another app). The
client is aioquic's (h3_client.py), so aioquic must be installed; without it the tests skip.
"""

from __future__ import annotations

from typing import Iterator

import pytest
from h3_support import APP, REPO, quic_libraries, server_args

import tls_fixtures
from helpers import ServerProcess, run_server

# The TLS fixtures (trustme CA, certificate files), shared with the other TLS tests.
ca, ca_file, cert_files = tls_fixtures.ca, tls_fixtures.ca_file, tls_fixtures.cert_files

pytest.importorskip("aioquic", reason="the HTTP/3 tests' client needs aioquic "
                    "(pip install 'ruvicorn[http3]')")

LIBRARIES = quic_libraries()


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
