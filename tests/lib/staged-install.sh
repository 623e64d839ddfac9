# SPDX-License-Identifier: GPL-2.0-only
# `make install` into a fresh DESTDIR under build/tests, for the install,
# unit and Raspberry Pi guide suites (bash, on the host).
#   . tests/lib/staged-install.sh
#   staged_install_ready || { tap_skip ...; }   prerequisites other parts ship
#   staged_install DIR [VAR=value...]           make install DESTDIR=DIR ...;
#                                               its output in DIR.log

# What `make install` needs from other parts of the tree; prints what is
# missing.
staged_install_ready() {
	local missing=()
	[ -e driver/dkms.conf ] || missing+=("driver/dkms.conf")
	[ -e dts/Makefile ] || missing+=("dts/Makefile")
	[ -d userspace/clients ] || missing+=("userspace/clients")
	[ ${#missing[@]} = 0 ] && return 0
	echo "${missing[*]}"
	return 1
}

staged_install() {
	local dir=$1
	shift
	rm -rf "$dir"
	mkdir -p "$dir"
	make -s install DESTDIR="$PWD/$dir" "$@" >"$dir.log" 2>&1
}
