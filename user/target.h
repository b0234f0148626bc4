/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The traced process: an existing one (-p), or a command started held
 * before its first instruction and let go once the probes are in place.
 */
#ifndef PAGETRACE_TARGET_H
#define PAGETRACE_TARGET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct target;

/*
 * Called while a starting command is stopped, each time its dynamic
 * loader has mapped executable code: 1 once the probes are attached
 * (the command is let go), 0 to wait for more, < 0 on error.
 */
typedef int (*target_ready_fn)(void *ctx);

/* NULL after one error line; *exit_code says what kind of failure. */
struct target *target__open_pid(pid_t pid, int *exit_code);
/* envp: the command's environment, NULL for pagetrace's own */
struct target *target__spawn(char *const argv[], char *const envp[],
			     int *exit_code);
/* A command that was never let go is killed: it has not run yet. */
void target__free(struct target *t);

pid_t target__pid(const struct target *t);
bool target__spawned(const struct target *t);

/*
 * Let a spawned command exec and run its loader under ptrace until
 * ready() says the probes are in place, then detach. 0, or an exit code
 * after one error line (the command cannot be executed).
 */
int target__start(struct target *t, target_ready_fn ready, void *ctx);

/* CLOCK_MONOTONIC ns at which a spawned command was seen stopped right
 * after its exec: everything before is pagetrace's own forked code. */
uint64_t target__exec_time(const struct target *t);

/* Has the target exited? A spawned command is reaped here. */
bool target__exited(struct target *t);
/* The command's exit status as a shell reports it (128+N for signal N). */
int target__exit_status(const struct target *t);
/* Faults the kernel counted for a spawned command since its exec. */
bool target__kernel_faults(const struct target *t, uint64_t *faults);

#endif
