// SPDX-License-Identifier: GPL-2.0
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "elfsym.h"
#include "preload.h"

#define PRELOAD_VAR "LD_PRELOAD="
/* the library's sites stamp their time (see user/preload/) */
#define SITE_CLOCK_VAR "PAGETRACE_SITE_CLOCK="

struct preload {
	char path[PATH_MAX];
	char **env; /* the last preload__environ */
	char *env_entry; /* its LD_PRELOAD=... */
};

/* LD_PRELOAD splits its list at spaces and colons */
static bool fits_ld_preload(const char *path)
{
	return !strpbrk(path, " :\t\n");
}

struct preload *preload__at(const char *path)
{
	struct preload *p;

	if (path[0] != '/' || !fits_ld_preload(path) || access(path, R_OK))
		return NULL;
	p = calloc(1, sizeof(*p));
	if (p && (size_t)snprintf(p->path, sizeof(p->path), "%s", path) >=
			 sizeof(p->path)) {
		free(p);
		p = NULL;
	}
	return p;
}

struct preload *preload__find(void)
{
	static const char *const places[] = { "/build/" PRELOAD_FILE_NAME,
					      "/" PRELOAD_FILE_NAME };
	char exe[PATH_MAX], candidate[PATH_MAX + 32], *slash;
	struct preload *p = NULL;
	ssize_t len;
	size_t i;

	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len <= 0)
		return NULL;
	exe[len] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	for (i = 0; !p && i < sizeof(places) / sizeof(places[0]); i++) {
		snprintf(candidate, sizeof(candidate), "%s%s", exe, places[i]);
		p = preload__at(candidate);
	}
	return p;
}

/* The file execvp would run for command; false if none is found. */
static bool command_file(const char *command, char *path, size_t size)
{
	const char *dirs = getenv("PATH"), *end;

	if (strchr(command, '/'))
		return (size_t)snprintf(path, size, "%s", command) < size;
	if (!dirs)
		dirs = "/usr/local/bin:/usr/bin:/bin";
	for (; *dirs; dirs = *end ? end + 1 : end) {
		int len;

		end = strchrnul(dirs, ':');
		len = (int)(end - dirs);
		if ((size_t)snprintf(path, size, "%.*s/%s", len ? len : 1,
				     len ? dirs : ".", command) < size &&
		    !access(path, X_OK))
			return true;
	}
	return false;
}

const char *preload__unsuited(const char *command)
{
	/* their runtimes replace malloc, and ASan's insists on coming
	 * first in the list of libraries */
	static const char *const sanitizers[] = { "libasan.", "libhwasan.",
						  "libtsan.", "liblsan.",
						  "libmsan." };
	const char *why = NULL;
	char path[PATH_MAX];
	struct elf_file *ef;
	size_t i;

	if (!command_file(command, path, sizeof(path)))
		return NULL;
	ef = elf_file__open(path);
	if (!ef)
		return NULL; /* a script: its interpreter's turn */
	for (i = 0; !why && i < sizeof(sanitizers) / sizeof(sanitizers[0]); i++)
		if (elf_file__needs(ef, sanitizers[i]))
			why = "it links a sanitizer runtime, which must come "
			      "first";
	elf_file__free(ef);
	return why;
}

void preload__free(struct preload *p)
{
	if (!p)
		return;
	free(p->env);
	free(p->env_entry);
	free(p);
}

const char *preload__path(const struct preload *p)
{
	return p->path;
}

char **preload__environ(struct preload *p, char *const env[], bool site_clock)
{
	const char *others = NULL;
	size_t count, i, out = 0;

	for (count = 0; env[count]; count++)
		if (!strncmp(env[count], PRELOAD_VAR, strlen(PRELOAD_VAR)))
			others = env[count] + strlen(PRELOAD_VAR);
	free(p->env);
	free(p->env_entry);
	p->env = calloc(count + 3, sizeof(*p->env));
	if (asprintf(&p->env_entry, "%s%s%s%s", PRELOAD_VAR, p->path,
		     others && *others ? ":" : "", others ? others : "") < 0)
		p->env_entry = NULL;
	if (!p->env || !p->env_entry)
		return NULL;
	p->env[out++] = p->env_entry;
	if (site_clock)
		p->env[out++] = (char *)SITE_CLOCK_VAR "1";
	for (i = 0; i < count; i++)
		if (strncmp(env[i], PRELOAD_VAR, strlen(PRELOAD_VAR)) &&
		    strncmp(env[i], SITE_CLOCK_VAR, strlen(SITE_CLOCK_VAR)))
			p->env[out++] = env[i];
	p->env[out] = NULL;
	return p->env;
}
