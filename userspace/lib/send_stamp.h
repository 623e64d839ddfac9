/* SPDX-License-Identifier: MIT */
/*
 * A frame's send time carried after it in a queue's message, so that its
 * receiver can tell a lone event from a backlog without a failing call: a
 * message sent after the receiver began to wait (its own monotonic_ns()
 * taken before) found the queue empty, so nothing else was waiting then.
 * CLOCK_MONOTONIC is one clock for every process of a host. A wrong guess
 * (a time namespace, a stamp from a foreign writer) costs a call or ends
 * a batch early; it never loses, splits or reorders a frame.
 */
#ifndef IPC_SEND_STAMP_H
#define IPC_SEND_STAMP_H

#include <stddef.h>
#include <stdint.h>

/* Bytes the stamp adds to a message. */
#define SEND_STAMP_SIZE	8

/* @frame (@len bytes) then now's stamp into @msg (room for @len +
 * SEND_STAMP_SIZE): the message's length. */
size_t send_stamp_append(uint8_t *msg, const uint8_t *frame, size_t len);

/* The frame's length in a message of @len bytes, its send time in *@sent:
 * 0 for a message too short to carry one (a foreign one: all frame). */
size_t send_stamp_strip(const uint8_t *msg, size_t len, uint64_t *sent);

#endif /* IPC_SEND_STAMP_H */
