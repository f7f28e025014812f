"""--http3 and its options: the start-up errors (no certificate, no QUIC library), Alt-Svc on
HTTP/1.1 and HTTP/2 responses (an app's own or --header's wins), --help, the access log, lifespan
state, --limit-concurrency, --http3-max-concurrent-streams and --http3-idle-timeout."""

from __future__ import annotations

import json
import os
import ssl
import textwrap
import time
from pathlib import Path

import httpx
import pytest
from h3_client import H3Client
from h3_support import REPO, server_args

from helpers import SRC_DIR, ServerProcess, run_cli, run_server

H3_REQUEST_REJECTED = 0x10B
OPTIONS_APP = "tests.http3.h3_apps:app"


def test_http3_needs_a_certificate() -> None:
    out = run_cli(["tests.http.apps:app", "--http3"], cwd=str(REPO))
    assert out.returncode == 1
    assert "--http3 needs --ssl-certfile and --ssl-keyfile" in out.stderr
    assert "Traceback" not in out.stderr


def test_http3_without_a_quic_library(tmp_path: Path, cert_files: tuple[str, str]) -> None:
    # A sitecustomize that makes both libraries unimportable, as on a machine without the extra.
    (tmp_path / "sitecustomize.py").write_text(textwrap.dedent("""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("qh3", "aioquic"):
                    raise ImportError("blocked: " + name)
        sys.meta_path.insert(0, Block())
    """))
    certfile, keyfile = cert_files
    out = run_cli(["tests.http.apps:app", "--http3", "--ssl-certfile", certfile,
                   "--ssl-keyfile", keyfile], cwd=str(REPO),
                  env={"PYTHONPATH": os.pathsep.join([str(tmp_path), SRC_DIR])})
    assert out.returncode == 1
    lines = [line for line in out.stderr.splitlines() if "http3" in line]
    assert len(lines) == 1, out.stderr
    assert "pip install 'ruvicorn[http3]'" in lines[0]


def test_help_lists_the_options() -> None:
    out = run_cli(["--help"])
    for option in ("--http3", "--http3-max-concurrent-streams", "--http3-idle-timeout",
                   "--http3-max-datagram-size"):
        assert option in out.stdout


def test_alt_svc_on_http1_and_http2(h3_server: ServerProcess, ca_file: str) -> None:
    context = ssl.create_default_context(cafile=ca_file)
    url = f"https://localhost:{h3_server.port}/text?msg=x"
    with httpx.Client(verify=context, http2=False) as http1:
        r1 = http1.get(url)
    with httpx.Client(verify=context, http2=True) as http2:
        r2 = http2.get(url)
    assert (r1.http_version, r2.http_version) == ("HTTP/1.1", "HTTP/2")
    expected = f'h3=":{h3_server.port}"; ma=86400'
    assert r1.headers["alt-svc"] == expected
    assert r2.headers["alt-svc"] == expected


def test_access_log_and_lifespan_state(cert_files: tuple[str, str], quic_library: str) -> None:
    args = server_args(*cert_files, [], OPTIONS_APP)
    args.remove("--no-access-log")
    with run_server(args, cwd=str(REPO), env={"RUVICORN_QUIC": quic_library}) as server:
        with H3Client(server.port) as c:
            assert c.get("/state?q=1").body == b"yes"
        assert server.wait_for_stdout('"GET /state?q=1 HTTP/3" 200', timeout=5)
        context = ssl.create_default_context(cafile=cert_files[0])
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        with httpx.Client(verify=context) as client:
            own = client.get(f"https://127.0.0.1:{server.port}/own-alt-svc")
        assert own.headers.get_list("alt-svc") == ['h3=":9999"; ma=60']  # the app's wins


def test_header_option_replaces_alt_svc(cert_files: tuple[str, str], quic_library: str) -> None:
    args = server_args(*cert_files, ["--header", "Alt-Svc:clear"], OPTIONS_APP)
    with run_server(args, cwd=str(REPO), env={"RUVICORN_QUIC": quic_library}) as server:
        with httpx.Client(verify=False) as client:
            r = client.get(f"https://127.0.0.1:{server.port}/")
    assert r.headers.get_list("alt-svc") == ["clear"]


def test_limit_concurrency(cert_files: tuple[str, str], quic_library: str) -> None:
    args = server_args(*cert_files, ["--limit-concurrency", "2"])
    with run_server(args, cwd=str(REPO), env={"RUVICORN_QUIC": quic_library}) as server:
        with H3Client(server.port) as c:
            first = c.start("GET", "/hold?token=lc0&timeout=3")
            assert json.loads(c.get("/inspect?token=lc0").body) == ["holding"]
            second = c.start("GET", "/hold?token=lc1&timeout=3")
            # Two app tasks are running (streams start in order): the next request is over the
            # limit, as on HTTP/1.1; many such requests cost nothing that lasts.
            for _ in range(150):
                assert c.get("/text?msg=over").status == 503
            assert [c.wait(h).body for h in (first, second)] == [b"released", b"released"]
            assert c.get("/text?msg=after").body == b"after"


def test_max_concurrent_streams(cert_files: tuple[str, str], quic_library: str) -> None:
    args = server_args(*cert_files, ["--http3-max-concurrent-streams", "2"])
    with run_server(args, cwd=str(REPO), env={"RUVICORN_QUIC": quic_library}) as server:
        with H3Client(server.port) as c, H3Client(server.port) as other:
            streams = [c.start("GET", f"/hold?token=mcs{i}&timeout=20") for i in range(3)]
            for i in range(2):
                events = json.loads(other.get(f"/inspect?token=mcs{i}&timeout=5").body)
                assert events == ["holding"]
            # The third stream is refused (H3_REQUEST_REJECTED) or, where the QUIC library
            # announces the limit to the client (aioquic), never opened: either way its app
            # never starts while two streams hold their slots.
            assert json.loads(other.get("/inspect?token=mcs2&timeout=1").body) == []
            assert c.responses[streams[2]].status == 0
            for i in range(2):
                other.get(f"/release?token=mcs{i}")
            assert [c.wait(s).body for s in streams[:2]] == [b"released", b"released"]
            third = c.responses[streams[2]]
            if third.reset is None:  # it was only waiting for a slot: it runs now
                other.get("/release?token=mcs2")
                assert c.wait(streams[2]).body == b"released"
            else:
                assert third.reset == H3_REQUEST_REJECTED


def test_idle_timeout(cert_files: tuple[str, str], quic_library: str) -> None:
    args = server_args(*cert_files, ["--http3-idle-timeout", "1"])
    with run_server(args, cwd=str(REPO), env={"RUVICORN_QUIC": quic_library}) as server:
        with H3Client(server.port) as c:
            assert c.get("/text").status == 200
            started = time.monotonic()
            c.wait_closed(timeout=10)  # QUIC's idle timeout: closed silently on both sides
            assert time.monotonic() - started < 8


@pytest.mark.parametrize("bad", [["--http3-max-datagram-size", "1000"],
                                 ["--http3-idle-timeout", "0"],
                                 ["--http3-max-concurrent-streams", "0"]])
def test_option_bounds(bad: list[str], cert_files: tuple[str, str]) -> None:
    out = run_cli(["tests.http.apps:app", "--http3", "--ssl-certfile", cert_files[0],
                   "--ssl-keyfile", cert_files[1], *bad], cwd=str(REPO))
    assert out.returncode == 1
    assert bad[0] in out.stderr


@pytest.mark.parametrize("reqs", ["1", "2"])
def test_http3_refuses_client_certificates(cert_files: tuple[str, str], ca_file: str,
                                           reqs: str) -> None:
    # The QUIC libraries do not verify client certificates: HTTP/3 would admit the clients the
    # TLS listener refuses, so the server does not start.
    out = run_cli(["tests.http.apps:app", "--http3", "--ssl-certfile", cert_files[0],
                   "--ssl-keyfile", cert_files[1], "--ssl-cert-reqs", reqs,
                   "--ssl-ca-certs", ca_file], cwd=str(REPO))
    assert out.returncode == 1
    lines = [line for line in out.stderr.splitlines() if "--http3" in line]
    assert len(lines) == 1, out.stderr
    assert "client certificates" in lines[0] and "Traceback" not in out.stderr
