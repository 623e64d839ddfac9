# SPDX-License-Identifier: GPL-2.0-only
# Shared shell definitions for the board scripts: where the cache lives and
# which kernel source and configuration the board uses.

BOARD_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP_DIR=$(dirname "$BOARD_DIR")

# Everything expensive lives outside the work tree, so fresh clones reuse it.
CACHE_DIR=${IPC_BUTTON_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ipc-button}

KERNEL_TARBALL=${KERNEL_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
KERNEL_FRAGMENTS=("$BOARD_DIR/kernel.config" "$TOP_DIR/tests/kselftest/config")
# The system board's kernel: the same with the debugging turned off, merged
# last (board/build-kernel --system).
SYSTEM_KERNEL_FRAGMENT=$BOARD_DIR/kernel-system.config
CROSS_COMPILE=${CROSS_COMPILE:-aarch64-linux-gnu-}

die() {
	echo "${0##*/}: $*" >&2
	exit 1
}

kernel_source_version() {
	dpkg-query -W -f '${Version}' linux-source-6.12 2>/dev/null ||
		die "linux-source-6.12 is not installed (run: make deps)"
}

# The kernel build directory for the current fragments and source version.
kernel_build_dir() {
	local key
	key=$({ kernel_source_version; cat "${KERNEL_FRAGMENTS[@]}"; } |
		sha256sum | cut -c1-16)
	echo "$CACHE_DIR/kernel-$key"
}

kernel_source_dir() {
	echo "$CACHE_DIR/linux-source-$(kernel_source_version)"
}

# The system board's root image, keyed by its package list, the setup files
# copied into it and the script that builds it (board/build-system-root).
system_root_image() {
	local key
	key=$(cat "$BOARD_DIR/system-packages" "$BOARD_DIR"/system/* \
		"$BOARD_DIR/build-system-root" | sha256sum | cut -c1-16)
	echo "$CACHE_DIR/system-root-$key.img"
}
