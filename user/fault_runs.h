/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fault runs, user space's side (PT_RUN_* in bpf/pagetrace.h): a fault
 * record is sealed before it is read, so that no fault joins it after;
 * and the instructions where runs fault are told to the kernel side when
 * their functions keep no return address at the stack pointer, so that
 * the faults of later runs there leave that word unread.
 */
#ifndef PAGETRACE_FAULT_RUNS_H
#define PAGETRACE_FAULT_RUNS_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "pagetrace.h"

struct trace;
struct fault_runs;

struct fault_runs *fault_runs__new(struct trace *trace);
void fault_runs__free(struct fault_runs *fr);

/* Seal rec (it lies in a ring, mapped writable) and return the faults it
 * stands for; 0 if that count is not one a record can carry. */
uint32_t fault_runs__take(const struct pt_rec_fault *rec);

/* A run faulted at ip, whose function had its frame set up there
 * (framed): told to the kernel side once. */
void fault_runs__framed(struct fault_runs *fr, uint64_t ip);

/* Code went: instructions told before may hold other code now. */
void fault_runs__forget(struct fault_runs *fr);

#endif
