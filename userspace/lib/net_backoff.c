// SPDX-License-Identifier: MIT
#include "net_backoff.h"

void net_backoff_init(struct net_backoff *b, unsigned int initial_ms,
		      unsigned int max_ms)
{
	b->initial_ms = initial_ms ? initial_ms : 1;
	b->max_ms = max_ms < b->initial_ms ? b->initial_ms : max_ms;
	b->next_ms = 0;
	b->until_ns = 0;
}

void net_backoff_fail(struct net_backoff *b, uint64_t now_ns)
{
	unsigned int pause = b->next_ms ? b->next_ms : b->initial_ms;

	b->until_ns = now_ns + (uint64_t)pause * 1000000u;
	b->next_ms = pause >= b->max_ms / 2 ? b->max_ms : pause * 2;
}

void net_backoff_reset(struct net_backoff *b)
{
	b->next_ms = 0;
	b->until_ns = 0;
}

bool net_backoff_active(const struct net_backoff *b, uint64_t now_ns)
{
	return b->until_ns > now_ns;
}

int net_backoff_remaining_ms(const struct net_backoff *b, uint64_t now_ns)
{
	if (b->until_ns <= now_ns)
		return 0;
	return (int)((b->until_ns - now_ns + 999999) / 1000000);
}
