"""Every h2spec conformance case (generic, http2 3.5 to 8.2, hpack) and every known HTTP/2 attack
of tests/http2/h2_conformance.py, against ruvicorn itself (the same cases run against the C++
example server in tests/embed): strict, so errors must come as GOAWAY or RST_STREAM with the code
RFC 9113 requires, and each attack must leave the server serving a second connection."""

from __future__ import annotations

import h2_conformance
import pytest

from helpers import ServerProcess


@pytest.fixture(scope="module")
def target(server: ServerProcess) -> h2_conformance.Target:
    # /text answers GET with 5 body bytes; /body?echo=1 echoes a POST (tests/http/apps.py).
    return h2_conformance.Target("127.0.0.1", server.port, get_path="/text?msg=hello",
                                 echo_path="/body?echo=1")


@pytest.mark.parametrize("case_id", list(h2_conformance.CASES))
def test_conformance(target: h2_conformance.Target, case_id: str) -> None:
    h2_conformance.CASES[case_id](target)
