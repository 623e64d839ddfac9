// SPDX-License-Identifier: MIT
#include "shm_segment.h"

#include "private_object.h"

#include <errno.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

/* SHM_DEST: removed, and gone as soon as its last user detaches. */
static bool removed(const struct shmid_ds *ds)
{
	return ds->shm_perm.mode & SHM_DEST;
}

int shm_segment_open(struct shm_segment *s, enum frame_ring_kind kind,
		     bool producer)
{
	struct shmid_ds ds;
	int err;

	if (shmctl(s->id, IPC_STAT, &ds) < 0)
		return errno == EIDRM || errno == EINVAL ? -ESTALE : -errno;
	if (!private_object_sysv(&ds.shm_perm) || removed(&ds))
		return -ESTALE;
	s->mem = shmat(s->id, NULL, 0);
	if (s->mem == (void *)-1) {
		s->mem = NULL;
		return -errno;
	}
	err = frame_ring_attach(&s->ring, s->mem, ds.shm_segsz, kind,
				geteuid(), producer);
	if (err < 0)
		shm_segment_detach(s);
	return err;
}

int shm_segment_push(struct shm_segment *s, const uint8_t *frames, size_t len,
		     size_t count, uint32_t *ret_first)
{
	int err = frame_ring_push_many(&s->ring, frames, len, count, ret_first);
	struct shmid_ds ds;

	if (err == -EAGAIN &&
	    (shmctl(s->id, IPC_STAT, &ds) < 0 || removed(&ds)))
		return -EPIPE;
	return err;
}

void shm_segment_detach(struct shm_segment *s)
{
	if (s->mem)
		shmdt(s->mem);
	s->mem = NULL;
}
