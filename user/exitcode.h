/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Exit codes, one per kind of failure (see README). With "-- COMMAND",
 * a run that traced the command to its end exits with the command's own
 * status instead.
 */
#ifndef PAGETRACE_EXITCODE_H
#define PAGETRACE_EXITCODE_H

enum pt_exit {
	PT_EXIT_OK = 0,
	PT_EXIT_USAGE = 64, /* bad option or option value */
	PT_EXIT_NO_PROCESS = 65, /* -p: no such process */
	PT_EXIT_TARGET_GONE = 66, /* the target exited before tracing began */
	PT_EXIT_KERNEL = 69, /* no BTF, missing tracepoint, BPF refused */
	PT_EXIT_INTERNAL = 70, /* a bug or an unexpected system error */
	PT_EXIT_OUTPUT = 73, /* -o FILE cannot be written */
	PT_EXIT_PRIVILEGE = 77, /* missing capabilities */
	PT_EXIT_NOT_EXECUTABLE = 126, /* the command exists but cannot run */
	PT_EXIT_NOT_FOUND = 127, /* the command does not exist */
};

#endif
