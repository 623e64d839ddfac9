// SPDX-License-Identifier: MIT
#include "shm_ring.h"

#include "named_object.h"
#include "private_object.h"

#include <errno.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int map_all(struct shm_ring *r)
{
	struct stat st;

	if (fstat(r->fd, &st) < 0)
		return -errno;
	if (!private_object_file(&st) || st.st_size <= 0)
		return -ESTALE;
	r->mem = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      r->fd, 0);
	if (r->mem == MAP_FAILED) {
		r->mem = NULL;
		return -errno;
	}
	r->size = st.st_size;
	return 0;
}

int shm_ring_open(struct shm_ring *r, enum frame_ring_kind kind,
		  enum shared_object_claim role)
{
	bool producer = role == SHARED_OBJECT_SENDER;
	int err = 0;

	/* The receiver claims first: a half-made object is a live one's. */
	if (!producer)
		err = shared_object_claim(r->fd, role);
	if (!err)
		err = map_all(r);
	if (!err)
		err = frame_ring_attach(&r->ring, r->mem, r->size, kind,
					geteuid(), producer);
	if (err == -ESTALE && !producer && r->mem)
		frame_ring_abandon(r->mem, r->size);
	if (!err && producer)
		err = shared_object_claim(r->fd, role);
	return err;
}

int shm_ring_adopt(struct shm_ring *r, int fd, enum frame_ring_kind kind)
{
	int err;

	if (fd < 0)
		return fd == -ENOENT ? NAMED_OBJECT_GONE : fd;
	r->fd = fd;
	err = shm_ring_open(r, kind, SHARED_OBJECT_RECEIVER);
	if (err == -ESTALE)
		return NAMED_OBJECT_STALE;
	return err < 0 ? err : NAMED_OBJECT_OURS;
}

int shm_ring_push(struct shm_ring *r, const uint8_t *frames, size_t len,
		  size_t count, uint32_t *ret_first)
{
	int err = frame_ring_push_many(&r->ring, frames, len, count, ret_first);

	if (err == -EAGAIN && shared_object_unlinked(r->fd))
		return -EPIPE;
	return err;
}

void shm_ring_unmap(struct shm_ring *r)
{
	if (r->mem)
		munmap(r->mem, r->size);
	r->mem = NULL;
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}
