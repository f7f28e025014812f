"""`ruvicorn --help` offers every option of uvicorn 0.54 (list kept here) plus ruvicorn's own."""

from __future__ import annotations

import re

from helpers import run_cli

# Every option printed by `uvicorn --help` for uvicorn 0.54.0.
UVICORN_054_OPTIONS = [
    "--host", "--port", "--uds", "--fd", "--reload", "--reload-dir", "--reload-include",
    "--reload-exclude", "--reload-delay", "--workers", "--loop", "--http", "--http2", "--ws",
    "--ws-max-size", "--ws-max-queue", "--ws-ping-interval", "--ws-ping-timeout",
    "--ws-per-message-deflate", "--lifespan", "--interface", "--env-file", "--log-config",
    "--log-level", "--access-log", "--no-access-log", "--use-colors", "--no-use-colors",
    "--proxy-headers", "--no-proxy-headers", "--server-header", "--no-server-header",
    "--date-header", "--no-date-header", "--forwarded-allow-ips", "--root-path",
    "--limit-concurrency", "--backlog", "--limit-max-requests", "--limit-max-requests-jitter",
    "--timeout-keep-alive", "--timeout-graceful-shutdown", "--timeout-worker-healthcheck",
    "--ssl-keyfile", "--ssl-certfile", "--ssl-keyfile-password", "--ssl-version",
    "--ssl-cert-reqs", "--ssl-ca-certs", "--ssl-ciphers", "--header", "--version", "--app-dir",
    "--h11-max-incomplete-event-size", "--reset-contextvars", "--factory", "--help",
]

RUVICORN_OPTIONS = [
    "--timeout-request-header", "--limit-request-line", "--limit-request-fields",
    "--limit-request-field-size", "--limit-request-body", "--ws-max-queue-bytes",
    "--metrics", "--metrics-address", "--metrics-port",
]

# Defaults that must match uvicorn's (option -> text shown in "[default: ...]").
UVICORN_DEFAULTS = {
    "--host": "127.0.0.1", "--port": "8000", "--reload-delay": "0.25", "--loop": "auto",
    "--http": "auto", "--ws": "auto", "--ws-max-size": "16777216", "--ws-max-queue": "32",
    "--ws-ping-interval": "20.0", "--ws-ping-timeout": "20.0", "--ws-per-message-deflate": "True",
    "--lifespan": "auto", "--interface": "auto", "--limit-max-requests-jitter": "0",
    "--timeout-keep-alive": "5", "--timeout-worker-healthcheck": "5", "--ssl-version": "17",
    "--ssl-cert-reqs": "0",
}


def _help() -> str:
    result = run_cli(["--help"])
    assert result.returncode == 0, result.stderr
    return result.stdout


def _options(text: str) -> set[str]:
    found: set[str] = set()
    for line in text.splitlines():
        match = re.match(r"\s{2}(--[a-z0-9-]+(?:\s*/\s*--[a-z0-9-]+)?)", line)
        if match:
            found.update(part.strip() for part in match.group(1).split("/"))
    return found


def _defaults(text: str) -> dict[str, str]:
    # Help entries wrap over several lines: join each entry, then read its [default: ...].
    entries: dict[str, str] = {}
    current = None
    for line in text.splitlines():
        match = re.match(r"\s{2}(--[a-z0-9-]+)", line)
        if match:
            current = match.group(1)
            entries[current] = line
        elif current:
            entries[current] += " " + line.strip()
    defaults = {}
    for option, entry in entries.items():
        found = re.search(r"\[default:\s*([^\]]*)\]", entry)
        if found:
            defaults[option] = found.group(1).strip()
    return defaults


def test_help_lists_every_uvicorn_option() -> None:
    options = _options(_help())
    missing = [o for o in UVICORN_054_OPTIONS if o not in options]
    assert not missing, f"missing uvicorn options: {missing}"


def test_help_lists_ruvicorn_options() -> None:
    options = _options(_help())
    assert all(o in options for o in RUVICORN_OPTIONS)


def test_defaults_match_uvicorn() -> None:
    defaults = _defaults(_help())
    for option, value in UVICORN_DEFAULTS.items():
        assert defaults.get(option) == value, (option, defaults.get(option))


def test_graceful_shutdown_default_is_finite() -> None:
    assert _defaults(_help())["--timeout-graceful-shutdown"] == "30"


def test_usage_names_ruvicorn() -> None:
    assert _help().startswith("Usage: ruvicorn [OPTIONS] APP")


def test_version_line() -> None:
    result = run_cli(["--version"])
    assert result.returncode == 0
    assert re.match(r"Running ruvicorn \d+\.\d+\.\d+ with \w+ \d+\.\d+\.\d+ on \w+",
                    result.stdout)
