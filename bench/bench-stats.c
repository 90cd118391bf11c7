/*
 * bench-stats.c: the clock, percentiles, summaries and CPU-affinity report
 * shared by the benchmark programs (see bench-stats.h).
 */

#define _GNU_SOURCE

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench-stats.h"

/* Microseconds on the monotonic clock, with sub-microsecond precision. */
double
bench_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* qsort order for doubles. */
static int
compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The p-th percentile (0 <= p <= 1) by nearest rank; sorts values. */
double
bench_percentile(double *values, size_t n, double p)
{
	size_t rank;

	if (n == 0)
		return 0;
	qsort(values, n, sizeof *values, compare_doubles);
	rank = (size_t)(p * (double)n + 0.5);
	if (rank > 0)
		rank--;
	if (rank >= n)
		rank = n - 1;
	return values[rank];
}

/* Prints "KEY MEDIAN MIN MAX UNIT" for repeated measurements. */
void
bench_summary(const char *key, double *values, size_t n, const char *unit)
{
	double median;

	median = bench_percentile(values, n, 0.5);
	printf("%s %.3f %.3f %.3f %s\n", key, median, values[0],
	    values[n - 1], unit);
	fflush(stdout);
}

/* Prints "# pinning: WHO (pid P) may run on CPUs LIST". */
void
bench_print_affinity(const char *who, pid_t pid)
{
	cpu_set_t set;
	char list[256] = "";
	size_t len = 0;
	int cpu;

	if (sched_getaffinity(pid, sizeof set, &set) != 0) {
		printf("# pinning: %s (pid %ld): unknown\n", who, (long)pid);
		return;
	}
	for (cpu = 0; cpu < CPU_SETSIZE && len + 8 < sizeof list; cpu++)
		if (CPU_ISSET(cpu, &set))
			len += (size_t)snprintf(list + len, sizeof list - len,
			    "%s%d", len ? "," : "", cpu);
	printf("# pinning: %s (pid %ld) may run on CPU(s) %s of %ld online\n",
	    who, pid ? (long)pid : (long)getpid(), list,
	    sysconf(_SC_NPROCESSORS_ONLN));
}

/* The resident memory (VmRSS) of a process in KiB, or -1. */
long
bench_rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0) {
			kib = strtol(line + 6, NULL, 10);
			break;
		}
	fclose(f);
	return kib;
}

/* Reads a number from 1 to 10,000,000 for option name of program prog;
 * exits with a message on anything else. */
long
bench_positive(const char *prog, const char *name, const char *arg)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || v <= 0 ||
	    v > 10000000) {
		fprintf(stderr, "%s: %s wants a number from 1 to 10000000, "
		    "not '%s'\n", prog, name, arg);
		exit(2);
	}
	return v;
}
