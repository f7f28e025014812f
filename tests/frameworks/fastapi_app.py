"""A small FastAPI app served unchanged by ruvicorn (tests/frameworks/test_framework_fastapi.py)."""

from __future__ import annotations

from typing import Optional

from fastapi import Depends, FastAPI, Header, HTTPException
from pydantic import BaseModel

app = FastAPI()


class Item(BaseModel):
    name: str
    price: float
    tags: list[str] = []


def require_token(x_token: Optional[str] = Header(default=None)) -> str:
    if x_token != "secret":
        raise HTTPException(status_code=401, detail="bad token")
    return x_token


@app.get("/items/{item_id}")
async def read_item(item_id: int, q: Optional[str] = None) -> dict:
    return {"item_id": item_id, "q": q}


@app.post("/items")
async def create_item(item: Item) -> dict:
    return {"name": item.name, "price": item.price, "tags": item.tags}


@app.get("/secure")
async def secure(token: str = Depends(require_token)) -> dict:
    return {"token": token}


@app.get("/sync")
def sync_endpoint() -> dict:  # runs in FastAPI's thread pool
    return {"sync": True}
