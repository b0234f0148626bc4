/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --snapshot: a process's memory now, read from its page tables: every
 * mapping with its page counts (like pmap -x), the layout of mappings and
 * holes with the largest free gap, and a page map drawn in the terminal.
 */
#ifndef PAGETRACE_SNAPSHOT_H
#define PAGETRACE_SNAPSHOT_H

#include <stdio.h>

struct options;

/* Print the snapshot; returns pagetrace's exit code (one error line on
 * failure). */
int snapshot__run(const struct options *opts, FILE *out);

#endif
