"""Take the client address and scheme from X-Forwarded-For / X-Forwarded-Proto, but only when
the direct peer is a trusted proxy (``--forwarded-allow-ips``)."""

from __future__ import annotations

import ipaddress
from typing import Any, Awaitable, Callable, Union

IPNetwork = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]


class TrustedHosts:
    """``*`` trusts everyone; otherwise a set of IP addresses, IP networks and literals
    (a literal such as a UNIX socket path matches a peer given by that name).

    Asked once per connection, so answers are remembered (a bounded memo): parsing the peer's
    address with ``ipaddress`` each time was a visible share of a connection's cost.
    """

    MEMO_SIZE = 4096

    def __init__(self, spec: Union[str, list[str]]) -> None:
        items = spec.split(",") if isinstance(spec, str) else list(spec)
        items = [item.strip() for item in items if item.strip()]
        self.always = "*" in items
        self.networks: list[IPNetwork] = []
        self.literals: set[str] = set()
        self._memo: dict[str, bool] = {}
        for item in items:
            if item == "*":
                continue
            try:
                self.networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                self.literals.add(item)

    def __contains__(self, host: str | None) -> bool:
        if self.always:
            return True
        if not host:
            # No peer address (UNIX socket): trusted when a literal such as its path is listed.
            return bool(self.literals)
        known = self._memo.get(host)
        if known is not None:
            return known
        trusted = self._lookup(host)
        if len(host) <= 64:  # X-Forwarded-For hops are the client's words: keep the memo small
            if len(self._memo) >= self.MEMO_SIZE:
                self._memo.clear()
            self._memo[host] = trusted
        return trusted

    def _lookup(self, host: str) -> bool:
        if host in self.literals:
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def client_from_forwarded_for(self, header: str) -> str | None:
        """The right-most untrusted hop; if every hop is trusted, the left-most one."""
        hops = [hop.strip() for hop in header.split(",") if hop.strip()]
        if not hops:
            return None
        if self.always:
            return hops[0]
        for hop in reversed(hops):
            if hop not in self:
                return hop
        return hops[0]


def apply_proxy_headers(trusted: TrustedHosts, scope: dict, proto: bytes | None,
                        forwarded_for: bytes | None) -> None:
    """Sets scope["scheme"] and scope["client"] from X-Forwarded-Proto / X-Forwarded-For.

    The caller has checked that the direct peer is trusted. The C++ protocol calls this only for
    requests that carry one of the two headers, so ordinary requests cost no Python here.
    """
    if proto is not None:
        # A chain of proxies may append; the last value is the nearest proxy's view.
        scheme = proto.decode("latin-1").split(",")[-1].strip().lower()
        if scheme in ("http", "https", "ws", "wss"):
            if scope["type"] == "websocket":
                scheme = "wss" if scheme in ("https", "wss") else "ws"
            elif scheme in ("ws", "wss"):
                scheme = "https" if scheme == "wss" else "http"
            scope["scheme"] = scheme
    if forwarded_for is not None:
        host = trusted.client_from_forwarded_for(forwarded_for.decode("latin-1"))
        if host:
            scope["client"] = (host, 0)


class ProxyHeadersMiddleware:
    """The same rules as an ASGI middleware, for apps served by other means (ruvicorn's own
    protocol applies them itself when --proxy-headers is on)."""

    def __init__(self, app: Callable[..., Awaitable[None]],
                 trusted_hosts: Union[str, list[str]] = "127.0.0.1") -> None:
        self.app = app
        self.trusted = TrustedHosts(trusted_hosts)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            client = scope.get("client")
            peer = client[0] if client else None
            if peer in self.trusted:
                headers = dict(scope["headers"])
                apply_proxy_headers(self.trusted, scope, headers.get(b"x-forwarded-proto"),
                                    headers.get(b"x-forwarded-for"))
        await self.app(scope, receive, send)
