// SPDX-License-Identifier: GPL-2.0
/*
 * bench/hook_floor: programs that only return, one per attach point a
 * page fault can run. Attached a few at a time, they tell what each hook
 * alone costs a fault, whatever a program on it would do: the floor
 * under any tool that sees every fault.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tp_btf/page_fault_user")
int BPF_PROG(hook_fault_user)
{
	return 0;
}

SEC("tp_btf/rss_stat")
int BPF_PROG(hook_rss_stat)
{
	return 0;
}

SEC("tp_btf/mm_page_alloc")
int BPF_PROG(hook_page_alloc)
{
	return 0;
}

SEC("perf_event")
int hook_fault_done(struct bpf_perf_event_data *ctx)
{
	return 0;
}
