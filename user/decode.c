// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <sys/mman.h>
#include "decode.h"

int decode__record(const void *data, size_t size, struct event *ev)
{
	static const size_t sizes[PT_REC__COUNT] = {
		[PT_REC_CALL] = sizeof(struct pt_rec_call),
		[PT_REC_FREE] = sizeof(struct pt_rec_free),
		[PT_REC_FAULT] = sizeof(struct pt_rec_fault),
		[PT_REC_SYSCALL] = sizeof(struct pt_rec_syscall),
		[PT_REC_TASK] = sizeof(struct pt_rec_task),
		[PT_REC_HOLD] = sizeof(struct pt_rec_hold),
		[PT_REC_PAGES] = sizeof(struct pt_rec_pages),
		[PT_REC_CHUNK] = sizeof(struct pt_rec_chunk),
		[PT_REC_USTACK] = sizeof(struct pt_rec_ustack),
		[PT_REC_SITE] = sizeof(struct pt_rec_site),
		[PT_REC_STACK] = sizeof(struct pt_rec_stack),
	};
	const struct pt_rec_header *hdr = data;

	if (size < sizeof(*hdr) || hdr->type == 0 ||
	    hdr->type >= PT_REC__COUNT || size < sizes[hdr->type])
		return -EINVAL;
	if (hdr->type == PT_REC_SYSCALL &&
	    (((const struct pt_rec_syscall *)data)->flags & PT_SYS_PATH) &&
	    size < sizeof(struct pt_rec_syscall_path))
		return -EINVAL;
	if (hdr->type == PT_REC_USTACK &&
	    ((const struct pt_rec_ustack *)data)->size > PT_USTACK_BYTES)
		return -EINVAL;
	if (hdr->type == PT_REC_STACK &&
	    (((const struct pt_rec_stack *)data)->count > PT_STACK_MAX_DEPTH ||
	     ((const struct pt_rec_stack *)data)->id < PT_STACK_SPILLED_BASE))
		return -EINVAL;
	ev->type = hdr->type;
	ev->hdr = hdr;
	/* every member of the union is a pointer to the same record */
	ev->call = data;
	return 0;
}

const char *decode__fn_name(uint32_t fn)
{
	static const char *const names[PT_FN__COUNT] = {
		[PT_FN_MALLOC] = "malloc",
		[PT_FN_CALLOC] = "calloc",
		[PT_FN_REALLOC] = "realloc",
		[PT_FN_REALLOCARRAY] = "reallocarray",
		[PT_FN_POSIX_MEMALIGN] = "posix_memalign",
		[PT_FN_ALIGNED_ALLOC] = "aligned_alloc",
		[PT_FN_MEMALIGN] = "memalign",
		[PT_FN_VALLOC] = "valloc",
		[PT_FN_PVALLOC] = "pvalloc",
		[PT_FN_FREE] = "free",
	};

	return fn < PT_FN__COUNT ? names[fn] : "?";
}

const char *decode__outcome_name(uint32_t outcome)
{
	static const char *const names[PT_OUT__COUNT] = {
		[PT_OUT_NONE] = "none",		[PT_OUT_ZERO] = "zero",
		[PT_OUT_ANON] = "anon",		[PT_OUT_THP] = "thp",
		[PT_OUT_COW_ZERO] = "cow_zero", [PT_OUT_COW] = "cow",
		[PT_OUT_FILE] = "file",		[PT_OUT_SWAP] = "swap",
		[PT_OUT_ERROR] = "error",
	};

	return outcome < PT_OUT__COUNT ? names[outcome] : "?";
}

const char *decode__syscall_name(uint32_t nr)
{
	switch (nr) {
	case PT_NR_MMAP:
		return "mmap";
	case PT_NR_MPROTECT:
		return "mprotect";
	case PT_NR_MUNMAP:
		return "munmap";
	case PT_NR_BRK:
		return "brk";
	case PT_NR_MREMAP:
		return "mremap";
	case PT_NR_MADVISE:
		return "madvise";
	case PT_NR_MLOCK:
		return "mlock";
	case PT_NR_MLOCKALL:
		return "mlockall";
	case PT_NR_MLOCK2:
		return "mlock2";
	default:
		return NULL;
	}
}

const char *decode__madvise_name(int64_t advice)
{
	switch (advice) {
	case MADV_NORMAL:
		return "NORMAL";
	case MADV_RANDOM:
		return "RANDOM";
	case MADV_SEQUENTIAL:
		return "SEQUENTIAL";
	case MADV_WILLNEED:
		return "WILLNEED";
	case MADV_DONTNEED:
		return "DONTNEED";
	case MADV_FREE:
		return "FREE";
	case MADV_REMOVE:
		return "REMOVE";
	case MADV_DONTFORK:
		return "DONTFORK";
	case MADV_DOFORK:
		return "DOFORK";
	case MADV_MERGEABLE:
		return "MERGEABLE";
	case MADV_UNMERGEABLE:
		return "UNMERGEABLE";
	case MADV_HUGEPAGE:
		return "HUGEPAGE";
	case MADV_NOHUGEPAGE:
		return "NOHUGEPAGE";
	case MADV_DONTDUMP:
		return "DONTDUMP";
	case MADV_DODUMP:
		return "DODUMP";
	case MADV_WIPEONFORK:
		return "WIPEONFORK";
	case MADV_KEEPONFORK:
		return "KEEPONFORK";
	case MADV_COLD:
		return "COLD";
	case MADV_PAGEOUT:
		return "PAGEOUT";
	case PT_MADV_POPULATE_READ:
		return "POPULATE_READ";
	case PT_MADV_POPULATE_WRITE:
		return "POPULATE_WRITE";
	case PT_MADV_DONTNEED_LOCKED:
		return "DONTNEED_LOCKED";
	case PT_MADV_COLLAPSE:
		return "COLLAPSE";
	default:
		return NULL;
	}
}
