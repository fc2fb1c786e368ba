#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets (fuzz/corpus/<target>/).

The corpora are committed; this script documents where they came from and
regenerates them.  Each file of ws_frame starts with the target's two
control bytes (limits, read-size seed), then a client byte stream."""

import os
import struct
import sys

here = os.path.dirname(os.path.abspath(__file__))


def frame(op, payload=b"", fin=True, rsv=0, mask=True, length=None):
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | (rsv << 4) | op
    m = 0x80 if mask else 0
    if n < 126:
        head = bytes([b0, m | n])
    elif n < 65536:
        head = bytes([b0, m | 126]) + struct.pack("!H", n)
    else:
        head = bytes([b0, m | 127]) + struct.pack("!Q", n)
    if not mask:
        return head + payload
    key = bytes([0x11, 0x22, 0x33, 0x44])
    return head + key + bytes(c ^ key[i % 4] for i, c in enumerate(payload))


def write(target, name, data):
    d = os.path.join(here, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def frames():
    lim = bytes([0x0e, 0x05])     # 64 KiB messages, 100000 fragments
    small = bytes([0x01, 0x09])   # 1000-byte messages, 1 fragment
    seeds = {
        "text-hello": frame(1, b"Hello"),
        "binary-126": frame(2, bytes(range(126))),
        "binary-65535": frame(2, b"x" * 65535),
        "ping-pong-close": frame(9, b"p") + frame(10, b"") +
            frame(8, struct.pack("!H", 1000) + b"bye"),
        "fragments-with-ping": frame(1, b"Hel", fin=False) + frame(9, b"!") +
            frame(0, b"", fin=False) + frame(0, b"lo"),
        "utf8-split-fragments": frame(1, b"\xce", fin=False) +
            frame(0, b"\xba\xe1\xbd\xb9"),
        "invalid-utf8": frame(1, b"\xce\xba\xf4\x90\x80\x80"),
        "unmasked": frame(1, b"abc", mask=False),
        "rsv1": frame(1, b"abc", rsv=4),
        "reserved-opcode": frame(3, b"") + frame(0xb, b""),
        "fragmented-ping": frame(9, b"p", fin=False),
        "ping-126": frame(9, b"p" * 126),
        "stray-continuation": frame(0, b"abc"),
        "nested-text": frame(1, b"a", fin=False) + frame(1, b"b"),
        "length-high-bit": bytes([0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1]),
        "length-2pow62": bytes([0x82, 0xff, 0x40, 0, 0, 0, 0, 0, 0, 0]),
        "close-1-byte": frame(8, b"\x03"),
        "close-bad-code": frame(8, struct.pack("!H", 1005)),
        "close-bad-reason": frame(8, struct.pack("!H", 1000) + b"\xce"),
    }
    for name, data in seeds.items():
        write("ws_frame", name, lim + data)
    write("ws_frame", "too-many-fragments", small +
          frame(1, b"a", fin=False) + frame(0, b"b"))
    write("ws_frame", "too-big", small + frame(2, b"z" * 1001))


def utf8():
    seeds = {
        "ascii": b"Hello, world 0123456789",
        "kosme": "κόσμε".encode(),
        "boundaries": "\u0080\u07ff\u0800\ud7ff\ue000\ufffd\uffff".encode(
            "utf-8", "surrogatepass") + "\U00010000\U0010ffff".encode(),
        "above-10ffff": b"\xf4\x90\x80\x80",
        "surrogate": b"\xed\xa0\x80",
        "overlong-nul": b"\xc0\x80",
        "overlong-3": b"\xe0\x80\xaf",
        "five-byte": b"\xf8\x88\x80\x80\x80",
        "fe-ff": b"\xfe\xff",
        "lone-continuations": bytes(range(0x80, 0xc0)),
        "lonely-starts": b" ".join(bytes([b]) for b in range(0xc0, 0xfe)),
        "truncated": b"\xe0\xa0",
        "mixed-long": ("abc" * 20 + "ü" + "x" * 17 + "\u20ac").encode(),
    }
    for name, data in seeds.items():
        write("ws_utf8", name, data)


if __name__ == "__main__":
    frames()
    utf8()
    sys.exit(0)
