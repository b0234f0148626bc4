/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The syscalls: the mm ones with their arguments and results, and any
 * other that populated the process's pages (get_user_pages).
 * Part of pagetrace.bpf.c, included there: it uses the maps, the
 * thread state, the rings and the fault helpers defined before it.
 */

/* ---- syscalls ----------------------------------------------------- */

static __always_inline bool is_mm_syscall(long nr)
{
	switch (nr) {
	case PT_NR_MMAP:
	case PT_NR_MPROTECT:
	case PT_NR_MUNMAP:
	case PT_NR_BRK:
	case PT_NR_MREMAP:
	case PT_NR_MADVISE:
	case PT_NR_MLOCK:
	case PT_NR_MLOCKALL:
	case PT_NR_MLOCK2:
		return true;
	default:
		return false;
	}
}

SEC("tp_btf/sys_enter")
int BPF_PROG(sys_enter, struct pt_regs *regs, long id)
{
	struct thread_state *ts;

	/* one per traced allocator call: not opened, nothing to close */
	if (id == PT_NR_URETPROBE || id == PT_NR_UPROBE)
		return 0;
	ts = target_state();
	if (!ts)
		return 0;
	/* tracing ends: the open fault stays as user space read it (see
	 * light__read_tails()) */
	if (!light_detaching())
		close_fault(ts);
	if (targ_light) {
		check_chunk(ts);
		if (id == PT_NR_BRK)
			ts->old_brk = BPF_CORE_READ(bpf_get_current_task_btf(),
						    mm, brk);
	}
	ts->sys.open = 1;
	ts->sys.nr = id;
	ts->sys.alloc_pages = 0;
	__builtin_memset(ts->sys.rss_events, 0, sizeof(ts->sys.rss_events));
	if (!is_mm_syscall(id))
		return 0;
	ts->sys.t_start = bpf_ktime_get_ns();
	call_began(reported_call(ts), ts->sys.t_start);
	ts->sys.args[0] = regs->di;
	ts->sys.args[1] = regs->si;
	ts->sys.args[2] = regs->dx;
	ts->sys.args[3] = regs->r10;
	ts->sys.args[4] = regs->r8;
	ts->sys.args[5] = regs->r9;
	return 0;
}

#include "file_path.bpf.h"

SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit, struct pt_regs *regs, long ret)
{
	struct thread_state *ts;
	struct pt_rec_syscall *rec;
	struct call_slot *call;
	struct file *file;
	bool populated;
	__s32 stack_id;

	/*
	 * The uprobe syscalls were never opened (see sys_enter); Linux
	 * 6.18 leaves orig_ax -1 behind them, so that nothing restarts them
	 * (kernels that keep their numbers are caught by those), as it does
	 * for rt_sigreturn and a syscall a tracer skipped. None populates pages
	 * (a fault they take is a fault), and what sys_enter opened for one
	 * the thread's next syscall resets: returning here spares a lookup
	 * of the thread (~60 ns) three times per malloc/free pair.
	 */
	if ((long)regs->orig_ax == -1 || regs->orig_ax == PT_NR_URETPROBE ||
	    regs->orig_ax == PT_NR_UPROBE)
		return 0;
	ts = target_state_if_any();
	if (!ts || !ts->sys.open)
		return 0;
	ts->sys.open = 0;
	/* a fault the kernel took inside the syscall: a failed uaccess ends
	 * it with EFAULT (see close_fault()) */
	if (!light_detaching())
		close_fault_if(ts, ret == -PT_EFAULT);
	/* the process's own rss grew: page-cache folios alone do not count */
	populated = ts->sys.rss_events[PT_RSS_ANON] ||
		    ts->sys.rss_events[PT_RSS_FILE] ||
		    ts->sys.rss_events[PT_RSS_SHMEM];
	if (!is_mm_syscall(ts->sys.nr)) {
		if (!populated)
			return 0;
		/* another syscall populated pages (get_user_pages) */
		ts->sys.t_start = 0;
		__builtin_memset(ts->sys.args, 0, sizeof(ts->sys.args));
	}
	if (targ_light) {
		bool followed = followed_mapping(ts, ret);

		send_released(ts, ret);
		/* before its syscall's record: user space unwinds it first */
		if (targ_stacks &&
		    (followed ||
		     (ts->sys.nr == PT_NR_BRK && (__u64)ret > ts->old_brk &&
		      ts->old_brk) ||
		     (ts->sys.nr == PT_NR_MREMAP && !pt_syscall_failed(ret))))
			send_user_stack(regs, ts->sys.nr);
		if (followed) {
			ts->chunk_at = ret;
			ts->chunk_len = ts->sys.args[1];
			ts->chunk_tries = 0;
		}
	}
	/* before its record: a spilled stack's record goes first */
	stack_id = targ_light ? PT_NO_STACK :
				take_chained_stack(ctx, regs->sp, regs->bp);
	/* a file mmap carries the file's path: the longer record */
	file = NULL;
	if (ts->sys.nr == PT_NR_MMAP && !(ts->sys.args[3] & PT_MAP_ANONYMOUS) &&
	    !pt_syscall_failed(ret))
		file = fd_file((int)ts->sys.args[4]);
	if (file) {
		struct pt_rec_syscall_path *with_path =
			reserve(sizeof(*with_path), PT_REC_SYSCALL);

		if (!with_path)
			return 0;
		file_path(file, with_path->path);
		rec = &with_path->sys;
		rec->flags = PT_SYS_PATH;
	} else {
		rec = reserve(sizeof(*rec), PT_REC_SYSCALL);
		if (!rec)
			return 0;
		rec->flags = 0;
	}
	rec->t_start = ts->sys.t_start;
	__builtin_memcpy(rec->args, ts->sys.args, sizeof(rec->args));
	rec->ret = ret;
	rec->nr = ts->sys.nr;
	call = reported_call(ts);
	rec->realloc_block = 0;
	if (call) {
		rec->flags |= PT_SYS_IN_CALL;
		if (call->call.fn == PT_FN_REALLOC ||
		    call->call.fn == PT_FN_REALLOCARRAY) {
			rec->flags |= PT_SYS_IN_REALLOC;
			rec->realloc_block = call->call.args[0];
		}
	}
	rec->alloc_pages = ts->sys.alloc_pages;
	rec->pad = 0;
	__builtin_memcpy(rec->rss_events, ts->sys.rss_events,
			 sizeof(rec->rss_events));
	/* --light: the copy of the stack (if any) went before */
	rec->stack_id = stack_id;
	rec->pad2 = 0;
	rec->stack_top = targ_light ? 0 : stack_top(regs->sp);
	rec->ip = regs->ip;
	submit(rec);
	return 0;
}
