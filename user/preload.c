// SPDX-License-Identifier: GPL-2.0
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "preload.h"

#define PRELOAD_VAR "LD_PRELOAD="

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

char **preload__environ(struct preload *p, char *const env[])
{
	const char *others = NULL;
	size_t count = 0, i, out = 0;

	for (count = 0; env[count]; count++)
		if (!strncmp(env[count], PRELOAD_VAR, strlen(PRELOAD_VAR)))
			others = env[count] + strlen(PRELOAD_VAR);
	free(p->env);
	free(p->env_entry);
	p->env = calloc(count + 2, sizeof(*p->env));
	if (asprintf(&p->env_entry, "%s%s%s%s", PRELOAD_VAR, p->path,
		     others && *others ? ":" : "", others ? others : "") < 0)
		p->env_entry = NULL;
	if (!p->env || !p->env_entry)
		return NULL;
	p->env[out++] = p->env_entry;
	for (i = 0; i < count; i++)
		if (strncmp(env[i], PRELOAD_VAR, strlen(PRELOAD_VAR)))
			p->env[out++] = env[i];
	p->env[out] = NULL;
	return p->env;
}
