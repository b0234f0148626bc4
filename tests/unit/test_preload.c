// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include "check.h"
#include "preload.h"

/* the environment, joined with '|' */
static const char *joined(char **env)
{
	static char buf[512];
	size_t i;

	buf[0] = '\0';
	for (i = 0; env && env[i]; i++) {
		if (i)
			strcat(buf, "|");
		strcat(buf, env[i]);
	}
	return buf;
}

static void test_paths(void)
{
	struct preload *p;

	/* a readable file: its path as given */
	p = preload__at("/bin/sh");
	CHECK(p != NULL);
	if (p)
		CHECK_STR(preload__path(p), "/bin/sh");
	preload__free(p);
	/* LD_PRELOAD splits at spaces and colons; relative paths would
	 * follow the command's working directory */
	CHECK(preload__at("/tmp/a b/x.so") == NULL);
	CHECK(preload__at("/tmp/a:b/x.so") == NULL);
	CHECK(preload__at("bin/sh") == NULL);
	CHECK(preload__at("/nonexistent/pagetrace-preload.so") == NULL);
}

static void test_environ(void)
{
	char *plain[] = { "HOME=/root", "PATH=/bin", NULL };
	char *with[] = { "HOME=/root", "LD_PRELOAD=/a.so:/b.so", "X=1", NULL };
	char *empty[] = { "LD_PRELOAD=", NULL };
	char *none[] = { NULL };
	struct preload *p = preload__at("/bin/sh");

	if (!p) {
		CHECK(p != NULL);
		return;
	}
	/* first in the list, everything else as it was */
	CHECK_STR(joined(preload__environ(p, plain)),
		  "LD_PRELOAD=/bin/sh|HOME=/root|PATH=/bin");
	CHECK_STR(joined(preload__environ(p, with)),
		  "LD_PRELOAD=/bin/sh:/a.so:/b.so|HOME=/root|X=1");
	CHECK_STR(joined(preload__environ(p, empty)), "LD_PRELOAD=/bin/sh");
	CHECK_STR(joined(preload__environ(p, none)), "LD_PRELOAD=/bin/sh");
	preload__free(p);
}

int main(void)
{
	RUN(test_paths);
	RUN(test_environ);
	return check_summary();
}
