"""The ASGI TLS extension: ``scope["extensions"]["tls"]`` over TLS (asgiref specs/tls.rst, 0.2).

The C++ protocol calls the function ``extension_for(config)`` returns once per connection, with
the transport's ``ssl_object``, and gives a copy of the dict to each scope of that connection
(HTTP/1.1 requests, HTTP/2 streams, WebSockets); ``quic_extension(config)`` is its HTTP/3
counterpart, called with the QUIC connection once its handshake is done. Beyond the spec's keys,
``server_name`` (the SNI name the client asked for, or None) and ``alpn_protocol`` (what ALPN
chose, or None) are ruvicorn's; applications ignore keys they do not know.

A client certificate that fails verification fails the handshake (Python's ssl module offers
no way to continue), so ``client_cert_error`` is always None.
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING, Any, Callable, Iterator

if TYPE_CHECKING:
    from ruvicorn.config import Config

# RFC 8446 / 5246 ProtocolVersion values, by the names ssl reports.
TLS_VERSIONS = {"TLSv1.3": 0x0304, "TLSv1.2": 0x0303, "TLSv1.1": 0x0302, "TLSv1": 0x0301,
                "SSLv3": 0x0300}

# RFC 4514 3: the attribute types written by name; others as dotted OIDs with a #hex value.
_SHORT_NAMES = {
    "2.5.4.3": "CN", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.10": "O", "2.5.4.11": "OU",
    "2.5.4.6": "C", "2.5.4.9": "STREET", "0.9.2342.19200300.100.1.25": "DC",
    "0.9.2342.19200300.100.1.1": "UID",
}
# DER string types and how their bytes decode (X.520 DirectoryString and friends).
_STRING_TAGS = {0x0C: "utf-8", 0x13: "ascii", 0x16: "ascii", 0x12: "ascii", 0x14: "latin-1",
                0x1E: "utf-16-be", 0x1C: "utf-32-be"}
_SNI_ATTRIBUTE = "_ruvicorn_server_name"


# --- RFC 4514 subject names from the certificate's DER ----------------------------------------


def _tlv(data: bytes, i: int) -> tuple[int, int, int]:
    """(tag, start of the value, end of the value) of the DER element at ``i``."""
    tag, length = data[i], data[i + 1]
    i += 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[i:i + count], "big")
        i += count
    if i + length > len(data):
        raise ValueError("truncated DER")
    return tag, i, i + length


def _elements(data: bytes, start: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """(tag, value start, value end, element start) of each element in [start, end)."""
    while start < end:
        tag, value_start, value_end = _tlv(data, start)
        yield tag, value_start, value_end, start
        start = value_end


def _oid(raw: bytes) -> str:
    parts: list[int] = []
    value = 0
    for byte in raw:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    first = parts[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(str(n) for n in head + parts[1:])


def _escape(value: str) -> str:
    """RFC 4514 2.4."""
    out = []
    for i, char in enumerate(value):
        if char in ',+"\\<>;' or (i == 0 and char in " #") or (i == len(value) - 1 and char == " "):
            out.append("\\" + char)
        elif char == "\0":
            out.append("\\00")
        else:
            out.append(char)
    return "".join(out)


def subject_name(der: bytes) -> str:
    """The certificate's Subject as an RFC 4514 string (the last RDN first)."""
    _, cert_start, cert_end = _tlv(der, 0)
    _, tbs_start, tbs_end = _tlv(der, cert_start)
    fields = list(_elements(der, tbs_start, tbs_end))
    if fields[0][0] == 0xA0:  # [0] version
        fields = fields[1:]
    _, subject_start, subject_end, _ = fields[4]  # serial, signature, issuer, validity, subject
    rdns = []
    for _, set_start, set_end, _ in _elements(der, subject_start, subject_end):
        items = []
        for _, pair_start, pair_end, _ in _elements(der, set_start, set_end):
            (oid_tag, oid_start, oid_end, _), (tag, start, end, whole) = \
                list(_elements(der, pair_start, pair_end))[:2]
            oid = _oid(der[oid_start:oid_end])
            name = _SHORT_NAMES.get(oid)
            if name is not None and tag in _STRING_TAGS:
                items.append(f"{name}={_escape(der[start:end].decode(_STRING_TAGS[tag]))}")
            else:
                items.append(f"{name or oid}=#{der[whole:end].hex()}")
        rdns.append("+".join(items))
    return ",".join(reversed(rdns))


# --- the extension -------------------------------------------------------------------------------


def _first_certificate(path: Any) -> str | None:
    """The first certificate of a PEM file, re-encoded (the server certificate of the chain)."""
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            text = f.read()
    except OSError:
        return None
    begin = text.find("-----BEGIN CERTIFICATE-----")
    end = text.find("-----END CERTIFICATE-----", begin)
    if begin < 0 or end < 0:
        return None
    block = text[begin:end + len("-----END CERTIFICATE-----")]
    return ssl.DER_cert_to_PEM_cert(ssl.PEM_cert_to_DER_cert(block))


def _peer_chain(ssl_object: Any) -> list[bytes]:
    """The client's certificates, its own first, as DER. Python 3.13 gives the verified chain;
    earlier versions the client's certificate alone."""
    chain = getattr(ssl_object, "get_verified_chain", None)
    if chain is not None:
        try:
            return [bytes(c) if isinstance(c, (bytes, bytearray)) else c.public_bytes(
                ssl.Encoding.DER) for c in chain()]  # type: ignore[attr-defined]
        except (ValueError, AttributeError, ssl.SSLError):
            pass
    leaf = ssl_object.getpeercert(binary_form=True)
    return [leaf] if leaf else []


def _record_server_name(context: ssl.SSLContext) -> None:
    """SNI is only seen during the handshake: keep it on the ssl object (alongside any callback
    an ssl_context_factory installed)."""
    previous = context.sni_callback

    def record(ssl_object: Any, server_name: str | None, ctx: ssl.SSLContext) -> Any:
        try:
            setattr(ssl_object, _SNI_ATTRIBUTE, server_name)
        except AttributeError:
            pass
        return previous(ssl_object, server_name, ctx) if previous is not None else None

    context.sni_callback = record


def extension_for(config: Config) -> Callable[[Any], dict] | None:
    """The per-connection function (None without TLS). Call after Config.load()."""
    context = config.ssl
    if context is None:
        return None
    server_cert = _first_certificate(config.ssl_certfile) if config.ssl_certfile else None
    _record_server_name(context)
    cipher_ids: dict[int, dict[str, int]] = {}

    def cipher_id(ssl_object: Any) -> int | None:
        cipher = ssl_object.cipher()
        if not cipher:
            return None
        ctx = ssl_object.context
        ids = cipher_ids.get(id(ctx))
        if ids is None:
            # OpenSSL's id is 0x0300XXXX: the low 16 bits are the IANA value (RFC 8446 B.4).
            ids = {c["name"]: c["id"] & 0xFFFF for c in ctx.get_ciphers()}
            cipher_ids[id(ctx)] = ids
        return ids.get(cipher[0])

    def extension(ssl_object: Any) -> dict:
        return _extension(server_cert, _peer_chain(ssl_object),
                          TLS_VERSIONS.get(ssl_object.version() or ""), cipher_id(ssl_object),
                          getattr(ssl_object, _SNI_ATTRIBUTE, None),
                          ssl_object.selected_alpn_protocol())

    return extension


def quic_extension(config: Config) -> Callable[[int | None, str | None], dict]:
    """The per-connection function for HTTP/3, called once the QUIC handshake is done with the
    cipher suite and the ALPN protocol it chose. QUIC is always TLS 1.3 (RFC 9001 4.2). No client
    certificate is ever asked for (Config refuses --http3 with --ssl-cert-reqs), and neither QUIC
    library keeps the SNI name a server received, so those are empty."""
    server_cert = _first_certificate(config.ssl_certfile) if config.ssl_certfile else None

    def extension(cipher_suite: int | None, alpn_protocol: str | None) -> dict:
        return _extension(server_cert, [], TLS_VERSIONS["TLSv1.3"], cipher_suite, None,
                          alpn_protocol)

    return extension


def _extension(server_cert: str | None, chain: list[bytes], tls_version: int | None,
               cipher_suite: int | None, server_name: str | None,
               alpn_protocol: str | None) -> dict:
    return {
        "server_cert": server_cert,
        "client_cert_chain": [ssl.DER_cert_to_PEM_cert(der) for der in chain],
        "client_cert_name": subject_name(chain[0]) if chain else None,
        "client_cert_error": None,
        "tls_version": tls_version,
        "cipher_suite": cipher_suite,
        "server_name": server_name,
        "alpn_protocol": alpn_protocol,
    }
