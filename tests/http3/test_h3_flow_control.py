"""HTTP/3 flow control through real QUIC windows: a response waits (its send() does not return)
while the client does not read, and a request body the app does not read holds bounded memory."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from h2_support import client_env
from h3_client import H3Client
from h3_support import assert_grew_less

from helpers import ServerProcess, rss

MIB = 1024 * 1024


def test_response_waits_for_a_client_that_does_not_read(h3_server: ServerProcess) -> None:
    with H3Client(h3_server.port) as slow, H3Client(h3_server.port) as watcher:
        # 4 MiB offered, 1 MiB per send(); the client stops reading (no datagrams processed, no
        # ACKs, its QUIC windows stay where they are).
        stream = slow.start("GET", "/big-stream?token=h3fc&mib=4")
        slow.run_until(lambda: len(slow.responses[stream].body) > 0, what="the first bytes")
        time.sleep(1.0)  # the server pushes what it can into the windows, then must wait
        first = json.loads(watcher.get("/progress?token=h3fc").body)
        time.sleep(1.0)
        second = json.loads(watcher.get("/progress?token=h3fc").body)
        assert second == first  # send() is waiting: nothing more was handed over
        assert first <= 2 * MIB  # about one send(): its bytes wait in the client's windows
        # Reading again lets it finish.
        response = slow.wait(stream, timeout=90)
        assert len(response.body) == 4 * MIB


def test_unread_request_body_is_bounded(h3_server: ServerProcess, tmp_path: Path) -> None:
    # ngtcp2's client uploads fast (aioquic's Python client could not outrun the bound).
    client = shutil.which("gtlsclient")
    if client is None:
        pytest.skip("gtlsclient is not installed (Debian: ngtcp2-client)")
    body = tmp_path / "upload.bin"
    body.write_bytes(b"u" * (64 * MIB))
    before = rss(h3_server.pid)
    # The app never reads; it answers after 4 s. The client tries to send 64 MiB meanwhile.
    upload = subprocess.Popen(
        [client, "-q", "--exit-on-all-streams-close", "-m", "POST", "-d", str(body),
         "127.0.0.1", str(h3_server.port),
         f"https://localhost:{h3_server.port}/hold?token=h3unread&timeout=4"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=client_env())
    peak = before
    try:
        while upload.poll() is None:
            peak = max(peak, rss(h3_server.pid))
            time.sleep(0.1)
    finally:
        if upload.poll() is None:
            upload.kill()
    assert upload.wait(60) == 0  # it got its answer (the app's, without reading the body)
    # 1 MiB of unread body (h3_receive_buffer) plus held packets, not 64 MiB.
    assert_grew_less(before, peak, 16 * MIB)
