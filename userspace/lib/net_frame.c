// SPDX-License-Identifier: MIT
#include "net_frame.h"

#include <string.h>

void net_tail_keep(struct net_tail *t, const uint8_t *frame, size_t len,
		   size_t sent)
{
	if (len > sizeof(t->buf))
		len = sizeof(t->buf);
	if (sent >= len) {
		t->off = t->len = 0;
		return;
	}
	memcpy(t->buf, frame, len);
	t->off = sent;
	t->len = len;
}
