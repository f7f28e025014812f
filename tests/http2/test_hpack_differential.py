"""Differential tests of ruvicorn's HPACK codec (the C++ core, through the ``_core.Hpack*`` test
hooks) against the python ``hpack`` package, both ways, over sequences of blocks on one
connection: random header lists (binary values, repeats that exercise the dynamic table, sensitive
fields) and table size changes. Also mutated blocks: both decoders must agree on what they
accept and on what it decodes to."""

from __future__ import annotations

import random
from typing import List, Tuple

import pytest

hpack = pytest.importorskip("hpack", reason="the python hpack package is the reference codec")
_core = pytest.importorskip("ruvicorn._core", reason="the extension is not built")

Fields = List[Tuple[bytes, bytes]]

NAMES = [
    b"content-type", b"content-length", b"server", b"date", b"cache-control", b"vary",
    b"set-cookie", b"cookie", b"authorization", b"etag", b"location", b"x-request-id",
    b"x-custom", b"x-a", b"access-control-allow-origin", b"strict-transport-security",
    b"user-agent", b"accept", b":authority", b":path",
]
COMMON_VALUES = [
    b"", b"text/html; charset=utf-8", b"application/json", b"ruvicorn", b"no-cache", b"gzip",
    b"Mon, 21 Oct 2013 20:13:21 GMT", b"*", b"/", b"1234", b"max-age=63072000",
]


def table_size(entries: Fields) -> int:
    return sum(len(name) + len(value) + 32 for name, value in entries)  # RFC 7541 4.1


def random_value(rng: random.Random) -> bytes:
    kind = rng.randrange(4)
    if kind == 0:
        return rng.choice(COMMON_VALUES)
    if kind == 1:  # printable text
        return bytes(rng.randrange(0x20, 0x7F) for _ in range(rng.randrange(60)))
    if kind == 2:  # any octets: HPACK carries them all
        return bytes(rng.randrange(256) for _ in range(rng.randrange(40)))
    return bytes([rng.randrange(0x61, 0x7B)]) * rng.randrange(1, 300)  # long runs, evictions


def random_name(rng: random.Random) -> bytes:
    if rng.randrange(4):
        return rng.choice(NAMES)
    alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789-_"
    return bytes(rng.choice(alphabet) for _ in range(rng.randrange(1, 20)))


def random_fields(rng: random.Random, pool: Fields) -> Fields:
    fields: Fields = []
    for _ in range(rng.randrange(14)):
        if pool and rng.randrange(3):
            fields.append(rng.choice(pool))  # repeats: the dynamic table at work
        else:
            field = (random_name(rng), random_value(rng))
            fields.append(field)
            pool.append(field)
    return fields


@pytest.mark.parametrize("seed", range(6))
def test_our_encoder_to_python_decoder(seed: int) -> None:
    rng = random.Random(seed)
    ours = _core.HpackEncoder(4096 if seed % 3 else 1024)
    theirs = hpack.Decoder(max_header_list_size=1 << 24)
    pool: Fields = []
    for _ in range(300):
        if rng.randrange(12) == 0:
            # The peer (python) announces SETTINGS_HEADER_TABLE_SIZE; the size updates at the
            # start of our next block must respect it (its decoder checks, RFC 7541 4.2).
            for _ in range(rng.randrange(1, 3)):
                size = rng.choice([0, 64, 256, 1000, 4096, 65536])
                ours.set_peer_table_size(size)
                theirs.max_allowed_table_size = size
        status: int | None = rng.choice([None, 200, 200, 404, 302, 201, rng.randrange(100, 600)])
        fields = random_fields(rng, pool)
        block = ours.encode(status, fields)
        decoded = [(bytes(n), bytes(v)) for n, v in theirs.decode(block, raw=True)]
        want = ([(b":status", str(status).encode())] if status is not None else []) + fields
        assert decoded == want
        assert table_size(theirs.header_table.dynamic_entries) == ours.table_size


@pytest.mark.parametrize("huffman", [True, False])
@pytest.mark.parametrize("seed", range(4))
def test_python_encoder_to_our_decoder(seed: int, huffman: bool) -> None:
    rng = random.Random(1000 + seed)
    theirs = hpack.Encoder()
    ours = _core.HpackDecoder(4096, 1 << 24)
    pool: Fields = []
    for _ in range(250):
        if rng.randrange(10) == 0:
            for _ in range(rng.randrange(1, 4)):  # several size updates in one block
                size = rng.choice([0, 100, 256, 1000, 4096])
                # hpack forgets the updates owed when the last assignment changes nothing
                if size != theirs.header_table_size:
                    theirs.header_table_size = size
        fields = random_fields(rng, pool)
        tuples = [
            hpack.NeverIndexedHeaderTuple(n, v) if rng.randrange(8) == 0
            else hpack.HeaderTuple(n, v)
            for n, v in fields
        ]
        block = theirs.encode(tuples, huffman=huffman)
        assert ours.decode(block) == fields
        assert not ours.oversize
        assert ours.table() == list(theirs.header_table.dynamic_entries)


def test_oversize_blocks_keep_our_table_in_step() -> None:
    # A small list limit: many blocks go over it; their fields are cut short, but the dynamic
    # table must follow the encoder's exactly, or the next blocks would decode wrong.
    rng = random.Random(7)
    theirs = hpack.Encoder()
    ours = _core.HpackDecoder(4096, 300)
    pool: Fields = []
    oversize = 0
    for _ in range(300):
        fields = random_fields(rng, pool)
        decoded = ours.decode(theirs.encode(fields))
        size = 0
        kept = 0
        for name, value in fields:
            size += len(name) + len(value) + 32
            if size > 300:
                break
            kept += 1
        assert ours.oversize == (kept < len(fields))
        assert decoded == fields[:kept]
        oversize += ours.oversize
        assert ours.table() == list(theirs.header_table.dynamic_entries)
    assert oversize > 30


def test_mutated_blocks_decode_alike() -> None:
    # Random corruptions of valid blocks (one connection each, so the table state matters):
    # when one decoder accepts a block the other must accept it too, with the same fields. The
    # only difference allowed: integers past 2^32, which we refuse and hpack reads.
    rng = random.Random(11)
    disagreements = []
    accepted = rejected = 0
    for case in range(400):
        encoder = hpack.Encoder()
        ours = _core.HpackDecoder(4096, 1 << 24)
        theirs = hpack.Decoder(max_header_list_size=1 << 24)
        pool: Fields = []
        for _ in range(4):
            block = bytearray(encoder.encode(random_fields(rng, pool), huffman=bool(case % 2)))
            for _ in range(rng.randrange(1, 4)):
                if not block:
                    break
                at = rng.randrange(len(block))
                choice = rng.randrange(3)
                if choice == 0:
                    block[at] = rng.randrange(256)
                elif choice == 1:
                    del block[at:at + rng.randrange(1, 4)]
                else:
                    block[at:at] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 3)))
            try:
                mine: Fields | None = ours.decode(bytes(block))
            except ValueError:
                mine = None
            try:
                reference: Fields | None = [
                    (bytes(n), bytes(v)) for n, v in theirs.decode(bytes(block), raw=True)
                ]
            except hpack.HPACKError:
                reference = None
            if mine != reference:
                disagreements.append((bytes(block).hex(), mine, reference))
            if mine is None or reference is None:
                rejected += 1
                break  # a COMPRESSION_ERROR ends the connection
            accepted += 1
    assert not disagreements, disagreements[:3]
    assert accepted > 100 and rejected > 100

