// SPDX-License-Identifier: MIT
#include "backoff.h"

#include "deadline.h"

void backoff_init(struct backoff *b, unsigned int initial_ms,
		  unsigned int max_ms)
{
	b->initial_ms = initial_ms ? initial_ms : 1;
	b->max_ms = max_ms < b->initial_ms ? b->initial_ms : max_ms;
	b->next_ms = 0;
	b->until_ns = 0;
}

unsigned int backoff_fail(struct backoff *b, uint64_t now_ns)
{
	unsigned int pause = b->next_ms ? b->next_ms : b->initial_ms;

	b->until_ns = now_ns + ms_to_ns(pause);
	b->next_ms = pause >= b->max_ms / 2 ? b->max_ms : pause * 2;
	return pause;
}

void backoff_reset(struct backoff *b)
{
	b->next_ms = 0;
	b->until_ns = 0;
}

bool backoff_active(const struct backoff *b, uint64_t now_ns)
{
	return b->until_ns > now_ns;
}

int backoff_remaining_ms(const struct backoff *b, uint64_t now_ns)
{
	if (b->until_ns <= now_ns)
		return 0;
	return ns_to_ms_up(b->until_ns - now_ns);
}
