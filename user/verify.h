/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --verify: every allocation's pages read from the page tables before its
 * memory goes back to the kernel, and compared with the ledger. The
 * target is held (see hold.h) at the moment a block is released and at
 * its exit; where it cannot be held, pages are read late and the records
 * say so.
 */
#ifndef PAGETRACE_VERIFY_H
#define PAGETRACE_VERIFY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "decode.h"
#include "pagetable.h"

struct ledger;
struct trace;
struct verifier;

/* NULL after one error line (page tables unreadable); a target that
 * cannot be held only gets a warning. */
struct verifier *verifier__new(pid_t pid, struct ledger *ledger,
			       struct trace *trace, uint64_t min_size,
			       enum pagetable_backend backend);
/* Lets every held thread go. */
void verifier__free(struct verifier *v);

/* Stops that came since the last call (signals, exit), and the check at
 * the exit if a drain put it off. Not from a record's handler. */
void verifier__service(struct verifier *v);
/* Before the ledger takes each of these records. */
void verifier__before_free(struct verifier *v, const struct pt_rec_free *rec);
void verifier__before_call(struct verifier *v, const struct pt_rec_call *rec);
void verifier__on_hold(struct verifier *v, const struct pt_rec_hold *rec);
/* The process replaced its image: read the new one's page tables. */
void verifier__exec(struct verifier *v);
/* Tracing ends: check what is live, unless it was done at the exit. */
void verifier__finish(struct verifier *v, bool target_alive);

#endif
