/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The traced process's lifecycle: exec, fork, exit.
 * Part of pagetrace.bpf.c, included there: it uses the maps, the
 * thread state, the rings and the fault helpers defined before it.
 */

/* ---- process lifecycle -------------------------------------------- */

static __always_inline void emit_task(struct task_struct *task, __u32 kind,
				      __u32 other_pid, __s32 exit_code)
{
	struct pt_rec_task *rec = reserve(sizeof(*rec), PT_REC_TASK);

	if (!rec)
		return;
	rec->kind = kind;
	rec->other_pid = other_pid;
	rec->exit_code = exit_code;
	rec->pad = 0;
	bpf_probe_read_kernel_str(rec->comm, sizeof(rec->comm), task->comm);
	/* a new program: the reader looks at it closely from its start
	 * (user/session.c, EARLY_NS) */
	if (kind == PT_TASK_EXEC)
		submit_now(rec);
	else
		submit(rec);
}

/* The call slot of thread id, if it holds one, is free again. */
static __always_inline void release_slot(__u64 id)
{
	struct call_slot *slot = held_slot(id);

	if (slot)
		__sync_val_compare_and_swap(&slot->owner, id, 0);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(proc_exec, struct task_struct *task, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	struct thread_state *ts;

	/* a thread other than the first that execs takes the first's id:
	 * its own would keep its slot, and no exit would release it */
	if (old_pid != task->pid)
		release_slot(((__u64)task->tgid << 32) | (__u32)old_pid);
	if (!is_target())
		return 0;
	if (light_detaching()) {
		note_late_exit(old_pid);
		note_late_exit(task->pid);
	}
	/* the pages faulted before belonged to the old address space, and
	 * so did the thread's fault run (the exec's record may be lost) */
	ts = thread_state(false);
	if (ts) {
		if (targ_light)
			close_fault(ts); /* its page in a granule sent below */
		ts->run.faults = 0;
	}
	if (targ_light) {
		if (ts)
			flush_tally(ts); /* the other threads' went at exit */
		log_release(0, ~0ULL); /* the whole address space goes */
		bpf_for_each_map_elem(&granules, forget_granule, NULL, 0);
		bpf_for_each_map_elem(&fault_sites, send_fault_site, NULL, 0);
	}
	emit_task(task, PT_TASK_EXEC, old_pid, 0);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(proc_fork, struct task_struct *parent, struct task_struct *child)
{
	/* new threads share the mm and the tgid: nothing to do */
	if (child->pid != child->tgid || !is_target())
		return 0;
	emit_task(child, PT_TASK_FORK, child->tgid, 0);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(proc_exit, struct task_struct *task, bool group_dead)
{
	struct thread_state *ts;

	/* the thread's id may come back with another thread */
	release_slot(current_id());
	if (!is_target())
		return 0;
	if (light_detaching())
		note_late_exit(task->pid);
	ts = thread_state(false);
	if (ts)
		close_fault(ts);
	if (ts && targ_light)
		flush_tally(ts);
	if (group_dead)
		emit_task(task, PT_TASK_EXIT, 0,
			  BPF_CORE_READ(task, signal, group_exit_code) ?:
				  task->exit_code);
	return 0;
}
