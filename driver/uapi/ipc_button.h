/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * ipc_button: userspace ABI of the GPIO push-button character device
 * /dev/ipc-buttonN. See docs/driver.md for the full contract.
 */
#ifndef _UAPI_IPC_BUTTON_H
#define _UAPI_IPC_BUTTON_H

#include <linux/const.h>
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
#define IPC_BUTTON_EVENT_F_DROPPED	_BITUL(0)

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

/* Longest label, including the terminating NUL. */
#define IPC_BUTTON_LABEL_SIZE		32

/*
 * Records a file's queue holds when opened, and the most
 * IPC_BUTTON_SET_QUEUE_LENGTH accepts.
 */
#define IPC_BUTTON_QUEUE_DEFAULT	64
#define IPC_BUTTON_QUEUE_MAX		1024

/* Flags in &struct ipc_button_info.flags */
#define IPC_BUTTON_INFO_F_PRESSED	_BITUL(0)
#define IPC_BUTTON_INFO_F_ACTIVE_LOW	_BITUL(1)
#define IPC_BUTTON_INFO_F_HW_DEBOUNCE	_BITUL(2)

/**
 * struct ipc_button_info - the device and the calling file's queue, as
 * returned by IPC_BUTTON_GET_INFO
 * @label: the device tree ``label`` (or the device name), NUL-terminated
 * @line: offset of the button's line on its GPIO controller (the BCM pin
 * number on a Raspberry Pi)
 * @flags: IPC_BUTTON_INFO_F_* flags: button pressed now (debounced), line
 * active low, debounce done by the GPIO controller
 * @debounce_ms: debounce interval in milliseconds, 0 for none
 * @queue_length: records this file's queue holds
 * @queue_max: the largest length IPC_BUTTON_SET_QUEUE_LENGTH accepts
 * @queued: records waiting in this file's queue
 * @last_seqno: seqno of the newest event of the device, 0 before the first
 * @padding0: reserved, zero
 * @presses: press events of the device since it appeared
 * @releases: release events of the device since it appeared
 * @dropped: records this file lost to overflow since it was opened
 * @padding: reserved, zero
 */
struct ipc_button_info {
	char label[IPC_BUTTON_LABEL_SIZE];
	__u32 line;
	__u32 flags;
	__u32 debounce_ms;
	__u32 queue_length;
	__u32 queue_max;
	__u32 queued;
	__u32 last_seqno;
	__u32 padding0;
	__aligned_u64 presses;
	__aligned_u64 releases;
	__aligned_u64 dropped;
	__u32 padding[4];
};

/**
 * struct ipc_button_queue_config - argument of IPC_BUTTON_SET_QUEUE_LENGTH
 * @length: on input, records the calling file's queue should hold, 1 ..
 * IPC_BUTTON_QUEUE_MAX; on output, the length actually used: rounded up
 * to a power of two, and at least 2
 * @padding: reserved, must be zero
 */
struct ipc_button_queue_config {
	__u32 length;
	__u32 padding;
};

/*
 * ioctl magic 0xB9: unused in Documentation/userspace-api/ioctl/ioctl-number.rst
 * (0xB4 is linux/gpio.h, 0xB8 the last one taken in that range).
 */
#define IPC_BUTTON_IOC_MAGIC		0xB9

/* Read the device's info and counters and the calling file's queue state. */
#define IPC_BUTTON_GET_INFO \
	_IOR(IPC_BUTTON_IOC_MAGIC, 0x01, struct ipc_button_info)
/*
 * Resize the calling file's queue, keeping the newest records that fit;
 * those that do not fit count as dropped.
 */
#define IPC_BUTTON_SET_QUEUE_LENGTH \
	_IOWR(IPC_BUTTON_IOC_MAGIC, 0x02, struct ipc_button_queue_config)

#endif /* _UAPI_IPC_BUTTON_H */
