// Load generator: W workers (threads) each open their own file PREFIX.<w> and write(2) BLOCK-byte
// blocks to it as fast as they can, N writes in all; prints {"writes":N,"seconds":S} for the
// write phase only. Every 2048 writes a worker seeks back to the start, so a file never passes
// 2048 blocks (1 MiB at 512 B) however large N is: the load stays in the page cache of a tmpfs.
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_WORKERS 64
#define REWIND_EVERY 2048

static long n, workers, block;
static int fds[MAX_WORKERS];

static void *write_range(void *arg)
{
	long w = (long)arg;
	char *buf = malloc(block);
	memset(buf, 'w', block);
	long k = 0;
	for (long i = w; i < n; i += workers) {
		if (write(fds[w], buf, block) != block) {
			perror("write");
			exit(1);
		}
		if (++k % REWIND_EVERY == 0)
			lseek(fds[w], 0, SEEK_SET);
	}
	free(buf);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: write-storm PREFIX N [WORKERS] [BLOCK]\n");
		return 2;
	}
	n = atol(argv[2]);
	workers = argc > 3 ? atol(argv[3]) : 1;
	block = argc > 4 ? atol(argv[4]) : 512;
	if (workers < 1 || workers > MAX_WORKERS || block < 1) {
		fprintf(stderr, "write-storm: 1..%d workers and a positive block size\n", MAX_WORKERS);
		return 2;
	}
	char name[4096];
	for (long w = 0; w < workers; w++) {
		snprintf(name, sizeof(name), "%s.%ld", argv[1], w);
		fds[w] = open(name, O_CREAT | O_WRONLY | O_TRUNC, 0644);
		if (fds[w] < 0) {
			perror(name);
			return 1;
		}
	}
	struct timespec a, b;
	pthread_t t[MAX_WORKERS];
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long w = 0; w < workers; w++)
		pthread_create(&t[w], NULL, write_range, (void *)w);
	for (long w = 0; w < workers; w++)
		pthread_join(t[w], NULL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	for (long w = 0; w < workers; w++)
		close(fds[w]);
	printf("{\"writes\":%ld,\"seconds\":%.6f}\n", n, (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
	return 0;
}
