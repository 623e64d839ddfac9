# SPDX-License-Identifier: GPL-2.0-only
# A clean Debian bookworm root, as a new user's system starts: the base
# system (apt), sudo and systemd/udev (which every Raspberry Pi OS has),
# then docs/raspberry-pi.md's step 2 run as written, plus Debian's
# linux-headers-$ARCH standing in for the Pi's linux-headers-rpi-*. Built
# once with mmdebstrap and cached in ${IPC_BUTTON_CACHE:-~/.cache/ipc-button},
# keyed by all of that (a change of the guide's step 2 makes a new root),
# under a lock so concurrent runs build it once.
#
#   . tests/lib/clean-root.sh
#   guide_blocks FILE [SECTION]   the guide's marked shell blocks (all, or
#                                 those of "## SECTION." only), verbatim
#   clean_root_cached             prints the cached root's directory
#   clean_root_enter DIR LOWER    DIR/root: a writable overlay of LOWER (or a
#                                 copy), /proc /sys /dev mounted, DNS set
#   clean_root_leave DIR          unmount what clean_root_enter mounted
#   clean_root_run DIR SCRIPT     run SCRIPT (a file) as root inside, bash -e

CLEAN_ROOT_SUITE=bookworm
CLEAN_ROOT_ARCH=$(dpkg --print-architecture)
# What a Raspberry Pi OS install has besides Debian's base (apt).
CLEAN_ROOT_BASE=sudo,systemd,udev,ca-certificates
CLEAN_ROOT_HEADERS=linux-headers-$CLEAN_ROOT_ARCH
CLEAN_ROOT_CACHE=${IPC_BUTTON_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ipc-button}

# The shell blocks of FILE that follow a "<!-- clean-root-test: run -->"
# line, verbatim, in order; with SECTION (e.g. 2) only those under the
# heading "## SECTION.".
guide_blocks() {
	awk -v want="${2:-}" '
		/^## / { section = $2; sub(/\.$/, "", section) }
		/^<!-- clean-root-test: run -->$/ { marked = 1; next }
		marked && /^```sh$/ { inside = 1; marked = 0; next }
		inside && /^```$/ { inside = 0; if (want == "" || section == want) print ""; next }
		inside && (want == "" || section == want) { print }
		{ marked = marked && /^$/ }
	' "$1"
}

# The step-2 commands the root is made with: the guide's, then the headers
# stand-in. Kept in a file of the cached root for the record.
clean_root_setup_script() {
	echo "# docs/raspberry-pi.md step 2, as written"
	guide_blocks "$1" 2
	echo "# off a Pi: Debian's headers stand in for linux-headers-rpi-*"
	echo "sudo apt install $CLEAN_ROOT_HEADERS"
}

clean_root_mount() { # ROOT
	mount -t proc proc "$1/proc"
	mount --bind /sys "$1/sys"
	mount --bind /dev "$1/dev"
	mount --bind /dev/pts "$1/dev/pts"
	cp -L /etc/resolv.conf "$1/etc/resolv.conf"
}

clean_root_umount() { # ROOT
	local m
	for m in dev/pts dev sys proc; do
		mountpoint -q "$1/$m" && umount -l "$1/$m"
	done
	return 0
}

clean_root_run() { # DIR SCRIPT
	cp "$2" "$1/root/root/clean-root-script.sh"
	chroot "$1/root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		bash -c 'cd /root && bash -ex /root/clean-root-script.sh'
}

# Build the root into DIR/root (under the lock).
clean_root_build() { # DIR GUIDE
	local dir=$1 root=$1/root
	rm -rf "$dir" && mkdir -p "$dir"
	mmdebstrap --quiet --variant=apt --arch="$CLEAN_ROOT_ARCH" \
		--include="$CLEAN_ROOT_BASE" "$CLEAN_ROOT_SUITE" "$root" \
		>"$dir/mmdebstrap.log" 2>&1 || return 1
	# A user answers apt's questions with yes; no debconf dialogs.
	echo 'APT::Get::Assume-Yes "true";' >"$root/etc/apt/apt.conf.d/90assume-yes"
	echo 'debconf debconf/frontend select Noninteractive' |
		chroot "$root" debconf-set-selections
	clean_root_setup_script "$2" >"$dir/setup.sh"
	clean_root_mount "$root"
	mkdir -p "$root/root"
	if ! clean_root_run "$dir" "$dir/setup.sh" >"$dir/setup.log" 2>&1; then
		clean_root_umount "$root"
		return 1
	fi
	clean_root_umount "$root"
	rm -f "$root/root/clean-root-script.sh"
	chroot "$root" apt-get clean
}

# Print the cached root's directory, building it first if needed.
clean_root_cached() { # GUIDE
	local key dir lock
	key=$({ declare -f guide_blocks clean_root_setup_script clean_root_build
		echo "$CLEAN_ROOT_SUITE $CLEAN_ROOT_ARCH $CLEAN_ROOT_BASE"
		clean_root_setup_script "$1"; } | sha256sum | cut -c1-16)
	dir=$CLEAN_ROOT_CACHE/clean-root-$key
	lock=$dir.lock
	mkdir -p "$CLEAN_ROOT_CACHE"
	(
		flock 9
		[ -e "$dir/ready" ] && exit 0
		clean_root_build "$dir.work" "$1" || {
			echo "clean root: build failed, see $dir.work/*.log" >&2
			exit 1
		}
		rm -rf "$dir"
		mv "$dir.work" "$dir"
		# Paths inside the logs name the work directory; harmless.
		touch "$dir/ready"
	) 9>"$lock" || return 1
	echo "$dir/root"
}

# DIR/root: the cached root as the test's own writable system.
clean_root_enter() { # DIR LOWER
	local dir=$1 lower=$2
	mkdir -p "$dir/root" "$dir/upper" "$dir/work"
	if ! mount -t overlay overlay \
		-o "lowerdir=$lower,upperdir=$dir/upper,workdir=$dir/work" "$dir/root" 2>/dev/null; then
		# No overlayfs here: a copy (slower, same result).
		rm -rf "$dir/root" && cp -a "$lower" "$dir/root"
	fi
	clean_root_mount "$dir/root"
	# mmdebstrap writes no /etc/hosts; a Pi's names its host (sudo asks).
	[ -e "$dir/root/etc/hosts" ] ||
		printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n' "$(hostname)" >"$dir/root/etc/hosts"
}

clean_root_leave() { # DIR
	clean_root_umount "$1/root"
	mountpoint -q "$1/root" && umount -l "$1/root"
	return 0
}
