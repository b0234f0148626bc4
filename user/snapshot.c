// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "exitcode.h"
#include "format.h"
#include "json.h"
#include "log.h"
#include "mappings.h"
#include "opts.h"
#include "pagetable.h"
#include "snapshot.h"

#define PAGE_SHIFT_4K 12
#define USER_SPACE_END 0x7ffffffff000ULL /* 4-level paging */
#define MAPPING_CELLS 256 /* characters drawn per mapping */
#define RANGE_CELLS 1024 /* characters drawn for --range */
#define CELLS_PER_LINE 64

/* what a character of the page map shows */
enum cell_state {
	CELL_UNMAPPED, /* a hole of the address space (--range) */
	CELL_NOT_PRESENT,
	CELL_ZERO,
	CELL_SWAPPED,
	CELL_FILE,
	CELL_PRESENT,
	CELL_HUGE, /* ties go to the later states */
	CELL__COUNT,
};

static const struct {
	char glyph;
	const char *colour; /* ANSI */
	const char *legend;
} cell_look[CELL__COUNT] = {
	[CELL_UNMAPPED] = { ' ', "", "unmapped" },
	[CELL_NOT_PRESENT] = { '.', "\033[2m", "not present" },
	[CELL_ZERO] = { '0', "\033[36m", "zero page" },
	[CELL_SWAPPED] = { 's', "\033[34m", "swapped" },
	[CELL_FILE] = { 'f', "\033[32m", "file" },
	[CELL_PRESENT] = { '#', "\033[33m", "private" },
	[CELL_HUGE] = { 'H', "\033[35m", "huge" },
};

struct snapshot {
	const struct options *opts;
	FILE *out;
	bool colour;
	struct mappings *maps;
	struct pagetable *pt;
	struct json_writer *w;
	struct pagetable_counts total;
	uint64_t pages;
	uint64_t mapped_bytes;
	uint64_t gap_start, gap_end; /* the largest free gap */
};

static enum cell_state state_of(unsigned int cat)
{
	if (cat & PAGE_CAT_ZERO)
		return CELL_ZERO;
	if (cat & PAGE_CAT_PRESENT) {
		if (cat & PAGE_CAT_HUGE)
			return CELL_HUGE;
		return cat & PAGE_CAT_FILE ? CELL_FILE : CELL_PRESENT;
	}
	return cat & PAGE_CAT_SWAPPED ? CELL_SWAPPED : CELL_NOT_PRESENT;
}

static void perms_of(const struct mapping *m, char perms[5])
{
	perms[0] = m->prot & PROT_READ ? 'r' : '-';
	perms[1] = m->prot & PROT_WRITE ? 'w' : '-';
	perms[2] = m->prot & PROT_EXEC ? 'x' : '-';
	perms[3] = m->flags & MAPPING_SHARED ? 's' : 'p';
	perms[4] = '\0';
}

/* ---- the page map picture ----------------------------------------- */

struct picture {
	uint64_t start;
	uint64_t group; /* pages per character */
	size_t cells;
	uint64_t (*counts)[CELL__COUNT];
};

static void picture_run(void *ctx, uint64_t start, uint64_t end,
			unsigned int categories)
{
	struct picture *pic = ctx;
	enum cell_state state = state_of(categories);
	uint64_t page = (start - pic->start) >> PAGE_SHIFT_4K;
	uint64_t last = (end - pic->start) >> PAGE_SHIFT_4K;

	/* a run spreads over the cells it covers, whole cells at once */
	while (page < last) {
		uint64_t cell = page / pic->group;
		uint64_t cell_end = (cell + 1) * pic->group;
		uint64_t n = (cell_end < last ? cell_end : last) - page;

		if (cell < pic->cells)
			pic->counts[cell][state] += n;
		page += n;
	}
}

/* Draw [start, end): a character per page, or per group of pages showing
 * the state most of the group's mapped pages are in; blank if none is. */
static void draw(struct snapshot *s, uint64_t start, uint64_t end,
		 size_t max_cells)
{
	uint64_t pages = (end - start) >> PAGE_SHIFT_4K;
	struct picture pic = { .start = start };
	size_t c, i;
	int err;

	if (!pages)
		return;
	pic.group = (pages + max_cells - 1) / max_cells;
	pic.cells = (pages + pic.group - 1) / pic.group;
	pic.counts = calloc(pic.cells, sizeof(*pic.counts));
	if (!pic.counts)
		return;
	/* mapped pages first count as not present, runs move them on */
	for (i = 0; i < mappings__count(s->maps); i++) {
		const struct mapping *m = mappings__at(s->maps, i);
		uint64_t lo = m->start > start ? m->start : start;
		uint64_t hi = m->end < end ? m->end : end;

		if (lo < hi)
			picture_run(&pic, lo, hi, 0);
	}
	/* the kernel's half of the address space has no pages of ours */
	err = pagetable__walk(s->pt, start,
			      end < USER_SPACE_END ? end : USER_SPACE_END,
			      picture_run, &pic);
	if (err)
		fprintf(s->out, "    (page tables unreadable: %s)\n",
			strerror(-err));
	for (c = 0; c < pic.cells; c++) {
		int state, best = CELL_UNMAPPED;

		pic.counts[c][CELL_NOT_PRESENT] -=
			pic.counts[c][CELL_ZERO] + pic.counts[c][CELL_SWAPPED] +
			pic.counts[c][CELL_FILE] + pic.counts[c][CELL_PRESENT] +
			pic.counts[c][CELL_HUGE];
		for (state = CELL_NOT_PRESENT; state < CELL__COUNT; state++)
			if (pic.counts[c][state] &&
			    pic.counts[c][state] >= pic.counts[c][best])
				best = state;
		if (c % CELLS_PER_LINE == 0)
			fprintf(s->out, "    %016" PRIx64 " ",
				start + ((c * pic.group) << PAGE_SHIFT_4K));
		if (s->colour)
			fprintf(s->out, "%s%c\033[0m", cell_look[best].colour,
				cell_look[best].glyph);
		else
			fputc(cell_look[best].glyph, s->out);
		if (c % CELLS_PER_LINE == CELLS_PER_LINE - 1 ||
		    c + 1 == pic.cells)
			fputc('\n', s->out);
	}
	free(pic.counts);
}

static void legend(struct snapshot *s)
{
	int state;

	fprintf(s->out, "page map:");
	for (state = 0; state < CELL__COUNT; state++) {
		if (s->colour)
			fprintf(s->out, " %s%c\033[0m %s",
				cell_look[state].colour, cell_look[state].glyph,
				cell_look[state].legend);
		else
			fprintf(s->out, " %c %s", cell_look[state].glyph,
				cell_look[state].legend);
	}
	fprintf(s->out, "; a character is one page, or the state most of a "
			"group of pages is in\n");
}

/* ---- the table ---------------------------------------------------- */

static void json_counts(struct json_writer *w, uint64_t pages,
			const struct pagetable_counts *c, bool frames_known)
{
	json__kv_u64(w, "pages", pages);
	json__kv_u64(w, "present", c->present);
	json__key(w, "zero");
	if (frames_known)
		json__u64(w, c->zero);
	else
		json__null(w);
	json__kv_u64(w, "swapped", c->swapped);
	json__kv_u64(w, "not_present", c->not_present);
	json__key(w, "huge");
	if (frames_known)
		json__u64(w, c->huge);
	else
		json__null(w);
	json__kv_u64(w, "file", c->file);
}

static void add_counts(struct pagetable_counts *sum,
		       const struct pagetable_counts *c)
{
	sum->present += c->present;
	sum->zero += c->zero;
	sum->swapped += c->swapped;
	sum->not_present += c->not_present;
	sum->huge += c->huge;
	sum->file += c->file;
	sum->shared += c->shared;
}

static void mapping_row(struct snapshot *s, const struct mapping *m)
{
	uint64_t pages = (m->end - m->start) >> PAGE_SHIFT_4K;
	struct pagetable_counts c;
	char perms[5];

	/* [vsyscall] lies in the kernel's half: no page table of ours */
	if (m->start >= USER_SPACE_END ||
	    pagetable__count(s->pt, m->start, m->end, &c)) {
		memset(&c, 0, sizeof(c));
		c.not_present = pages;
	}
	add_counts(&s->total, &c);
	s->pages += pages;
	s->mapped_bytes += m->end - m->start;
	perms_of(m, perms);
	if (s->opts->json) {
		json__begin_object(s->w);
		json__kv_string(s->w, "type", "mapping");
		json__kv_hex(s->w, "start", m->start);
		json__kv_hex(s->w, "end", m->end);
		json__kv_string(s->w, "perms", perms);
		json__kv_string(s->w, "path", m->name);
		json_counts(s->w, pages, &c, pagetable__frames_known(s->pt));
		json__end_object(s->w);
		return;
	}
	fprintf(s->out,
		"%012" PRIx64 "-%012" PRIx64 " %s %9" PRIu64 " %9" PRIu64
		" %7" PRIu64 " %7" PRIu64 " %7" PRIu64 " %7" PRIu64 "  %s\n",
		m->start, m->end, perms, pages, c.present, c.zero, c.huge,
		c.swapped, c.file, m->name);
}

/* The largest hole of user address space: the biggest mapping possible. */
static void find_largest_gap(struct snapshot *s)
{
	size_t i, n = mappings__count(s->maps);
	uint64_t prev_end = 0x10000; /* vm.mmap_min_addr's usual value */
	FILE *f = fopen("/proc/sys/vm/mmap_min_addr", "re");
	unsigned long long min_addr;

	if (f) {
		if (fscanf(f, "%llu", &min_addr) == 1 && min_addr)
			prev_end = min_addr;
		fclose(f);
	}
	for (i = 0; i <= n; i++) {
		const struct mapping *m = mappings__at(s->maps, i);
		uint64_t next = m && m->start < USER_SPACE_END ? m->start :
								 USER_SPACE_END;

		if (next > prev_end &&
		    next - prev_end > s->gap_end - s->gap_start) {
			s->gap_start = prev_end;
			s->gap_end = next;
		}
		if (!m || m->start >= USER_SPACE_END)
			break;
		if (m->end > prev_end)
			prev_end = m->end;
	}
}

/* The mappings in address order with the holes between them; adjacent
 * mappings of one object make one line. */
static void layout(struct snapshot *s)
{
	size_t i, first, n = mappings__count(s->maps);
	char size[32];

	fprintf(s->out, "\nlayout (mappings and the holes between them):\n");
	for (i = 0; i < n; i = first) {
		const struct mapping *m = mappings__at(s->maps, i), *next;
		uint64_t end = m->end;

		for (first = i + 1; (next = mappings__at(s->maps, first)) &&
				    next->start == end && next->name == m->name;
		     first++)
			end = next->end;
		fprintf(s->out, "  %012" PRIx64 " %10s  %s", m->start,
			format__bytes(size, sizeof(size), end - m->start),
			m->name);
		if (first - i > 1)
			fprintf(s->out, " (%zu mappings)", first - i);
		fputc('\n', s->out);
		if (next && next->start > end && next->start < USER_SPACE_END)
			fprintf(s->out, "  %012" PRIx64 " %10s  -- hole --\n",
				end,
				format__bytes(size, sizeof(size),
					      next->start - end));
	}
}

static void text_summary(struct snapshot *s)
{
	const struct pagetable_counts *c = &s->total;
	char a[32], b[32];

	fprintf(s->out,
		"%-25s %4s %9" PRIu64 " %9" PRIu64 " %7" PRIu64 " %7" PRIu64
		" %7" PRIu64 " %7" PRIu64 "\n",
		"total", "", s->pages, c->present, c->zero, c->huge, c->swapped,
		c->file);
	fprintf(s->out,
		"\n%zu mappings, %s mapped, %s resident (own pages), %" PRIu64
		" pages not present\n",
		mappings__count(s->maps),
		format__bytes(a, sizeof(a), s->mapped_bytes),
		format__bytes(b, sizeof(b), c->present << PAGE_SHIFT_4K),
		c->not_present);
	fprintf(s->out,
		"largest free gap: %012" PRIx64 "-%012" PRIx64
		" (%s): the biggest mapping this process can still get\n",
		s->gap_start, s->gap_end,
		format__bytes(a, sizeof(a), s->gap_end - s->gap_start));
}

static void json_summary(struct snapshot *s, pid_t pid)
{
	json__begin_object(s->w);
	json__kv_string(s->w, "type", "snapshot_summary");
	json__kv_i64(s->w, "pid", pid);
	json__kv_string(s->w, "backend",
			pagetable__backend_name(pagetable__backend(s->pt)));
	json__kv_bool(s->w, "frames_known", pagetable__frames_known(s->pt));
	json__kv_u64(s->w, "mappings", mappings__count(s->maps));
	json__kv_u64(s->w, "mapped_bytes", s->mapped_bytes);
	json_counts(s->w, s->pages, &s->total, pagetable__frames_known(s->pt));
	json__kv_u64(s->w, "largest_gap_bytes", s->gap_end - s->gap_start);
	json__kv_hex(s->w, "largest_gap_start", s->gap_start);
	json__kv_hex(s->w, "largest_gap_end", s->gap_end);
	json__end_object(s->w);
}

static int open_target(struct snapshot *s, pid_t pid)
{
	int err;

	s->maps = mappings__new(pid);
	if (!s->maps)
		return PT_EXIT_INTERNAL;
	err = mappings__load(s->maps);
	if (err == -ENOENT || err == -ESRCH) {
		log__error("no process with pid %d: check the pid with ps or "
			   "pgrep",
			   pid);
		return PT_EXIT_NO_PROCESS;
	}
	if (err) {
		log__error("cannot read the mappings of process %d: %s (run "
			   "as root or as its owner)",
			   pid, strerror(-err));
		return err == -EACCES || err == -EPERM ? PT_EXIT_PRIVILEGE :
							 PT_EXIT_INTERNAL;
	}
	s->pt = pagetable__open(pid, s->opts->backend);
	if (!s->pt && errno == ENOTTY) {
		log__error("this kernel has no PAGEMAP_SCAN (Linux 6.7+): use "
			   "--pagemap-backend read");
		return PT_EXIT_KERNEL;
	}
	if (!s->pt) {
		log__error("cannot read the page tables of process %d: %s (run "
			   "as root or as its owner)",
			   pid, strerror(errno));
		return errno == EACCES || errno == EPERM ? PT_EXIT_PRIVILEGE :
							   PT_EXIT_NO_PROCESS;
	}
	return 0;
}

int snapshot__run(const struct options *opts, FILE *out)
{
	struct snapshot s = { .opts = opts, .out = out };
	size_t i;
	int exit_code;

	s.colour = isatty(fileno(out));
	s.w = json_writer__new(out);
	exit_code = s.w ? open_target(&s, opts->pid) : PT_EXIT_INTERNAL;
	if (exit_code)
		goto out;
	/* the read back end reads frames: a present page tells */
	if (!opts->json)
		fprintf(out,
			"pagetrace: snapshot of process %d, page tables read by "
			"the %s back end\n\n"
			"%-25s %4s %9s %9s %7s %7s %7s %7s  %s\n",
			opts->pid,
			pagetable__backend_name(pagetable__backend(s.pt)),
			"START-END", "PERM", "PAGES", "PRESENT", "ZERO", "HUGE",
			"SWAPPED", "FILE", "MAPPING");
	for (i = 0; i < mappings__count(s.maps); i++)
		mapping_row(&s, mappings__at(s.maps, i));
	if (!pagetable__frames_known(s.pt))
		log__warn("page frame numbers read as 0 without "
			  "CAP_SYS_ADMIN: zero and huge pages cannot be told "
			  "apart by the read back end (use --pagemap-backend "
			  "scan, or run as root)");
	find_largest_gap(&s);
	if (opts->json) {
		json_summary(&s, opts->pid);
		goto out;
	}
	text_summary(&s);
	layout(&s);
	fputc('\n', out);
	legend(&s);
	if (opts->has_range) {
		fprintf(out, "  %012" PRIx64 "-%012" PRIx64 "\n",
			opts->range_start, opts->range_end);
		draw(&s, opts->range_start, opts->range_end, RANGE_CELLS);
	} else {
		for (i = 0; i < mappings__count(s.maps); i++) {
			const struct mapping *m = mappings__at(s.maps, i);

			if (m->start >= USER_SPACE_END)
				continue;
			fprintf(out, "  %012" PRIx64 "-%012" PRIx64 "  %s\n",
				m->start, m->end, m->name);
			draw(&s, m->start, m->end, MAPPING_CELLS);
		}
	}
out:
	pagetable__free(s.pt);
	mappings__free(s.maps);
	json_writer__free(s.w);
	return exit_code;
}
