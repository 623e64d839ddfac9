# SPDX-License-Identifier: GPL-2.0-only
#
# ipc-button: the one entry point. `make demo` runs the whole chain on the
# emulated board; `make check` runs every test. Both install what they need
# on a fresh Debian 12 (as root) and reuse the cached board kernel.
#
# Each part has its own Makefile; this one only orders them.

TOP := $(CURDIR)
BUILD := $(TOP)/build
BOARD_ROOT := $(BUILD)/board-root
INITRAMFS := $(BUILD)/board/initramfs.cpio
CROSS := aarch64-linux-gnu-
VIA ?= fifo
PREFIX ?= /usr/local
# Where make install puts the guides the man pages point to.
DOCDIR ?= $(PREFIX)/share/doc/ipc-button

.PHONY: all deps kernel userspace examples userspace-arm64 driver dtbs kselftest \
	board-root initramfs check check-system soak demo board-shell bench install uninstall \
	docs certs clean help system-kernel system-root system-shell

all: userspace driver dtbs

help:
	@sed -n 's/^## //p' $(MAKEFILE_LIST)

## deps            install every Debian package the project needs (root)
deps:
	@scripts/install-deps

## kernel          build or reuse the board's arm64 kernel (cached)
kernel: deps
	@board/build-kernel >/dev/null

## userspace       the button, LED and launcher programs for this machine
userspace: deps
	$(MAKE) -C userspace OUT=$(BUILD)/host

## examples        the lessons: one short program per mechanism, run by
##                 build/examples/ipc-lesson NAME (userspace/examples)
examples: deps
	$(MAKE) -C userspace/examples OUT=$(BUILD)/examples

userspace-arm64: deps
	$(MAKE) -C userspace OUT=$(BUILD)/arm64 CROSS_COMPILE=$(CROSS)

## driver          the ipc_button module for the board kernel
driver: kernel
	$(MAKE) -C driver board

## dtbs            the Raspberry Pi overlay and the board's test overlays
dtbs: deps
	$(MAKE) -C dts OUT=$(BUILD)/dts $(BUILD)/dts/ipc-button.dtbo

kselftest: kernel
	$(MAKE) -C tests/kselftest OUT=$(BUILD)/kselftest CROSS_COMPILE=$(CROSS)

# Everything the board runs, staged as its root filesystem.
board-root: userspace-arm64 driver dtbs kselftest
	rm -rf $(BOARD_ROOT)
	$(MAKE) -C userspace OUT=$(BUILD)/arm64 CROSS_COMPILE=$(CROSS) \
		install-board DESTDIR=$(BOARD_ROOT)
	$(MAKE) -C driver install-board DESTDIR=$(BOARD_ROOT)
	$(MAKE) -C dts OUT=$(BUILD)/dts install-board DESTDIR=$(BOARD_ROOT)
	$(MAKE) -C tests/kselftest OUT=$(BUILD)/kselftest CROSS_COMPILE=$(CROSS) \
		install-board DESTDIR=$(BOARD_ROOT)
	mkdir -p $(BOARD_ROOT)/usr/lib/ipc-button/tests/host \
		$(BOARD_ROOT)/usr/lib/ipc-button/userspace
	cp -a tests/lib tests/board $(BOARD_ROOT)/usr/lib/ipc-button/tests/
	cp -a tests/host/bus-daemons.sh $(BOARD_ROOT)/usr/lib/ipc-button/tests/host/
	cp -a userspace/dbus $(BOARD_ROOT)/usr/lib/ipc-button/userspace/

initramfs: board-root
	board/build-initramfs $(INITRAMFS) $(BOARD_ROOT)

## check           run every test suite; ends with "N passed, N failed"
check: deps userspace examples initramfs
	scripts/check

## check-system    the system board suites (80, 81): Debian under systemd,
##                 installed from the packages, a reboot, two boards on one
##                 network; about 20 minutes warm, so not part of check
check-system: deps system-kernel dtbs system-root
	IPC_BUTTON_SYSTEM_BOARD=1 scripts/check system

## soak            every mechanism, 1,000,000 events, LED and button SIGKILLed
##                 at random moments; every event accounted for (docs/soak.md;
##                 SOAK_EVENTS, SOAK_VIA, SOAK_SEED, SOAK_RATE...). Not in check
soak: deps userspace
	tests/soak/run

## demo            the emulated board relays presses to the LED (VIA=fifo;
##                 VIA=list lists the mechanisms without building the board)
# Listing needs only this machine's launcher, not the board.
DEMO_NEEDS := $(if $(filter list,$(VIA)),userspace,userspace initramfs)
demo: $(DEMO_NEEDS)
	board/demo $(VIA)

## board-shell     a shell on the emulated board, the chain running (VIA=fifo)
board-shell: userspace initramfs
	board/demo --shell $(VIA)

## system-shell    a login on the system board: Debian arm64 under systemd
##                 on its kernel, the Pi overlay applied (root, no password)
system-shell: deps system-kernel dtbs system-root
	board/system-run

# The system board's kernel: the board kernel without its debugging
# (KASAN, lockdep, kmemleak), built once and cached.
system-kernel: deps
	@board/build-kernel --system >/dev/null

# The system board's Debian root image, built once and cached.
system-root: deps
	@board/build-system-root >/dev/null

## bench           benchmarks of every mechanism, written to docs/
# dtbs: the board part loads the overlay (bench/board stops without it).
bench: deps userspace initramfs dtbs
	bench/run

## install         install programs, overlay, DKMS module source, udev rule,
##                 systemd units, man pages, docs (DESTDIR, PREFIX; docs/raspberry-pi.md)
# No deps here: on a Raspberry Pi only the build's own packages are needed
# (docs/raspberry-pi.md, step 2); a missing one is named, with its package.
install:
	@install/check-prerequisites
	$(MAKE) -C userspace OUT=$(BUILD)/host
	$(MAKE) -C dts OUT=$(BUILD)/dts $(BUILD)/dts/ipc-button.dtbo
	$(MAKE) -C man OUT=$(BUILD)/man DOCDIR=$(DOCDIR)
	DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" DOCDIR="$(DOCDIR)" BUILD="$(BUILD)" install/install-tree install

## uninstall       remove everything install put down (same DESTDIR, PREFIX)
uninstall:
	DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" DOCDIR="$(DOCDIR)" BUILD="$(BUILD)" install/install-tree uninstall

## docs            render the diagrams (docs/diagrams) and the man pages; copy
##                 docs/benchmarks.md's figures into the mechanism pages
docs:
	$(MAKE) -C docs
	$(MAKE) -C man OUT=$(BUILD)/man
	scripts/mechanism-figures

## certs           CA, keys and certificates of the tls transport (CERTS_DIR=dir)
certs:
	scripts/make-certs $(CERTS_DIR)

## clean           remove build outputs (the kernel cache stays)
clean:
	rm -rf $(BUILD)
	-$(MAKE) -C driver clean
