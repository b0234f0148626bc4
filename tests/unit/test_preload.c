// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
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

/* an empty file at dir/name, made for the test; its path in buf */
static const char *made(char *buf, size_t size, const char *dir,
			const char *name)
{
	FILE *f;

	snprintf(buf, size, "%s/%s", dir, name);
	f = fopen(buf, "w");
	if (f)
		fclose(f);
	return buf;
}

static void test_paths(void)
{
	char dir[] = "/tmp/pagetrace-unit.XXXXXX", a[128], b[128], c[128];
	struct preload *p;

	if (!mkdtemp(dir)) {
		CHECK(!"mkdtemp");
		return;
	}
	/* a readable file: its path as given */
	p = preload__at(made(a, sizeof(a), dir, "lib.so"));
	CHECK(p != NULL);
	if (p)
		CHECK_STR(preload__path(p), a);
	preload__free(p);
	/* LD_PRELOAD splits at spaces and colons; a relative path would
	 * follow the command's working directory: files that exist, and
	 * are refused all the same */
	CHECK(preload__at(made(b, sizeof(b), dir, "a b.so")) == NULL);
	CHECK(preload__at(made(c, sizeof(c), dir, "a:b.so")) == NULL);
	CHECK(chdir(dir) == 0);
	CHECK(preload__at("lib.so") == NULL);
	CHECK(preload__at("/nonexistent/pagetrace-preload.so") == NULL);
	CHECK(chdir("/") == 0);
	unlink(a);
	unlink(b);
	unlink(c);
	rmdir(dir);
}

static void test_unsuited(void)
{
	/* a plain program, a script, a missing one: the library may go */
	CHECK(preload__unsuited("sh") == NULL);
	CHECK(preload__unsuited("/bin/sh") == NULL);
	CHECK(preload__unsuited("/nonexistent/cmd") == NULL);
}

static void test_environ(void)
{
	char *plain[] = { "HOME=/root", "PATH=/bin", NULL };
	char *with[] = { "HOME=/root", "LD_PRELOAD=/a.so:/b.so", "X=1", NULL };
	char *empty[] = { "LD_PRELOAD=", NULL };
	char *none[] = { NULL };
	char *stamped[] = { "PAGETRACE_SITE_CLOCK=0", "X=1", NULL };
	struct preload *p = preload__at("/bin/sh");

	if (!p) {
		CHECK(p != NULL);
		return;
	}
	/* first in the list, everything else as it was */
	CHECK_STR(joined(preload__environ(p, plain, false)),
		  "LD_PRELOAD=/bin/sh|HOME=/root|PATH=/bin");
	CHECK_STR(joined(preload__environ(p, with, false)),
		  "LD_PRELOAD=/bin/sh:/a.so:/b.so|HOME=/root|X=1");
	CHECK_STR(joined(preload__environ(p, empty, false)),
		  "LD_PRELOAD=/bin/sh");
	CHECK_STR(joined(preload__environ(p, none, false)),
		  "LD_PRELOAD=/bin/sh");
	/* the sites asked to stamp their time: said once, whatever the
	 * environment said before */
	CHECK_STR(joined(preload__environ(p, plain, true)),
		  "LD_PRELOAD=/bin/sh|PAGETRACE_SITE_CLOCK=1|HOME=/root|"
		  "PATH=/bin");
	CHECK_STR(joined(preload__environ(p, stamped, true)),
		  "LD_PRELOAD=/bin/sh|PAGETRACE_SITE_CLOCK=1|X=1");
	CHECK_STR(joined(preload__environ(p, stamped, false)),
		  "LD_PRELOAD=/bin/sh|X=1");
	preload__free(p);
}

int main(void)
{
	RUN(test_paths);
	RUN(test_unsuited);
	RUN(test_environ);
	return check_summary();
}
