/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * ipc_button: userspace ABI of the GPIO push-button character device
 * /dev/ipc-buttonN. See docs/driver.md for the full contract.
 */
#ifndef _UAPI_IPC_BUTTON_H
#define _UAPI_IPC_BUTTON_H

#include <linux/ioctl.h>
#include <linux/types.h>

/**
 * enum ipc_button_event_type - what happened to the button
 * @IPC_BUTTON_EVENT_PRESS: the button went to its active level
 * @IPC_BUTTON_EVENT_RELEASE: the button went back to its inactive level
 */
enum ipc_button_event_type {
	IPC_BUTTON_EVENT_PRESS = 1,
	IPC_BUTTON_EVENT_RELEASE = 2,
};

/*
 * Set on the first record read after this reader's queue overflowed: the
 * @dropped field then says how many older records were discarded.
 */
#define IPC_BUTTON_EVENT_F_DROPPED	(1U << 0)

/**
 * struct ipc_button_event - one debounced level change, as read()
 * @timestamp_ns: CLOCK_MONOTONIC time of the first edge of this change, in
 * nanoseconds, taken in hard-IRQ context
 * @seqno: device-wide sequence number, 1 for the first event after the
 * device appeared; every reader sees the same numbers
 * @type: an &enum ipc_button_event_type
 * @flags: IPC_BUTTON_EVENT_F_* flags
 * @dropped: records this reader lost just before this one (0 unless
 * IPC_BUTTON_EVENT_F_DROPPED is set)
 * @padding: reserved, zero
 */
struct ipc_button_event {
	__aligned_u64 timestamp_ns;
	__u32 seqno;
	__u32 type;
	__u32 flags;
	__u32 dropped;
	__u32 padding[2];
};

#endif /* _UAPI_IPC_BUTTON_H */
