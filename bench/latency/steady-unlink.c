// Steady load generator for the latency benchmark: unlinks <dir>/f<i> for i in [0, count) at
// <rate> per second on absolute CLOCK_MONOTONIC deadlines (no drift), and prints for each file
// "<i> <CLOCK_REALTIME ms after unlink returned, 3 decimals>" so the benchmark can compare it with
// the manager's arrival time (Date.now(), CLOCK_REALTIME).
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s <dir> <count> <rate>\n", argv[0]);
    return 2;
  }
  const char *dir = argv[1];
  long count = atol(argv[2]);
  double rate = atof(argv[3]);
  long step_ns = (long)(1e9 / rate);
  struct timespec next, now;
  clock_gettime(CLOCK_MONOTONIC, &next);
  char path[4096];
  for (long i = 0; i < count; i++) {
    next.tv_nsec += step_ns;
    while (next.tv_nsec >= 1000000000L) {
      next.tv_nsec -= 1000000000L;
      next.tv_sec++;
    }
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
    snprintf(path, sizeof path, "%s/f%ld", dir, i);
    if (unlink(path) != 0) {
      perror(path);
      return 1;
    }
    clock_gettime(CLOCK_REALTIME, &now);
    printf("%ld %.3f\n", i, now.tv_sec * 1e3 + now.tv_nsec / 1e6);
  }
  return 0;
}
