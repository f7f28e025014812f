"""Django's ASGI handler served unchanged, on both parsers."""

from __future__ import annotations

import httpx

APP = "tests.frameworks.django_app:application"


def test_json_view(client: httpx.Client) -> None:
    resp = client.get("/json/?q=hello", headers={"user-agent": "ruvicorn-test"})
    assert resp.status_code == 200
    assert resp.json() == {"method": "GET", "path": "/json/", "q": "hello",
                           "agent": "ruvicorn-test"}


def test_post_form(client: httpx.Client) -> None:
    resp = client.post("/form/", data={"name": "Ada", "tags": ["x", "y"]})
    assert resp.status_code == 200
    assert resp.json() == {"fields": {"name": ["Ada"], "tags": ["x", "y"]}}


def test_async_view_reads_body(client: httpx.Client) -> None:
    assert client.post("/async/", content=b"z" * 5000).json() == {"async": True,
                                                                   "body_length": 5000}


def test_not_found(client: httpx.Client) -> None:
    assert client.get("/nope/").status_code == 404
