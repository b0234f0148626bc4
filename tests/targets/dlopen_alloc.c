// SPDX-License-Identifier: GPL-2.0
/*
 * dlopen()s the library named by argv[1], whose lib_allocate mallocs
 * 8 MiB and whose lib_touch writes every page, then dlclose()s it so the
 * library is unmapped before the process exits and is reported.
 */
#include <dlfcn.h>
#include "target.h"

int main(int argc, char **argv)
{
	char *(*lib_allocate)(size_t size);
	void (*lib_touch)(char *p, size_t size);
	void *lib;
	char *p;

	if (argc < 2)
		return 2;
	no_thp();
	lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		fprintf(stderr, "%s\n", dlerror());
		return 2;
	}
	lib_allocate = (char *(*)(size_t))dlsym(lib, "lib_allocate");
	lib_touch = (void (*)(char *, size_t))dlsym(lib, "lib_touch");
	if (!lib_allocate || !lib_touch)
		return 2;
	p = lib_allocate(8 * MiB);
	lib_touch(p, 8 * MiB);
	if (dlclose(lib))
		return 2;
	free(p);
	return 0;
}
