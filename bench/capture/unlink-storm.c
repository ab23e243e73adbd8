// Load generator: creates N files in DIR, then unlinks them as fast as it can with W workers
// (threads), and prints {"unlinks":N,"seconds":S} for the unlink phase only.
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static const char *dir;
static long n, workers;

static void *unlink_range(void *arg)
{
	long w = (long)arg;
	char name[4096];
	for (long i = w; i < n; i += workers) {
		snprintf(name, sizeof(name), "%s/f%ld", dir, i);
		unlink(name);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: unlink-storm DIR N [WORKERS]\n");
		return 2;
	}
	dir = argv[1];
	n = atol(argv[2]);
	workers = argc > 3 ? atol(argv[3]) : 1;
	char name[4096];
	for (long i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s/f%ld", dir, i);
		int fd = open(name, O_CREAT | O_WRONLY, 0644);
		if (fd < 0) {
			perror(name);
			return 1;
		}
		close(fd);
	}
	struct timespec a, b;
	pthread_t t[64];
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long w = 0; w < workers && w < 64; w++)
		pthread_create(&t[w], NULL, unlink_range, (void *)w);
	for (long w = 0; w < workers && w < 64; w++)
		pthread_join(t[w], NULL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("{\"unlinks\":%ld,\"seconds\":%.6f}\n", n, (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
	return 0;
}
