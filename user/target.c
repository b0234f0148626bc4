// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>
#include "decode.h"
#include "elfsym.h"
#include "exitcode.h"
#include "log.h"
#include "mappings.h"
#include "procfs.h"
#include "target.h"

#ifndef PTRACE_EVENT_STOP
#define PTRACE_EVENT_STOP 128
#endif

struct target {
	pid_t pid;
	int pidfd;
	bool spawned;
	bool started; /* the command was let go */
	bool exited;
	int wait_status;
	struct rusage usage;
	int exec_error_fd; /* a spawned child writes errno here if exec fails */
	const char *command;
	uint64_t faults_at_exec;
	uint64_t faults_at_exit;
	uint64_t exec_time;
};

static int pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static uint64_t stat_faults(pid_t pid)
{
	/* minflt and majflt, the process's own (children's are 11 and 13) */
	return procfs__stat_number(pid, 10) + procfs__stat_number(pid, 12);
}

struct target *target__open_pid(pid_t pid, int *exit_code)
{
	struct target *t;
	char state[8] = "", path[64];

	if (pid == getpid()) {
		log__error("pagetrace cannot trace itself: give another pid");
		*exit_code = PT_EXIT_USAGE;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		log__error("out of memory");
		*exit_code = PT_EXIT_INTERNAL;
		return NULL;
	}
	t->pid = pid;
	t->exec_error_fd = -1;
	/* held from here on: a recycled pid cannot be mistaken for it */
	t->pidfd = pidfd_open(pid);
	if (t->pidfd < 0) {
		if (errno == ESRCH)
			log__error("no process with pid %d: check the pid with "
				   "ps or pgrep",
				   pid);
		else if (errno == EINVAL)
			log__error("pid %d is a thread, not a process: give "
				   "its process id (Tgid in /proc/%d/status)",
				   pid, pid);
		else
			log__error("cannot open process %d: %s", pid,
				   strerror(errno));
		*exit_code = PT_EXIT_NO_PROCESS;
		free(t);
		return NULL;
	}
	if (procfs__stat_field(pid, 3, state, sizeof(state)) &&
	    (state[0] == 'Z' || state[0] == 'X')) {
		log__error("process %d has already exited (it is a zombie "
			   "waiting for its parent): nothing to trace",
			   pid);
		*exit_code = PT_EXIT_TARGET_GONE;
		target__free(t);
		return NULL;
	}
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	if (access(path, F_OK) && errno == ENOENT) {
		log__error("process %d is a kernel thread: it has no user "
			   "memory to trace",
			   pid);
		*exit_code = PT_EXIT_NO_PROCESS;
		target__free(t);
		return NULL;
	}
	return t;
}

struct target *target__spawn(char *const argv[], char *const envp[],
			     int *exit_code)
{
	struct target *t = calloc(1, sizeof(*t));
	int pipefd[2], status;

	*exit_code = PT_EXIT_INTERNAL;
	if (!t) {
		log__error("out of memory");
		return NULL;
	}
	t->pidfd = -1;
	t->exec_error_fd = -1;
	t->spawned = true;
	t->command = argv[0];
	if (pipe2(pipefd, O_CLOEXEC)) {
		log__error("cannot create a pipe: %s", strerror(errno));
		free(t);
		return NULL;
	}
	t->pid = fork();
	if (t->pid < 0) {
		log__error("cannot fork: %s", strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		free(t);
		return NULL;
	}
	if (t->pid == 0) {
		int err;

		close(pipefd[0]);
		/* stop here until the parent's probes are in place */
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) == 0)
			raise(SIGSTOP);
		execvpe(argv[0], argv, envp ? envp : environ);
		err = errno;
		if (write(pipefd[1], &err, sizeof(err)) < 0)
			_exit(PT_EXIT_NOT_EXECUTABLE);
		_exit(err == ENOENT ? PT_EXIT_NOT_FOUND :
				      PT_EXIT_NOT_EXECUTABLE);
	}
	close(pipefd[1]);
	t->exec_error_fd = pipefd[0];
	if (waitpid(t->pid, &status, __WALL) != t->pid || !WIFSTOPPED(status) ||
	    WSTOPSIG(status) != SIGSTOP) {
		log__error("could not hold the command before it started "
			   "(is pagetrace itself being traced?)");
		target__free(t);
		return NULL;
	}
	/* EXITKILL: were pagetrace to die now, the held child dies too
	 * instead of staying stopped for ever */
	if (ptrace(PTRACE_SETOPTIONS, t->pid, NULL,
		   PTRACE_O_TRACEEXEC | PTRACE_O_TRACESYSGOOD |
			   PTRACE_O_EXITKILL)) {
		log__error("cannot set ptrace options: %s", strerror(errno));
		target__free(t);
		return NULL;
	}
	t->pidfd = pidfd_open(t->pid);
	*exit_code = PT_EXIT_OK;
	return t;
}

void target__free(struct target *t)
{
	if (!t)
		return;
	if (t->spawned && !t->started && !t->exited) {
		kill(t->pid, SIGKILL);
		waitpid(t->pid, NULL, __WALL);
	}
	if (t->pidfd >= 0)
		close(t->pidfd);
	if (t->exec_error_fd >= 0)
		close(t->exec_error_fd);
	free(t);
}

pid_t target__pid(const struct target *t)
{
	return t->pid;
}

bool target__spawned(const struct target *t)
{
	return t->spawned;
}

static void record_exit(struct target *t, int status)
{
	t->exited = true;
	t->wait_status = status;
}

/* the child died before or instead of exec: say why */
static int exec_failure(struct target *t, int status)
{
	int err = 0;

	record_exit(t, status);
	t->started = true;
	if (read(t->exec_error_fd, &err, sizeof(err)) == sizeof(err)) {
		log__error("cannot execute '%s': %s%s", t->command,
			   strerror(err),
			   err == ENOENT ? " (check the name and $PATH)" : "");
		return err == ENOENT ? PT_EXIT_NOT_FOUND :
				       PT_EXIT_NOT_EXECUTABLE;
	}
	log__error("'%s' ended before it could start", t->command);
	return PT_EXIT_NOT_EXECUTABLE;
}

/* The address range of the mapping containing addr. */
static bool mapping_range(pid_t pid, uint64_t addr, uint64_t *start,
			  uint64_t *end)
{
	struct mappings *maps = mappings__new(pid);
	const struct mapping *map = NULL;

	if (maps && !mappings__load(maps))
		map = mappings__find(maps, addr);
	if (map) {
		*start = map->start;
		*end = map->end;
	}
	mappings__free(maps);
	return map != NULL;
}

/* A statically linked program has no loader to wait for. */
static bool needs_loader(pid_t pid)
{
	struct elf_file *exe;
	char path[64];
	bool dynamic;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	exe = elf_file__open(path);
	if (!exe)
		return false;
	dynamic = elf_file__is_dynamic(exe);
	elf_file__free(exe);
	return dynamic;
}

/*
 * Follow the loader's system calls: after each executable mmap ask
 * ready() whether the allocator is there. Stop when it is, or when a
 * system call comes from outside the loader (a static program, or one
 * without glibc, is running its own code).
 */
static int step_through_loader(struct target *t, target_ready_fn ready,
			       void *ctx)
{
	struct user_regs_struct regs;
	uint64_t loader_start = 0, loader_end = 0;
	struct __ptrace_syscall_info info;
	bool pending_exec_mmap = false;
	int status, signal_to_deliver = 0, verdict = 0;

	if (!needs_loader(t->pid) ||
	    ptrace(PTRACE_GETREGS, t->pid, NULL, &regs) ||
	    !mapping_range(t->pid, regs.rip, &loader_start, &loader_end))
		return 0;
	while (verdict == 0) {
		if (ptrace(PTRACE_SYSCALL, t->pid, NULL, signal_to_deliver))
			return 0;
		signal_to_deliver = 0;
		if (wait4(t->pid, &status, __WALL, &t->usage) != t->pid)
			return 0;
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			/* the loader gave up (missing library, ...) */
			record_exit(t, status);
			return 0;
		}
		if (!WIFSTOPPED(status))
			continue;
		if (WSTOPSIG(status) != (SIGTRAP | 0x80)) {
			if (status >> 16 == 0)
				signal_to_deliver = WSTOPSIG(status);
			continue;
		}
		if (ptrace(PTRACE_GET_SYSCALL_INFO, t->pid,
			   (void *)sizeof(info), &info) <= 0)
			return 0;
		if (info.op == PTRACE_SYSCALL_INFO_ENTRY) {
			if (info.instruction_pointer < loader_start ||
			    info.instruction_pointer >= loader_end)
				return 0; /* past the loader */
			pending_exec_mmap = info.entry.nr == PT_NR_MMAP &&
					    (info.entry.args[2] & 0x4);
		} else if (info.op == PTRACE_SYSCALL_INFO_EXIT &&
			   pending_exec_mmap) {
			pending_exec_mmap = false;
			if (!info.exit.is_error)
				verdict = ready(ctx);
		}
	}
	return verdict < 0 ? verdict : 0;
}

int target__start(struct target *t, target_ready_fn ready, void *ctx)
{
	int status, signal_to_deliver = 0, err;

	/* resume from the SIGSTOP, not delivering it */
	if (ptrace(PTRACE_CONT, t->pid, NULL, 0)) {
		log__error("cannot resume the command: %s", strerror(errno));
		return PT_EXIT_INTERNAL;
	}
	for (;;) {
		if (wait4(t->pid, &status, __WALL, &t->usage) != t->pid) {
			log__error("lost the command: %s", strerror(errno));
			return PT_EXIT_INTERNAL;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status))
			return exec_failure(t, status);
		if (WIFSTOPPED(status) &&
		    status >> 8 == (SIGTRAP | (PTRACE_EVENT_EXEC << 8)))
			break;
		signal_to_deliver = WIFSTOPPED(status) ? WSTOPSIG(status) : 0;
		ptrace(PTRACE_CONT, t->pid, NULL, signal_to_deliver);
	}
	t->faults_at_exec = stat_faults(t->pid);
	t->exec_time = procfs__now_ns();
	err = step_through_loader(t, ready, ctx);
	if (err < 0)
		return PT_EXIT_INTERNAL; /* not started: target__free kills it
					  */
	if (!t->exited)
		ptrace(PTRACE_DETACH, t->pid, NULL, 0);
	t->started = true;
	return 0;
}

uint64_t target__exec_time(const struct target *t)
{
	return t->exec_time;
}

bool target__exited(struct target *t)
{
	struct pollfd pfd = { .fd = t->pidfd, .events = POLLIN };
	int status;

	if (t->exited)
		return true;
	if (t->spawned) {
		siginfo_t info = { 0 };
		pid_t got;

		/* before reaping: the zombie's own fault counts, which unlike
		 * wait4's leave out its children */
		if (waitid(P_PID, t->pid, &info, WEXITED | WNOHANG | WNOWAIT) ||
		    info.si_pid != t->pid)
			return false;
		/* a tracee's ptrace stops are reported whatever the flags
		 * (--verify holds the command): they are not its exit, and
		 * are the holder's to take */
		if (info.si_code != CLD_EXITED && info.si_code != CLD_KILLED &&
		    info.si_code != CLD_DUMPED)
			return false;
		t->faults_at_exit = stat_faults(t->pid);
		got = wait4(t->pid, &status, WNOHANG | __WALL, &t->usage);
		if (got == t->pid && (WIFEXITED(status) || WIFSIGNALED(status)))
			record_exit(t, status);
		return t->exited;
	}
	if (t->pidfd >= 0 && poll(&pfd, 1, 0) == 1)
		t->exited = true;
	else if (t->pidfd < 0 && kill(t->pid, 0) && errno == ESRCH)
		t->exited = true;
	return t->exited;
}

int target__exit_status(const struct target *t)
{
	if (!t->spawned || !t->exited)
		return 0;
	if (WIFEXITED(t->wait_status))
		return WEXITSTATUS(t->wait_status);
	if (WIFSIGNALED(t->wait_status))
		return 128 + WTERMSIG(t->wait_status);
	return 0;
}

bool target__kernel_faults(const struct target *t, uint64_t *faults)
{
	if (!t->spawned || !t->exited || !t->started || !t->faults_at_exit ||
	    t->faults_at_exit < t->faults_at_exec)
		return false;
	*faults = t->faults_at_exit - t->faults_at_exec;
	return true;
}
