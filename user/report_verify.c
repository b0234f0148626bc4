// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "json.h"
#include "ledger.h"
#include "pagestate.h"
#include "report_verify.h"

struct mismatch {
	uint64_t id;
	uint32_t fn;
	uint64_t size;
	bool late;
	uint64_t pages;
	struct page_mismatch runs[PAGE_CHECK_RUNS];
	unsigned int run_count;
	bool more_runs;
};

struct verify_summary {
	uint64_t verified;
	uint64_t mismatched;
	uint64_t late;
	uint64_t unchecked;
	struct mismatch *listed; /* every mismatching allocation */
	size_t listed_count;
	size_t listed_capacity;
};

struct verify_summary *verify_summary__new(void)
{
	return calloc(1, sizeof(struct verify_summary));
}

void verify_summary__free(struct verify_summary *vs)
{
	if (vs)
		free(vs->listed);
	free(vs);
}

void verify_summary__add(struct verify_summary *vs, const struct alloc_view *v)
{
	const struct page_check *c = v->check;
	struct mismatch *m;

	if (v->end == ALLOC_FAILED)
		return;
	if (!c) {
		vs->unchecked++;
		return;
	}
	vs->verified++;
	if (c->late)
		vs->late++;
	if (c->match)
		return;
	vs->mismatched++;
	if (vs->listed_count == vs->listed_capacity) {
		size_t capacity =
			vs->listed_capacity ? vs->listed_capacity * 2 : 16;
		struct mismatch *listed =
			realloc(vs->listed, capacity * sizeof(*listed));

		if (!listed)
			return; /* the count above still says it */
		vs->listed = listed;
		vs->listed_capacity = capacity;
	}
	m = &vs->listed[vs->listed_count++];
	m->id = v->id;
	m->fn = v->fn;
	m->size = v->size;
	m->late = c->late;
	m->pages = c->mismatched_pages;
	memcpy(m->runs, c->runs, sizeof(m->runs));
	m->run_count = c->run_count;
	m->more_runs = c->more_runs;
}

void verify_summary__json_alloc(struct json_writer *w,
				const struct alloc_view *v)
{
	const struct page_check *c = v->check;

	json__key(w, "pt");
	if (!c) {
		json__null(w);
		json__key(w, "pt_match");
		json__null(w);
		return;
	}
	json__begin_object(w);
	json__kv_u64(w, "present", c->table.present);
	json__key(w, "zero");
	if (c->frames_known)
		json__u64(w, c->table.zero);
	else
		json__null(w);
	json__kv_u64(w, "swapped", c->table.swapped);
	json__kv_u64(w, "not_present", c->table.not_present);
	json__key(w, "huge");
	if (c->frames_known)
		json__u64(w, c->table.huge);
	else
		json__null(w);
	json__kv_u64(w, "file", c->table.file);
	json__end_object(w);
	json__kv_bool(w, "pt_match", c->match);
	json__kv_bool(w, "pt_late", c->late);
	if (!c->match)
		json__kv_u64(w, "pt_mismatched_pages", c->mismatched_pages);
}

void verify_summary__json(const struct verify_summary *vs,
			  struct json_writer *w)
{
	json__kv_u64(w, "verified_allocs", vs->verified);
	json__kv_u64(w, "mismatched_allocs", vs->mismatched);
	json__kv_u64(w, "late_allocs", vs->late);
	json__kv_u64(w, "unverified_allocs", vs->unchecked);
}

static const char *state_name(uint8_t state)
{
	switch (state) {
	case PAGE_ZERO:
		return "zero page";
	case PAGE_RESIDENT:
		return "resident";
	case PAGE_SWAPPED:
		return "swapped";
	default:
		return "not present";
	}
}

void verify_summary__text(const struct verify_summary *vs, FILE *out)
{
	unsigned int r;
	size_t i;

	fprintf(out,
		"\nverification: %" PRIu64
		" allocations checked against the page tables, %" PRIu64
		" mismatched, %" PRIu64 " read after release, %" PRIu64
		" not checked\n",
		vs->verified, vs->mismatched, vs->late, vs->unchecked);
	for (i = 0; i < vs->listed_count; i++) {
		const struct mismatch *m = &vs->listed[i];

		fprintf(out,
			"  #%" PRIu64 " %s %" PRIu64 " bytes: %" PRIu64
			" pages differ%s\n",
			m->id, decode__fn_name(m->fn), m->size, m->pages,
			m->late ? " (read after release)" : "");
		for (r = 0; r < m->run_count; r++)
			fprintf(out,
				"    pages 0x%" PRIx64 "-0x%" PRIx64
				": ledger %s, page tables %s\n",
				m->runs[r].first_page << 12,
				(m->runs[r].first_page + m->runs[r].count)
					<< 12,
				state_name(m->runs[r].ledger_state),
				state_name(m->runs[r].table_state));
		if (m->more_runs)
			fprintf(out, "    and more runs of pages\n");
	}
	if (vs->mismatched > vs->listed_count)
		fprintf(out, "  ... and %" PRIu64 " more (out of memory)\n",
			vs->mismatched - vs->listed_count);
}
