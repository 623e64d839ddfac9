// SPDX-License-Identifier: MIT
#include "number.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int number_parse(const char *text, long long min, long long max,
		 long long *ret)
{
	long long v;
	char *end;

	if (!text || !isdigit((unsigned char)text[0]))
		return -EINVAL;
	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

const char *number_check_positive(const char *value)
{
	long long v;

	return number_parse(value, 1, 1LL << 31, &v) ? "not a positive number" : NULL;
}

long long number_read_file(const char *path, long long fallback)
{
	FILE *f = fopen(path, "re");
	long long value;

	if (!f)
		return fallback;
	if (fscanf(f, "%lld", &value) != 1 || value <= 0)
		value = fallback;
	fclose(f);
	return value;
}
