#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Print 1 if the POSIX message queue NAME exists, else 0: for machines
where /dev/mqueue is not mounted, so a queue left behind cannot be listed.

usage: mq-exists.py /NAME
"""
import ctypes
import errno
import os
import sys

rt = ctypes.CDLL("librt.so.1", use_errno=True)
rt.mq_open.argtypes = [ctypes.c_char_p, ctypes.c_int]
q = rt.mq_open(sys.argv[1].encode(), os.O_RDONLY | os.O_NONBLOCK)
if q >= 0:
    rt.mq_close(q)
# Anything but "no such queue" (EACCES, say) means something is there.
print(1 if q >= 0 or ctypes.get_errno() != errno.ENOENT else 0)
