// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <stdint.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "hold.h"
#include "log.h"
#include "procfs.h"

#ifndef PTRACE_EVENT_STOP
#define PTRACE_EVENT_STOP 128
#endif

enum thread_state {
	THREAD_RUNNING,
	THREAD_HELD, /* stopped on the hold signal, waiting for us */
	THREAD_EXITING, /* the main thread, kept at its exit */
	THREAD_GONE,
};

struct held_thread {
	pid_t tid;
	enum thread_state state;
	uint64_t held_since; /* ns */
};

/* A thread held this long without its record coming is let go: its
 * signal was blocked and arrived late, or its record was consumed. */
#define STRAY_HOLD_NS 1000000000ULL

struct holder {
	pid_t pid;
	int hold_signal;
	holder_exit_fn on_exit;
	void *ctx;
	struct held_thread *threads;
	size_t count;
	size_t capacity;
};

static struct held_thread *thread_of(struct holder *h, pid_t tid)
{
	size_t i;

	for (i = 0; i < h->count; i++)
		if (h->threads[i].tid == tid)
			return &h->threads[i];
	return NULL;
}

static struct held_thread *add_thread(struct holder *h, pid_t tid)
{
	struct held_thread *t = thread_of(h, tid);

	if (t)
		return t;
	if (h->count == h->capacity) {
		size_t capacity = h->capacity ? h->capacity * 2 : 16;
		struct held_thread *threads =
			realloc(h->threads, capacity * sizeof(*threads));

		if (!threads)
			return NULL;
		h->threads = threads;
		h->capacity = capacity;
	}
	t = &h->threads[h->count++];
	t->tid = tid;
	t->state = THREAD_RUNNING;
	return t;
}

/* Seize every thread of the process; threads born meanwhile are caught
 * by going round again until none is new. */
static int seize_all(struct holder *h)
{
	const long options = PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXIT;
	bool found_new = true;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task", h->pid);
	while (found_new) {
		DIR *dir = opendir(path);
		struct dirent *entry;

		if (!dir)
			return -errno;
		found_new = false;
		while ((entry = readdir(dir))) {
			pid_t tid = atoi(entry->d_name);

			if (tid <= 0 || thread_of(h, tid))
				continue;
			if (ptrace(PTRACE_SEIZE, tid, NULL, options)) {
				int err = -errno;

				/* a thread that just exited is not an error */
				if (err == -ESRCH)
					continue;
				closedir(dir);
				return err;
			}
			if (!add_thread(h, tid)) {
				closedir(dir);
				return -ENOMEM;
			}
			found_new = true;
		}
		closedir(dir);
	}
	return 0;
}

struct holder *holder__new(pid_t pid, int hold_signal, holder_exit_fn on_exit,
			   void *ctx)
{
	struct holder *h = calloc(1, sizeof(*h));
	int err;

	if (!h)
		return NULL;
	h->pid = pid;
	h->hold_signal = hold_signal;
	h->on_exit = on_exit;
	h->ctx = ctx;
	err = seize_all(h);
	if (err) {
		holder__free(h);
		errno = -err;
		return NULL;
	}
	return h;
}

/* The next stop of tid, waiting at most a second: a stop somebody else
 * took must not keep pagetrace, and the target, waiting for ever. */
static bool wait_stop(pid_t tid, int *status)
{
	const struct timespec pause = { .tv_nsec = 1000000 }; /* 1 ms */
	int rounds = 1000;
	pid_t got;

	while (rounds-- > 0) {
		got = waitpid(tid, status, __WALL | WNOHANG);
		if (got == tid)
			return true;
		if (got < 0)
			return false;
		nanosleep(&pause, NULL);
	}
	return false;
}

void holder__free(struct holder *h)
{
	size_t i;

	if (!h)
		return;
	for (i = 0; i < h->count; i++) {
		struct held_thread *t = &h->threads[i];

		if (t->state == THREAD_HELD)
			holder__release(h, t->tid);
		/* a running thread must be stopped to be detached: ask it,
		 * take the stop, then detach */
		if (t->state == THREAD_RUNNING &&
		    !ptrace(PTRACE_INTERRUPT, t->tid, NULL, NULL)) {
			int status;

			if (wait_stop(t->tid, &status) && WIFSTOPPED(status) &&
			    (status >> 16) == 0 &&
			    WSTOPSIG(status) != SIGTRAP) {
				/* a signal arrived first: hand it over */
				ptrace(PTRACE_DETACH, t->tid, NULL,
				       WSTOPSIG(status) == h->hold_signal ?
					       0 :
					       WSTOPSIG(status));
				continue;
			}
		}
		ptrace(PTRACE_DETACH, t->tid, NULL, 0);
	}
	free(h->threads);
	free(h);
}

static bool is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN ||
	       sig == SIGTTOU;
}

/* One stop of thread tid, as waitpid() reported it. */
static void handle_stop(struct holder *h, pid_t tid, int status)
{
	struct held_thread *t = add_thread(h, tid);
	int sig = WSTOPSIG(status), event = status >> 16;
	unsigned long message;

	if (!t)
		return;
	switch (event) {
	case PTRACE_EVENT_EXIT:
		/* the main thread leaving: the memory is still there */
		if (tid == h->pid && h->on_exit && !h->on_exit(h->ctx)) {
			t->state = THREAD_EXITING;
			break;
		}
		ptrace(PTRACE_CONT, tid, NULL, 0);
		t->state = THREAD_GONE;
		break;
	case PTRACE_EVENT_CLONE:
		if (!ptrace(PTRACE_GETEVENTMSG, tid, NULL, &message))
			add_thread(h, (pid_t)message);
		ptrace(PTRACE_CONT, tid, NULL, 0);
		break;
	case PTRACE_EVENT_STOP:
		/* group-stop: stay stopped, as without us, until SIGCONT */
		if (is_stop_signal(sig))
			ptrace(PTRACE_LISTEN, tid, NULL, NULL);
		else
			ptrace(PTRACE_CONT, tid, NULL, 0);
		break;
	case 0:
		if (sig == h->hold_signal) {
			t->state = THREAD_HELD;
			t->held_since = procfs__now_ns();
			break;
		}
		/* any other signal is the target's own */
		ptrace(PTRACE_CONT, tid, NULL, sig);
		break;
	default:
		ptrace(PTRACE_CONT, tid, NULL, 0);
		break;
	}
}

/* Reap threads other than the main one once they are gone: a traced
 * thread stays a zombie until its tracer waits for it. The main thread's
 * exit status belongs to whoever waits for the process. */
static void reap_gone_threads(struct holder *h)
{
	size_t i = 0;

	while (i < h->count) {
		struct held_thread *t = &h->threads[i];
		int status;

		if (t->tid != h->pid && t->state == THREAD_GONE &&
		    waitpid(t->tid, &status, __WALL | WNOHANG) == t->tid &&
		    (WIFEXITED(status) || WIFSIGNALED(status))) {
			h->threads[i] = h->threads[--h->count];
			continue;
		}
		i++;
	}
}

static void release_stray_holds(struct holder *h)
{
	uint64_t now = procfs__now_ns();
	size_t i;

	for (i = 0; i < h->count; i++)
		if (h->threads[i].state == THREAD_HELD &&
		    now - h->threads[i].held_since > STRAY_HOLD_NS) {
			log__debug("thread %d held with no release to check: "
				   "let go",
				   h->threads[i].tid);
			holder__release(h, h->threads[i].tid);
		}
}

void holder__service(struct holder *h)
{
	for (;;) {
		siginfo_t info = { 0 };
		int status;
		pid_t tid;

		/* which thread stopped, without taking an exit status */
		if (waitid(P_ALL, 0, &info,
			   WSTOPPED | WNOHANG | WNOWAIT | __WALL) ||
		    !info.si_pid)
			break;
		tid = waitpid(info.si_pid, &status, __WALL | WNOHANG);
		if (tid <= 0 || !WIFSTOPPED(status))
			break;
		handle_stop(h, tid, status);
	}
	reap_gone_threads(h);
	release_stray_holds(h);
}

bool holder__wait(struct holder *h, pid_t tid, int timeout_ms)
{
	const struct timespec pause = { .tv_nsec = 100000 }; /* 100 us */
	int rounds = timeout_ms * 10;
	struct held_thread *t;

	while (rounds-- > 0) {
		holder__service(h);
		t = thread_of(h, tid);
		if (!t || t->state == THREAD_GONE || t->state == THREAD_EXITING)
			return false;
		if (t->state == THREAD_HELD)
			return true;
		nanosleep(&pause, NULL);
	}
	log__debug("thread %d did not stop for verification", tid);
	return false;
}

void holder__end_exit(struct holder *h)
{
	struct held_thread *t = thread_of(h, h->pid);

	if (!t || t->state != THREAD_EXITING)
		return;
	ptrace(PTRACE_CONT, t->tid, NULL, 0);
	t->state = THREAD_GONE;
}

void holder__release(struct holder *h, pid_t tid)
{
	struct held_thread *t = thread_of(h, tid);

	if (!t || t->state != THREAD_HELD)
		return;
	ptrace(PTRACE_CONT, tid, NULL, 0);
	t->state = THREAD_RUNNING;
}
