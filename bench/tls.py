"""A throw-away self-signed certificate for the TLS scenarios, made at run time with the openssl
command line into the results directory (never committed: bench/results/ is ignored).

ECDSA P-256, valid one day for 127.0.0.1 and localhost; the key is written unencrypted in PKCS#8
("BEGIN PRIVATE KEY"), the one form every server under test reads (granian accepts no other)."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

PKCS8_HEADER = "-----BEGIN PRIVATE KEY-----"


class TlsError(RuntimeError):
    pass


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path


def openssl() -> str | None:
    return shutil.which("openssl")


def make_cert(directory: Path) -> TlsFiles:
    """Write cert.pem and key.pem (mode 0600) into directory; TlsError says why not."""
    tool = openssl()
    if tool is None:
        raise TlsError("openssl is not installed (apt-get install openssl)")
    directory.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(directory / "cert.pem", directory / "key.pem")
    for path in (files.cert, files.key):
        path.unlink(missing_ok=True)
    argv = [tool, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout", str(files.key), "-out", str(files.cert)]
    # The key is created with this umask, so it is never readable by others, not even briefly.
    old = os.umask(0o077)
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TlsError(f"openssl failed: {exc}") from exc
    finally:
        os.umask(old)
    if done.returncode != 0:
        raise TlsError(f"openssl failed: {done.stderr.strip()[-300:]}")
    if not files.key.read_text().startswith(PKCS8_HEADER):
        raise TlsError(f"openssl wrote {files.key} in a form other than unencrypted PKCS#8")
    return files
