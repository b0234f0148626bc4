// SPDX-License-Identifier: GPL-2.0
/*
 * The session's records: each one the kernel side sends, decoded and
 * handed to the ledger, the event log, the verifier and the symbols.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include "allocator.h"
#include "decode.h"
#include "eventlog.h"
#include "fault_runs.h"
#include "ledger.h"
#include "light.h"
#include "mappings.h"
#include "preload.h"
#include "procfs.h"
#include "session_internal.h"
#include "stacks.h"
#include "symbols.h"
#include "target.h"
#include "verify.h"

/* Where an address is, while its mapping is known: see symbols.h. */
static uint64_t site_of(struct session *s, uint64_t addr)
{
	return code_loc__pack(symbols__locate(s->symbols, s->maps, addr));
}

/*
 * The touching code of a fault or syscall: the instruction at ip, and its
 * stack with the caller put back where the instruction's function had not
 * set up its frame (see stacks.h). Without a frame-pointer chain the stack
 * is those two frames alone.
 */
static struct code_origin touch_origin(struct session *s, uint64_t ip,
				       int32_t kernel_stack, uint64_t stack_top)
{
	struct code_loc frames[2] = { symbols__locate(s->symbols, s->maps,
						      ip) };
	uint64_t caller = 0;
	int32_t stack;

	if (stack_top && symbols__frameless(s->symbols, frames[0]))
		caller = site_of(s, stack_top);
	if (kernel_stack == PT_STACK_NO_CHAIN) {
		frames[1] = code_loc__unpack(caller);
		stack = stacks__add(s->stacks, frames, caller ? 2 : 1);
	} else {
		stack = stacks__intern(s->stacks, kernel_stack, caller);
	}
	return (struct code_origin){
		.site = code_loc__pack(frames[0]),
		.stack = stack,
	};
}

/* A call pagetrace-preload.so made itself: its constructor gives every
 * probe site a first hit (see user/preload/). */
static bool call_from_preload(struct session *s, uint64_t caller_site)
{
	struct code_loc loc = code_loc__unpack(caller_site);
	const char *name;

	if (!loc.module)
		return false;
	if (loc.module != s->caller_module) {
		name = symbols__module_name(s->symbols, loc);
		s->caller_module = loc.module;
		s->caller_module_is_preload =
			name &&
			!strcmp(mappings__base_name(name), PRELOAD_FILE_NAME);
	}
	return s->caller_module_is_preload;
}

/*
 * Is the code at site the allocator's, whose calls that only allocate are
 * seen only after they return (see ledger__on_fault())? Faults come in
 * runs from one module: the last answer is kept.
 */
static bool allocator_code(struct session *s, uint64_t site)
{
	struct code_loc loc = code_loc__unpack(site);
	const char *name, *allocator;

	if (!loc.module || !s->allocator ||
	    !allocator__sees_calls_after(s->allocator))
		return false;
	if (loc.module != s->fault_module) {
		name = symbols__module_name(s->symbols, loc);
		allocator = allocator__path(s->allocator);
		s->fault_module = loc.module;
		s->fault_module_is_allocator =
			name && allocator &&
			!strcmp(mappings__base_name(name),
				mappings__base_name(allocator));
	}
	return s->fault_module_is_allocator;
}

/* Does a syscall unmap or replace code? Stack ids seen again after it may
 * hold other code: see stacks.h. */
static bool code_goes(struct session *s, const struct pt_rec_syscall *rec)
{
	uint64_t start = rec->args[0], len = rec->args[1];
	size_t i;

	if (rec->nr != PT_NR_MUNMAP && rec->nr != PT_NR_MREMAP &&
	    !(rec->nr == PT_NR_MMAP && (rec->args[3] & MAP_FIXED)))
		return false;
	for (i = 0; i < mappings__count(s->maps); i++) {
		const struct mapping *m = mappings__at(s->maps, i);

		if ((m->prot & PROT_EXEC) && m->start < start + len &&
		    m->end > start)
			return true;
	}
	return false;
}

/* Code was unmapped or replaced: what was learnt of its addresses goes. */
static void code_went(struct session *s)
{
	stacks__forget(s->stacks);
	fault_runs__forget(s->fault_runs);
}

/*
 * A fault record and the faults that joined its run (PT_RUN_* in
 * pagetrace.h), sealed first so that none joins once it is read: each is
 * charged as if it had come alone, a page after the last.
 */
static void on_fault_run(struct session *s, const struct pt_rec_fault *rec,
			 uint32_t faults)
{
	struct code_origin from;
	struct ledger_charge charge;
	struct pt_rec_fault one;
	uint32_t i;

	if (!faults) {
		s->bad_records++;
		return;
	}
	s->info.fault_records++;
	s->info.faults_joined += faults - 1;
	from = touch_origin(s, rec->ip, rec->stack_id, rec->stack_top);
	from.allocator_code = allocator_code(s, from.site);
	/* a run: its next ones there may leave the word at sp unread */
	if (faults > 1 &&
	    !symbols__frameless(s->symbols, code_loc__unpack(from.site)))
		fault_runs__framed(s->fault_runs, rec->ip);
	one = *rec;
	for (i = 0; i < faults; i++) {
		ledger__on_fault(s->ledger, &one, &from, &charge);
		if (s->events)
			eventlog__fault(s->events, &one, &charge);
		one.addr += 4096;
	}
}

void sess_on_record(void *ctx, const void *data, size_t size)
{
	struct session *s = ctx;
	struct ledger_charge charge;
	struct code_origin from;
	bool unmapping_code;
	uint32_t faults;
	struct event ev;
	uint64_t id;

	if (decode__record(data, size, &ev)) {
		s->bad_records++;
		return;
	}
	/* sealed whether or not it is used: no fault joins it after */
	faults = ev.type == PT_REC_FAULT ? fault_runs__take(ev.fault) : 0;
	/* kept whenever it came: the kernel sends a stack once (see
	 * spill_stack()), and records after the exec may refer to it */
	if (ev.type == PT_REC_STACK && s->stacks)
		stacks__spilled(s->stacks, ev.stack->id,
				(const uint64_t *)ev.stack->ips,
				ev.stack->count);
	/* a started command: records from before its exec are pagetrace's
	 * own forked code (and the exec), not the command's */
	if (ev.hdr->ts < target__exec_time(s->target))
		return;
	s->info.records++;
	if (ev.type == PT_REC_CALL || ev.type == PT_REC_FREE) {
		/* the flags of either */
		uint32_t flags = ev.type == PT_REC_CALL ? ev.call->flags :
							  ev.free->flags;

		s->info.call_records++;
		if (flags & PT_CALL_SITE_TIMED)
			s->info.site_timed++;
	}
	switch (ev.type) {
	case PT_REC_CALL:
		from.site = site_of(s, ev.call->caller);
		if (call_from_preload(s, from.site))
			break;
		if (s->verifier)
			verifier__before_call(s->verifier, ev.call);
		/* at the allocator's entry the frame-pointer chain starts
		 * past the caller: the caller goes back in as frame 1 (the
		 * kernel may have done so already, see stacks.h) */
		from.stack =
			stacks__intern(s->stacks, ev.call->stack_id, from.site);
		ledger__on_call(s->ledger, ev.call, &from);
		if (s->events)
			eventlog__call(
				s->events, ev.call,
				ledger__block_id(s->ledger, ev.call->addr));
		break;
	case PT_REC_FREE:
		if (s->verifier)
			verifier__before_free(s->verifier, ev.free);
		id = ledger__block_id(s->ledger, ev.free->addr);
		ledger__on_free(s->ledger, ev.free);
		if (s->events)
			eventlog__free_call(s->events, ev.free, id);
		break;
	case PT_REC_FAULT:
		on_fault_run(s, ev.fault, faults);
		break;
	case PT_REC_SYSCALL:
		unmapping_code = code_goes(s, ev.sys);
		/* --light: the stack copied for it, unwound */
		if (!s->light || !light__take_origin(s->light, ev.hdr->tid,
						     ev.sys->nr, &from))
			from = touch_origin(s, ev.sys->ip, ev.sys->stack_id,
					    ev.sys->stack_top);
		from.allocator_code = allocator_code(s, from.site);
		ledger__on_syscall(s->ledger, ev.sys, &from, &charge);
		/* after this syscall's own stack, located with the code */
		if (unmapping_code)
			code_went(s);
		if (s->events)
			eventlog__syscall(s->events, ev.sys, &charge);
		if (ev.sys->nr == PT_NR_MMAP && (ev.sys->args[2] & PROT_EXEC)) {
			/* new code (dlopen): open it while it is there */
			symbols__note_code(s->symbols, s->maps);
			if (s->check_allocator)
				sess_recheck_allocator(s);
		}
		break;
	case PT_REC_TASK:
		ledger__on_task(s->ledger, ev.task);
		if (s->events)
			eventlog__task(s->events, ev.task);
		if (ev.task->kind == PT_TASK_EXEC) {
			/* a new program: its code at the old addresses */
			code_went(s);
			/* its files opened while it runs (a short one may be
			 * gone, its mount namespace too, by the time its
			 * first site is read): the mappings were read again */
			symbols__note_code(s->symbols, s->maps);
			snprintf(s->info.comm, sizeof(s->info.comm), "%s",
				 ev.task->comm);
			s->check_allocator = true;
			s->early_until = procfs__now_ns() + EARLY_NS;
			if (s->verifier)
				verifier__exec(s->verifier);
		}
		break;
	case PT_REC_HOLD:
		if (s->verifier)
			verifier__on_hold(s->verifier, ev.hold);
		break;
	case PT_REC_PAGES:
		ledger__on_pages(s->ledger, ev.pages->granule,
				 &ev.pages->pages);
		break;
	case PT_REC_CHUNK:
		ledger__on_chunk(s->ledger, ev.chunk);
		break;
	case PT_REC_USTACK:
		if (s->light)
			light__on_user_stack(s->light, ev.ustack);
		break;
	case PT_REC_SITE:
		/* an exec is coming: its old image's instructions */
		ledger__on_fault_site(s->ledger, site_of(s, ev.site->key.ip),
				      ev.site->key.outcome,
				      ev.site->counts.faults,
				      ev.site->counts.pages);
		break;
	default:
		break;
	}
}
