"""bench/report.py and the runner's plan, on made-up runs: HTTP/2 rows compare with granian-h2
and with the same server's HTTP/1.1 twin (rate and memory per connection), HTTP/1.1 rows keep
uvicorn-httptools; a missing h2load skips the HTTP/2 scenarios with one line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest

from bench import __main__ as cli
from bench import h2load, report, runner, scenarios, servers

H2, H2_TLS, HTTP1 = scenarios.H2, scenarios.H2_TLS, scenarios.HTTP1


def run(server: str, scenario: str, rate: float, rss: float, per_conn: float,
        errors: int = 0) -> Dict:
    return {"server": server, "scenario": scenario, "round": 1, "rate": rate, "p50_ms": 1.0,
            "p99_ms": 2.0, "rss_mib": rss, "rss_idle_mib": 20.0, "rss_per_conn_kib": per_conn,
            "errors": errors, "server_cpu": 0.5, "client_cpu": 0.2, "other_cpu": 0.0}


RUNS: List[Dict] = [
    run("ruvicorn-pico", "plaintext", 80_000, 25.0, 4.0),
    run("uvicorn-httptools", "plaintext", 40_000, 30.0, 8.0),
    run("ruvicorn-pico", "h2-plaintext", 120_000, 30.0, 50.0),
    run("granian-h2", "h2-plaintext", 60_000, 35.0, 80.0, errors=3),
    run("ruvicorn-pico", "h2-plaintext-tls", 90_000, 32.0, 60.0),
    {"server": "hypercorn", "scenario": "h2-plaintext", "round": 1,
     "error": "negotiated http/1.1, not HTTP/2", "rss_mib": None},
]


def test_ratios() -> None:
    summary = report.summarize(RUNS)
    ruvicorn_h2 = summary["h2-plaintext"]["ruvicorn-pico"]
    assert ruvicorn_h2["baseline"] == "granian-h2"
    assert ruvicorn_h2["vs_baseline"] == pytest.approx(2.0)
    assert ruvicorn_h2["vs_http1"] == pytest.approx(1.5)
    assert ruvicorn_h2["rss_per_conn_vs_http1"] == pytest.approx(12.5)
    assert ruvicorn_h2["rss_per_stream_kib"] == pytest.approx(5.0)
    assert ruvicorn_h2["rss_per_stream_vs_http1"] == pytest.approx(1.25)
    assert ruvicorn_h2["rate_per_server_cpu"] == pytest.approx(240_000)
    assert ruvicorn_h2["vs_ceiling"] is None
    assert summary["h2-plaintext"]["granian-h2"]["errors"] == 3
    assert summary["h2-plaintext"]["hypercorn"]["rate"] is None
    # HTTP/1.1 rows keep their baseline; the TLS row has no HTTP/1.1 twin.
    assert summary["plaintext"]["ruvicorn-pico"]["baseline"] == "uvicorn-httptools"
    assert summary["plaintext"]["ruvicorn-pico"]["vs_baseline"] == pytest.approx(2.0)
    assert "vs_http1" not in summary["h2-plaintext-tls"]["ruvicorn-pico"]


def test_markdown_has_an_http2_table_and_the_http1_comparison() -> None:
    meta = {"cpu": "test CPU", "cpus": 2, "kernel": "6", "wrk": "wrk 4",
            "h2load": "h2load nghttp2/1.52.0", "rounds": 1, "duration": 1, "server_cpu": "0",
            "load_cpu": "1", "h2load_tls13_cipher": h2load.TLS13_CIPHER}
    servers = {name: {"status": "ok", "module": name, "version": "1", "python": "3",
                      "notes": []}
               for name in ("ruvicorn-pico", "uvicorn-httptools", "granian-h2", "hypercorn")}
    text = report.markdown({"meta": meta, "servers": servers, "runs": RUNS,
                            "summary": report.summarize(RUNS)})
    lines = text.splitlines()
    http1 = lines.index("Median rate per scenario (ratio to uvicorn-httptools):")
    assert lines[http1 + 2] == "| scenario | ruvicorn-pico | uvicorn-httptools |"
    assert lines[http1 + 4] == "| plaintext | 80,000 (2.00x) | 40,000 (1.00x) |"
    http2 = next(i for i, line in enumerate(lines) if "(ratio to granian-h2)" in line)
    assert lines[http2 + 2] == "| scenario | ruvicorn-pico | granian-h2 | hypercorn |"
    assert lines[http2 + 4] == "| h2-plaintext | 120,000 (2.00x) | 60,000 (1.00x) | failed |"
    assert ("| ruvicorn-pico | h2-plaintext vs plaintext | 80,000 | 120,000 | 1.50x | 4.0 "
            "| 50.0 | 12.50x | 5.0 | 1.25x |") in lines
    assert "h2load nghttp2/1.52.0" in lines[0]


def test_each_family_is_its_own_process() -> None:
    opts = runner.Options(
        scenarios=["plaintext", "ws-32", "h2-plaintext", "h2-json", "h2-64k-tls"])
    plan = runner.Runner(opts).plan
    names = {server.name: {family: [s.name for s in chosen]
                           for family, chosen in plan(server).items()}
             for server in servers.SERVERS}
    assert names["ruvicorn-pico"] == {HTTP1: ["plaintext", "ws-32"],
                                      H2: ["h2-plaintext", "h2-json"], H2_TLS: ["h2-64k-tls"]}
    assert names["granian-h2"] == {H2: ["h2-plaintext", "h2-json"], H2_TLS: ["h2-64k-tls"]}
    assert names["granian"] == {HTTP1: ["plaintext", "ws-32"]}
    assert names["uvicorn-httptools"] == {HTTP1: ["plaintext", "ws-32"]}
    assert names["ruvicorn-llhttp"] == {HTTP1: ["plaintext", "ws-32"]}


def test_missing_h2load_skips_the_http2_scenarios_with_one_line(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(cli.h2load, "available", lambda: False)
    monkeypatch.setattr(cli.shutil, "which", lambda name: f"/usr/bin/{name}")
    kept = cli.runnable(["plaintext", "h2-plaintext", "h2-64k-tls"])
    assert kept == ["plaintext"]
    err = capsys.readouterr().err.splitlines()
    assert err == ["skipping h2-plaintext, h2-64k-tls: h2load is not installed "
                   "(apt-get install nghttp2-client)"]


def idle_run(server: str, scenario: str, per_conn: float) -> Dict:
    return {"server": server, "scenario": scenario, "round": 1, "rate": None, "p50_ms": None,
            "p99_ms": None, "rss_mib": 40.0, "rss_idle_mib": 20.0, "open": 10000,
            "failed": {}, "errors": 0, "rss_per_conn_kib": per_conn}


def test_idle_memory_table() -> None:
    short = {**idle_run("granian-h2", "idle-h2", 6.0), "open": 1024}
    runs = [idle_run("ruvicorn-pico", "idle-http1", 3.0),
            idle_run("uvicorn-httptools", "idle-http1", 7.5),
            idle_run("ruvicorn-pico", "idle-h2", 12.0), short,
            run("ruvicorn-pico", "plaintext", 80_000, 25.0, 4.0)]
    summary = report.summarize(runs)
    assert summary["idle-http1"]["ruvicorn-pico"]["vs_baseline"] == pytest.approx(0.4)
    assert summary["idle-h2"]["ruvicorn-pico"]["vs_baseline"] == pytest.approx(2.0)
    lines = report.idle(summary, ["ruvicorn-pico", "uvicorn-httptools", "granian-h2"])
    assert lines[0] == "| scenario | connections | ruvicorn-pico | uvicorn-httptools | granian-h2 |"
    assert lines[2] == "| idle-http1 | 10,000 | 3.00 (0.40x) | 7.50 (1.00x) |  |"
    assert lines[3] == "| idle-h2 | 10,000 | 12.00 (2.00x) |  | 6.00 (1.00x) [1,024 open] |"
    # Idle rows have no rate: they stay out of the rate tables.
    assert [line for line in report.overview(summary, ["ruvicorn-pico"])
            if line.startswith("| idle")] == []


def test_python_twins_follow_their_server_and_keep_their_interpreter() -> None:
    opts = runner.Options(servers=["ruvicorn-pico", "uvicorn-httptools"],
                          pythons=[("3.13", "/opt/py313/bin/python")])
    chosen = runner.expand(servers.SERVERS, opts)
    assert [s.name for s in chosen] == ["ruvicorn-pico", "ruvicorn-pico@3.13",
                                        "uvicorn-httptools"]
    twin = runner.Runner(opts)
    assert twin.python_for(chosen[1]) == "/opt/py313/bin/python"
    assert twin.argv(chosen[1], HTTP1, 8000)[3:6] == ["/opt/py313/bin/python", "-m", "ruvicorn"]
    # The report keeps the order the servers ran in.
    records = [run("ruvicorn-pico@3.13", "plaintext", 90_000, 25.0, 4.0),
               run("uvicorn-httptools", "plaintext", 40_000, 30.0, 8.0)]
    assert list(report.summarize(records)["plaintext"]) == ["ruvicorn-pico@3.13",
                                                            "uvicorn-httptools"]


def test_variants_are_named_only_and_idle_families_get_long_keep_alive() -> None:
    args = cli.parse_args([])
    assert "ruvicorn-pico" in args.servers
    assert not {"ruvicorn-pico-portable", "ruvicorn-gc-nofreeze"} & set(args.servers)
    by_name = {s.name: s for s in servers.SERVERS}
    pico = by_name["ruvicorn-pico"]
    assert "--timeout-keep-alive" in pico.command("python", 1, None, scenarios.IDLE_HTTP1)
    assert "--timeout-keep-alive" not in pico.command("python", 1, None, HTTP1)
    assert by_name["ruvicorn-pico-portable"].env == {"RUVICORN_PICO_SSE42": "0"}
    nofreeze = by_name["ruvicorn-gc-nofreeze"].command("py", 1, None, HTTP1)
    assert nofreeze[:4] == ["py", "-m", "bench.gc_variant", "nofreeze+stats"]
    assert nofreeze[4] == servers.APP


def test_gc_variant_applies_in_its_own_process() -> None:
    # Relative to the count at start: an interpreter may start with objects frozen (3.12 here).
    code = ("import gc; from bench import gc_variant; before = gc.get_freeze_count(); "
            "gc_variant.apply('nofreeze+threshold=5000,20+stats'); gc.freeze(); "
            "print(gc.get_freeze_count() - before, gc.get_threshold()[:2]); "
            "gc.collect(); gc.collect(0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=conftest_root(), timeout=30)
    assert done.stdout.split(None, 1) == ["0", "(5000, 20)\n"], done.stderr
    assert re.search(r"gen0: [1-9]\d* in .*gen2: [1-9]\d* in ", done.stderr), done.stderr


def conftest_root() -> str:
    import bench

    return str(Path(bench.__file__).resolve().parent.parent)


def test_interpreter_by_path_and_by_version() -> None:
    from bench import sysinfo

    here = "{}.{}".format(*sys.version_info[:2])
    assert sysinfo.interpreter(sys.executable) == (here, sys.executable)
    found = sysinfo.interpreter(here)
    assert found is not None and found[0] == here
    assert sysinfo.interpreter("/nonexistent/python") is None


def test_fastapi_scenario_answers_json() -> None:
    pytest.importorskip("fastapi")
    import asyncio

    from bench import apps

    sent: List[Dict] = []

    async def receive() -> Dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Dict) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": "/fastapi", "raw_path": b"/fastapi",
             "query_string": b"", "root_path": "", "headers": [(b"host", b"x")],
             "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 1)}
    asyncio.run(apps.app(scope, receive, send))
    assert sent[0]["status"] == 200
    assert sent[1]["body"] == b'{"message":"Hello, World!","path":"/fastapi"}'
