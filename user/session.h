/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One tracing session: the target, the BPF side, the ledger and the
 * outputs wired together, the event loop, and the final report.
 */
#ifndef PAGETRACE_SESSION_H
#define PAGETRACE_SESSION_H

#include <stdio.h>

struct options;
struct session;

/* NULL after one error line; *exit_code says what kind of failure. */
struct session *session__new(const struct options *opts, FILE *out,
			     int *exit_code);
/* Trace until the target exits, --duration passes or a signal comes;
 * then report. Returns the exit code for pagetrace. */
int session__run(struct session *s);
void session__free(struct session *s);

/* Ask the running session to stop (from a signal handler). */
void session__request_stop(void);

#endif
