"""Serve a WSGI (PEP 3333) application from the ASGI server.

Each request runs in a thread pool. At most ``workers`` requests are handed to the pool at a time;
the others wait on an asyncio semaphore, so the pool's own queue never grows without bound. The
request body is read before the app is called (bounded by the server's body limit).
"""

from __future__ import annotations

import asyncio
import io
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Iterable

WSGIApp = Callable[[dict, Callable[..., Any]], Iterable[bytes]]


def build_environ(scope: dict, body: bytes) -> dict:
    root_path = scope.get("root_path", "")
    path = scope["path"]
    if root_path and path.startswith(root_path):
        path = path[len(root_path):]
    server = scope.get("server") or ("localhost", 80)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        # PEP 3333 "bytes as latin-1" strings.
        "SCRIPT_NAME": root_path.encode("utf-8").decode("latin-1"),
        "PATH_INFO": path.encode("utf-8").decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]) if server[1] is not None else "80",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    client = scope.get("client")
    if client:
        environ["REMOTE_ADDR"] = client[0]
        environ["REMOTE_PORT"] = str(client[1])
    for raw_name, raw_value in scope.get("headers", []):
        name = raw_name.decode("latin-1")
        if "_" in name:
            continue  # "x_a" and "x-a" would both become HTTP_X_A: drop the ambiguous spelling
        value = raw_value.decode("latin-1")
        if name == "content-type":
            key = "CONTENT_TYPE"
        elif name == "content-length":
            key = "CONTENT_LENGTH"
        else:
            key = "HTTP_" + name.upper().replace("-", "_")
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


class _ResponseWriter:
    """The WSGI side of one request: start_response/write, forwarded to ASGI ``send``
    on the event loop. Called only from the worker thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop, send: Callable[[dict], Any]) -> None:
        self.loop = loop
        self.send = send
        self.status: int | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        self.head_sent = False

    def _send(self, message: dict) -> None:
        # ASGI's send() returns an awaitable, not necessarily a coroutine: wrap it for the loop.
        async def forward() -> None:
            await self.send(message)

        asyncio.run_coroutine_threadsafe(forward(), self.loop).result()

    def start_response(self, status: str, headers: list[tuple[str, str]],
                       exc_info: Any = None) -> Callable[[bytes], None]:
        if exc_info is not None:
            try:
                if self.head_sent:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.status is not None:
            raise RuntimeError("start_response() called twice without exc_info")
        self.status = int(status.split(" ", 1)[0])
        self.headers = [
            (name.strip().lower().encode("latin-1"), value.strip().encode("latin-1"))
            for name, value in headers
        ]
        return self.write

    def write(self, data: bytes, more_body: bool = True) -> None:
        if not self.head_sent:
            if self.status is None:
                raise RuntimeError("WSGI app returned a body before calling start_response()")
            self._send({"type": "http.response.start", "status": self.status,
                        "headers": self.headers})
            self.head_sent = True
        if data or not more_body:
            self._send({"type": "http.response.body", "body": bytes(data), "more_body": more_body})


class WSGIMiddleware:
    def __init__(self, app: WSGIApp, workers: int = 10) -> None:
        self.app = app
        self.workers = workers
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ruvicorn-wsgi")
        self._slots: asyncio.Semaphore | None = None

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            raise RuntimeError(f"WSGI applications cannot handle {scope['type']!r} connections")
        chunks = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        environ = build_environ(scope, b"".join(chunks))
        loop = asyncio.get_running_loop()
        writer = _ResponseWriter(loop, send)
        if self._slots is None:  # created here so it binds to the running loop (Python 3.9)
            self._slots = asyncio.Semaphore(self.workers)
        async with self._slots:
            await loop.run_in_executor(self.executor, self._run, environ, writer)

    def _run(self, environ: dict, writer: _ResponseWriter) -> None:
        result = self.app(environ, writer.start_response)
        try:
            for chunk in result:
                writer.write(chunk)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        writer.write(b"", more_body=False)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        # WSGI has no lifespan; acknowledge both events so startup logs stay quiet.
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.executor.shutdown(wait=False)
                await send({"type": "lifespan.shutdown.complete"})
                return
