/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the workloads share: the clock they time their own work with
 * (printed as "elapsed_ns N", which bench/overhead.sh reads).
 */
#ifndef PAGETRACE_WORKLOAD_H
#define PAGETRACE_WORKLOAD_H

#include <time.h>

static inline long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

#endif
