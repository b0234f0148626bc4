// SPDX-License-Identifier: GPL-2.0
/*
 * What the mm syscalls do to the address space, as the ledger keeps it:
 * mappings come and go, pages are released, moved or populated.
 */
#include <string.h>
#include <sys/mman.h>
#include "kernel.h"
#include "ledger_internal.h"
#include "mappings.h"

#define MLOCK_ONFAULT_FLAG 0x01
#define MCL_CURRENT_FLAG 1
#define MCL_ONFAULT_FLAG 4

enum populate_mode {
	POPULATE_READ,
	POPULATE_WRITE,
	POPULATE_BY_PROT, /* mlock: writable memory is written, the rest read */
};

/* Populate the private anonymous parts of [start, end) the way the kernel
 * does: never a PROT_NONE mapping (guard pages, reservations). */
static void populate_mapped(struct ledger *l, uint64_t start, uint64_t end,
			    enum populate_mode mode, const struct touch *by,
			    struct ledger_charge *charge)
{
	size_t i, count = mappings__count(l->maps);

	for (i = 0; i < count; i++) {
		const struct mapping *m = mappings__at(l->maps, i);
		uint64_t lo = m->start > start ? m->start : start;
		uint64_t hi = m->end < end ? m->end : end;

		if (lo >= hi || !m->prot ||
		    (m->kind != MAPPING_ANON && m->kind != MAPPING_HEAP &&
		     m->kind != MAPPING_STACK))
			continue;
		lg_populate(l, lo, hi,
			    mode == POPULATE_WRITE ||
				    (mode == POPULATE_BY_PROT &&
				     (m->prot & PROT_WRITE)),
			    by, charge);
	}
}

/* The path a file mmap's record carries, "" if none (decode checked the
 * record's length against its flag). */
static const char *syscall_path(const struct pt_rec_syscall *rec)
{
	if (!(rec->flags & PT_SYS_PATH))
		return "";
	return ((const struct pt_rec_syscall_path *)rec)->path;
}

static void on_mmap(struct ledger *l, const struct pt_rec_syscall *rec,
		    const struct touch *by, struct ledger_charge *charge)
{
	uint64_t start = (uint64_t)rec->ret, len = page_align(rec->args[1]);
	uint32_t prot = rec->args[2], flags = rec->args[3];
	bool anonymous = flags & MAP_ANONYMOUS;
	bool shared = (flags & MAP_TYPE) != MAP_PRIVATE;
	struct mapping map = {
		.start = start,
		.end = start + len,
		.prot = prot & (PROT_READ | PROT_WRITE | PROT_EXEC),
		.flags = shared ? MAPPING_SHARED : 0,
		.offset = anonymous ? 0 : rec->args[5],
	};
	const struct mapping *before = mappings__find(l->maps, start);
	const char *known =
		before && before->kind == MAPPING_FILE ? before->name : NULL;
	const char *path = syscall_path(rec);

	lg_release_range(l, map.start, map.end, true);
	if (anonymous) {
		map.kind = shared ? MAPPING_SHMEM : MAPPING_ANON;
		map.name = mappings__intern(l->maps,
					    shared ? "[shmem]" : "[anon]");
	} else {
		map.kind = MAPPING_FILE;
		/* the kernel side walked the path: as /proc/PID/maps shows */
		if (path[0] == '/')
			map.name = mappings__intern(l->maps, path);
		if (!map.name)
			map.name = mappings__file_name(l->maps, start);
		/* gone before we looked: the full path known for this place
		 * (/proc read ahead of the events), else the kernel's name */
		if (!map.name && known && path[0] &&
		    !strcmp(mappings__base_name(known), path))
			map.name = known;
		if (!map.name)
			map.name = mappings__intern(l->maps,
						    path[0] ? path : "[file]");
	}
	mappings__map(l->maps, &map);
	if (!(flags & MAP_POPULATE) || (flags & MAP_NONBLOCK) || !map.prot)
		return;
	if (anonymous && !shared)
		lg_populate(l, map.start, map.end, prot & PROT_WRITE, by,
			    charge);
	else {
		uint64_t pages = (uint64_t)rec->rss_events[PT_RSS_FILE] +
				 rec->rss_events[PT_RSS_SHMEM];

		lg_charge_group(l, start, false, BY_SYSCALL, pages, charge);
		lg_touch(l, NULL, by, pages, false);
	}
}

static void on_mremap(struct ledger *l, const struct pt_rec_syscall *rec)
{
	uint64_t old = rec->args[0], new = (uint64_t)rec->ret;
	uint64_t old_len = page_align(rec->args[1]);
	uint64_t new_len = page_align(rec->args[2]);
	uint64_t kept = old_len < new_len ? old_len : new_len;

	if (new == old) {
		lg_release_range(l, old + new_len, old + old_len, true);
	} else if (old_len) {
		/* the pages travel with the mapping: no fault at the new place
		 */
		lg_snapshot_range(l, old, old + old_len);
		lg_release_range(l, new, new + new_len, true);
		pagestate__move(l->pages, first_page_of(old),
				first_page_of(new), kept >> PAGE_SHIFT_4K);
		lg_release_range(l, old + kept, old + old_len, false);
	}
	mappings__remap(l->maps, old, old_len, new, new_len);
}

static void on_madvise(struct ledger *l, const struct pt_rec_syscall *rec,
		       const struct touch *by, struct ledger_charge *charge)
{
	uint64_t start = rec->args[0], end = start + page_align(rec->args[1]);

	switch ((int64_t)rec->args[2]) {
	case MADV_DONTNEED:
	case MADV_FREE:
	case MADV_REMOVE:
	case PT_MADV_DONTNEED_LOCKED:
		lg_release_range(l, start, end, false);
		break;
	case MADV_HUGEPAGE:
		mappings__set_flags(l->maps, start, end, MAPPING_HUGEPAGE,
				    MAPPING_NOHUGEPAGE);
		break;
	case MADV_NOHUGEPAGE:
		mappings__set_flags(l->maps, start, end, MAPPING_NOHUGEPAGE,
				    MAPPING_HUGEPAGE);
		break;
	case PT_MADV_POPULATE_READ:
		populate_mapped(l, start, end, POPULATE_READ, by, charge);
		break;
	case PT_MADV_POPULATE_WRITE:
		populate_mapped(l, start, end, POPULATE_WRITE, by, charge);
		break;
	default:
		break;
	}
}

uint64_t lg_heap_end(const struct ledger *l)
{
	uint64_t end = l->brk;
	size_t i;

	/* attached to a running process: the heap's end is the old break */
	for (i = 0; !end && i < mappings__count(l->maps); i++)
		if (mappings__at(l->maps, i)->kind == MAPPING_HEAP)
			end = mappings__at(l->maps, i)->end;
	return end;
}

static void on_brk(struct ledger *l, const struct pt_rec_syscall *rec)
{
	uint64_t new_brk = (uint64_t)rec->ret, old_brk = lg_heap_end(l);

	if (old_brk && new_brk < old_brk)
		lg_release_range(l, page_align(new_brk), page_align(old_brk),
				 true);
	l->brk = new_brk;
	mappings__set_brk(l->maps, new_brk);
}

/*
 * A realloc unmapped or moved [start, end): if that is where the block
 * it reallocates lies, the block is leaving (see lg_new_alloc()). Only
 * that block: a live block another call unmaps (a heap trimmed inside a
 * realloc, say) is one whose free was missed.
 */
static void mark_leaving(struct ledger *l, const struct pt_rec_syscall *rec,
			 uint64_t start, uint64_t end)
{
	struct alloc *a;

	if (!(rec->flags & PT_SYS_IN_REALLOC))
		return;
	a = lg_find_block(l, rec->realloc_block);
	if (a && alloc_addr(a) >= start && a->node.end <= end)
		a->flags |= ALLOC_LEAVING;
}

void lg_on_syscall(struct ledger *l, const struct pt_rec_syscall *rec,
		   const struct touch *by, struct ledger_charge *charge)
{
	uint64_t start = rec->args[0], len = page_align(rec->args[1]);
	/* mlock rounds its range out to whole pages */
	uint64_t lock_start = start & ~(PAGE_SIZE_4K - 1);
	uint64_t lock_end = page_align(start + rec->args[1]);

	if (pt_syscall_failed(rec->ret))
		return;
	switch (rec->nr) {
	case PT_NR_MMAP:
		on_mmap(l, rec, by, charge);
		break;
	case PT_NR_MUNMAP:
		/* a realloc that copied its block elsewhere */
		mark_leaving(l, rec, start, start + len);
		lg_release_range(l, start, start + len, true);
		mappings__unmap(l->maps, start, start + len);
		break;
	case PT_NR_MREMAP:
		/* a realloc that moved its block */
		if ((uint64_t)rec->ret != start)
			mark_leaving(l, rec, start, start + len);
		on_mremap(l, rec);
		break;
	case PT_NR_BRK:
		on_brk(l, rec);
		break;
	case PT_NR_MADVISE:
		on_madvise(l, rec, by, charge);
		break;
	case PT_NR_MPROTECT:
		mappings__protect(l->maps, start, start + len,
				  rec->args[2] &
					  (PROT_READ | PROT_WRITE | PROT_EXEC));
		break;
	case PT_NR_MLOCK2:
		if (rec->args[2] & MLOCK_ONFAULT_FLAG)
			break;
		/* fall through */
	case PT_NR_MLOCK:
		populate_mapped(l, lock_start, lock_end, POPULATE_BY_PROT, by,
				charge);
		break;
	case PT_NR_MLOCKALL:
		if ((rec->args[0] & MCL_CURRENT_FLAG) &&
		    !(rec->args[0] & MCL_ONFAULT_FLAG))
			populate_mapped(l, 0, UINT64_MAX, POPULATE_BY_PROT, by,
					charge);
		break;
	default: {
		/* another syscall populated pages (get_user_pages): the
		 * process's own rss grew, one update per folio or page */
		uint64_t pages = (uint64_t)rec->rss_events[PT_RSS_ANON] +
				 rec->rss_events[PT_RSS_FILE] +
				 rec->rss_events[PT_RSS_SHMEM];

		l->stats.other_syscall_pages += pages;
		charge->pages = pages;
		/* not placed, but its code populated them */
		lg_touch(l, NULL, by, pages, false);
		break;
	}
	}
}
