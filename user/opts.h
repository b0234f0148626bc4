/* SPDX-License-Identifier: GPL-2.0 */
/* Command line: parsing and validation, no side effects. */
#ifndef PAGETRACE_OPTS_H
#define PAGETRACE_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "pagetable.h"

#define PAGETRACE_VERSION "0.1.0"

struct options {
	pid_t pid; /* -p, 0 when a command is given */
	char **command; /* after "--", NULL-terminated */
	uint64_t duration_ns; /* 0: until the target exits or a signal */
	bool json;
	bool events;
	const char *output; /* NULL: stdout */
	uint64_t min_size;
	uint64_t ringbuf_bytes; /* each CPU's ring, 0: the default */
	unsigned int top;
	int verbosity;
	bool verify; /* check the ledger against the page tables */
	bool snapshot; /* no tracing: the page tables of -p PID now */
	bool has_range;
	uint64_t range_start; /* --range, page aligned */
	uint64_t range_end;
	enum pagetable_backend backend;
	unsigned int stack_depth; /* 0: --no-stacks */
	unsigned int stack_storage; /* --stack-storage: stack map entries */
	unsigned int call_slots; /* --call-slots: a power of two */
	bool empty_probes; /* --empty-probes: the floor, for benchmarks */
	bool exact_stacks; /* --exact-stacks: no stack reused */
	bool no_fault_runs; /* --no-fault-runs: a record per fault */
	bool light; /* --light: production mode, no allocator probes */
	bool probes_at_symbols; /* --probes-at-symbols: naive placement */
	bool no_preload; /* --no-preload: the command's environment as is */
	bool kernel_clock; /* --kernel-clock: no time read at the sites */
	bool folded; /* --folded: folded stacks instead of the report */
	int folded_axes; /* enum folded_axes (sites.h) */
	uint64_t interval_ns; /* -i: a report per interval, 0: none */
	uint64_t interval_count; /* stop after this many, 0: no limit */
	uint64_t warmup_ns; /* --warmup: sites count after this */
};

enum opts_result {
	OPTS_RUN,
	OPTS_HELP,
	OPTS_VERSION,
	OPTS_ERROR, /* message in the error buffer */
};

enum parse_error {
	PARSE_OK,
	PARSE_EMPTY,
	PARSE_NOT_NUMBER,
	PARSE_NEGATIVE,
	PARSE_RANGE,
	PARSE_BAD_SUFFIX,
};

/* An unsigned decimal in [min, max]; with_suffix accepts K, M, G, T (x1024). */
enum parse_error parse_uint(const char *text, uint64_t min, uint64_t max,
			    bool with_suffix, uint64_t *value);
/* "START-END" in hex (0x optional) into a page-aligned [start, end). */
enum parse_error parse_range(const char *text, uint64_t *start, uint64_t *end);
/* Seconds with an optional fraction ("2", "0.5") into nanoseconds, > 0. */
enum parse_error parse_seconds(const char *text, uint64_t *ns);
const char *parse_error__str(enum parse_error err);

enum opts_result opts__parse(struct options *opts, int argc, char **argv,
			     char *error, size_t error_size);
void opts__print_help(void);

#endif
