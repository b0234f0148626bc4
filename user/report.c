// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "format.h"
#include "json.h"
#include "kernel.h"
#include "ledger.h"
#include "report.h"
#include "report_events.h"
#include "report_verify.h"
#include "sites.h"

#define PAGE_BYTES 4096ULL
#define LAZY_LISTED 5

struct report {
	FILE *out;
	bool json;
	unsigned int top;
	struct sites *sites;
	bool folded;
	int folded_axes;
	struct verify_summary *verify; /* NULL without --verify */
	struct json_writer *w;
	struct alloc_view *top_views; /* by resident pages, descending */
	unsigned int top_count;
	struct alloc_view lazy_views[LAZY_LISTED]; /* by size, descending */
	unsigned int lazy_count;
	/* totals over every record written */
	uint64_t resident_pages;
	uint64_t zero_pages;
	uint64_t untouched_pages;
	uint64_t lazy_allocs;
	uint64_t lazy_bytes;
	uint64_t retained_blocks;
	uint64_t retained_pages;
};

struct report *report__new(const struct report_config *cfg)
{
	struct report *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->out = cfg->out;
	r->json = cfg->json;
	r->top = cfg->top;
	r->sites = cfg->sites;
	r->folded = cfg->folded;
	r->folded_axes = cfg->folded_axes;
	r->w = json_writer__new(cfg->out);
	if (cfg->verify && !(r->verify = verify_summary__new())) {
		report__free(r);
		return NULL;
	}
	if (cfg->top)
		r->top_views = calloc(cfg->top, sizeof(*r->top_views));
	if (!r->w || (cfg->top && !r->top_views)) {
		report__free(r);
		return NULL;
	}
	return r;
}

void report__free(struct report *r)
{
	if (!r)
		return;
	json_writer__free(r->w);
	verify_summary__free(r->verify);
	free(r->top_views);
	free(r);
}

static void json_by(struct json_writer *w, const uint64_t *by)
{
	int k;

	json__begin_object(w);
	for (k = 0; k < BY__COUNT; k++)
		json__kv_u64(w, ledger__by_name(k), by[k]);
	json__end_object(w);
}

/* Never populated by the program: what pages it has, the allocator
 * itself wrote (a chunk header) or it got them from a freed block. A
 * realloc'd block is not: its pages came with it. */
static bool is_lazy(const struct alloc_view *v)
{
	return v->end != ALLOC_FAILED && v->first_touch_ns < 0 &&
	       v->untouched_pages > 0 && !v->realloc_from;
}

static void json_alloc(struct json_writer *w, const struct alloc_view *v,
		       bool verify, struct sites *sites)
{
	bool failed = v->end == ALLOC_FAILED;

	json__begin_object(w);
	json__kv_string(w, "type", "alloc");
	json__kv_u64(w, "id", v->id);
	json__kv_i64(w, "pid", v->pid);
	json__kv_i64(w, "tid", v->tid);
	json__kv_string(w, "fn", ledger__fn_name(v->fn));
	json__key(w, "addr");
	if (failed)
		json__null(w);
	else
		json__hex(w, v->addr);
	json__kv_u64(w, "size", v->size);
	json__kv_u64(w, "t_alloc_ns", v->t_alloc);
	json__key(w, "t_free_ns");
	if (v->t_free)
		json__u64(w, v->t_free);
	else
		json__null(w);
	json__kv_bool(w, "freed",
		      v->end == ALLOC_FREED || v->end == ALLOC_REALLOCATED);
	json__kv_bool(w, "failed", failed);
	json__kv_string(w, "end", ledger__end_name(v->end));
	json__kv_u64(w, "pages", v->pages);
	json__kv_u64(w, "resident_pages", v->resident_pages);
	json__kv_u64(w, "zero_pages", v->zero_pages);
	json__kv_u64(w, "untouched_pages", v->untouched_pages);
	json__kv_u64(w, "resident_at_alloc", v->resident_at_alloc);
	json__kv_u64(w, "faults", v->faults);
	json__key(w, "first_touch_ns");
	if (v->first_touch_ns >= 0)
		json__i64(w, v->first_touch_ns);
	else
		json__null(w);
	json__key(w, "by");
	json_by(w, v->by);
	json__kv_bool(w, "lazy", is_lazy(v));
	json__key(w, "chunk");
	if (v->chunk_known)
		json__string(w, v->chunk_mmapped ? "mmap" : "heap");
	else
		json__null(w);
	json__kv_bool(w, "released", v->released);
	json__kv_hex(w, "caller", v->caller);
	if (v->chunk_size)
		json__kv_u64(w, "chunk_size", v->chunk_size);
	if (v->free_tid)
		json__kv_i64(w, "free_tid", v->free_tid);
	switch (v->fn) {
	case PT_FN_CALLOC:
		json__kv_u64(w, "nmemb", v->arg);
		break;
	case PT_FN_REALLOC:
	case PT_FN_REALLOCARRAY:
		json__kv_hex(w, "old_addr", v->arg);
		break;
	case PT_FN_POSIX_MEMALIGN:
		json__kv_u64(w, "align", v->arg);
		break;
	case PT_FN_ALIGNED_ALLOC:
	case PT_FN_MEMALIGN:
		json__kv_u64(w, "align", v->arg);
		break;
	default:
		break;
	}
	if (v->realloc_from)
		json__kv_u64(w, "realloc_from", v->realloc_from);
	if (v->realloc_to)
		json__kv_u64(w, "realloc_to", v->realloc_to);
	if (verify)
		verify_summary__json_alloc(w, v);
	if (sites)
		sites__json_alloc(sites, w, v);
	json__end_object(w);
}

static void keep_top(struct report *r, const struct alloc_view *v)
{
	unsigned int i;

	if (!r->top || !v->resident_pages)
		return;
	if (r->top_count == r->top &&
	    r->top_views[r->top - 1].resident_pages >= v->resident_pages)
		return;
	i = r->top_count < r->top ? r->top_count++ : r->top - 1;
	while (i > 0 &&
	       r->top_views[i - 1].resident_pages < v->resident_pages) {
		r->top_views[i] = r->top_views[i - 1];
		i--;
	}
	r->top_views[i] = *v;
}

static void keep_lazy(struct report *r, const struct alloc_view *v)
{
	unsigned int i;

	if (r->lazy_count == LAZY_LISTED &&
	    r->lazy_views[LAZY_LISTED - 1].size >= v->size)
		return;
	i = r->lazy_count < LAZY_LISTED ? r->lazy_count++ : LAZY_LISTED - 1;
	while (i > 0 && r->lazy_views[i - 1].size < v->size) {
		r->lazy_views[i] = r->lazy_views[i - 1];
		i--;
	}
	r->lazy_views[i] = *v;
}

void report__alloc(void *report, const struct alloc_view *v)
{
	struct report *r = report;

	if (r->json)
		json_alloc(r->w, v, r->verify, r->sites);
	if (r->verify)
		verify_summary__add(r->verify, v);
	if (v->end == ALLOC_FAILED)
		return;
	r->resident_pages += v->resident_pages;
	r->zero_pages += v->zero_pages;
	r->untouched_pages += v->untouched_pages;
	if (is_lazy(v)) {
		r->lazy_allocs++;
		r->lazy_bytes += v->size;
	}
	if (v->end == ALLOC_FREED && !v->released && v->resident_pages) {
		r->retained_blocks++;
		r->retained_pages += v->resident_pages;
	}
	if (r->json)
		return;
	keep_top(r, v);
	if (is_lazy(v))
		keep_lazy(r, v);
}

static void json_summary(struct report *r, const struct ledger *l,
			 const struct run_info *info)
{
	const struct ledger_stats *st = ledger__stats(l);
	struct json_writer *w = r->w;
	size_t i;
	int k;

	if (r->sites)
		sites__json(r->sites, w);
	for (i = 0; i < ledger__group_count(l); i++) {
		const struct outside_group *g = ledger__group(l, i);

		json__begin_object(w);
		json__kv_string(w, "type", "outside");
		json__kv_string(w, "mapping", g->name);
		json__kv_u64(w, "faults", g->faults);
		json__key(w, "by");
		json_by(w, g->pages);
		json__end_object(w);
	}
	json__begin_object(w);
	json__kv_string(w, "type", "summary");
	json__kv_i64(w, "pid", info->pid);
	json__kv_string(w, "comm", info->comm);
	json__kv_u64(w, "duration_ns", info->t_end - info->t_start);
	json__kv_string(w, "stop", info->stop_reason);
	json__key(w, "exit_status");
	if (info->exit_status_known)
		json__i64(w, info->exit_status);
	else
		json__null(w);
	json__kv_bool(w, "empty_probes", info->empty_probes);
	json__kv_bool(w, "light", info->light);
	json__kv_u64(w, "self_cpu_ns", info->self_cpu_ns);
	json__key(w, "allocator");
	if (info->allocator)
		json__string(w, info->allocator);
	else
		json__null(w);
	json__key(w, "allocator_probes");
	if (info->allocator_probes)
		json__string(w, info->allocator_probes);
	else
		json__null(w);
	json__kv_u64(w, "allocs", st->allocs);
	json__kv_u64(w, "failed", st->failed);
	json__kv_u64(w, "frees", st->frees);
	json__kv_u64(w, "unknown_frees", st->unknown_frees);
	json__kv_u64(w, "bytes_requested", st->bytes_requested);
	json__kv_u64(w, "resident_bytes", r->resident_pages * PAGE_BYTES);
	json__kv_u64(w, "zero_bytes", r->zero_pages * PAGE_BYTES);
	json__kv_u64(w, "untouched_bytes", r->untouched_pages * PAGE_BYTES);
	json__kv_u64(w, "lazy_allocs", r->lazy_allocs);
	json__kv_u64(w, "lazy_bytes", r->lazy_bytes);
	json__kv_u64(w, "retained_pages", r->retained_pages);
	json__kv_u64(w, "faults", st->faults);
	json__kv_u64(w, "faults_in_allocs", st->faults_in_allocs);
	json__kv_u64(w, "faults_outside", st->faults_outside);
	json__kv_u64(w, "fault_errors", st->fault_errors);
	json__kv_u64(w, "kernel_mode_faults", st->kernel_mode_faults);
	json__key(w, "kernel_faults");
	if (info->kernel_faults_known)
		json__u64(w, info->kernel_faults);
	else
		json__null(w);
	json__key(w, "faults_by_outcome");
	json__begin_object(w);
	for (k = 0; k < PT_OUT__COUNT; k++)
		json__kv_u64(w, decode__outcome_name(k),
			     st->faults_by_outcome[k]);
	json__end_object(w);
	json__key(w, "pages_by_outcome");
	json__begin_object(w);
	for (k = 0; k < PT_OUT__COUNT; k++)
		if (k != PT_OUT_ERROR && k != PT_OUT_NONE)
			json__kv_u64(w, decode__outcome_name(k),
				     st->pages_by_outcome[k]);
	json__end_object(w);
	json__kv_u64(w, "syscall_pages", st->syscall_pages);
	json__kv_u64(w, "other_syscall_pages", st->other_syscall_pages);
	report_events__json(w, st, info);
	if (r->verify)
		verify_summary__json(r->verify, w);
	report_events__json_counts(w, info);
	json__key(w, "kernel");
	json__begin_object(w);
	json__key(w, "zero_page_on_read");
	if (info->kernel->zero_page_known)
		json__bool(w, info->kernel->zero_page_on_read);
	else
		json__null(w);
	json__kv_string(w, "thp", info->kernel->thp_enabled);
	json__end_object(w);
	json__end_object(w);
}

static void text_header(struct report *r, const struct ledger_stats *st,
			const struct run_info *info)
{
	char dur[32];

	fprintf(r->out, "pagetrace: process %d (%s), traced for %s", info->pid,
		info->comm,
		format__duration(dur, sizeof(dur),
				 info->t_end - info->t_start));
	if (info->exit_status_known)
		fprintf(r->out, ", exited with status %d", info->exit_status);
	else if (st->exited)
		fprintf(r->out, ", exited");
	else if (!strcmp(info->stop_reason, "duration"))
		fprintf(r->out, ", still running (--duration ended)");
	else if (!strcmp(info->stop_reason, "count"))
		fprintf(r->out, ", still running (-i count reached)");
	else
		fprintf(r->out, ", still running (interrupted)");
	fputc('\n', r->out);
	if (info->kernel->zero_page_known) {
		if (info->kernel->zero_page_on_read)
			fprintf(r->out, "kernel: read faults map the shared "
					"zero page");
		else
			fprintf(r->out,
				"kernel: read faults allocate private pages, "
				"the zero page is not used%s%s%s",
				info->kernel->why_no_zero_page[0] ? " (" : "",
				info->kernel->why_no_zero_page,
				info->kernel->why_no_zero_page[0] ? ")" : "");
		fprintf(r->out, "; THP %s\n", info->kernel->thp_enabled);
	}
	if (info->allocator && info->light)
		fprintf(r->out,
			"allocator: %s, not probed (--light): allocations are "
			"the anonymous mappings made (malloc's big blocks, "
			"\"mmapped_chunk\") and the heap's growth (\"brk\"); "
			"faults counted in the kernel, per instruction\n",
			info->allocator);
	else if (info->allocator && info->allocator_probes &&
		 !strcmp(info->allocator_probes, "preload"))
		fprintf(r->out,
			"allocator: %s, probed on pagetrace-preload.so's "
			"sites\n",
			info->allocator);
	else if (info->allocator)
		fprintf(r->out, "allocator: %s\n", info->allocator);
	else
		fprintf(r->out,
			"allocator: not traced (no glibc malloc in the target)\n");
	if (info->empty_probes)
		fprintf(r->out, "probes: empty (--empty-probes), nothing was "
				"recorded: the figures below are not the "
				"process's\n");
}

static void text_totals(struct report *r, const struct ledger_stats *st,
			const struct run_info *info)
{
	char a[32], b[32], c[32], d[32];
	int k;

	fprintf(r->out,
		"\nallocations: %" PRIu64 " block%s, %s requested, %" PRIu64
		" freed, %" PRIu64 " failed\n",
		st->allocs, st->allocs == 1 ? "" : "s",
		format__bytes(a, sizeof(a), st->bytes_requested),
		st->frees - st->unknown_frees, st->failed);
	fprintf(r->out,
		"  resident %s, zero page %s, never touched %s (%" PRIu64
		" / %" PRIu64 " / %" PRIu64 " pages)\n",
		format__bytes(b, sizeof(b), r->resident_pages * PAGE_BYTES),
		format__bytes(c, sizeof(c), r->zero_pages * PAGE_BYTES),
		format__bytes(d, sizeof(d), r->untouched_pages * PAGE_BYTES),
		r->resident_pages, r->zero_pages, r->untouched_pages);
	if (st->unknown_frees)
		fprintf(r->out,
			"  %" PRIu64 " frees of blocks allocated before "
			"tracing began\n",
			st->unknown_frees);
	if (info->light)
		fprintf(r->out,
			"faults: %" PRIu64 " (counted per instruction, not per "
			"allocation: --light)",
			st->faults);
	else
		fprintf(r->out,
			"faults: %" PRIu64 " (%" PRIu64
			" in allocations, %" PRIu64 " outside)",
			st->faults, st->faults_in_allocs, st->faults_outside);
	if (st->kernel_mode_faults)
		fprintf(r->out, ", %" PRIu64 " taken by the kernel",
			st->kernel_mode_faults);
	if (st->fault_errors)
		fprintf(r->out, ", %" PRIu64 " failed", st->fault_errors);
	fprintf(r->out, "\n  by outcome:");
	for (k = 0; k < PT_OUT__COUNT; k++)
		if (k != PT_OUT_ERROR)
			fprintf(r->out, " %s %" PRIu64, decode__outcome_name(k),
				st->faults_by_outcome[k]);
	fprintf(r->out,
		"\n  pages populated: %" PRIu64 " by faults, %" PRIu64
		" by syscalls",
		st->pages_by_outcome[PT_OUT_ZERO] +
			st->pages_by_outcome[PT_OUT_ANON] +
			st->pages_by_outcome[PT_OUT_THP] +
			st->pages_by_outcome[PT_OUT_COW_ZERO] +
			st->pages_by_outcome[PT_OUT_COW] +
			st->pages_by_outcome[PT_OUT_FILE] +
			st->pages_by_outcome[PT_OUT_SWAP],
		st->syscall_pages + st->other_syscall_pages);
	fputc('\n', r->out);
}

static void text_alloc_row(struct report *r, const struct alloc_view *v)
{
	char size[32], res[32], zero[32], untouched[32], touch[32];

	fprintf(r->out,
		"  %6" PRIu64 "  %-14s %10s %10s %10s %10s %7" PRIu64
		" %11s  %s\n",
		v->id, ledger__fn_name(v->fn),
		format__bytes(size, sizeof(size), v->size),
		format__bytes(res, sizeof(res), v->resident_pages * PAGE_BYTES),
		format__bytes(zero, sizeof(zero), v->zero_pages * PAGE_BYTES),
		format__bytes(untouched, sizeof(untouched),
			      v->untouched_pages * PAGE_BYTES),
		v->faults,
		v->first_touch_ns >= 0 ?
			format__duration(touch, sizeof(touch),
					 (uint64_t)v->first_touch_ns) :
			"-",
		ledger__end_name(v->end));
}

static void text_report(struct report *r, const struct ledger *l,
			const struct run_info *info)
{
	const struct ledger_stats *st = ledger__stats(l);
	char a[32];
	size_t i, n;
	unsigned int t;

	text_header(r, st, info);
	text_totals(r, st, info);
	if (r->top_count) {
		fprintf(r->out, "\ntop %u allocations by resident memory\n",
			r->top_count);
		fprintf(r->out,
			"  %6s  %-14s %10s %10s %10s %10s %7s %11s  %s\n", "ID",
			"FN", "SIZE", "RESIDENT", "ZERO", "UNTOUCHED", "FAULTS",
			"1ST TOUCH", "END");
		for (t = 0; t < r->top_count; t++)
			text_alloc_row(r, &r->top_views[t]);
	}
	if (r->lazy_allocs) {
		fprintf(r->out,
			"\nlazy: %" PRIu64 " allocation%s, %s allocated, never "
			"populated by the program\n",
			r->lazy_allocs, r->lazy_allocs == 1 ? "" : "s",
			format__bytes(a, sizeof(a), r->lazy_bytes));
		for (t = 0; t < r->lazy_count; t++)
			text_alloc_row(r, &r->lazy_views[t]);
	}
	if (r->retained_blocks)
		fprintf(r->out,
			"\nfreed heap blocks: %" PRIu64 " left %" PRIu64
			" pages (%s) resident, kept by the allocator for reuse\n",
			r->retained_blocks, r->retained_pages,
			format__bytes(a, sizeof(a),
				      r->retained_pages * PAGE_BYTES));
	if (r->sites)
		sites__text(r->sites, r->out, r->top);
	n = ledger__group_count(l);
	if (n) {
		fprintf(r->out, "\noutside allocations, by mapping\n");
		fprintf(r->out, "  %8s %8s  %s\n", "FAULTS", "PAGES",
			"MAPPING");
		for (i = 0; i < n; i++) {
			const struct outside_group *g = ledger__group(l, i);
			uint64_t pages = 0;
			int k;

			for (k = 0; k < BY__COUNT; k++)
				pages += g->pages[k];
			fprintf(r->out, "  %8" PRIu64 " %8" PRIu64 "  %s\n",
				g->faults, pages, g->name);
		}
	}
	if (st->other_syscall_pages)
		fprintf(r->out,
			"%" PRIu64 " pages populated inside other syscalls "
			"(get_user_pages), not placed\n",
			st->other_syscall_pages);
	if (st->forks)
		fprintf(r->out, "%" PRIu64 " child process%s not traced\n",
			st->forks, st->forks == 1 ? " was" : "es were");
	if (info->kernel_faults_known)
		fprintf(r->out,
			"\nkernel's own count of the command's faults: %" PRIu64
			"\n",
			info->kernel_faults);
	fputc('\n', r->out);
	report_events__text(r->out, st, info);
	fprintf(r->out, "pagetrace's own CPU time: %s\n",
		format__duration(a, sizeof(a), info->self_cpu_ns));
	if (r->verify)
		verify_summary__text(r->verify, r->out);
}

void report__interval(struct report *r, uint64_t elapsed_ns,
		      uint64_t interval_ns)
{
	if (r->sites)
		sites__interval(r->sites, r->out, r->json ? r->w : NULL,
				elapsed_ns, interval_ns, r->top);
}

void report__finish(struct report *r, const struct ledger *l,
		    const struct run_info *info)
{
	if (r->folded && r->sites)
		sites__folded(r->sites, r->out, r->folded_axes);
	else if (r->json)
		json_summary(r, l, info);
	else
		text_report(r, l, info);
	fflush(r->out);
}
