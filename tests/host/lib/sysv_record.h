/* SPDX-License-Identifier: MIT */
/*
 * The System V key a test subject's receiver uses, for the host tests
 * that plant or look for objects under it (memory- and queue-transports).
 */
#ifndef IPC_TEST_SYSV_RECORD_H
#define IPC_TEST_SYSV_RECORD_H

#include "transport.h"

#include <stdbool.h>

/* The last key seen, remembered after the receiver removed its record. */
struct sysv_key_memo {
	bool have;
	int key;
};

/*
 * The key of the receiver of @ops/@config: the one it recorded, else the
 * last one seen, else -1.
 */
int sysv_record_key(const struct transport_ops *ops,
		    const struct transport_config *config,
		    struct sysv_key_memo *memo);

/*
 * Record a key in <dir>/<via>.<instance>.key as a killed receiver would
 * have left it (the last key seen, or the first one a receiver takes),
 * and return it.
 */
int sysv_record_plant(const struct transport_ops *ops,
		      const struct transport_config *config,
		      const char *dir, const char *via, const char *instance,
		      struct sysv_key_memo *memo);

#endif
