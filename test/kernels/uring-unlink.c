/*
 * One file operation through io_uring, for the kernel matrix (test/kernels/run.sh): the kprobe and
 * fentry hooks sit on vfs_*, so they must see operations that never pass through the unlink/open
 * syscalls. Raw io_uring_setup/io_uring_enter and mmap'd rings: liburing is not needed.
 *
 *   uring-unlink unlink PATH   IORING_OP_UNLINKAT (Linux 5.11+)
 *   uring-unlink create PATH   IORING_OP_OPENAT, O_CREAT|O_WRONLY (5.6+); the fd is closed at exit
 *
 * Exit status: 0 done; 2 the kernel does not know the operation (EINVAL/EOPNOTSUPP in the
 * completion); 3 io_uring unavailable (setup refused); 1 any other failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static void *map_ring(int fd, size_t size, off_t offset)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, offset);
	return p == MAP_FAILED ? NULL : p;
}

int main(int argc, char **argv)
{
	int unlink_op = argc == 3 && strcmp(argv[1], "unlink") == 0;
	if (argc != 3 || (!unlink_op && strcmp(argv[1], "create") != 0)) {
		fprintf(stderr, "usage: %s unlink|create PATH\n", argv[0]);
		return 1;
	}

	struct io_uring_params p;
	memset(&p, 0, sizeof(p));
	int ring = (int)syscall(__NR_io_uring_setup, 1, &p);
	if (ring < 0) {
		fprintf(stderr, "io_uring_setup: %s\n", strerror(errno));
		return 3;
	}

	/* SQ and CQ rings share one mapping since 5.4 (IORING_FEAT_SINGLE_MMAP) */
	size_t sq_size = p.sq_off.array + p.sq_entries * sizeof(__u32);
	size_t cq_size = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	int single = p.features & IORING_FEAT_SINGLE_MMAP;
	if (single && cq_size > sq_size)
		sq_size = cq_size;
	char *sq = map_ring(ring, sq_size, IORING_OFF_SQ_RING);
	char *cq = single ? sq : map_ring(ring, cq_size, IORING_OFF_CQ_RING);
	struct io_uring_sqe *sqes = map_ring(ring, p.sq_entries * sizeof(struct io_uring_sqe), IORING_OFF_SQES);
	if (!sq || !cq || !sqes) {
		fprintf(stderr, "mmap of the rings: %s\n", strerror(errno));
		return 1;
	}

	struct io_uring_sqe *sqe = &sqes[0];
	memset(sqe, 0, sizeof(*sqe));
	sqe->fd = AT_FDCWD;
	sqe->addr = (unsigned long)argv[2];
	if (unlink_op) {
		sqe->opcode = IORING_OP_UNLINKAT;
		sqe->unlink_flags = 0;
	} else {
		sqe->opcode = IORING_OP_OPENAT;
		sqe->open_flags = O_CREAT | O_WRONLY;
		sqe->len = 0644; /* mode */
	}

	/* publish entry 0, then the new tail (release: the kernel must see the entry first) */
	__u32 *sq_tail = (__u32 *)(sq + p.sq_off.tail);
	__u32 *sq_array = (__u32 *)(sq + p.sq_off.array);
	__u32 tail = *sq_tail;
	sq_array[tail & *(__u32 *)(sq + p.sq_off.ring_mask)] = 0;
	__atomic_store_n(sq_tail, tail + 1, __ATOMIC_RELEASE);

	if (syscall(__NR_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0) {
		fprintf(stderr, "io_uring_enter: %s\n", strerror(errno));
		return 1;
	}

	__u32 *cq_head = (__u32 *)(cq + p.cq_off.head);
	__u32 head = __atomic_load_n(cq_head, __ATOMIC_ACQUIRE);
	if (head == __atomic_load_n((__u32 *)(cq + p.cq_off.tail), __ATOMIC_ACQUIRE)) {
		fprintf(stderr, "io_uring_enter returned without a completion\n");
		return 1;
	}
	struct io_uring_cqe *cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	int res = cqes[head & *(__u32 *)(cq + p.cq_off.ring_mask)].res;
	__atomic_store_n(cq_head, head + 1, __ATOMIC_RELEASE);
	if (res < 0) {
		fprintf(stderr, "%s %s through io_uring: %s\n", argv[1], argv[2], strerror(-res));
		return res == -EINVAL || res == -EOPNOTSUPP ? 2 : 1;
	}
	printf("%s %s through io_uring: ok\n", argv[1], argv[2]);
	return 0;
}
