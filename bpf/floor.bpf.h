/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --empty-probes: the floor, programs that only return.
 * Part of pagetrace.bpf.c, included there: it uses the maps, the
 * thread state and the helpers defined before it.
 */

/*
 * ---- the floor ------------------------------------------------------
 * --empty-probes loads these instead of all the programs above: nothing
 * but a return, on the very same attach points, so that a benchmark can
 * tell what the mechanism costs from what pagetrace's work costs.
 */
#define FLOOR_TP(name, tp)         \
	SEC("tp_btf/" #tp)         \
	int BPF_PROG(floor_##name) \
	{                          \
		return 0;          \
	}

SEC("uprobe")
int floor_alloc_entry(struct pt_regs *ctx)
{
	return 0;
}

SEC("uretprobe")
int floor_alloc_return(struct pt_regs *ctx)
{
	return 0;
}

SEC("uprobe")
int floor_free_entry(struct pt_regs *ctx)
{
	return 0;
}

SEC("uprobe")
int floor_alloc_back(struct pt_regs *ctx)
{
	return 0;
}

SEC("perf_event")
int floor_fault_done(struct bpf_perf_event_data *ctx)
{
	return 0;
}

FLOOR_TP(fault_user, page_fault_user)
FLOOR_TP(fault_kernel, page_fault_kernel)
FLOOR_TP(page_alloc, mm_page_alloc)
FLOOR_TP(rss_stat, rss_stat)
FLOOR_TP(direct_reclaim_begin, mm_vmscan_direct_reclaim_begin)
FLOOR_TP(direct_reclaim_end, mm_vmscan_direct_reclaim_end)
FLOOR_TP(memcg_reclaim_begin, mm_vmscan_memcg_reclaim_begin)
FLOOR_TP(memcg_reclaim_end, mm_vmscan_memcg_reclaim_end)
FLOOR_TP(sys_enter, sys_enter)
FLOOR_TP(sys_exit, sys_exit)
FLOOR_TP(proc_exec, sched_process_exec)
FLOOR_TP(proc_fork, sched_process_fork)
FLOOR_TP(proc_exit, sched_process_exit)
FLOOR_TP(fault_signal, signal_generate)
FLOOR_TP(fault_at_free, sched_process_free)
