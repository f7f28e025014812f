"""FastAPI served unchanged, on both parsers."""

from __future__ import annotations

import httpx

APP = "tests.frameworks.fastapi_app:app"


def test_path_params(client: httpx.Client) -> None:
    assert client.get("/items/42?q=x").json() == {"item_id": 42, "q": "x"}
    resp = client.get("/items/not-a-number")
    assert resp.status_code == 422
    assert resp.json()["detail"][0]["loc"] == ["path", "item_id"]


def test_body_validation(client: httpx.Client) -> None:
    ok = client.post("/items", json={"name": "pen", "price": 1.5, "tags": ["a"]})
    assert ok.status_code == 200
    assert ok.json() == {"name": "pen", "price": 1.5, "tags": ["a"]}
    bad = client.post("/items", json={"name": "pen"})
    assert bad.status_code == 422
    assert any(err["loc"] == ["body", "price"] for err in bad.json()["detail"])
    broken = client.post("/items", content=b"{not json",
                         headers={"content-type": "application/json"})
    assert broken.status_code == 422


def test_dependency(client: httpx.Client) -> None:
    assert client.get("/secure").status_code == 401
    assert client.get("/secure", headers={"x-token": "wrong"}).status_code == 401
    assert client.get("/secure", headers={"x-token": "secret"}).json() == {"token": "secret"}


def test_sync_endpoint_in_threadpool(client: httpx.Client) -> None:
    assert client.get("/sync").json() == {"sync": True}


def test_openapi_schema(client: httpx.Client) -> None:
    assert "/items/{item_id}" in client.get("/openapi.json").json()["paths"]
