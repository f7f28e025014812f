"""Interface adapters (ASGI 2, WSGI) and the proxy-headers middleware."""
