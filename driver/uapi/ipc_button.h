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
 * Set on the first record read after this reader lost records (its queue
 * overflowed, it was resized or its clock switched, or a read() failed
 * with EFAULT after taking them): @dropped says how many. Lost records may
 * have carried any of the flags below.
 */
#define IPC_BUTTON_EVENT_F_DROPPED	_BITUL(0)
/*
 * The driver could not report every edge since the previous record one by
 * one: more edges came than it keeps timestamps for (IPC_BUTTON_MAX_EDGES),
 * or the level read disagreed with the edges counted (an edge the
 * controller merged or never delivered). @lost_edges says how many edges
 * this record stands for; up to @lost_edges / 2 rounded up press-release
 * pairs may be missing before it. The record's type is the level the line
 * had when the driver read it, so the stream stays true to the line.
 */
#define IPC_BUTTON_EVENT_F_EDGES_LOST	_BITUL(1)
/*
 * The line did not stay quiet for the debounce interval within the
 * longest settle time (IPC_BUTTON_SETTLE_FACTOR times the interval): a
 * sustained train of edges closer together than the interval. They were
 * folded, and @lost_edges counts them.
 */
#define IPC_BUTTON_EVENT_F_UNSETTLED	_BITUL(2)
/*
 * The driver re-read the level without an edge to go by since the
 * previous record: after resume, after a failed read of the line, or
 * after the debounce interval changed. Changes in between may be missing
 * (@lost_edges counts the ones the level proves).
 */
#define IPC_BUTTON_EVENT_F_RESYNC	_BITUL(3)

/*
 * Edge timestamps the driver keeps between the interrupt and the reading
 * of the level; more edges than this before the level is read are
 * reported with IPC_BUTTON_EVENT_F_EDGES_LOST.
 */
#define IPC_BUTTON_MAX_EDGES		64
/* The longest settle time, as a multiple of the debounce interval. */
#define IPC_BUTTON_SETTLE_FACTOR	4

/**
 * struct ipc_button_event - one debounced level change, as read()
 * @timestamp_ns: time of the first edge of this change, in nanoseconds, on
 * the file's clock (CLOCK_MONOTONIC unless IPC_BUTTON_SET_CLOCK chose
 * another). The edge is timed in the hard-IRQ handler, even when
 * interrupts are force-threaded (threadirqs, PREEMPT_RT); on a controller
 * whose interrupts are nested in a thread (I2C and SPI expanders) there is
 * no hard-IRQ half, and it is timed at the start of the IRQ thread.
 * Records the driver made without an edge (IPC_BUTTON_EVENT_F_EDGES_LOST,
 * IPC_BUTTON_EVENT_F_RESYNC) are timed when it read the level.
 * @seqno: device-wide sequence number, 1 for the first event after the
 * device appeared; every reader sees the same numbers
 * @type: an &enum ipc_button_event_type
 * @flags: IPC_BUTTON_EVENT_F_* flags
 * @dropped: records this reader lost just before this one (0 unless
 * IPC_BUTTON_EVENT_F_DROPPED is set)
 * @lost_edges: edges this record stands for that the driver could not
 * report one by one (0 unless IPC_BUTTON_EVENT_F_EDGES_LOST,
 * IPC_BUTTON_EVENT_F_UNSETTLED or IPC_BUTTON_EVENT_F_RESYNC is set)
 * @padding: reserved, zero
 */
struct ipc_button_event {
	__aligned_u64 timestamp_ns;
	__u32 seqno;
	__u32 type;
	__u32 flags;
	__u32 dropped;
	__u32 lost_edges;
	__u32 padding;
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
 * @clockid: the clock of this file's timestamps (CLOCK_MONOTONIC,
 * CLOCK_REALTIME or CLOCK_BOOTTIME)
 * @presses: press events of the device since it appeared
 * @releases: release events of the device since it appeared
 * @dropped: records this file lost since it was opened (overflow,
 * resizing, a clock switch, a failed copy)
 * @lost_edges: edges the device could not report one by one since it
 * appeared (the sum of the records' @lost_edges)
 * @folded_edges: edges the debounce folded since the device appeared:
 * the bounces of each reported change (a burst of n edges closer together
 * than the interval is one change and n - 1 bounces when n is odd, and a
 * glitch of n folded edges when n is even). Every edge is either a change
 * (a record), folded, or lost (counted in @lost_edges).
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
	__u32 clockid;
	__aligned_u64 presses;
	__aligned_u64 releases;
	__aligned_u64 dropped;
	__aligned_u64 lost_edges;
	__aligned_u64 folded_edges;
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

/**
 * struct ipc_button_clock_config - argument of IPC_BUTTON_SET_CLOCK
 * @clockid: CLOCK_MONOTONIC (1, the default), CLOCK_REALTIME (0) or
 * CLOCK_BOOTTIME (7), as in <time.h>
 * @padding: reserved, must be zero
 */
struct ipc_button_clock_config {
	__u32 clockid;
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
/*
 * Choose the clock of the calling file's timestamps. Records already
 * queued (on the old clock) are discarded and count as dropped, as evdev
 * does when its clock changes.
 */
#define IPC_BUTTON_SET_CLOCK \
	_IOW(IPC_BUTTON_IOC_MAGIC, 0x03, struct ipc_button_clock_config)

#endif /* _UAPI_IPC_BUTTON_H */
