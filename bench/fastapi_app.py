"""The FastAPI app of the ``fastapi`` scenario (imported on first use by bench/apps.py).

Its own module, without ``from __future__ import annotations``: FastAPI reads the handler's
annotations at import time to find the ``Request`` parameter."""

from fastapi import FastAPI, Request

api = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@api.get("/fastapi")
async def hello(request: Request):  # type: ignore[no-untyped-def]  # no response model: a dict
    return {"message": "Hello, World!", "path": request.url.path}
