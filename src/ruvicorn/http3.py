"""HTTP/3 (RFC 9114) over QUIC: the glue between a QUIC library and the C++ HTTP/3 connection.

QUIC itself (handshake, TLS 1.3, loss recovery, congestion and flow control) comes from a library:
qh3 or aioquic (``pip install 'ruvicorn[http3]'``). This module runs its UDP endpoint: one
``QuicConnection`` per client connection, chosen by destination connection id; their stream events
go to the C++ ``H3Protocol`` (HTTP/3 framing, QPACK and the request cycles are C++), whose output
goes back to the library, and the library's datagrams to the socket. Timers are the library's
(``get_timer``/``handle_timer``), one asyncio timer per connection.

Address validation: a client proves its address with a Retry token (RFC 9000 8.1.2) whenever more
than ``RETRY_ABOVE`` connections are still in their handshake, so spoofed Initial packets cannot
hold more state than that; garbage and unknown connection ids cost nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import importlib
import importlib.util
import ipaddress
import logging
import os
import socket
import struct
import time
from typing import TYPE_CHECKING, Any, Callable

from ruvicorn import _core
from ruvicorn.tls import quic_extension

if TYPE_CHECKING:
    from ruvicorn.config import Config
    from ruvicorn.server import ServerState

logger = logging.getLogger("ruvicorn.error")

EXTRA_HINT = "pip install 'ruvicorn[http3]'"
# In order of preference (README: "HTTP/3 behaviour"): aioquic, the reference, interoperates
# with every client we tried; qh3 is faster but stalls aioquic clients' handshakes for a second.
LIBRARIES = ("aioquic", "qh3")
CID_LENGTH = 8  # our connection ids; short-header packets are routed by their first 8 bytes
RETRY_ABOVE = 64  # connections in their handshake before new clients must prove their address
TOKEN_LIFETIME = 10.0  # seconds a Retry token is accepted (clients return it at once)
MAX_HELD_DATAGRAMS = 256  # per connection while its apps do not read their request bodies
H3_NO_ERROR = 0x100
INITIAL_SIZE = 1200  # RFC 9000 14.1: a client's Initial datagram is at least this long


def _limit(config: Config, name: str) -> int:
    """A Limits field as Config sets it (or the core's default)."""
    return int(config.limits().get(name, _core.LIMIT_DEFAULTS[name]))


class QuicLibrary:
    """The parts of a QUIC library this module uses; aioquic and its fork qh3 share the API but
    for the Retry token handler (ours is used with both) and how a stream's unsent bytes are
    measured."""

    def __init__(self, name: str) -> None:
        self.name = name
        configuration = importlib.import_module(f"{name}.quic.configuration")
        connection = importlib.import_module(f"{name}.quic.connection")
        events = importlib.import_module(f"{name}.quic.events")
        packet = importlib.import_module(f"{name}.quic.packet")
        buffer_module = importlib.import_module(
            "qh3._hazmat" if name == "qh3" else "aioquic.buffer")
        self.version = importlib.import_module(name).__version__
        self.QuicConfiguration = configuration.QuicConfiguration
        self.QuicConnection = connection.QuicConnection
        self.Buffer = buffer_module.Buffer
        self.pull_quic_header = packet.pull_quic_header
        self.encode_quic_retry = packet.encode_quic_retry
        self.encode_quic_version_negotiation = packet.encode_quic_version_negotiation
        self.INITIAL = packet.QuicPacketType.INITIAL
        self.VERSION_NEGOTIATION = packet.QuicPacketType.VERSION_NEGOTIATION
        self.events = events

    def send_buffered(self, quic: Any, stream_id: int) -> int:
        """Bytes of the stream the library holds that the client has not acknowledged yet (qh3:
        not sent yet)."""
        if self.name == "qh3":
            return int(quic.get_send_buffer_size(stream_id))
        stream = quic._streams.get(stream_id)  # aioquic has no public measure
        if stream is None:
            return 0
        sender = stream.sender
        return int(sender._buffer_stop - sender._buffer_start)

    def all_acknowledged(self, quic: Any) -> bool:
        """Has the client acknowledged everything sent on streams (so closing loses nothing)?"""
        if self.name == "qh3":
            core = quic._core
            return quic.get_send_buffer_size() == 0 and (core is None or core.bytes_in_flight == 0)
        return all(s.sender._buffer_stop == s.sender._buffer_start
                   for s in quic._streams.values())

    def authenticated(self, quic: Any) -> bool:
        """Did a packet of the connection decrypt? A first Initial that did not (noise, or
        someone else's keys) leaves nothing worth keeping state for."""
        if self.name == "qh3":
            core = quic._core
            return core is not None and bool(core.received_authenticated_packet)
        spaces = getattr(quic, "_spaces", {})
        return any(len(space.ack_queue) > 0 for space in spaces.values())

    def cipher_suite(self, quic: Any) -> int | None:
        """The TLS 1.3 cipher suite the handshake chose (RFC 8446 B.4), for the ASGI tls
        extension."""
        if self.name == "qh3":
            cipher = quic.get_cipher()
        else:
            cipher = getattr(getattr(quic.tls, "key_schedule", None), "cipher_suite", None)
        return None if cipher is None else int(cipher)

    def allow_streams(self, quic: Any, streams: int) -> None:
        """The QUIC limit on bidirectional streams the client may open at once: settable before
        the handshake with aioquic; qh3 fixes it at 100 (the core refuses beyond its own limit)."""
        limit = getattr(quic, "_local_max_streams_bidi", None)
        if limit is not None:
            limit.value = limit.sent = streams  # announced in the transport parameters


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def load_library(name: str | None = None) -> QuicLibrary:
    """The QUIC library to serve HTTP/3 with: ``name``, or $RUVICORN_QUIC, or the first of
    LIBRARIES that is installed. Raises ImportError with the install hint."""
    wanted = name or os.environ.get("RUVICORN_QUIC") or None
    failures = []
    for candidate in ([wanted] if wanted else list(LIBRARIES)):
        try:
            return QuicLibrary(candidate)
        except ImportError as exc:
            if _installed(candidate):
                failures.append(f"{candidate} is installed but cannot be used: {exc}")
    which = wanted or " or ".join(LIBRARIES)
    detail = f" ({'; '.join(failures)})" if failures else ""
    raise ImportError(f"--http3 needs a QUIC library ({which}): {EXTRA_HINT}{detail}")


class RetryTokens:
    """Stateless Retry tokens (RFC 9000 8.1.2): the client's address, the original destination
    connection id and the Retry's source connection id, with a time, under an HMAC key of this
    process. Forging one needs the key; replaying one works only from the same address and
    briefly."""

    def __init__(self) -> None:
        self._key = os.urandom(32)

    @staticmethod
    def _address(addr: Any) -> bytes:
        return ipaddress.ip_address(addr[0]).packed + struct.pack("!H", addr[1])

    def _mac(self, addr: Any, body: bytes) -> bytes:
        return hmac.new(self._key, self._address(addr) + body, hashlib.sha256).digest()[:16]

    def create(self, addr: Any, original_dcid: bytes, retry_scid: bytes) -> bytes:
        body = (struct.pack("!d", time.monotonic()) + bytes([len(original_dcid)]) + original_dcid
                + bytes([len(retry_scid)]) + retry_scid)
        return body + self._mac(addr, body)

    def validate(self, addr: Any, token: bytes, dcid: bytes) -> bytes | None:
        """The original destination connection id, or None for a token that is not ours, not
        from this address, too old, or not for this connection id."""
        if len(token) < 8 + 2 + 16:
            return None
        body, mac = token[:-16], token[-16:]
        if not hmac.compare_digest(mac, self._mac(addr, body)):
            return None
        (issued,) = struct.unpack("!d", body[:8])
        n = body[8]
        original_dcid = body[9:9 + n]
        retry_scid = body[10 + n:]
        if time.monotonic() - issued > TOKEN_LIFETIME or retry_scid != dcid:
            return None
        return original_dcid


class Http3Connection:
    """One QUIC connection: the library's QuicConnection, the C++ H3Protocol, the timer. Listed
    in the server's connections (shutdown/abort) from its first packet until it ends."""

    def __init__(self, endpoint: Http3Endpoint, quic: Any, addr: Any) -> None:
        self.endpoint = endpoint
        self.quic = quic
        self.addr = addr
        self.handshake_done = False
        self._loop = endpoint.loop
        self._sendto = endpoint.sendto
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self._transmit_pending = False
        self._held: list[tuple[bytes, Any]] = []
        self._ended = False
        ctx = endpoint.ctx
        client = (addr[0], addr[1])
        trusted = False
        if ctx.proxy_trusted is not None:
            trusted = addr[0] in ctx.proxy_trusted
        self.h3 = _core.H3Protocol(ctx, quic, self, client, endpoint.server_address, trusted)
        lib = endpoint.lib
        events = lib.events
        self._handlers: dict[type, Callable[[Any], None]] = {
            events.StreamDataReceived: self._on_stream_data,
            events.StreamReset: self._on_stream_reset,
            events.StopSendingReceived: self._on_stop_sending,
            events.HandshakeCompleted: self._on_handshake_completed,
            events.ConnectionIdIssued: self._on_cid_issued,
            events.ConnectionIdRetired: self._on_cid_retired,
            events.ConnectionTerminated: self._on_terminated,
        }
        self._send_buffered = lib.send_buffered

    # --- packets in ------------------------------------------------------------------------------

    def datagram(self, data: bytes, addr: Any) -> None:
        if self._held or self.h3.over_receive_buffer():
            # The apps hold as much request body as they may: the packet waits (the client's
            # retransmission covers what does not fit).
            if len(self._held) < MAX_HELD_DATAGRAMS:
                self._held.append((data, addr))
            return
        self.quic.receive_datagram(data, addr, self._loop.time())
        self._process_events()
        self.schedule_transmit()

    def resume_reading(self) -> None:
        """From the C++ side: the apps read their bodies below half the receive buffer."""
        self._loop.call_soon(self._replay_held)

    def _replay_held(self) -> None:
        held, self._held = self._held, []
        for data, addr in held:
            if self._ended:
                return
            self.datagram(data, addr)

    def _process_events(self) -> None:
        next_event = self.quic.next_event
        handlers = self._handlers
        event = next_event()
        while event is not None:
            handler = handlers.get(type(event))
            if handler is not None:
                handler(event)
            event = next_event()

    def _on_stream_data(self, event: Any) -> None:
        self.h3.stream_data(event.stream_id, event.data, event.end_stream)

    def _on_stream_reset(self, event: Any) -> None:
        self.h3.stream_reset(event.stream_id)

    def _on_stop_sending(self, event: Any) -> None:
        self.h3.stop_sending(event.stream_id)

    def _on_handshake_completed(self, event: Any) -> None:
        if self.handshake_done:
            return
        self.handshake_done = True
        endpoint = self.endpoint
        endpoint.handshake_completed(self)
        tls = endpoint.tls_extension(endpoint.lib.cipher_suite(self.quic), event.alpn_protocol)
        self.h3.start(self.quic.get_next_available_stream_id(is_unidirectional=True), tls)

    def _on_cid_issued(self, event: Any) -> None:
        self.endpoint.connections[event.connection_id] = self

    def _on_cid_retired(self, event: Any) -> None:
        self.endpoint.connections.pop(event.connection_id, None)

    def _on_terminated(self, event: Any) -> None:
        self._end()

    # --- packets out -----------------------------------------------------------------------------

    def schedule_transmit(self) -> None:
        """Datagrams go out once per loop iteration, after the app tasks this one started ran:
        their responses then share packets with the acknowledgments."""
        if not self._transmit_pending and not self._ended:
            self._transmit_pending = True
            self._loop.call_soon(self._transmit)

    def _transmit(self) -> None:
        self._transmit_pending = False
        if self._ended:
            return
        self.h3.flush()
        sendto = self._sendto
        try:
            datagrams = self.quic.datagrams_to_send(self._loop.time())
        except Exception as exc:  # noqa: BLE001 - the library's; it recovers on a later try
            # qh3 2.1.0 fails its first flight to aioquic clients ("packet builder capacity
            # exhausted") and succeeds when the client retransmits (README: HTTP/3 behaviour).
            logger.debug("QUIC library error while sending: %s", exc)
            datagrams = []
        for data, addr in datagrams:
            sendto(data, addr)
        self.h3.drained()
        if self.h3.close_pending and self.endpoint.lib.all_acknowledged(self.quic):
            self.h3.close_now()  # the CONNECTION_CLOSE goes out with the next transmit
        self._arm_timer()

    def _arm_timer(self) -> None:
        at = self.quic.get_timer()
        if at == self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = at
        self._timer = None if at is None else self._loop.call_at(at, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = None
        if self._ended:
            return
        self.quic.handle_timer(self._loop.time())
        self._process_events()
        self._transmit()

    def send_buffered(self, stream_id: int) -> int:
        return self._send_buffered(self.quic, stream_id)

    # --- the end ---------------------------------------------------------------------------------

    def _end(self) -> None:
        if self._ended:
            return
        self._ended = True
        self._held.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.h3.connection_lost()
        self.endpoint.forget(self)

    def discard(self) -> None:
        """Forgets a connection whose first packet was not a real Initial, without a word."""
        self._transmit_pending = True  # nothing is sent for it
        self._end()

    def shutdown(self) -> None:
        """Graceful shutdown: GOAWAY; the connection closes once its streams are done."""
        if self._ended:
            return
        if self.handshake_done:
            self.h3.shutdown()
        else:
            self.quic.close(error_code=H3_NO_ERROR)
        self.schedule_transmit()

    def abort(self) -> None:
        if self._ended:
            return
        if self.handshake_done:
            self.h3.abort()
        else:
            self.quic.close(error_code=H3_NO_ERROR)
        self._transmit()
        self._end()


class Http3Endpoint(asyncio.DatagramProtocol):
    """The UDP socket: routes datagrams to connections by destination connection id, starts
    connections for new clients' Initial packets, answers unknown versions."""

    def __init__(self, config: Config, ctx: Any, state: ServerState, lib: QuicLibrary,
                 loop: asyncio.AbstractEventLoop, server_address: tuple[str, int]) -> None:
        self.config = config
        self.ctx = ctx
        self.state = state
        self.lib = lib
        self.loop = loop
        self.server_address = server_address
        self.connections: dict[bytes, Http3Connection] = {}
        self.handshaking: set[Http3Connection] = set()
        self.accepting = True
        self.transport: asyncio.DatagramTransport | None = None
        self.sendto: Callable[[bytes, Any], None] = lambda data, addr: None
        self.tokens = RetryTokens()
        self.tls_extension = quic_extension(config)  # scope["extensions"]["tls"]
        self.quic_config = self._quic_configuration()
        self.supported_versions = list(self.quic_config.supported_versions)
        self.dropped = 0  # datagrams no connection took (garbage, unknown ids, small Initials)

    def _quic_configuration(self) -> Any:
        config = self.config
        window = _limit(config, "h3_receive_buffer")
        quic_config = self.lib.QuicConfiguration(
            is_client=False,
            alpn_protocols=["h3"],
            connection_id_length=CID_LENGTH,
            idle_timeout=float(config.http3_idle_timeout),
            max_datagram_size=int(config.http3_max_datagram_size),
            max_data=window,
            max_stream_data=window,
        )
        quic_config.load_cert_chain(config.ssl_certfile, config.ssl_keyfile,
                                    config.ssl_keyfile_password)
        return quic_config

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.sendto = transport.sendto  # type: ignore[attr-defined]

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if data and not data[0] & 0x80:
            # A short header (1-RTT): routed by our fixed-length connection id.
            connection = self.connections.get(data[1:1 + CID_LENGTH])
            if connection is not None:
                connection.datagram(data, addr)
            else:
                self.dropped += 1
            return
        try:
            header = self.lib.pull_quic_header(self.lib.Buffer(data=data),
                                               host_cid_length=CID_LENGTH)
        except ValueError:
            self.dropped += 1
            return
        connection = self.connections.get(header.destination_cid)
        if connection is not None:
            connection.datagram(data, addr)
            return
        if header.packet_type == self.lib.VERSION_NEGOTIATION or len(data) < INITIAL_SIZE:
            self.dropped += 1  # RFC 9000 14.1: too small to answer (no amplification)
            return
        if header.version not in self.supported_versions:
            self.sendto(self.lib.encode_quic_version_negotiation(
                source_cid=header.destination_cid, destination_cid=header.source_cid,
                supported_versions=self.supported_versions), addr)
            return
        if header.packet_type != self.lib.INITIAL or not self.accepting:
            self.dropped += 1
            return
        self._new_connection(header, data, addr)

    def _new_connection(self, header: Any, data: bytes, addr: Any) -> None:
        original_dcid = header.destination_cid
        retry_scid = None
        if header.token:
            validated = self.tokens.validate(addr, header.token, header.destination_cid)
            if validated is None:
                self.dropped += 1  # not our token: its sender may be spoofing the address
                return
            original_dcid, retry_scid = validated, header.destination_cid
        elif len(self.handshaking) >= RETRY_ABOVE:
            # Busy with handshakes: this client first proves it receives at its address.
            scid = os.urandom(CID_LENGTH)
            self.sendto(self.lib.encode_quic_retry(
                version=header.version, source_cid=scid, destination_cid=header.source_cid,
                original_destination_cid=header.destination_cid,
                retry_token=self.tokens.create(addr, header.destination_cid, scid)), addr)
            return
        quic = self.lib.QuicConnection(configuration=self.quic_config,
                                       original_destination_connection_id=original_dcid,
                                       retry_source_connection_id=retry_scid)
        self.lib.allow_streams(quic, _limit(self.config, "h3_max_concurrent_streams"))
        connection = Http3Connection(self, quic, addr)
        self.connections[header.destination_cid] = connection
        self.connections[quic.host_cid] = connection
        self.handshaking.add(connection)
        self.state.connections.add(connection)
        connection.datagram(data, addr)
        if not self.lib.authenticated(quic):
            self.dropped += 1
            connection.discard()

    def handshake_completed(self, connection: Http3Connection) -> None:
        self.handshaking.discard(connection)

    def forget(self, connection: Http3Connection) -> None:
        self.handshaking.discard(connection)
        for cid in [cid for cid, c in self.connections.items() if c is connection]:
            del self.connections[cid]
        self.state.connections.discard(connection)

    def error_received(self, exc: Exception) -> None:
        logger.debug("HTTP/3 UDP socket error: %s", exc)

    def stop_accepting(self) -> None:
        self.accepting = False

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def udp_socket(host: str, port: int, reuse_port: bool) -> socket.socket:
    """The UDP socket HTTP/3 listens on: the TLS listener's host and port. With several workers
    each binds its own with SO_REUSEPORT; the kernel then sends a client's packets (same address
    and port) to the same worker."""
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_DGRAM,
                               flags=socket.AI_PASSIVE)
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        for option in (socket.SO_RCVBUF, socket.SO_SNDBUF):
            try:
                sock.setsockopt(socket.SOL_SOCKET, option, 4 * 1024 * 1024)
            except OSError:
                pass
        sock.bind(address)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


async def start_http3(config: Config, loop: asyncio.AbstractEventLoop, state: ServerState,
                      port: int) -> Http3Endpoint:
    """Listens for QUIC on UDP (config.host, port) and has every HTTP/1.1 and HTTP/2 response
    advertise it (Alt-Svc)."""
    lib = load_library()
    ctx = state.http_context
    sock = udp_socket(config.host, port, reuse_port=config.use_subprocess)
    host, bound_port = sock.getsockname()[:2]
    endpoint = Http3Endpoint(config, ctx, state, lib, loop, (host, bound_port))
    await loop.create_datagram_endpoint(lambda: endpoint, sock=sock)
    ctx.alt_svc = f'h3=":{bound_port}"; ma=86400'
    logger.info("HTTP/3 (QUIC, %s %s) on udp://%s:%d", lib.name, lib.version, host, bound_port)
    return endpoint
