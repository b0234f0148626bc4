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
 * instruction but rax, which holds the caller, and the jump leaves the
 * caller's stack as it was: the entry probes read the arguments, the
 * caller and the stack as they would at glibc's entry, and the return
 * probe returns to the caller. The functions that only allocate (all but
 * realloc, reallocarray and free) call on instead, and come back to a
 * second nop where one probe sees the whole call (see SITE_AND_BACK
 * below).
 *
 * Nothing here allocates, and without probes the cost is a load and one
 * jump (the functions that only allocate: a call and a few moves; those
 * and free: a stamp's load and branch, see STAMP).
 */
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define HIDDEN __attribute__((visibility("hidden")))

/*
 * glibc's own names for its allocator: used while dlsym itself runs.
 * Weak, and dlsym bound to its oldest version: a program of another libc
 * (musl) or of an older glibc, started by the command, must load this
 * library or ignore it, never fail to start because of it.
 */
#define WEAK __attribute__((weak))
extern void *__libc_malloc(size_t size) WEAK;
extern void *__libc_calloc(size_t nmemb, size_t size) WEAK;
extern void *__libc_realloc(void *ptr, size_t size) WEAK;
extern void __libc_free(void *ptr) WEAK;
extern void *__libc_memalign(size_t align, size_t size) WEAK;
extern void *__libc_valloc(size_t size) WEAK;
extern void *__libc_pvalloc(size_t size) WEAK;
#pragma weak dlsym
__asm__(".symver dlsym, dlsym@GLIBC_2.2.5");

/* pagetrace knows this library by this symbol */
int pagetrace_preload_sites(void)
{
	return 1;
}

/*
 * ... and by this one that its sites of free and of the functions seen
 * after their calls read the time stamp counter before their nop, into
 * r11, when pagetrace asks for it (PAGETRACE_SITE_CLOCK=1 in the
 * environment): the probe takes that as the call's time, ~50 ns cheaper
 * than the kernel's clock read. Otherwise r11 is 0, and the cost a load
 * and a branch. Calls before the constructor below are not stamped.
 */
int pagetrace_site_clock(void)
{
	return 1;
}

HIDDEN unsigned char site_clock_on;

/*
 * The stamp: r11 = the TSC, or 0. rdtsc writes edx:eax; rsi and rdx are
 * a callee's to clobber at both places it is used (free's entry, which
 * takes one argument, and the return of the functions seen after their
 * call, where rax holds the result, kept in rsi meanwhile). Not
 * serializing: what came before may still be finishing, a few
 * nanoseconds, and a kernel entry follows at the nop. Then, at a 16-byte
 * boundary, what the probe sits on: its nop never crosses a cache line.
 */
#define STAMP                            \
	"xor %r11d, %r11d\n"             \
	"cmpb $0, site_clock_on(%rip)\n" \
	"je 1f\n"                        \
	"mov %rax, %rsi\n"               \
	"rdtsc\n"                        \
	"shl $32, %rdx\n"                \
	"or %rdx, %rax\n"                \
	"mov %rax, %r11\n"               \
	"mov %rsi, %rax\n"               \
	".balign 16\n"                   \
	"1:\n"

/*
 * Each site: a copy of the return address into rax (48 8b 04 24, mov
 * (%rsp),%rax), the 5-byte nop (0f 1f 44 00 00, nopl 0(%rax,%rax,1)),
 * then an indirect jump through next_NAME. The probe on the nop finds the
 * caller in a register instead of reading the stack, a read of user
 * memory that took ~30 ns of its ~200; rax holds nothing at the entry of
 * a function that takes no variable arguments. The alignment keeps the
 * nop inside one cache line, where the kernel writes it atomically.
 * site_NAME is the same address under a hidden name: calls to it from
 * here reach this site even where the program defines NAME itself.
 */
#define SITE_STAMPED(name, stamp)                                      \
	asm(".text\n"                                                  \
	    ".globl " #name "\n"                                       \
	    ".type " #name ", @function\n"                             \
	    ".globl site_" #name "\n"                                  \
	    ".hidden site_" #name "\n"                                 \
	    ".p2align 4\n" #name ":\n"                                 \
	    "site_" #name ":\n" stamp ".byte 0x48, 0x8b, 0x04, 0x24\n" \
	    ".byte 0x0f, 0x1f, 0x44, 0x00, 0x00\n"                     \
	    "jmp *next_" #name "(%rip)\n"                              \
	    ".size " #name ", . - " #name "\n")
#define SITE(name) SITE_STAMPED(name, "")

/* set while this thread is inside dlsym: dlsym may allocate */
static __thread int resolving __attribute__((tls_model("initial-exec")));
/* set while this thread gives the sites their first hits (see below) */
static __thread int warming __attribute__((tls_model("initial-exec")));

static void *next_of(const char *name, void *fallback)
{
	void *next;

	if (!dlsym) /* a glibc older than 2.34 without libdl loaded */
		return fallback;
	resolving = 1;
	next = dlsym(RTLD_NEXT, name);
	resolving = 0;
	return next ? next : fallback;
}

/*
 * next_NAME starts at first_NAME, which looks the next definition up,
 * keeps it (threads racing here store the same value) and calls it.
 * While dlsym runs, or if there is none, fallback serves the call:
 * glibc's own function, or failed for the functions dlsym never calls
 * and glibc has under no other name.
 *
 * gate_NAME stands in for next_NAME while the sites get their first hit:
 * the warming thread's call stops there, another thread's goes on.
 */
#define FIRST(ret, name, fallback, failed, params, args)             \
	HIDDEN ret site_##name params;                               \
	static ret first_##name params;                              \
	HIDDEN ret(*next_##name) params = first_##name;              \
	static ret first_##name params                               \
	{                                                            \
		ret(*next) params = fallback;                        \
                                                                     \
		if (!resolving) {                                    \
			next = next_of(#name, (void *)(fallback));   \
			if (next)                                    \
				__atomic_store_n(&next_##name, next, \
						 __ATOMIC_RELAXED);  \
		}                                                    \
		if (!next)                                           \
			return failed;                               \
		return next args;                                    \
	}                                                            \
	static ret(*gone_##name) params;                             \
	static ret gate_##name params                                \
	{                                                            \
		if (warming)                                         \
			return failed;                               \
		return gone_##name args;                             \
	}

/*
 * The sites of the functions that only allocate go on where the others
 * jump: they call the next definition and come back to a second 5-byte
 * nop, with the block in rax (posix_memalign: its result, the block at
 * its first argument), the arguments in rbx, r12 and r13, as many as it
 * takes, kept there across the call, and the caller in rcx (48 8b 4c 24
 * XX, mov XX(%rsp),%rcx, right before the nop). A probe there alone sees
 * the whole call: one entry into the kernel per call instead of two, an
 * entry probe's and a return probe's (each ~1.5 us in this VM). The first
 * nop stays, for --events, which times a call from its entry. realloc
 * and reallocarray keep their entry and return probes: the old block may
 * go to another thread before they return, so their entry is timed (see
 * entry_time_read() in bpf/). The call frame information lets an
 * unwinder (--light's) past the frame. Between the call and the copy of
 * the caller, the STAMP: the second nop lies in the site's second line.
 */
#define SITE_AND_BACK(name, save, keep, restore, caller_at)        \
	asm(".text\n"                                              \
	    ".globl " #name "\n"                                   \
	    ".type " #name ", @function\n"                         \
	    ".globl site_" #name "\n"                              \
	    ".hidden site_" #name "\n"                             \
	    ".p2align 6\n" #name ":\n"                             \
	    "site_" #name ":\n"                                    \
	    ".cfi_startproc\n"                                     \
	    ".byte 0x48, 0x8b, 0x04, 0x24\n"                       \
	    ".byte 0x0f, 0x1f, 0x44, 0x00, 0x00\n" save keep       \
	    "call *next_" #name "(%rip)\n" STAMP                   \
	    ".byte 0x48, 0x8b, 0x4c, 0x24, " #caller_at "\n"       \
	    ".byte 0x0f, 0x1f, 0x44, 0x00, 0x00\n" restore "ret\n" \
	    ".cfi_endproc\n"                                       \
	    ".size " #name ", . - " #name "\n")

/*
 * What the functions seen after their calls keep across them, in the
 * registers a callee keeps: their one, two or three arguments, in rbx,
 * r12 and r13. Pushed first, with 8 bytes more where that keeps the
 * call's stack 16-byte aligned; the caller is then 8 or 24 bytes up.
 */
#define PUSH(reg)                    \
	"push %" #reg "\n"           \
	".cfi_adjust_cfa_offset 8\n" \
	".cfi_rel_offset %" #reg ", 0\n"
#define POP(reg)                      \
	"pop %" #reg "\n"             \
	".cfi_adjust_cfa_offset -8\n" \
	".cfi_restore %" #reg "\n"
#define PAD "sub $8, %rsp\n.cfi_adjust_cfa_offset 8\n"
#define UNPAD "add $8, %rsp\n.cfi_adjust_cfa_offset -8\n"
#define SITE_BACK_1(name) \
	SITE_AND_BACK(name, PUSH(rbx), "mov %rdi, %rbx\n", POP(rbx), 0x08)
#define SITE_BACK_2(name)                            \
	SITE_AND_BACK(name, PUSH(rbx) PUSH(r12) PAD, \
		      "mov %rdi, %rbx\n"             \
		      "mov %rsi, %r12\n",            \
		      UNPAD POP(r12) POP(rbx), 0x18)
#define SITE_BACK_3(name)                                  \
	SITE_AND_BACK(name, PUSH(rbx) PUSH(r12) PUSH(r13), \
		      "mov %rdi, %rbx\n"                   \
		      "mov %rsi, %r12\n"                   \
		      "mov %rdx, %r13\n",                  \
		      POP(r13) POP(r12) POP(rbx), 0x18)

FIRST(void *, malloc, __libc_malloc, NULL, (size_t size), (size));
SITE_BACK_1(malloc);
FIRST(void *, calloc, __libc_calloc, NULL, (size_t nmemb, size_t size),
      (nmemb, size));
SITE_BACK_2(calloc);
FIRST(void *, realloc, __libc_realloc, NULL, (void *ptr, size_t size),
      (ptr, size));
SITE(realloc);
FIRST(void *, memalign, __libc_memalign, NULL, (size_t align, size_t size),
      (align, size));
SITE_BACK_2(memalign);
FIRST(void *, valloc, __libc_valloc, NULL, (size_t size), (size));
SITE_BACK_1(valloc);
FIRST(void *, pvalloc, __libc_pvalloc, NULL, (size_t size), (size));
SITE_BACK_1(pvalloc);
FIRST(void *, reallocarray, NULL, NULL, (void *ptr, size_t nmemb, size_t size),
      (ptr, nmemb, size));
SITE(reallocarray);
FIRST(int, posix_memalign, NULL, ENOMEM,
      (void **memptr, size_t align, size_t size), (memptr, align, size));
SITE_BACK_3(posix_memalign);
FIRST(void *, aligned_alloc, NULL, NULL, (size_t align, size_t size),
      (align, size));
SITE_BACK_2(aligned_alloc);

/* free returns nothing: its own first_free and gate_free */
HIDDEN void site_free(void *ptr);
static void first_free(void *ptr);
HIDDEN void (*next_free)(void *ptr) = first_free;
static void first_free(void *ptr)
{
	void (*next)(void *) = __libc_free;

	if (!resolving) {
		next = next_of("free", (void *)__libc_free);
		if (next)
			__atomic_store_n(&next_free, next, __ATOMIC_RELAXED);
	}
	if (next)
		next(ptr);
}
static void (*gone_free)(void *ptr);
static void gate_free(void *ptr)
{
	if (!warming)
		gone_free(ptr);
}
SITE_STAMPED(free, STAMP);

/* One site's first hit: through its gate, which this thread stops at. */
#define HIT(name, call)                                                        \
	do {                                                                   \
		gone_##name = __atomic_load_n(&next_##name, __ATOMIC_RELAXED); \
		__atomic_store_n(&next_##name, gate_##name, __ATOMIC_RELEASE); \
		(void)(call);                                                  \
		__atomic_store_n(&next_##name, gone_##name, __ATOMIC_RELEASE); \
	} while (0)

/*
 * The kernel rewrites a site's nop into its call at the site's first hit,
 * in the page of code the process has. After a fork that page is shared
 * with the child, and the rewrite copies it first: a fault the kernel
 * counts for the process, made by the kernel itself, that no page-fault
 * tracepoint reports. So every site gets its first hit here, before the
 * program can fork. The calls stop at the gates: no allocator sees them
 * (a sanitizer's would report a failed one, a program's own might abort),
 * and should another thread's first call swap a gate out meanwhile, the
 * sizes are ones no allocator can serve. pagetrace leaves out the calls
 * made from this library. volatile: the compiler must not fold them.
 */
__attribute__((constructor)) static void hit_every_site(void)
{
	volatile size_t too_big = SIZE_MAX;
	void *volatile none = NULL;
	int saved_errno = errno;
	void *block;

	const char *clock = getenv("PAGETRACE_SITE_CLOCK");

	site_clock_on = clock && clock[0] == '1' && !clock[1];
	warming = 1;
	HIT(free, (site_free(none), 0));
	HIT(malloc, site_malloc(too_big));
	HIT(calloc, site_calloc(too_big, too_big));
	HIT(realloc, site_realloc(none, too_big));
	HIT(reallocarray, site_reallocarray(none, too_big, too_big));
	HIT(posix_memalign, site_posix_memalign(&block, 64, too_big));
	HIT(aligned_alloc, site_aligned_alloc(64, too_big));
	HIT(memalign, site_memalign(64, too_big));
	HIT(valloc, site_valloc(too_big));
	HIT(pvalloc, site_pvalloc(too_big));
	warming = 0;
	errno = saved_errno;
}
