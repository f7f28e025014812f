"""The HTTP/3 load generator: ngtcp2's example client ``gtlsclient`` (Debian: ngtcp2-client; C,
ngtcp2 + nghttp3 + GnuTLS), several at once.

No packaged load generator speaks HTTP/3 here (Debian bookworm's h2load is built without
ngtcp2/nghttp3). gtlsclient sends ``-n`` requests on one QUIC connection, as many in flight as
the server's stream limit allows (100 for every server measured), and exits when all are
answered. This module keeps ``--connections`` of them running for ``--duration`` seconds, each
with ``--requests`` requests (so handshakes are a small share), and reports the rate: requests
answered / seconds until the last client finished. The clients together used about half of
their core at 58k req/s (the fastest server measured), so the servers set the pace; what bounds
it is one core for all the clients, as for wrk and h2load. It reports no latency (gtlsclient does
not time requests).

    python -m bench.h3load --port 8443 --path /plaintext --connections 4 --duration 5
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import List

from .process import pinned

CLIENT = "gtlsclient"
QUIET = ["-q", "--no-quic-dump", "--no-http-dump", "--exit-on-all-streams-close"]


def available() -> bool:
    return shutil.which(CLIENT) is not None


def version() -> str | None:
    """The ngtcp2 package the client comes from (gtlsclient has no --version)."""
    try:
        done = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "ngtcp2-client"],
                              capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return f"gtlsclient (ngtcp2-client {done.stdout.strip()})" if done.returncode == 0 else None


def client_argv(port: int, path: str, requests: int, upload: Path | None) -> List[str]:
    argv = [CLIENT, *QUIET, "-n", str(requests), "--timeout", "10s"]
    if upload is not None:
        argv += ["-m", "POST", "-d", str(upload)]
    return [*argv, "127.0.0.1", str(port), f"https://localhost:{port}{path}"]


def probe(port: int, timeout: float) -> str | None:
    """None once the server answers one request over HTTP/3, else why not."""
    deadline = time.monotonic() + timeout
    why = "no answer"
    while time.monotonic() < deadline:
        try:
            done = subprocess.run(client_argv(port, "/plaintext", 1, None), capture_output=True,
                                  text=True, timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            return "no HTTP/3 answer in time"
        if done.returncode == 0:
            return None
        why = (done.stderr or done.stdout).strip()[-200:] or f"exit {done.returncode}"
        time.sleep(0.1)
    return f"no HTTP/3 answer: {why}"


def argv(port: int, path: str, connections: int, duration: int, upload: Path | None,
         cpu: str | None) -> List[str]:
    """The command line that runs this module as the load generator (pinned like the others)."""
    args = [sys.executable, "-m", "bench.h3load", "--port", str(port), "--path", path,
            "--connections", str(connections), "--duration", str(duration)]
    if upload is not None:
        args += ["--upload", str(upload)]
    return pinned(args, cpu)


def run(port: int, path: str, connections: int, duration: float, requests: int,
        upload: Path | None) -> dict:
    started = time.monotonic()
    deadline = started + duration
    running: List[subprocess.Popen] = []
    done = failed = 0
    while True:
        now = time.monotonic()
        while now < deadline and len(running) < connections:
            running.append(subprocess.Popen(client_argv(port, path, requests, upload),
                                            stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL))
        if not running:
            break
        time.sleep(0.002)
        for proc in list(running):
            if proc.poll() is None:
                continue
            running.remove(proc)
            if proc.returncode == 0:
                done += requests
            else:
                failed += requests
    elapsed = time.monotonic() - started
    return {"rate": done / elapsed if elapsed else 0.0, "requests": done, "errors": failed,
            "seconds": elapsed, "p50_ms": None, "p99_ms": None}


def main(args: List[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.h3load", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--path", default="/plaintext")
    p.add_argument("--connections", type=int, default=4,
                   help="QUIC connections (gtlsclient processes) at once")
    p.add_argument("--duration", type=float, default=5.0)
    p.add_argument("--requests", type=int, default=2000,
                   help="requests per connection (one gtlsclient run)")
    p.add_argument("--upload", type=Path, default=None, help="request body to POST")
    opts = p.parse_args(args)
    if not available():
        print(json.dumps({"error": f"{CLIENT} is not installed (apt-get install ngtcp2-client)"}))
        return
    print(json.dumps(run(opts.port, opts.path, opts.connections, opts.duration, opts.requests,
                         opts.upload)))


if __name__ == "__main__":
    main()
