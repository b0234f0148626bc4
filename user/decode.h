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
#include "rules.h"

struct event {
	enum pt_rec_type type;
	const struct pt_rec_header *hdr;
	union {
		const struct pt_rec_call *call;
		const struct pt_rec_free *free;
		const struct pt_rec_fault *fault;
		const struct pt_rec_syscall *sys;
		const struct pt_rec_task *task;
		const struct pt_rec_hold *hold;
		const struct pt_rec_pages *pages;
		const struct pt_rec_chunk *chunk;
		const struct pt_rec_ustack *ustack;
		const struct pt_rec_site *site;
		const struct pt_rec_stack *stack;
	};
};

/* 0, or -EINVAL for a record of unknown type or the wrong size. */
int decode__record(const void *data, size_t size, struct event *ev);

/* also the glibc symbol of each allocator function */
const char *decode__fn_name(uint32_t fn);
const char *decode__outcome_name(uint32_t outcome);
const char *decode__syscall_name(uint32_t nr);
/* "DONTNEED", "POPULATE_WRITE", ... or NULL */
const char *decode__madvise_name(int64_t advice);

/* madvise advice newer than Debian's headers (Linux 5.14+) */
#define PT_MADV_POPULATE_READ 22
#define PT_MADV_POPULATE_WRITE 23
#define PT_MADV_DONTNEED_LOCKED 24
#define PT_MADV_COLLAPSE 25

#endif
