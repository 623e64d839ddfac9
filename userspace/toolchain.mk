# SPDX-License-Identifier: MIT
#
# What ./Makefile (the programs) and bench/Makefile (ipc-bench, linked from
# the very same objects) must agree on: the compiler, the libraries and the
# flags. Included by both, so the benchmark can never measure a build the
# programs do not ship. The includer sets TOP (the repository) and may set
# CROSS_COMPILE.

CROSS_COMPILE ?=
CC := $(CROSS_COMPILE)gcc
ifneq ($(CROSS_COMPILE),)
# The target's libraries, from Debian's multiarch packages.
PKG_CONFIG := PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig pkg-config
else
PKG_CONFIG := pkg-config
endif
PKGS := libgpiod libssl libcrypto libsystemd libmosquitto
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS))
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS))
ifeq ($(shell $(PKG_CONFIG) --atleast-version=2.0 libgpiod && echo yes),)
$(error libgpiod >= 2.0 is required: sudo apt install -t bookworm-backports libgpiod-dev (or, for the whole emulator kit: make deps))
endif

# The one version of the project: the driver's DKMS version (--version).
VERSION := $(shell sed -n 's/^PACKAGE_VERSION=["'"'"']*\([^"'"'"']*\).*/\1/p' \
	$(TOP)/driver/dkms.conf)

# -flto=auto: link-time optimisation, so the few functions one event
# passes through (encode, the transport's send, the ring or the queue, the
# wake-up) are laid out and inlined together across files. On one core
# the receiver wakes with little of the sender's code still in its caches,
# and every extra cache line or page the path touches shows in the
# latency. -fno-plt: calls into libc go straight through the GOT.
CFLAGS := -std=gnu11 -O2 -g -flto=auto -fno-plt -Wall -Wextra -Werror -D_GNU_SOURCE \
	-DIPC_BUTTON_VERSION='"$(VERSION)"' -I$(TOP)/driver/uapi \
	-I$(TOP)/userspace/lib -I$(TOP)/userspace/ipc $(PKG_CFLAGS)
LDFLAGS := -Wl,--as-needed -flto=auto
