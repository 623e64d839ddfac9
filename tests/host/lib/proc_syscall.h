/* SPDX-License-Identifier: MIT */
/*
 * Whether a process sleeps in a given system call, from
 * /proc/PID/syscall: how the host tests see that a receiver waits in the
 * mechanism's own call (read, recvmsg) and not in ppoll().
 */
#ifndef IPC_TEST_PROC_SYSCALL_H
#define IPC_TEST_PROC_SYSCALL_H

#include <stdbool.h>
#include <sys/types.h>

/* Is @pid asleep in system call @nr right now? */
bool proc_in_syscall(pid_t pid, long nr);

/* Until @pid sleeps in system call @nr, looking every millisecond for
 * about @wait_ms; false if it never does (or is gone). */
bool proc_await_syscall(pid_t pid, long nr, int wait_ms);

#endif /* IPC_TEST_PROC_SYSCALL_H */
