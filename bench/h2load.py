"""h2load (nghttp2) as the HTTP/2 load generator: its command line, its output, its per-request
log, and a one-request probe that a server answers over HTTP/2.

h2load prints a summary (rate, request counts, status classes) and, once per thread, the protocol
it negotiated; with ``--log-file`` it writes one tab-separated row per request (start time in
microseconds since the epoch, status or -1 for a failed stream, microseconds until the end of the
response), from which the p50/p99 latency is taken. That log costs h2load one write(2) per
request: about 1 % of the load generator's core at 50k requests/s, far below its idle share."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from pathlib import Path
from typing import Dict, Iterable, List, Tuple

from .process import pinned
from .scenarios import Scenario

# One TLS 1.3 cipher offered to every server, so they all pay for the same one (left alone, the
# OpenSSL-based servers pick AES-256-GCM and rustls AES-128-GCM).
TLS13_CIPHER = "TLS_AES_128_GCM_SHA256"
HTTP2_PROTOCOLS = ("h2", "h2c")
_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}
_FINISHED = re.compile(r"^finished in ([\d.]+)(us|ms|s|m), ([\d.]+) req/s", re.M)
_REQUESTS = re.compile(
    r"^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, "
    r"(\d+) errored, (\d+) timeout", re.M)
_STATUS = re.compile(r"^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", re.M)
_PROTOCOL = re.compile(r"^Application protocol: (\S+)", re.M)
_TLS = re.compile(r"^TLS Protocol: (\S+)\s*\nCipher: (\S+)", re.M)


def available() -> bool:
    return shutil.which("h2load") is not None


def version() -> str | None:
    try:
        done = subprocess.run(["h2load", "--version"], capture_output=True, text=True,
                              timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None  # "h2load nghttp2/1.52.0"


def url(port: int, path: str, tls: bool) -> str:
    return f"{'https' if tls else 'http'}://127.0.0.1:{port}{path}"


def upload_file(directory: Path, size: int) -> Path:
    """The request body h2load POSTs (-d), made once per size."""
    path = directory / f"upload-{size}.bin"
    if not path.exists() or path.stat().st_size != size:
        directory.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * size)
    return path


def argv(scenario: Scenario, port: int, duration: int, cpu: str | None, log_file: Path,
         scratch: Path) -> List[str]:
    """One thread, -c connections, -m streams each, for -D seconds."""
    args = ["h2load", "-t1", f"-c{scenario.connections}", f"-m{scenario.streams}",
            f"-D{duration}", f"--log-file={log_file}"]
    if scenario.upload:
        args += ["-d", str(upload_file(scratch, scenario.upload))]
    if scenario.tls:
        args.append(f"--tls13-ciphers={TLS13_CIPHER}")
    args.append(url(port, scenario.path, scenario.tls))
    return pinned(args, cpu)


def _seconds(number: str, unit: str) -> float:
    return float(number) * _UNITS[unit]


def parse(out: str) -> Dict:
    """rate (2xx answers/s), errors and counts, negotiated protocol and TLS; or "error".

    Errors are failed requests (network errors, resets and 4xx/5xx answers, as h2load counts
    them) plus 3xx answers, which h2load counts as successes: the bench app never redirects."""
    finished = _FINISHED.search(out)
    requests = _REQUESTS.search(out)
    status = _STATUS.search(out)
    if finished is None or requests is None or status is None:
        return {"error": "no summary in h2load output: " + out.strip()[-200:]}
    total, started, done, succeeded, failed, errored, timeout = map(int, requests.groups())
    s2xx, s3xx, s4xx, s5xx = map(int, status.groups())
    protocols = sorted(set(_PROTOCOL.findall(out)))
    if not protocols:
        return {"error": f"h2load negotiated no protocol ({failed} of {total} requests failed)"}
    other = [p for p in protocols if p not in HTTP2_PROTOCOLS]
    if other:
        return {"error": f"negotiated {', '.join(other)}, not HTTP/2"}
    # h2load's rate counts every finished request, 4xx and resets included: keep the 2xx.
    good = max(0, succeeded - s3xx)
    result: Dict = {
        "rate": float(finished.group(3)) * good / done if done else 0.0,
        "seconds": _seconds(finished.group(1), finished.group(2)),
        "errors": failed + s3xx,
        "requests": {"total": total, "started": started, "done": done, "succeeded": succeeded,
                     "failed": failed, "errored": errored, "timeout": timeout},
        "status": {"2xx": s2xx, "3xx": s3xx, "4xx": s4xx, "5xx": s5xx},
        "protocol": protocols[0],
    }
    tls = _TLS.search(out)
    if tls:
        result["tls"] = {"protocol": tls.group(1), "cipher": tls.group(2)}
    return result


def percentile(ordered: List[int], q: float) -> int:
    """Nearest-rank percentile of an ascending, non-empty list."""
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def latency(rows: Iterable[str]) -> Tuple[float | None, float | None]:
    """(p50 ms, p99 ms) over the answered requests of an h2load --log-file."""
    durations = []
    for row in rows:
        fields = row.split("\t")
        if len(fields) >= 3 and fields[1] != "-1":
            durations.append(int(fields[2]))
    if not durations:
        return None, None
    durations.sort()
    return percentile(durations, 0.50) / 1000, percentile(durations, 0.99) / 1000


def read_latency(log_file: Path) -> Tuple[float | None, float | None]:
    try:
        with open(log_file) as rows:
            return latency(rows)
    except (OSError, ValueError):
        return None, None
    finally:
        log_file.unlink(missing_ok=True)


def probe(port: int, tls: bool, timeout: float) -> str | None:
    """None once GET /plaintext is answered 2xx over HTTP/2, else why not."""
    args = ["h2load", "-n1", "-c1", url(port, "/plaintext", tls)]
    if tls:
        args.append(f"--tls13-ciphers={TLS13_CIPHER}")
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"h2load probe failed: {exc}"
    result = parse(done.stdout)
    if "error" in result:
        return f"HTTP/2 GET /plaintext: {result['error']}"
    if result["status"]["2xx"] != 1:
        return f"HTTP/2 GET /plaintext answered {result['status']}, {result['requests']}"
    return None
