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

struct preload *preload__find(void)
{
	static const char *const places[] = { "/build/" PRELOAD_FILE_NAME,
					      "/" PRELOAD_FILE_NAME };
	char exe[PATH_MAX], *slash;
	struct preload *p;
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
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	for (i = 0; i < sizeof(places) / sizeof(places[0]); i++) {
		if ((size_t)snprintf(p->path, sizeof(p->path), "%s%s", exe,
				     places[i]) >= sizeof(p->path))
			continue;
		if (!access(p->path, R_OK) && fits_ld_preload(p->path))
			return p;
	}
	free(p);
	return NULL;
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
