/* SPDX-License-Identifier: MIT */
/*
 * Collecting what a transport has to tell beyond an errno (a refused peer,
 * datagrams the kernel dropped) in a fixed buffer, for the program to print
 * once: several notes made between two prints are kept in order, one a
 * line, and what does not fit is cut rather than overflowing.
 */
#ifndef IPC_DETAIL_H
#define IPC_DETAIL_H

#include <stddef.h>

void detail_add(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* IPC_DETAIL_H */
