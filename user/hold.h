/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Holding the target for --verify, unseen by it and by its parent: every
 * thread is seized with ptrace (no stop on attach), new threads follow.
 * A thread the kernel side signals before it releases a block stops in
 * signal-delivery-stop; it is let go with the signal suppressed once its
 * pages are read. Exits stop too (PTRACE_EVENT_EXIT), memory intact.
 * Every other stop is passed through as the target would have had it.
 */
#ifndef PAGETRACE_HOLD_H
#define PAGETRACE_HOLD_H

#include <stdbool.h>
#include <sys/types.h>

struct holder;

/* Called while the process's main thread is stopped at its exit: true
 * lets it go on, false keeps it there until holder__end_exit(). */
typedef bool (*holder_exit_fn)(void *ctx);

/* NULL with errno set: EPERM if another tracer holds it already. */
struct holder *holder__new(pid_t pid, int hold_signal, holder_exit_fn on_exit,
			   void *ctx);
/* Let every thread go and detach. */
void holder__free(struct holder *h);

/* Handle every pending stop without waiting. */
void holder__service(struct holder *h);
/* Wait up to timeout_ms for thread tid to stop on the hold signal,
 * handling other stops meanwhile: true if it is held now. */
bool holder__wait(struct holder *h, pid_t tid, int timeout_ms);
/* Let a held thread go on, the signal never delivered. */
void holder__release(struct holder *h, pid_t tid);
/* Let the main thread kept at its exit (see holder_exit_fn) go on. */
void holder__end_exit(struct holder *h);

#endif
