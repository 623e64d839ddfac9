/* SPDX-License-Identifier: MIT */
/*
 * Whole decimal numbers from text (--opt values, /proc files), parsed the
 * one strict way: all of the text, no sign surprises, within bounds.
 */
#ifndef IPC_NUMBER_H
#define IPC_NUMBER_H

/* The whole of @text as a number in [@min, @max]: 0, or -EINVAL. */
int number_parse(const char *text, long long min, long long max,
		 long long *ret);

/* For struct transport_option's check: NULL for a number >= 1, else why. */
const char *number_check_positive(const char *value);

/* The number in the file @path (a sysctl in /proc/sys), or @fallback when
 * it cannot be read or is not positive. */
long long number_read_file(const char *path, long long fallback);

#endif /* IPC_NUMBER_H */
