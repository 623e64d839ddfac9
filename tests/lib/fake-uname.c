// SPDX-License-Identifier: GPL-2.0-only
/*
 * uname(2) reporting another kernel release, preloaded (/etc/ld.so.preload)
 * in the clean Debian root of tests/suites/76-clean-root-install. In a
 * chroot the running kernel is the build machine's, for which no headers
 * exist; on a Raspberry Pi the running kernel is the one whose headers the
 * guide installs. Reporting that release lets the guide's commands run as
 * written (dkms install without -k, modinfo, uname -r).
 *
 *   gcc -shared -fPIC -DRELEASE='"6.1.0-40-amd64"' -o fake-uname.so fake-uname.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>
#include <sys/utsname.h>

int uname(struct utsname *buf)
{
	int (*real_uname)(struct utsname *) =
		(int (*)(struct utsname *))dlsym(RTLD_NEXT, "uname");
	int r;

	if (!real_uname)
		return -1;
	r = real_uname(buf);
	if (r == 0) {
		strncpy(buf->release, RELEASE, sizeof(buf->release) - 1);
		buf->release[sizeof(buf->release) - 1] = '\0';
	}
	return r;
}
