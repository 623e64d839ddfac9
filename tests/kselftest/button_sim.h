/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers of the ipc_button selftests: find a button's device by its GPIO
 * line, press it through gpio-sim, wait for its records, and reach its
 * sysfs attributes and its platform device.
 *
 * Functions return 0 (or a count, or an fd) on success and -errno on
 * failure, so tests can assert on the exact error.
 */
#ifndef BUTTON_SIM_H
#define BUTTON_SIM_H

#include <stdbool.h>
#include <stddef.h>

#include "ipc_button.h"

/* The lines of the emulated board's buttons (dts/, the board overlays). */
#define BUTTON_LINE		17
#define SECOND_BUTTON_LINE	27

/* Generous: the board is emulated (TCG) and runs KASAN and lockdep. */
#define EVENT_TIMEOUT_MS	10000

/*
 * Open the /dev/ipc-buttonN whose button is on GPIO @line with @flags
 * (O_CLOEXEC is added); its path goes to @path if not NULL.
 */
int button_open_line(unsigned int line, int flags, char *path, size_t size);

/* The same for the button labelled @label. */
int button_open_label(const char *label, int flags, char *path, size_t size);

/* IPC_BUTTON_GET_INFO. */
int button_info(int fd, struct ipc_button_info *info);

/* The button's class directory, /sys/class/ipc-button/ipc-buttonN. */
int button_class_dir(int fd, char *dir, size_t size);

/* The name of the button's platform device (for bind and unbind). */
int button_platform_name(int fd, char *name, size_t size);

/* Press (pull the line low) or release (pull it up) through gpio-sim. */
int sim_set_pressed(unsigned int line, bool pressed);

/*
 * The same with the line's pull attribute kept open, for edges closer
 * together than a lookup of the attribute allows.
 */
int sim_open_pull(unsigned int line);
int sim_write_pull(int pull, bool pressed);

/*
 * Wait up to @timeout_ms for a record on @fd (poll), then read exactly
 * one. -ETIMEDOUT if none came.
 */
int button_wait_event(int fd, struct ipc_button_event *event, int timeout_ms);

/* Press and wait for the press on @fd, then the same for the release. */
int button_click(int fd, unsigned int line);

/* Read records until the queue is empty (@fd is non-blocking). */
int button_drain(int fd);

/* Leave the button released with nothing queued on @fd. */
int button_settle_released(int fd, unsigned int line);

/* Small sysfs accessors; the value read has its newline removed. */
int sysfs_write(const char *path, const char *value);
int sysfs_read(const char *path, char *value, size_t size);

/* Monotonic time in nanoseconds, the clock of the records' timestamps. */
unsigned long long monotonic_ns(void);

#endif /* BUTTON_SIM_H */
