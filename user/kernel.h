/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What this kernel offers and allows: the checks made before loading BPF
 * (privileges, BTF, tracepoints) and the memory-manager behaviour the
 * ledger depends on (zero page on read faults, THP settings).
 */
#ifndef PAGETRACE_KERNEL_H
#define PAGETRACE_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct kernel_facts {
	bool zero_page_known;
	bool zero_page_on_read; /* read faults map the shared zero page */
	char thp_enabled[16]; /* always, madvise, never, or "" */
	bool thp_use_zero_page;
	char why_no_zero_page[64]; /* a kernel parameter that explains it */
};

/* Missing capabilities as a list ("CAP_BPF, CAP_PERFMON"); "" if none. */
void kernel__missing_caps(char *buf, size_t size);
/* The BTF file checked: $PAGETRACE_KERNEL_BTF or /sys/kernel/btf/vmlinux. */
const char *kernel__btf_path(void);
/* 0, or an exit code after one error line: no BTF, missing tracepoint. */
int kernel__check_btf(void);
void kernel__probe_facts(struct kernel_facts *kf);
/* false once the target called prctl(PR_SET_THP_DISABLE) */
bool kernel__target_thp_allowed(pid_t target);

#endif
