/* SPDX-License-Identifier: GPL-2.0 */
/* The live event stream (-e): one line per event, text or JSON. */
#ifndef PAGETRACE_EVENTLOG_H
#define PAGETRACE_EVENTLOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "decode.h"

struct ledger_charge;
struct eventlog;

/* t0: the CLOCK_MONOTONIC ns that text times count from */
struct eventlog *eventlog__new(FILE *out, bool json, uint64_t t0);
void eventlog__free(struct eventlog *el);

/* alloc_id: the ledger's id of the block (0 if none) */
void eventlog__call(struct eventlog *el, const struct pt_rec_call *rec,
		    uint64_t alloc_id);
void eventlog__free_call(struct eventlog *el, const struct pt_rec_free *rec,
			 uint64_t alloc_id);
void eventlog__fault(struct eventlog *el, const struct pt_rec_fault *rec,
		     const struct ledger_charge *charge);
void eventlog__syscall(struct eventlog *el, const struct pt_rec_syscall *rec,
		       const struct ledger_charge *charge);
void eventlog__task(struct eventlog *el, const struct pt_rec_task *rec);

#endif
