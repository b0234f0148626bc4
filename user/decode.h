/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Raw ring-buffer records into typed events, checked for type and size,
 * and the names of the things records number (functions, outcomes,
 * syscalls, madvise advice).
 */
#ifndef PAGETRACE_DECODE_H
#define PAGETRACE_DECODE_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "pagetrace.h"

struct event {
	enum pt_rec_type type;
	const struct pt_rec_header *hdr;
	union {
		const struct pt_rec_call *call;
		const struct pt_rec_free *free;
		const struct pt_rec_fault *fault;
		const struct pt_rec_syscall *sys;
		const struct pt_rec_task *task;
	};
};

/* 0, or -EINVAL for a record of unknown type or the wrong size. */
int decode__record(const void *data, size_t size, struct event *ev);

const char *decode__fn_name(uint32_t fn);
const char *decode__outcome_name(uint32_t outcome);
const char *decode__syscall_name(uint32_t nr);
/* "DONTNEED", "POPULATE_WRITE", ... or NULL */
const char *decode__madvise_name(int64_t advice);

/* x86_64 syscall numbers the ledger interprets */
#define SYS_NR_MMAP 9
#define SYS_NR_MPROTECT 10
#define SYS_NR_MUNMAP 11
#define SYS_NR_BRK 12
#define SYS_NR_MREMAP 25
#define SYS_NR_MADVISE 28
#define SYS_NR_MLOCK 149
#define SYS_NR_MLOCKALL 151
#define SYS_NR_MLOCK2 325

#endif
