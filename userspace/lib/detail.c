// SPDX-License-Identifier: MIT
#include "detail.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void detail_add(char *buf, size_t size, const char *fmt, ...)
{
	size_t used = strnlen(buf, size);
	va_list ap;

	if (used + 2 >= size)
		return;		/* full: the first notes matter most */
	if (used)
		buf[used++] = '\n';
	va_start(ap, fmt);
	vsnprintf(buf + used, size - used, fmt, ap);
	va_end(ap);
}
