// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include "log.h"

static int log_verbosity;

void log__set_verbosity(int verbosity)
{
	log_verbosity = verbosity;
}

int log__verbosity(void)
{
	return log_verbosity;
}

static void log_line(enum log_level level, const char *fmt, va_list args)
{
	static const char *const prefix[] = {
		[LOG_ERROR] = "",
		[LOG_WARN] = "warning: ",
		[LOG_INFO] = "",
		[LOG_DEBUG] = "debug: ",
	};

	if ((int)level > LOG_WARN + log_verbosity)
		return;
	fprintf(stderr, "pagetrace: %s", prefix[level]);
	vfprintf(stderr, fmt, args);
	fputc('\n', stderr);
}

#define DEFINE_LOG_FN(name, level)             \
	void log__##name(const char *fmt, ...) \
	{                                      \
		va_list args;                  \
		va_start(args, fmt);           \
		log_line(level, fmt, args);    \
		va_end(args);                  \
	}

DEFINE_LOG_FN(error, LOG_ERROR)
DEFINE_LOG_FN(warn, LOG_WARN)
DEFINE_LOG_FN(info, LOG_INFO)
DEFINE_LOG_FN(debug, LOG_DEBUG)

int log__libbpf(enum libbpf_print_level level, const char *fmt, va_list args)
{
	/* libbpf warnings with -v, its debug output with -vvv */
	int needed = level == LIBBPF_DEBUG ? 3 : 1;

	if (log_verbosity < needed)
		return 0;
	/* libbpf's lines carry their own "libbpf: " prefix */
	return vfprintf(stderr, fmt, args);
}
