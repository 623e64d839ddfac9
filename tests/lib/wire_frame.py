# SPDX-License-Identifier: GPL-2.0-only
"""The 40-byte wire frame (userspace/lib/message.h), written by hand.

What a suite needs to play a foreign sender: a valid frame of any seqno
and LED state, or one with a wrong version or a wrong checksum, built
field by field as message.c lays it out. The CRC-32C is computed here
bit by bit: Python's zlib knows only the Ethernet CRC-32, and a second,
independent implementation is what a test of the C one should use.
"""
import struct
import time

VERSION = 2
PRESS, RELEASE, STATE = 1, 2, 3


def crc32c(data):
    """CRC-32C (Castagnoli, reflected, 0xffffffff in and out)."""
    crc = 0xffffffff
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82f63b78 if crc & 1 else 0)
    return crc ^ 0xffffffff


def frame(seq, led, version=VERSION, kind=PRESS, event_ns=None,
          send_ns=None, corrupt=False):
    """The frame of event @seq with LED state @led; @corrupt flips a bit
    of the seqno after the checksum is made."""
    now = time.monotonic_ns()
    body = b"IB" + bytes([version, kind, 0, led]) + b"\0\0" + \
        struct.pack(">IIQQ", seq, 0, now if event_ns is None else event_ns,
                    now if send_ns is None else send_ns) + b"\0" * 4
    out = body + struct.pack(">I", crc32c(body))
    if corrupt:
        out = out[:10] + bytes([out[10] ^ 0xff]) + out[11:]
    return out


def from_args(args):
    """The frame a suite's helper names on its command line: SEQNO LED
    [VERSION] [corrupt] [LENGTH], VERSION or corrupt "-" for the default
    (the programs' version, intact), cut or padded with zeros to LENGTH
    (default 40)."""
    seq, led = int(args[0]), int(args[1])
    version = args[2] if len(args) > 2 and args[2] != "-" else VERSION
    corrupt = len(args) > 3 and args[3] == "corrupt"
    length = int(args[4]) if len(args) > 4 else 40
    out = frame(seq, led, version=int(version), corrupt=corrupt)
    return (out + b"\0" * length)[:length]


assert crc32c(b"123456789") == 0xe3069283, "the CRC-32C check value"
