/* SPDX-License-Identifier: MIT */
/*
 * The receive loop of a shared-memory receiver (shm-sysv, shm-posix,
 * mmap), around the transport's own wake-up. The ring is the truth and
 * the wake-up only a hint, so every turn first takes what the ring holds,
 * up to the caller's room, in one go; only when it is empty, no stop
 * signal came (stop.h) and the call's one deadline (deadline.h) has not
 * passed, does it wait: first the adaptive spin (shm_spin.h) when the
 * option asks for it, so that a frame it finds costs no system call at
 * all; then the transport's sleep (futex, sem_wait, semtimedop), which
 * the transport's wake() makes return, so a stop is never missed. The
 * LED and the benchmark let the stop signals in for good (stop_let_in,
 * TRANSPORT_WAKE_ANYWHERE): the sleep is the one system call of a lone
 * event, as bare, and a stop ends a spin at once. A process that keeps
 * them blocked lets them in around the sleep only: two rt_sigprocmask()
 * calls more per sleep, one after the wake-up, and a stop waits for the
 * spin's end (at most SHM_SPIN_MAX_NS).
 */
#ifndef IPC_SHM_WAIT_H
#define IPC_SHM_WAIT_H

#include "deadline.h"
#include "frame_ring.h"
#include "shm_spin.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct shm_wait {
	struct frame_ring *ring;
	struct shm_spin spin;
	/*
	 * Sleep on the wake-up until @d passes, unless a frame or a stop
	 * came since the ring was found empty: 0 (woken, or maybe
	 * spuriously), -EINTR, -ETIMEDOUT, or a fatal negative errno.
	 */
	int (*sleep)(void *ctx, const struct deadline *d);
	/* Optional: @count frames were taken; drop the wake-up counts
	 * already posted for them, without waiting. Not called when a
	 * sleep took one count and one frame came (a lone event): nothing
	 * is left to drop, and the call may cost a system call. */
	void (*taken)(void *ctx, size_t count);
	void *ctx;
};

/*
 * Wait up to @timeout_ms (-1: forever) for a frame, then take every frame
 * already in the ring, at most @max: frame i into @frames + i * @room (cut
 * at @room bytes; the caller's decoder rejects those), its length in
 * @lens[i]. Returns how many (1..@max); -EINTR once a stop signal came;
 * -ETIMEDOUT; or the sleep's fatal errno. Frames the ring itself refuses
 * are counted in *@rejected.
 */
ssize_t shm_wait_receive(struct shm_wait *w, uint8_t *frames, size_t room,
			 size_t *lens, size_t max, uint64_t *rejected,
			 int timeout_ms);

#endif /* IPC_SHM_WAIT_H */
