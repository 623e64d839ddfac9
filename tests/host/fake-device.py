#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Play the ipc_button driver on a FIFO: write struct ipc_button_event
records (driver/uapi/ipc_button.h) given as SEQNO:TYPE[:DROPPED] words,
type p or r, in one write, then close (the button sees the device go).

usage: fake-device.py FIFO SEQNO:TYPE[:DROPPED]...
"""
import struct
import sys
import time

F_DROPPED = 1
records = b""
for word in sys.argv[2:]:
    parts = word.split(":")
    seqno, kind = int(parts[0]), parts[1]
    dropped = int(parts[2]) if len(parts) > 2 else 0
    # timestamp_ns, seqno, type, flags, dropped, padding[2]
    records += struct.pack("=QIIII2I", time.monotonic_ns(), seqno,
                           1 if kind == "p" else 2,
                           F_DROPPED if dropped else 0, dropped, 0, 0)
with open(sys.argv[1], "wb", buffering=0) as fifo:
    fifo.write(records)
