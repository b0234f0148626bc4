// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "decode.h"
#include "format.h"
#include "json.h"
#include "ledger.h"
#include "mappings.h"
#include "sites.h"
#include "stacks.h"
#include "sites_internal.h"
#include "symbols.h"

/* ---- describing sites and stacks ---------------------------------- */

static void write_frame(struct sites *s, struct json_writer *w, uint64_t site,
			bool return_address)
{
	struct frame_info info;

	symbols__describe(s->sym, code_loc__unpack(site), return_address,
			  &info);
	json__begin_object(w);
	json__kv_hex(w, "addr", info.addr);
	json__key(w, "module");
	if (info.module)
		json__string(w, info.module);
	else
		json__null(w);
	json__key(w, "sym");
	if (info.function)
		json__string(w, info.function);
	else
		json__null(w);
	if (info.function)
		json__kv_u64(w, "offset", info.offset);
	json__key(w, "file");
	if (info.file)
		json__string(w, info.file);
	else
		json__null(w);
	json__key(w, "line");
	if (info.file)
		json__i64(w, info.line);
	else
		json__null(w);
	json__end_object(w);
}

/*
 * A site's JSON object, written once and kept: --json writes a line per
 * allocation with its site and stack, the same few sites a million times
 * over for a loop.
 */
static void json_frame(struct sites *s, struct json_writer *w, uint64_t site,
		       bool return_address)
{
	struct frame_json **bucket =
		&s->frame_json_buckets[(site * 0x9e3779b97f4a7c15ULL >> 40) %
				       BUCKETS];
	struct json_writer *text_writer;
	struct frame_json *f;
	const char *text;
	size_t len;

	for (f = *bucket; f; f = f->next)
		if (f->site == site && f->return_address == return_address) {
			json__raw(w, f->text, f->len);
			return;
		}
	text_writer = json_writer__new(NULL);
	if (text_writer)
		write_frame(s, text_writer, site, return_address);
	text = text_writer ? json_writer__text(text_writer, &len) : NULL;
	/* the newline that ends a top-level value is not part of it */
	f = text && len && text[len - 1] == '\n' ? malloc(sizeof(*f) + len) :
						   NULL;
	if (!f) {
		json_writer__free(text_writer);
		write_frame(s, w, site, return_address);
		return;
	}
	f->site = site;
	f->return_address = return_address;
	f->len = len - 1;
	memcpy(f->text, text, len);
	f->next = *bucket;
	*bucket = f;
	json_writer__free(text_writer);
	json__raw(w, f->text, f->len);
}

/* "function+0x1a (file.c:42)" */
static const char *site_text(struct sites *s, uint64_t site,
			     bool return_address, char *buf, size_t size)
{
	struct frame_info info;
	const char *file;
	int used;

	if (!site)
		return "[no allocation]";
	symbols__describe(s->sym, code_loc__unpack(site), return_address,
			  &info);
	if (info.function)
		used = snprintf(buf, size, "%s+0x%" PRIx64, info.function,
				info.offset);
	else if (info.module)
		used = snprintf(buf, size, "%s+0x%" PRIx64,
				mappings__base_name(info.module), info.addr);
	else
		used = snprintf(buf, size, "0x%" PRIx64, info.addr);
	if (info.file && used > 0 && (size_t)used < size) {
		file = strrchr(info.file, '/');
		snprintf(buf + used, size - used, " (%s:%d)",
			 file ? file + 1 : info.file, info.line);
	}
	return buf;
}

/* An allocation's stack without the allocator's own frame: the site
 * first (frame 1, see session.c and light.c), else the site alone. */
static size_t alloc_frames(struct sites *s, uint64_t site, int32_t stack,
			   uint64_t *out, size_t max)
{
	const struct code_loc *frames;
	size_t n = stacks__frames(s->stacks, stack, &frames), i, count = 0;

	if (n < 2) {
		if (max && site)
			out[count++] = site;
		return count;
	}
	for (i = 1; i < n && count < max; i++)
		out[count++] = code_loc__pack(frames[i]);
	return count;
}

void sites__json_alloc(struct sites *s, struct json_writer *w,
		       const struct alloc_view *v)
{
	uint64_t frames[PT_STACK_MAX_DEPTH + 1];
	size_t n, i;

	json__key(w, "site");
	if (v->site)
		json_frame(s, w, v->site, true);
	else
		json__null(w);
	n = alloc_frames(s, v->site, v->stack_id, frames,
			 PT_STACK_MAX_DEPTH + 1);
	json__key(w, "stack");
	json__begin_array(w);
	for (i = 0; i < n; i++)
		json_frame(s, w, frames[i], true);
	json__end_array(w);
}

/* ---- tables ------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_alloc_sites(const void *a, const void *b)
{
	const struct alloc_site *x = *(const struct alloc_site *const *)a;
	const struct alloc_site *y = *(const struct alloc_site *const *)b;

	if (x->resident_pages != y->resident_pages)
		return x->resident_pages < y->resident_pages ? 1 : -1;
	return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : 0;
}

static int cmp_touch_sites(const void *a, const void *b)
{
	const struct touch_site *x = *(const struct touch_site *const *)a;
	const struct touch_site *y = *(const struct touch_site *const *)b;

	if (x->pages != y->pages)
		return x->pages < y->pages ? 1 : -1;
	return x->faults < y->faults ? 1 : x->faults > y->faults ? -1 : 0;
}

static int cmp_interval(const void *a, const void *b)
{
	const struct touch_site *x = *(const struct touch_site *const *)a;
	const struct touch_site *y = *(const struct touch_site *const *)b;

	if (x->interval_pages != y->interval_pages)
		return x->interval_pages < y->interval_pages ? 1 : -1;
	return x->interval_faults < y->interval_faults ? 1 :
	       x->interval_faults > y->interval_faults ? -1 :
							 0;
}

static int cmp_links(const void *a, const void *b)
{
	const struct link *x = a, *y = b;

	return x->pages < y->pages ? 1 : x->pages > y->pages ? -1 : 0;
}

/* The sites in a sorted array the caller frees. */
static struct alloc_site **sorted_alloc_sites(struct sites *s)
{
	struct alloc_site **all = calloc(s->alloc_count + 1, sizeof(*all));
	struct alloc_site *a;
	size_t i, n = 0;

	if (!all)
		return NULL;
	for (i = 0; i < BUCKETS; i++)
		for (a = s->alloc_buckets[i]; a; a = a->next)
			if (a->allocs)
				all[n++] = a;
	qsort(all, n, sizeof(*all), cmp_alloc_sites);
	for (i = 0; i < n; i++) {
		qsort(all[i]->delays, all[i]->delay_count, sizeof(uint64_t),
		      cmp_u64);
		qsort(all[i]->touched_by.items, all[i]->touched_by.count,
		      sizeof(struct link), cmp_links);
	}
	return all;
}

static struct touch_site **sorted_touch_sites(struct sites *s)
{
	struct touch_site **all = calloc(s->touch_count + 1, sizeof(*all));
	struct touch_site *t;
	size_t i, n = 0;

	if (!all)
		return NULL;
	for (i = 0; i < BUCKETS; i++)
		for (t = s->touch_buckets[i]; t; t = t->next)
			all[n++] = t;
	qsort(all, n, sizeof(*all), cmp_touch_sites);
	for (i = 0; i < n; i++)
		qsort(all[i]->hits.items, all[i]->hits.count,
		      sizeof(struct link), cmp_links);
	return all;
}

static uint64_t median(const struct alloc_site *a)
{
	return a->delay_count ? a->delays[a->delay_count / 2] : 0;
}

void sites__json(struct sites *s, struct json_writer *w)
{
	struct alloc_site **allocs = sorted_alloc_sites(s), *a;
	struct touch_site **touches = sorted_touch_sites(s), *t;
	size_t i, k;

	for (i = 0; allocs && (a = allocs[i]); i++) {
		json__begin_object(w);
		json__kv_string(w, "type", "site");
		json__kv_string(w, "kind", "alloc");
		json__key(w, "site");
		json_frame(s, w, a->site, true);
		json__kv_u64(w, "allocs", a->allocs);
		json__kv_u64(w, "bytes_requested", a->bytes);
		json__kv_u64(w, "resident_bytes",
			     a->resident_pages * PAGE_BYTES);
		json__kv_u64(w, "untouched_bytes",
			     a->untouched_pages * PAGE_BYTES);
		json__kv_u64(w, "zero_bytes", a->zero_pages * PAGE_BYTES);
		json__key(w, "first_touch_p50_ns");
		if (a->delay_count)
			json__u64(w, median(a));
		else
			json__null(w);
		json__key(w, "first_touch_max_ns");
		if (a->delay_count)
			json__u64(w, a->delays[a->delay_count - 1]);
		else
			json__null(w);
		json__key(w, "touched_by");
		json__begin_array(w);
		for (k = 0; k < a->touched_by.count; k++) {
			json__begin_object(w);
			json__key(w, "site");
			json_frame(s, w, a->touched_by.items[k].site, false);
			json__kv_u64(w, "pages", a->touched_by.items[k].pages);
			json__end_object(w);
		}
		json__end_array(w);
		json__end_object(w);
	}
	for (i = 0; touches && (t = touches[i]); i++) {
		json__begin_object(w);
		json__kv_string(w, "type", "site");
		json__kv_string(w, "kind", "touch");
		json__key(w, "site");
		json_frame(s, w, t->site, false);
		json__kv_u64(w, "faults", t->faults);
		json__kv_u64(w, "pages", t->pages);
		json__key(w, "faults_by_outcome");
		json__begin_object(w);
		for (k = 0; k < PT_OUT__COUNT; k++)
			if (t->faults_by_outcome[k])
				json__kv_u64(w, decode__outcome_name(k),
					     t->faults_by_outcome[k]);
		json__end_object(w);
		json__kv_u64(w, "syscall_pages", t->syscall_pages);
		json__key(w, "hits");
		json__begin_array(w);
		for (k = 0; k < t->hits.count; k++) {
			json__begin_object(w);
			json__key(w, "site");
			if (t->hits.items[k].site)
				json_frame(s, w, t->hits.items[k].site, true);
			else
				json__null(w);
			json__kv_u64(w, "pages", t->hits.items[k].pages);
			json__end_object(w);
		}
		json__end_array(w);
		json__end_object(w);
	}
	free(allocs);
	free(touches);
}

static void histogram_text(FILE *out, const uint64_t *slots)
{
	unsigned int i, last = 0, bar, width = 40;
	uint64_t peak = 0;

	for (i = 0; i < HIST_SLOTS; i++) {
		if (slots[i]) {
			last = i;
			if (slots[i] > peak)
				peak = slots[i];
		}
	}
	if (!peak)
		return;
	fprintf(out, "      %-24s : %-8s distribution\n", "first touch (usecs)",
		"count");
	for (i = 0; i <= last; i++) {
		uint64_t lo = i ? 1ULL << (i - 1) : 0, hi = (1ULL << i) - 1;
		char range[48];

		if (i == HIST_SLOTS - 1) /* open-ended: see log2_slot() */
			snprintf(range, sizeof(range), "%" PRIu64 " -> ...",
				 lo);
		else
			snprintf(range, sizeof(range),
				 "%" PRIu64 " -> %" PRIu64, lo, i ? hi : 0);
		bar = (unsigned int)(slots[i] * width / peak);
		fprintf(out, "      %24s : %-8" PRIu64 " |%-*.*s|\n", range,
			slots[i], (int)width, (int)bar,
			"****************************************");
	}
}

void sites__text(struct sites *s, FILE *out, unsigned int top)
{
	struct alloc_site **allocs = sorted_alloc_sites(s), *a;
	struct touch_site **touches = sorted_touch_sites(s), *t;
	char site[512], b1[32], b2[32], b3[32], b4[32], d1[32], d2[32];
	size_t i, k;

	if (allocs && allocs[0]) {
		fprintf(out, "\nallocation sites, by resident memory\n");
		fprintf(out, "  %6s %10s %10s %10s %10s %21s  %s\n", "ALLOCS",
			"REQUESTED", "RESIDENT", "UNTOUCHED", "ZERO",
			"1ST TOUCH P50 / MAX", "SITE");
	}
	for (i = 0; allocs && (a = allocs[i]) && i < top; i++) {
		fprintf(out,
			"  %6" PRIu64 " %10s %10s %10s %10s %10s/%-10s  %s\n",
			a->allocs, format__bytes(b1, sizeof(b1), a->bytes),
			format__bytes(b2, sizeof(b2),
				      a->resident_pages * PAGE_BYTES),
			format__bytes(b3, sizeof(b3),
				      a->untouched_pages * PAGE_BYTES),
			format__bytes(b4, sizeof(b4),
				      a->zero_pages * PAGE_BYTES),
			a->delay_count ?
				format__duration(d1, sizeof(d1), median(a)) :
				"-",
			a->delay_count ?
				format__duration(d2, sizeof(d2), a->delay_max) :
				"-",
			site_text(s, a->site, true, site, sizeof(site)));
		for (k = 0; k < a->touched_by.count && k < 3; k++)
			fprintf(out,
				"         touched by %s: %" PRIu64 " pages\n",
				site_text(s, a->touched_by.items[k].site, false,
					  site, sizeof(site)),
				a->touched_by.items[k].pages);
		histogram_text(out, a->histogram);
	}
	if (touches && touches[0]) {
		fprintf(out, "\ntouching sites, by pages populated\n");
		fprintf(out, "  %8s %8s  %s\n", "FAULTS", "PAGES", "SITE");
	}
	for (i = 0; touches && (t = touches[i]) && i < top; i++) {
		fprintf(out, "  %8" PRIu64 " %8" PRIu64 "  %s\n", t->faults,
			t->pages,
			site_text(s, t->site, false, site, sizeof(site)));
		if (t->faults) {
			fprintf(out, "            faults:");
			for (k = 0; k < PT_OUT__COUNT; k++)
				if (t->faults_by_outcome[k])
					fprintf(out, " %s %" PRIu64,
						decode__outcome_name(k),
						t->faults_by_outcome[k]);
			fputc('\n', out);
		}
		if (t->syscall_pages)
			fprintf(out,
				"            populated by syscall: %" PRIu64
				" pages\n",
				t->syscall_pages);
		for (k = 0; k < t->hits.count && k < 3; k++)
			fprintf(out, "           into %s: %" PRIu64 " pages\n",
				site_text(s, t->hits.items[k].site, true, site,
					  sizeof(site)),
				t->hits.items[k].pages);
	}
	free(allocs);
	free(touches);
}

/* ---- folded stacks ------------------------------------------------ */

/* frames root first, each "function" (or "module+0x..."), ';' apart */
static void print_frames(struct sites *s, FILE *out, const uint64_t *frames,
			 size_t n, bool leaf_is_return)
{
	size_t i;

	for (i = n; i-- > 0;) {
		bool return_address = i > 0 || leaf_is_return;

		fprintf(out, "%s%s", i + 1 < n ? ";" : "",
			symbols__short_name(s->sym, code_loc__unpack(frames[i]),
					    return_address));
	}
}

static size_t touch_frames(struct sites *s, uint64_t site, int32_t stack,
			   uint64_t *out, size_t max)
{
	const struct code_loc *frames;
	size_t n = stacks__frames(s->stacks, stack, &frames), i;

	if (!n) {
		/* no stack taken: the site alone */
		out[0] = site;
		return max ? 1 : 0;
	}
	for (i = 0; i < n && i < max; i++)
		out[i] = code_loc__pack(frames[i]);
	return i;
}

struct folded_line {
	char *stack;
	uint64_t pages;
};

static int cmp_folded_lines(const void *a, const void *b)
{
	return strcmp(((const struct folded_line *)a)->stack,
		      ((const struct folded_line *)b)->stack);
}

/* The folded stack (without its count) of one allocation/touch pair. */
static char *folded_stack(struct sites *s, const struct folded *f,
			  enum folded_axes axes)
{
	uint64_t frames[PT_STACK_MAX_DEPTH + 1];
	char *text = NULL;
	size_t size = 0, n;
	FILE *out = open_memstream(&text, &size);

	if (!out)
		return NULL;
	if (axes != FOLDED_TOUCH) {
		n = alloc_frames(s, f->key.alloc_site, f->key.alloc_stack,
				 frames, PT_STACK_MAX_DEPTH + 1);
		if (n)
			print_frames(s, out, frames, n, true);
		else
			fputs("[no allocation]", out);
	}
	if (axes == FOLDED_BOTH)
		fputs(";-- touched by --;", out);
	if (axes != FOLDED_ALLOC) {
		n = touch_frames(s, f->key.touch_site, f->key.touch_stack,
				 frames, PT_STACK_MAX_DEPTH + 1);
		print_frames(s, out, frames, n, false);
	}
	if (fclose(out)) {
		free(text);
		return NULL;
	}
	return text;
}

void sites__folded(struct sites *s, FILE *out, enum folded_axes axes)
{
	struct folded_line *lines = NULL;
	size_t i, count = 0, capacity = 0;
	struct folded *f;

	/* pairs that print alike (one axis, same names) become one line;
	 * sorted, so that runs compare with diff */
	for (i = 0; i < BUCKETS; i++) {
		for (f = s->folded_buckets[i]; f; f = f->next) {
			char *stack = folded_stack(s, f, axes);

			if (!stack)
				continue;
			if (count == capacity) {
				size_t more = capacity ? capacity * 2 : 64;
				struct folded_line *grown =
					realloc(lines, more * sizeof(*lines));

				if (!grown) {
					free(stack);
					continue;
				}
				lines = grown;
				capacity = more;
			}
			lines[count++] =
				(struct folded_line){ stack, f->pages };
		}
	}
	if (count)
		qsort(lines, count, sizeof(*lines), cmp_folded_lines);
	for (i = 0; i < count; i++) {
		if (i + 1 < count &&
		    !strcmp(lines[i].stack, lines[i + 1].stack))
			lines[i + 1].pages += lines[i].pages;
		else
			fprintf(out, "%s %" PRIu64 "\n", lines[i].stack,
				lines[i].pages);
		free(lines[i].stack);
	}
	free(lines);
}

/* ---- intervals ---------------------------------------------------- */

void sites__interval(struct sites *s, FILE *out, struct json_writer *w,
		     uint64_t elapsed_ns, uint64_t interval_ns,
		     unsigned int top)
{
	struct touch_site **all = sorted_touch_sites(s), *t;
	double seconds = interval_ns / 1e9;
	char site[512], b1[32], b2[32], clock[16];
	time_t wall = time(NULL);
	size_t i, shown = 0;

	if (w) {
		json__begin_object(w);
		json__kv_string(w, "type", "interval");
		json__kv_u64(w, "elapsed_ns", elapsed_ns);
		json__kv_u64(w, "interval_ns", interval_ns);
		json__kv_u64(w, "faults", s->interval_faults);
		json__kv_u64(w, "pages", s->interval_pages);
		json__key(w, "sites");
		json__begin_array(w);
	} else {
		strftime(clock, sizeof(clock), "%H:%M:%S", localtime(&wall));
		fprintf(out,
			"\n%s (+%.3f s): %" PRIu64 " faults (%.0f/s), %s "
			"populated (%s/s)\n  %8s %8s  %s\n",
			clock, elapsed_ns / 1e9, s->interval_faults,
			s->interval_faults / seconds,
			format__bytes(b1, sizeof(b1),
				      s->interval_pages * PAGE_BYTES),
			format__bytes(b2, sizeof(b2),
				      (uint64_t)(s->interval_pages *
						 PAGE_BYTES / seconds)),
			"FAULTS", "PAGES", "TOUCHING SITE");
	}
	/* the busiest of this interval first */
	for (i = 0; all && all[i]; i++)
		;
	if (all)
		qsort(all, i, sizeof(*all), cmp_interval);
	for (i = 0; all && (t = all[i]); i++) {
		if (!t->interval_pages && !t->interval_faults)
			continue;
		if (shown++ < top) {
			if (w) {
				json__begin_object(w);
				json__key(w, "site");
				json_frame(s, w, t->site, false);
				json__kv_u64(w, "faults", t->interval_faults);
				json__kv_u64(w, "pages", t->interval_pages);
				json__end_object(w);
			} else {
				fprintf(out,
					"  %8" PRIu64 " %8" PRIu64 "  %s\n",
					t->interval_faults, t->interval_pages,
					site_text(s, t->site, false, site,
						  sizeof(site)));
			}
		}
	}
	if (w) {
		json__end_array(w);
		json__end_object(w);
	}
	fflush(out);
	free(all);
	/* every site, listed or not (the list may have failed) */
	for (i = 0; i < BUCKETS; i++)
		for (t = s->touch_buckets[i]; t; t = t->next)
			t->interval_faults = t->interval_pages = 0;
	s->interval_faults = s->interval_pages = 0;
}
