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

import tls_fixtures
from helpers import ServerProcess, run_server

# The TLS fixtures (trustme CA, certificate files), shared with the other TLS tests.
ca, ca_file, cert_files = tls_fixtures.ca, tls_fixtures.ca_file, tls_fixtures.cert_files


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
