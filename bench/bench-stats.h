/*
 * bench-stats.h: what the benchmark programs share: a monotonic clock,
 * percentiles, the "median min max" summary of repeated measurements and
 * a report of the CPUs a process may run on, and option numbers.
 *
 * Every program prints its results as lines "KEY MEDIAN MIN MAX UNIT",
 * which bench/run.sh reads; other lines start with '#'.
 */

#ifndef BENCH_STATS_H
#define BENCH_STATS_H

#include <stddef.h>
#include <sys/types.h>

double	bench_now_us(void);
double	bench_percentile(double *values, size_t n, double p);
void	bench_summary(const char *key, double *values, size_t n,
	    const char *unit);
void	bench_print_affinity(const char *who, pid_t pid);
long	bench_rss_kib(pid_t pid);
long	bench_positive(const char *prog, const char *name, const char *arg);

#endif
