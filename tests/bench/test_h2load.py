"""bench/h2load.py: h2load's command line, its summary and its per-request log, read from
outputs recorded from h2load 1.52 (tests/bench/data/), so a change in its format is caught."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench import h2load, scenarios

by_name = scenarios.by_name

DATA = Path(__file__).resolve().parent / "data"


def recorded(name: str) -> str:
    return (DATA / name).read_text()


def test_cleartext_summary() -> None:
    result = h2load.parse(recorded("h2load-h2c.txt"))
    assert result["protocol"] == "h2c"
    assert result["rate"] == pytest.approx(141480.0)
    assert result["errors"] == 0
    assert result["requests"] == {"total": 141480, "started": 141520, "done": 141480,
                                  "succeeded": 141480, "failed": 0, "errored": 0, "timeout": 0}
    assert result["status"] == {"2xx": 141480, "3xx": 0, "4xx": 0, "5xx": 0}
    assert result["seconds"] == pytest.approx(1.01)
    assert "tls" not in result


def test_one_request_summary() -> None:
    # What the readiness probe (h2load -n1 -c1) reads: "finished in 3.63ms".
    result = h2load.parse(recorded("h2load-probe.txt"))
    assert result["status"]["2xx"] == 1 and result["errors"] == 0
    assert result["seconds"] == pytest.approx(0.00363)


def test_tls_summary_names_protocol_and_cipher() -> None:
    result = h2load.parse(recorded("h2load-tls.txt"))
    assert result["protocol"] == "h2"
    assert result["tls"] == {"protocol": "TLSv1.3", "cipher": "TLS_AES_128_GCM_SHA256"}
    assert result["rate"] == pytest.approx(10368.0)


def test_http11_fallback_is_an_error_not_a_rate() -> None:
    # A TLS server without ALPN h2: h2load falls back to HTTP/1.1 and still prints a rate.
    result = h2load.parse(recorded("h2load-http11-fallback.txt"))
    assert result == {"error": "negotiated http/1.1, not HTTP/2"}


def test_no_connection_is_an_error() -> None:
    result = h2load.parse(recorded("h2load-refused.txt"))
    assert "error" in result and "no protocol" in result["error"]


def test_error_answers_count_as_errors_and_not_as_rate() -> None:
    # h2load's own req/s (21217.91 here) counts the 404s; ours counts 2xx answers only.
    result = h2load.parse(recorded("h2load-404.txt"))
    assert result["rate"] == 0.0
    assert result["errors"] == 200
    assert result["status"]["4xx"] == 200


def test_redirects_count_as_errors() -> None:
    out = recorded("h2load-404.txt").replace(
        "0 succeeded, 200 failed", "200 succeeded, 0 failed").replace(
        "0 2xx, 0 3xx, 200 4xx", "0 2xx, 200 3xx, 0 4xx")
    result = h2load.parse(out)
    assert result["errors"] == 200
    assert result["rate"] == 0.0


def test_unknown_output_is_an_error() -> None:
    assert "error" in h2load.parse("h2load: unrecognized option '--bogus'\n")


def test_latency_from_recorded_log() -> None:
    rows = recorded("h2load-log.tsv").splitlines()
    assert len(rows) == 200
    durations = sorted(int(row.split("\t")[2]) for row in rows)
    p50, p99 = h2load.latency(rows)
    assert p50 == durations[99] / 1000
    assert p99 == durations[197] / 1000


def test_latency_percentiles_skip_failed_streams() -> None:
    rows = [f"1700000000000000\t200\t{ms * 1000}" for ms in range(1, 101)]
    rows.insert(10, "1700000000000000\t-1\t999999999")  # a reset stream: no latency
    assert h2load.latency(rows) == (50.0, 99.0)
    assert h2load.latency([]) == (None, None)
    assert h2load.latency(["1700000000000000\t-1\t5"]) == (None, None)


def test_read_latency_removes_the_log(tmp_path: Path) -> None:
    log = tmp_path / "h2load.log"
    log.write_text("1\t200\t2000\n2\t200\t4000\n")
    assert h2load.read_latency(log) == (2.0, 4.0)
    assert not log.exists()
    assert h2load.read_latency(log) == (None, None)


def test_argv_cleartext_upload_and_tls(tmp_path: Path) -> None:
    log = tmp_path / "h2load.log"
    post = h2load.argv(by_name("h2-post-1k"), 8000, 5, "1", log, tmp_path)
    assert post[:3] == ["taskset", "-c", "1"]
    assert post[3:9] == ["h2load", "-t1", "-c64", "-m10", "-D5", f"--log-file={log}"]
    body = Path(post[post.index("-d") + 1])
    assert body.stat().st_size == 1024
    assert post[-1] == "http://127.0.0.1:8000/echo"
    tls = h2load.argv(by_name("h2-64k-tls"), 8001, 1, None, log, tmp_path)
    assert tls[0] == "h2load" and "-d" not in tls
    assert f"--tls13-ciphers={h2load.TLS13_CIPHER}" in tls
    assert tls[-1] == "https://127.0.0.1:8001/64k"


def test_probe_tells_http2_from_http11(monkeypatch: pytest.MonkeyPatch) -> None:
    """The readiness probe of the HTTP/2 families, against a real server."""
    if shutil.which("h2load") is None:
        pytest.skip("h2load is not installed (Debian: nghttp2-client)")
    from helpers import run_server

    app = ["bench.apps:app", "--app-dir", str(DATA.parent.parent.parent), "--no-access-log"]
    with run_server(app) as http2, run_server([*app, "--no-http2"]) as http11:
        # h2load must not run under the sanitizer runtime CI preloads for the server.
        for name in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS"):
            monkeypatch.delenv(name, raising=False)
        assert h2load.probe(http2.port, tls=False, timeout=10) is None
        why = h2load.probe(http11.port, tls=False, timeout=10)
        assert why is not None and why.startswith("HTTP/2 GET /plaintext"), why
