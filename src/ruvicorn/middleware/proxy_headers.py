"""Take the client address and scheme from X-Forwarded-For / X-Forwarded-Proto, but only when
the direct peer is a trusted proxy (``--forwarded-allow-ips``).

The rules are uvicorn 0.54's: the client is the right-most X-Forwarded-For hop that is not a
trusted proxy (the left-most if all are); a hop may carry a port (``1.2.3.4:1234``,
``[2001:db8::1]:443``) and is trust-checked by its address; an empty hop is never trusted and
never becomes the client, so a malformed list leaves the direct peer as the client. Two
deliberate differences: a UNIX-socket peer (no address) is trusted when a literal such as the
socket's path is listed, and an HTTP scope's scheme stays ``http``/``https`` when the proxy says
``ws``/``wss`` (the ASGI HTTP scope has no WebSocket schemes).
"""

from __future__ import annotations

import ipaddress
from typing import Any, Awaitable, Callable, Union

IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
IPNetwork = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]

_HTTP_SCHEMES = {"http": "http", "https": "https", "ws": "http", "wss": "https"}
_WS_SCHEMES = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}


def _port(text: str) -> int | None:
    if not text.isascii() or not text.isdigit() or len(text) > 5 or int(text) > 65535:
        return None
    return int(text)


def split_host_port(hop: str) -> tuple[str, int]:
    """One X-Forwarded-For hop as (host, port); port 0 when it has none.

    ``1.2.3.4:80``, ``[2001:db8::1]:443``, ``[2001:db8::1]`` and bare addresses are split; any
    other shape is returned whole (with port 0) rather than guessed at, so it cannot pass for a
    trusted address.
    """
    if hop.startswith("["):
        end = hop.find("]")
        if end < 0:
            return hop, 0
        host, rest = hop[1:end], hop[end + 1:]
        if not rest:
            return host, 0
        if rest[0] != ":":
            return hop, 0
        return host, _port(rest[1:]) or 0
    if hop.count(":") == 1:
        host, _, port_text = hop.partition(":")
        port = _port(port_text)
        return (host, port) if port is not None else (hop, 0)
    return hop, 0


class TrustedHosts:
    """``*`` alone trusts everyone; otherwise a set of IP addresses, IP networks (``a.b.c.d/n``,
    host bits clear) and literals: an entry that is neither is a literal, matched as written
    (such as a UNIX socket path, or ``*`` beside other entries).

    Asked once per connection, so answers are remembered (a bounded memo): parsing the peer's
    address with ``ipaddress`` each time was a visible share of a connection's cost.
    """

    MEMO_SIZE = 4096

    def __init__(self, spec: Union[str, list[str]]) -> None:
        items = spec.split(",") if isinstance(spec, str) else list(spec)
        items = [item.strip() for item in items]
        self.always = items == ["*"]
        self.addresses: set[IPAddress] = set()
        self.networks: list[IPNetwork] = []
        self.literals: set[str] = set()
        self._memo: dict[str, bool] = {}
        for item in items if not self.always else ():
            if not item:
                continue
            try:
                if "/" in item:
                    self.networks.append(ipaddress.ip_network(item))
                else:
                    self.addresses.add(ipaddress.ip_address(item))
            except ValueError:
                self.literals.add(item)

    def __contains__(self, host: str | None) -> bool:
        if self.always:
            return True
        if host is None:
            # No peer address (UNIX socket): trusted when a literal such as its path is listed.
            return bool(self.literals)
        if not host:
            return False
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
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return host in self.literals
        return address in self.addresses or any(address in net for net in self.networks)

    def get_trusted_client_address(self, forwarded_for: str) -> tuple[str, int]:
        """The right-most hop that is not a trusted proxy; if every hop is trusted, the left-most
        one (a client on a proxy's own machine). An empty host means: keep the direct peer."""
        hops = [hop.strip() for hop in forwarded_for.split(",")]
        if self.always:
            return split_host_port(hops[0])
        for hop in reversed(hops):
            host, port = split_host_port(hop)
            if host not in self:
                return host, port
        return split_host_port(hops[0])


def apply_proxy_headers(trusted: TrustedHosts, scope: dict, proto: bytes | None,
                        forwarded_for: bytes | None) -> None:
    """Sets scope["scheme"] and scope["client"] from X-Forwarded-Proto (the last such header) and
    X-Forwarded-For (every such header, joined with ", " in order).

    The caller has checked that the direct peer is trusted. The C++ protocol calls this only for
    requests that carry one of the two headers, so ordinary requests cost no Python here.
    """
    if proto is not None:
        schemes = _WS_SCHEMES if scope["type"] == "websocket" else _HTTP_SCHEMES
        scheme = schemes.get(proto.decode("latin-1").strip())
        if scheme is not None:
            scope["scheme"] = scheme
    if forwarded_for is not None:
        host, port = trusted.get_trusted_client_address(forwarded_for.decode("latin-1"))
        if host:
            scope["client"] = (host, port)


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
                proto = None
                forwarded_for: list[bytes] = []
                for name, value in scope["headers"]:
                    if name == b"x-forwarded-proto":
                        proto = value
                    elif name == b"x-forwarded-for":
                        forwarded_for.append(value)
                apply_proxy_headers(self.trusted, scope, proto,
                                    b", ".join(forwarded_for) if forwarded_for else None)
        await self.app(scope, receive, send)
