/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pagetrace-preload.so (user/preload/): where it is installed, and the
 * environment that makes a started command load it first.
 */
#ifndef PAGETRACE_PRELOAD_H
#define PAGETRACE_PRELOAD_H

#include <stdbool.h>

#define PRELOAD_FILE_NAME "pagetrace-preload.so"

struct preload;

/* Found next to the pagetrace executable (or in build/ there); NULL if
 * not. */
struct preload *preload__find(void);
/* The library at path; NULL if it cannot be read, or if the path cannot
 * go into LD_PRELOAD (relative, or with a space or colon). */
struct preload *preload__at(const char *path);
void preload__free(struct preload *p);

const char *preload__path(const struct preload *p);
/* Why command (as execvp finds it) must not get the library: NULL if it
 * may. */
const char *preload__unsuited(const char *command);
/* env with LD_PRELOAD naming the library first, any libraries it named
 * after it, and PAGETRACE_SITE_CLOCK=1 if site_clock (the sites stamp
 * their time, siteclock.h), else none; NULL-terminated, the strings
 * env's own but those. NULL when out of memory. Valid until
 * preload__free. */
char **preload__environ(struct preload *p, char *const env[], bool site_clock);

#endif
