/* SPDX-License-Identifier: GPL-2.0 */
/* The report's part on --verify: each record's page-table figures, and
 * the coverage and mismatches over the run. */
#ifndef PAGETRACE_REPORT_VERIFY_H
#define PAGETRACE_REPORT_VERIFY_H

#include <stdint.h>
#include <stdio.h>

struct alloc_view;
struct json_writer;
struct verify_summary;

struct verify_summary *verify_summary__new(void);
void verify_summary__free(struct verify_summary *vs);
void verify_summary__add(struct verify_summary *vs,
			 const struct alloc_view *view);
/* "pt", "pt_match", "pt_late" of an alloc record (null: not checked) */
void verify_summary__json_alloc(struct json_writer *w,
				const struct alloc_view *view);
/* "verified_allocs", "mismatched_allocs", "late_allocs" of the summary */
void verify_summary__json(const struct verify_summary *vs,
			  struct json_writer *w);
void verify_summary__text(const struct verify_summary *vs, FILE *out);

#endif
