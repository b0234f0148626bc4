// SPDX-License-Identifier: GPL-2.0
/*
 * pagetrace-preload.so: a cheap probe site for each allocator function,
 * preloaded (LD_PRELOAD) into the commands pagetrace starts.
 *
 * A uprobe costs an exception (int3) at every hit, a few microseconds in
 * a VM, unless the kernel can rewrite the probed instruction into a call
 * to a trampoline that enters through the uprobe syscall instead (Linux
 * 6.18, x86-64). It does so only for a 5-byte nop, and glibc's malloc and
 * free have none. Here each allocator function is a 5-byte nop, then a
 * jump to the next definition of the same name: glibc's, or whatever
 * allocator the program brought (found with dlsym(RTLD_NEXT) at its first
 * call). On the nop the registers are those at the function's first
 * instruction, and the jump leaves the caller's stack as it was: the
 * entry probes read the arguments, the caller and the stack as they
 * would at glibc's entry, and the return probe returns to the caller.
 *
 * Nothing here allocates, and without probes the cost is one jump.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#define HIDDEN __attribute__((visibility("hidden")))

/* glibc's own names for its allocator: used while dlsym itself runs */
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t nmemb, size_t size);
extern void *__libc_realloc(void *ptr, size_t size);
extern void __libc_free(void *ptr);
extern void *__libc_memalign(size_t align, size_t size);
extern void *__libc_valloc(size_t size);
extern void *__libc_pvalloc(size_t size);

/* pagetrace knows this library by this symbol */
int pagetrace_preload_sites(void)
{
	return 1;
}

/*
 * Each site: the 5-byte nop (0f 1f 44 00 00, nopl 0(%rax,%rax,1)) at the
 * symbol, then an indirect jump through next_NAME. The alignment keeps
 * the nop inside one cache line, where the kernel writes it atomically.
 * site_NAME is the same address under a hidden name: calls to it from
 * here reach this site even where the program defines NAME itself.
 */
#define SITE(name)                                 \
	asm(".text\n"                              \
	    ".globl " #name "\n"                   \
	    ".type " #name ", @function\n"         \
	    ".globl site_" #name "\n"              \
	    ".hidden site_" #name "\n"             \
	    ".p2align 4\n" #name ":\n"             \
	    "site_" #name ":\n"                    \
	    ".byte 0x0f, 0x1f, 0x44, 0x00, 0x00\n" \
	    "jmp *next_" #name "(%rip)\n"          \
	    ".size " #name ", . - " #name "\n")

/* set while this thread is inside dlsym: dlsym may allocate */
static __thread int resolving __attribute__((tls_model("initial-exec")));

static void *next_of(const char *name, void *fallback)
{
	void *next;

	resolving = 1;
	next = dlsym(RTLD_NEXT, name);
	resolving = 0;
	return next ? next : fallback;
}

/*
 * next_NAME starts at first_NAME, which looks the next definition up,
 * keeps it (threads racing here store the same value) and calls it.
 * While dlsym runs, or if it finds nothing, fallback serves the call:
 * glibc's own function, or failed for the functions dlsym never calls
 * and glibc has under no other name.
 */
#define FIRST(ret, name, fallback, failed, params, args)           \
	HIDDEN ret site_##name params;                             \
	static ret first_##name params;                            \
	HIDDEN ret(*next_##name) params = first_##name;            \
	static ret first_##name params                             \
	{                                                          \
		ret(*next) params = fallback;                      \
                                                                   \
		if (!resolving) {                                  \
			next = next_of(#name, (void *)(fallback)); \
			__atomic_store_n(&next_##name, next,       \
					 __ATOMIC_RELAXED);        \
		}                                                  \
		if (!next) {                                       \
			errno = ENOMEM;                            \
			return failed;                             \
		}                                                  \
		return next args;                                  \
	}                                                          \
	SITE(name)

FIRST(void *, malloc, __libc_malloc, NULL, (size_t size), (size));
FIRST(void *, calloc, __libc_calloc, NULL, (size_t nmemb, size_t size),
      (nmemb, size));
FIRST(void *, realloc, __libc_realloc, NULL, (void *ptr, size_t size),
      (ptr, size));
FIRST(void *, memalign, __libc_memalign, NULL, (size_t align, size_t size),
      (align, size));
FIRST(void *, valloc, __libc_valloc, NULL, (size_t size), (size));
FIRST(void *, pvalloc, __libc_pvalloc, NULL, (size_t size), (size));
FIRST(void *, reallocarray, NULL, NULL, (void *ptr, size_t nmemb, size_t size),
      (ptr, nmemb, size));
FIRST(int, posix_memalign, NULL, ENOMEM,
      (void **memptr, size_t align, size_t size), (memptr, align, size));
FIRST(void *, aligned_alloc, NULL, NULL, (size_t align, size_t size),
      (align, size));

/* free returns nothing: its own first_free */
HIDDEN void site_free(void *ptr);
static void first_free(void *ptr);
HIDDEN void (*next_free)(void *ptr) = first_free;
static void first_free(void *ptr)
{
	void (*next)(void *) = __libc_free;

	if (!resolving) {
		next = next_of("free", (void *)__libc_free);
		__atomic_store_n(&next_free, next, __ATOMIC_RELAXED);
	}
	next(ptr);
}
SITE(free);

/*
 * The kernel rewrites a site's nop into its call at the site's first hit,
 * in the page of code the process has. After a fork that page is shared
 * with the child, and the rewrite copies it first: a fault the kernel
 * counts for the process, made by the kernel itself, that no page-fault
 * tracepoint reports. So every site gets its first hit here, before the
 * program can fork, from calls that cannot allocate: sizes no allocator
 * can serve, and free(NULL). They go through the sites to the next
 * allocator, never to a malloc the program defines itself (which might
 * take a failure badly); pagetrace leaves out the calls made from this
 * library. volatile: the compiler must not drop or fold them.
 */
__attribute__((constructor)) static void hit_every_site(void)
{
	volatile size_t too_big = SIZE_MAX;
	void *volatile none = NULL;
	int saved_errno = errno;
	void *block;

	site_free(none);
	site_free(site_malloc(too_big));
	site_free(site_calloc(too_big, too_big));
	site_free(site_realloc(none, too_big));
	site_free(site_reallocarray(none, too_big, too_big));
	if (!site_posix_memalign(&block, 64, too_big))
		site_free(block);
	site_free(site_aligned_alloc(64, too_big));
	site_free(site_memalign(64, too_big));
	site_free(site_valloc(too_big));
	site_free(site_pvalloc(too_big));
	errno = saved_errno;
}
