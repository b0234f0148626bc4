/* SPDX-License-Identifier: GPL-2.0 */
/* Diagnostics on stderr: one line each, prefixed with the program name. */
#ifndef PAGETRACE_LOG_H
#define PAGETRACE_LOG_H

#include <stdarg.h>
#include <bpf/libbpf.h>

enum log_level {
	LOG_ERROR,
	LOG_WARN,
	LOG_INFO, /* shown with -v */
	LOG_DEBUG, /* shown with -vv */
};

void log__set_verbosity(int verbosity);
int log__verbosity(void);

void log__error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log__warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log__info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log__debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* libbpf print callback: libbpf's chatter one level below our own */
int log__libbpf(enum libbpf_print_level level, const char *fmt, va_list args);

#endif
