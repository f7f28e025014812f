"""An httpx client speaking HTTP/1.1 or HTTP/2 (prior knowledge), for the framework tests."""

from __future__ import annotations

import httpx


def make_client(base_url: str, protocol: str, timeout: float = 10) -> httpx.Client:
    http2 = protocol == "http2"
    return httpx.Client(base_url=base_url, timeout=timeout, http1=not http2, http2=http2)
