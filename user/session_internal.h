/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The session's insides, shared by session.c (set-up, the loop),
 * session_records.c (the records) and session_allocator.c (finding and
 * probing the allocator).
 */
#ifndef PAGETRACE_SESSION_INTERNAL_H
#define PAGETRACE_SESSION_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel.h"
#include "report.h"

struct allocator;
struct eventlog;
struct fault_runs;
struct ledger;
struct light;
struct mappings;
struct options;
struct report;
struct sites;
struct stacks;
struct symbols;
struct target;
struct trace;
struct verifier;

/*
 * For its first EARLY_NS the program (the one started, and each one an
 * exec starts: its record wakes the reader) is read closely: what is
 * learned of it from its records must come while it still runs, for a
 * short one too. A mapping the kernel makes without a syscall (the uprobe
 * trampolines) is named from /proc, which has nothing once the program
 * has exited; the loop whose frame is set up is known before it is over
 * (fault_runs.h).
 */
#define EARLY_POLL_MS 2
#define EARLY_NS 300000000ULL

struct session {
	const struct options *opts;
	struct kernel_facts kernel;
	struct target *target;
	struct trace *trace;
	struct mappings *maps;
	struct allocator *allocator;
	struct ledger *ledger;
	struct report *report;
	struct eventlog *events;
	struct verifier *verifier; /* --verify */
	struct symbols *symbols;
	struct stacks *stacks;
	struct fault_runs *fault_runs;
	struct sites *sites;
	struct light *light; /* --light */
	int epoll_fd; /* the ring buffer and SIGCHLD */
	int sigchld_fd;
	struct run_info info;
	bool check_allocator; /* after an exec: is glibc where it was? */
	uint64_t early_until; /* polled every EARLY_POLL_MS until then */
	uint64_t bad_records;
	/* the module of the last call's caller, and whether it is
	 * pagetrace-preload.so, whose own calls are not the program's */
	uint32_t caller_module;
	bool caller_module_is_preload;
	/* the last module a fault was located in: the allocator's? */
	uint32_t fault_module;
	bool fault_module_is_allocator;
	uint64_t lost_warned;
	uint64_t last_lost_warning;
	uint64_t last_lost_check;
};

/* 1 once glibc's allocator is probed (--light: found), 0 if the mappings
 * hold none (yet), < 0 if the probes failed. */
int sess_attach_allocator(struct session *s);
/* Say why allocation calls are not traced. */
void sess_warn_no_allocator(struct session *s);
/* The loader mapped code (target.h's callback): is glibc there yet? */
int sess_on_loader_mapped(void *ctx);
/* After an exec, once new code is mapped: the same glibc, or probe the
 * new one. */
void sess_recheck_allocator(struct session *s);
/* A record from the kernel side (trace.h's callback; ctx: the session). */
void sess_on_record(void *ctx, const void *data, size_t size);

#endif
