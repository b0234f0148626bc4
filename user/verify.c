// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include "hold.h"
#include "ledger.h"
#include "log.h"
#include "trace.h"
#include "verify.h"

/* ignored by default: harmless should it ever reach the target */
#define HOLD_SIGNAL SIGURG
/* how long a thread signalled at a release may take to stop */
#define HOLD_WAIT_MS 500

struct verifier {
	pid_t pid;
	struct ledger *ledger;
	struct trace *trace;
	struct pagetable *pt;
	struct holder *holder; /* NULL: pages are read late */
	enum pagetable_backend backend;
	uint64_t min_size;
	bool checked_at_exit;
	bool exit_pending; /* the main thread waits at its exit for a check */
};

static void check_at_exit(struct verifier *v)
{
	/* the records of everything done before the exit */
	trace__drain_through(v->trace);
	ledger__check_live(v->ledger, v->pt, v->min_size);
	v->checked_at_exit = true;
}

/*
 * The main thread stopped at its exit: every live block is read now,
 * before the memory is torn down. Inside a drain (a record's handler
 * waiting for a held thread saw the exit), the records after that one
 * are not in the ledger yet: the thread stays at its exit until the
 * drain is over (verifier__service()).
 */
static bool on_target_exit(void *ctx)
{
	struct verifier *v = ctx;

	if (trace__draining(v->trace)) {
		v->exit_pending = true;
		return false;
	}
	check_at_exit(v);
	return true;
}

struct verifier *verifier__new(pid_t pid, struct ledger *ledger,
			       struct trace *trace, uint64_t min_size,
			       enum pagetable_backend backend)
{
	struct verifier *v = calloc(1, sizeof(*v));

	if (!v) {
		log__error("out of memory");
		return NULL;
	}
	v->pid = pid;
	v->ledger = ledger;
	v->trace = trace;
	v->min_size = min_size;
	v->backend = backend;
	/* opened once, now: bound to this process's memory for good */
	v->pt = pagetable__open(pid, backend);
	if (!v->pt) {
		log__error("cannot read the page tables of process %d (%s): "
			   "--verify needs them%s",
			   pid, strerror(errno),
			   errno == ENOTTY ? "; use --pagemap-backend read" :
					     "");
		free(v);
		return NULL;
	}
	if (!pagetable__frames_known(v->pt))
		log__warn("page frame numbers read as 0 without CAP_SYS_ADMIN: "
			  "--verify cannot tell zero pages from private ones");
	v->holder = holder__new(pid, HOLD_SIGNAL, on_target_exit, v);
	if (v->holder)
		trace__set_hold(trace, true);
	else
		log__warn("cannot hold process %d (%s; another tracer?): pages "
			  "are read after their release, records say "
			  "\"pt_late\"",
			  pid, strerror(errno));
	return v;
}

void verifier__free(struct verifier *v)
{
	if (!v)
		return;
	if (v->holder)
		trace__set_hold(v->trace, false);
	holder__free(v->holder);
	pagetable__free(v->pt);
	free(v);
}

void verifier__service(struct verifier *v)
{
	if (!v->holder)
		return;
	holder__service(v->holder);
	if (v->exit_pending && !trace__draining(v->trace)) {
		v->exit_pending = false;
		check_at_exit(v);
		holder__end_exit(v->holder);
	}
}

/* Read the block at addr while thread tid is held, if it is. */
static void check_held(struct verifier *v, pid_t tid, uint64_t addr)
{
	bool held = v->holder && holder__wait(v->holder, tid, HOLD_WAIT_MS);

	ledger__check_block(v->ledger, addr, v->pt, !held);
	if (held)
		holder__release(v->holder, tid);
}

void verifier__before_free(struct verifier *v, const struct pt_rec_free *rec)
{
	if (rec->flags & PT_CALL_HELD)
		check_held(v, rec->hdr.tid, rec->addr);
	else
		/* a heap chunk stays mapped after free: reading now is not
		 * late; an unheld mmapped one is already gone. Unheld, the
		 * free did not read the chunk's header: its allocation did */
		ledger__check_block(
			v->ledger, rec->addr, v->pt,
			(rec->flags & PT_CALL_CHUNK_MMAPPED) ||
				ledger__block_mmapped(v->ledger, rec->addr));
}

void verifier__on_hold(struct verifier *v, const struct pt_rec_hold *rec)
{
	check_held(v, rec->hdr.tid, rec->addr);
}

void verifier__before_call(struct verifier *v, const struct pt_rec_call *rec)
{
	/* a realloc'd block not held before (a heap chunk): read it before
	 * the ledger ends it; the first check of a block stands */
	if ((rec->fn == PT_FN_REALLOC || rec->fn == PT_FN_REALLOCARRAY) &&
	    rec->args[0])
		ledger__check_block(
			v->ledger, rec->args[0], v->pt,
			ledger__block_mmapped(v->ledger, rec->args[0]));
}

void verifier__exec(struct verifier *v)
{
	struct pagetable *pt = pagetable__open(v->pid, v->backend);

	if (!pt)
		return;
	pagetable__free(v->pt);
	v->pt = pt;
}

void verifier__finish(struct verifier *v, bool target_alive)
{
	if (!v->checked_at_exit && target_alive)
		ledger__check_live(v->ledger, v->pt, v->min_size);
}
