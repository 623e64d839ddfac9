// SPDX-License-Identifier: MIT
/*
 * libFuzzer target of the wire message decoder: any input must be safe,
 * and whatever it accepts must encode back to the very same bytes.
 */
#include "message.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipc_message msg;
	uint8_t again[IPC_MESSAGE_SIZE];

	if (ipc_message_decode(data, size, &msg) != IPC_MESSAGE_OK)
		return 0;
	ipc_message_encode(&msg, again);
	if (size != IPC_MESSAGE_SIZE || memcmp(again, data, size))
		abort();
	return 0;
}
