/* SPDX-License-Identifier: GPL-2.0 */
/* Small readers of /proc/PID files, and the clock BPF timestamps use. */
#ifndef PAGETRACE_PROCFS_H
#define PAGETRACE_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Field number `field` (1-based, as in proc(5)) of /proc/PID/stat. */
bool procfs__stat_field(pid_t pid, int field, char *buf, size_t size);
/* A /proc/PID/stat field as a number, 0 if unreadable. */
uint64_t procfs__stat_number(pid_t pid, int field);
/* CLOCK_MONOTONIC in ns: what bpf_ktime_get_ns() returns */
uint64_t procfs__now_ns(void);

#endif
