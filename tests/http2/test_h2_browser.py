"""A real browser: headless Chromium loads a page with several sub-resources over TLS and opens a
WebSocket on the same origin; the server's record says which protocol carried each request
(HTTP/2 for the page and its resources; the WebSocket over HTTP/2 when Chromium uses RFC 8441)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
from h2_client import H2Client
from h2_support import client_env

from helpers import ServerProcess

APP = "tests.http2.browser_app:app"


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("no Chromium (Debian: apt-get install chromium)")


@pytest.mark.timeout(180)
def test_page_subresources_and_websocket_over_h2(tls_server: ServerProcess, tmp_path: Path,
                                                  tls_context: object) -> None:
    url = f"https://localhost:{tls_server.port}/"
    cmd = [chromium(), "--headless=new", "--no-sandbox", "--disable-gpu",
           "--ignore-certificate-errors", f"--user-data-dir={tmp_path / 'profile'}", url]
    # The browser runs until the page's last request (/done, after the WebSocket echo) reached
    # the server: /log?wait= long-polls for it. Then the browser is stopped by its PID.
    browser = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env=client_env(), start_new_session=True)
    try:
        with H2Client(tls_server.port, tls=tls_context, timeout=120) as client:  # type: ignore[arg-type]
            log = json.loads(client.get("/log?wait=90").body)
    finally:
        os.killpg(browser.pid, signal.SIGTERM)
        try:
            browser.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(browser.pid, signal.SIGKILL)
            browser.wait(timeout=20)
    done = [e for e in log if e["type"] == "http" and e["path"] == "/done"]
    assert done and done[0]["query"] == "text=echo%3Aping%20from%20the%20browser", log
    http = {entry["path"]: entry["http_version"] for entry in log if entry["type"] == "http"}
    for path in ("/", "/style.css", "/one.js", "/two.js", "/pixel.svg", "/done"):
        assert http.get(path) == "2", (path, log)
    sockets = [entry for entry in log if entry["type"] == "websocket"]
    assert len(sockets) == 1, log
    # Chromium opens WebSockets over an existing HTTP/2 connection when the server announces
    # SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441).
    assert sockets[0]["http_version"] == "2", log
