/* SPDX-License-Identifier: MIT */
/*
 * The UDP lessons' shared socket: udp.c is the lesson of plain UDP, and
 * udp_broadcast.c and udp_multicast.c add only the socket options and the
 * address their variant needs.
 */
#ifndef LESSON_UDP_H
#define LESSON_UDP_H

#include "lesson.h"

#include <netinet/in.h>

struct udp_state {
	int fd;
	int timeout_ms;		/* the SO_RCVTIMEO in force */
	struct sockaddr_in to;	/* receiver: bound to it; sender: sends to it */
};

/*
 * A datagram socket for @address and option port= (or @default_port), in
 * the lesson's struct udp_state (each variant's state_size).
 */
int lesson_udp_open(struct lesson *l, const char *address, int default_port);
int lesson_udp_send(struct lesson *l, uint64_t value);
int lesson_udp_receive(struct lesson *l, uint64_t *value, int timeout_ms);
void lesson_udp_close(struct lesson *l);

#endif /* LESSON_UDP_H */
