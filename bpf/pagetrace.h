/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Record layouts shared by the BPF programs and the user-space loader.
 *
 * No includes: the BPF side gets __u32/__u64 from vmlinux.h, user space
 * from <linux/types.h>. Every record starts with struct pt_rec_header,
 * whose first field is the record type. All times are CLOCK_MONOTONIC
 * nanoseconds (bpf_ktime_get_ns).
 */
#ifndef PAGETRACE_H
#define PAGETRACE_H

enum pt_rec_type {
	PT_REC_CALL = 1, /* an allocator call returned */
	PT_REC_FREE, /* free() entered */
	PT_REC_FAULT, /* a page fault finished (or was abandoned) */
	PT_REC_SYSCALL, /* an mm syscall returned, or any syscall populated
			   pages */
	PT_REC_TASK, /* exec, fork or exit of a traced process */
	PT_REC_HOLD, /* a thread is held before realloc releases a block */
	PT_REC_PAGES, /* --light: the pages faulted in, per 2 MiB granule */
	PT_REC_CHUNK, /* --light: the word glibc wrote into a new mapping */
	PT_REC_USTACK, /* --light: the top of the user stack at a syscall */
	PT_REC_SITE, /* --light: one instruction's fault counts, at exec */
	PT_REC_STACK, /* a user stack the stack map had no room for */
	PT_REC__COUNT,
};

/* Allocator entry points; also the uprobe cookie of each probe, with the
 * PT_COOKIE_* flags above them. */
enum pt_alloc_fn {
	PT_FN_MALLOC,
	PT_FN_CALLOC,
	PT_FN_REALLOC,
	PT_FN_REALLOCARRAY,
	PT_FN_POSIX_MEMALIGN,
	PT_FN_ALIGNED_ALLOC,
	PT_FN_MEMALIGN,
	PT_FN_VALLOC,
	PT_FN_PVALLOC,
	PT_FN_FREE,
	PT_FN__COUNT,
};

#define PT_COOKIE_FN 0xff /* the enum pt_alloc_fn */
/* the probe's site has put the caller (the word on top of the stack) in
 * rax: pagetrace-preload.so's sites do, and the probe need not read it */
#define PT_COOKIE_CALLER_IN_AX 0x100
/* the site has put its time stamp counter in r11 (0: it has not), to be
 * read as the call's time through struct pt_site_clock */
#define PT_COOKIE_SITE_CLOCK 0x200

/* What a fault did, decided in the kernel from what happened in the thread. */
enum pt_outcome {
	PT_OUT_NONE, /* nothing was populated (already mapped, reuse, race) */
	PT_OUT_ZERO, /* the shared zero page was mapped */
	PT_OUT_ANON, /* a new private anonymous page */
	PT_OUT_THP, /* a huge or multi-size THP folio (order > 0) */
	PT_OUT_COW_ZERO, /* write to the zero page: copied into a private page
			  */
	PT_OUT_COW, /* write to a shared page (fork, file): copied */
	PT_OUT_FILE, /* file or shmem page(s) mapped */
	PT_OUT_SWAP, /* swapped-in page */
	PT_OUT_ERROR, /* the fault never completed (SIGSEGV/SIGBUS, fixup) */
	PT_OUT__COUNT,
};

/* lost[] index counting stacks not taken (unreadable, or their record
 * lost) */
#define PT_LOST_STACK PT_REC__COUNT
/* and, past the losses, how many stacks were walked, how many were a
 * thread's last one reused, and how many had no frame-pointer chain to
 * walk (take_stack_memo(), take_chained_stack()) */
#define PT_COUNT_STACK_WALKED (PT_REC__COUNT + 1)
#define PT_COUNT_STACK_REUSED (PT_REC__COUNT + 2)
#define PT_COUNT_STACK_NO_CHAIN (PT_REC__COUNT + 3)
/* and threads whose call slot another thread held (see call_slot_of()) */
#define PT_COUNT_SLOT_TAKEN (PT_REC__COUNT + 4)
/* and faults of runs at framed instructions, the word at sp left unread
 * (see run_framed_at()) */
#define PT_COUNT_TOP_UNREAD (PT_REC__COUNT + 5)
/* and stacks sent in records of their own (struct pt_rec_stack) */
#define PT_COUNT_STACK_SPILLED (PT_REC__COUNT + 6)
/* and --light faults whose page another thread released before the fault
 * was closed: not placed (see struct pt_release_log) */
#define PT_COUNT_UNPLACED (PT_REC__COUNT + 7)
#define PT_LOST__COUNT (PT_REC__COUNT + 8)
/* stack_id of a record when no stack was taken */
#define PT_NO_STACK (-1)
/* stack_id when the frame pointer was no frame pointer: the stack is the
 * site alone, and for a fault or syscall its caller where user space can
 * tell it (the word on top of the stack, see stacks.h) */
#define PT_STACK_NO_CHAIN (-2)
/* Stack ids from PT_STACK_SPILLED_BASE on are no stack map's: each is a
 * pt_rec_stack's, made before any record that refers to it */
#define PT_STACK_SPILLED_BASE (1 << 30)
/* a file path as a record carries it, NUL included */
#define PT_PATH_MAX 256
/* the default number of slots for threads' allocator calls: the kernel's
 * default pid_max, under which no two threads share one (systemd raises
 * it: a thread whose slot another holds is followed more slowly) */
#define PT_CALL_SLOTS 32768
/* the deepest user stack taken (the kernel's perf_event_max_stack) */
#define PT_STACK_MAX_DEPTH 127

/* x86 page-fault error code bits */
#define PT_PF_PROT 0x1
#define PT_PF_WRITE 0x2
#define PT_PF_USER 0x4
#define PT_PF_INSTR 0x10

/* rss_stat members (enum in include/linux/mm_types_task.h) */
#define PT_RSS_FILE 0
#define PT_RSS_ANON 1
#define PT_RSS_SWAPENTS 2
#define PT_RSS_SHMEM 3
#define PT_RSS__COUNT 4

/* pt_rec_fault.flags */
#define PT_FAULT_KERNEL                                      \
	0x1 /* taken in kernel mode (uaccess on user memory) \
	     */
#define PT_FAULT_IN_CALL 0x2 /* taken inside an allocator call */
#define PT_FAULT_MAJOR 0x4 /* accounted as a major fault (I/O) */

/* pt_rec_call.flags and pt_rec_free.flags */
#define PT_CALL_CHUNK_MMAPPED 0x1 /* glibc chunk header has IS_MMAPPED */
#define PT_CALL_CHUNK_KNOWN 0x2 /* heap or mmap is known */
#define PT_CALL_HELD 0x4 /* the thread was signalled to stop (--verify) */
/* seen after it returned alone (a preloaded site's second nop): no entry
 * time, and no fault or syscall inside it was known to be */
#define PT_CALL_SEEN_AFTER 0x8
/* hdr.ts is the preloaded site's own time (see struct pt_site_clock) */
#define PT_CALL_SITE_TIMED 0x10

/* pt_rec_syscall.flags */
#define PT_SYS_IN_CALL 0x1 /* made inside an allocator call */
/* made inside a realloc (and PT_SYS_IN_CALL): realloc_block says of what */
#define PT_SYS_IN_REALLOC 0x4
#define PT_SYS_PATH 0x2 /* a struct pt_rec_syscall_path: a file mmap */

/* pt_rec_task.kind */
enum pt_task_kind {
	PT_TASK_EXEC = 1,
	PT_TASK_FORK,
	PT_TASK_EXIT,
};

/* the signals and error a failed fault ends in (--light tells by them) */
#define PT_SIGBUS 7
#define PT_SIGSEGV 11
#define PT_EFAULT 14
#define PT_ENOENT 2
/* vm_flags bits, and the low bit of an anonymous folio's mapping */
#define PT_VM_READ 0x1
#define PT_VM_WRITE 0x2
#define PT_PAGE_MAPPING_ANON 0x1
/* task->flags: the task is in do_exit() */
#define PT_TASK_EXITING 0x4

/* x86_64 syscalls whose arguments and results the ledger interprets */
#define PT_NR_MMAP 9
#define PT_NR_MPROTECT 10
#define PT_NR_MUNMAP 11
#define PT_NR_BRK 12
#define PT_NR_MREMAP 25
#define PT_NR_MADVISE 28
#define PT_NR_MLOCK 149
#define PT_NR_MLOCKALL 151
#define PT_NR_MLOCK2 325
/* and the ones uprobes make (Linux 6.11+, 6.18+): a return probe returns,
 * an optimized probe fires, through them; they populate nothing */
#define PT_NR_URETPROBE 335
#define PT_NR_UPROBE 336

/* glibc: the size field of a chunk header sits 8 bytes before the pointer */
#define PT_GLIBC_SIZE_OFFSET 8
#define PT_GLIBC_IS_MMAPPED 0x2
/* A chunk with its own mapping starts the mapping, its header 16 bytes
 * long: a block malloc, calloc or realloc returns from one lies 16 bytes
 * into a page. memalign's may lie further in. */
#define PT_GLIBC_MMAPPED_BLOCK_OFFSET 16
/* Smaller blocks from malloc and calloc elsewhere in a page are heap
 * chunks: their header is left unread (see chunk_header_read()) */
#define PT_CHUNK_READ_MIN_SIZE 4096

/*
 * --light aggregates faults in the kernel: per 2 MiB of address space, one
 * byte per 4 KiB page, with a bit for each outcome (1 << enum pt_outcome)
 * its faults had. A release (munmap, madvise, mremap, brk) sends the
 * granules it touches, the end of the run the rest.
 */
#define PT_GRANULE_SHIFT 21
#define PT_GRANULE_PAGES 512

struct pt_granule {
	/* set and taken a 64-bit word at a time, atomically: a fault on
	 * another CPU may set bits while a release sends the granule */
	__u8 outcomes[PT_GRANULE_PAGES] __attribute__((aligned(8)));
	__u64 first_ns; /* when it was made: its first fault since exec ended */
	__u32 first_tid;
	__u32 pad;
};

/* --light: faults per faulting instruction and outcome */
struct pt_fault_site_key {
	__u64 ip;
	__u32 outcome;
	__u32 pad;
};

struct pt_fault_site {
	__u64 faults;
	__u64 pages;
};

/*
 * --light closes a fault at its thread's next event (close_fault()): by
 * then another thread may have released the fault's page (munmap,
 * madvise DONTNEED, ...), and the release sent the page's granule
 * without it. Releases are logged here before their granules go; a
 * fault closed after one that may cover its pages is not placed
 * (pt_released_since()), but counted (PT_COUNT_UNPLACED).
 */
#define PT_RELEASE_LOG_SLOTS 256

struct pt_release_entry {
	__u64 number; /* the release's count + 1; 0 while it is written */
	__u64 start, end;
};

struct pt_release_log {
	__u64 count; /* releases logged so far */
	struct pt_release_entry at[PT_RELEASE_LOG_SLOTS];
};

/* The fault a thread is in (fault_enter() to its end). */
struct pt_fault_ctx {
	__u64 t_start;
	__u64 releases; /* --light: pt_release_log.count at its start */
	__u64 addr;
	__u64 ip;
	__u64 sp, bp;
	__u32 error_code;
	__u32 flags;
	__u32 open;
	__u32 order;
	__u32 alloc_pages;
	__u16 rss_events[PT_RSS__COUNT];
	__s32 stack_id;
	__u64 stack_top;
	/* --light, a fault the kernel took: its first folio (struct page *),
	 * checked when it closes (kernel_copy_is_its_own()) */
	__u64 first_folio;
};

/*
 * --light: a thread's last faults, of one instruction and outcome in a
 * row, not yet added to the fault_sites map.
 */
struct pt_site_tally {
	struct pt_fault_site_key key;
	struct pt_fault_site counts;
};

/*
 * The end of a thread's state (task storage), which user space reads when
 * tracing ends: --light's fault still open, its tally.
 */
struct pt_thread_tail {
	struct pt_fault_ctx fault;
	struct pt_site_tally tally;
};

/* faults a tally takes before it goes to the map all the same */
#define PT_TALLY_MAX_FAULTS (1U << 16)

/* bytes of user stack a --light syscall record copies (perf's default
 * for --call-graph dwarf is 8192; the allocator's own frames take less
 * than 1 KiB of it) */
#define PT_USTACK_BYTES 4096

/*
 * The rings records travel in, one per CPU (see reserve() in
 * pagetrace.bpf.c, user/rings.c). A ring is a run of elements of an
 * mmapable array (ring_data), PT_RING_ELEM_BYTES each plus PT_RING_SLACK
 * bytes past their end, so that a record starting near an element's end
 * lies whole in it: nothing ever wraps. A position counts the bytes
 * reserved in a ring since it was made; position pos sits in element
 * first_elem + ((pos >> PT_RING_ELEM_SHIFT) & elem_mask), at byte
 * pos & offset_mask. A ring smaller than an element is one element with
 * a smaller offset_mask.
 */
#define PT_RING_ELEM_SHIFT 18
#define PT_RING_ELEM_BYTES (1ULL << PT_RING_ELEM_SHIFT)
#define PT_RING_SLACK 8192

struct pt_ring_elem {
	__u8 bytes[PT_RING_ELEM_BYTES + PT_RING_SLACK];
};

/* One per CPU (ring_ctl). The first line is the producers', the second
 * the reader's: each writes its own line only. */
struct pt_ring_ctl {
	__u64 head; /* bytes reserved so far */
	__u64 last_wakeup; /* when the reader was last woken for this ring */
	/* set by user space before tracing */
	__u64 size; /* a power of two */
	__u64 offset_mask;
	__u64 wakeup_bytes; /* wake the reader once this much is unread */
	__u32 first_elem;
	__u32 elem_mask;
	__u64 pad[2];
	__u64 tail; /* bytes read so far (user space's) */
	__u64 pad2[7];
};

/*
 * Before every record, 8-byte aligned. Producers take their place with a
 * compare-and-exchange on head, so the bytes there may still be an older
 * record's until the header is written: seq tells. It is
 * PT_RING_BUSY(pos) while the record at pos is being written, and
 * PT_RING_DONE(pos, key) once it is committed, after the rest of it (x86
 * keeps stores in order). The key, random for each session and even,
 * makes older bytes (a traced program's stack copied, for one) all but
 * sure never to read as committed here; an even key also keeps a DONE
 * odd, never any BUSY.
 */
#define PT_RING_BUSY(pos) (pos)
#define PT_RING_DONE(pos, key) (((pos) + 1) ^ (key))
#define PT_RING_DISCARDED 0x1 /* pt_ring_hdr.flags: pass it by */

struct pt_ring_hdr {
	__u64 seq;
	__u32 len; /* the record's bytes, this header left out */
	__u32 flags;
};

/* The bytes a record of len takes in its ring. */
#define PT_RING_SPAN(len) \
	(((__u64)(len) + sizeof(struct pt_ring_hdr) + 7) & ~7ULL)

/*
 * How a preloaded site's time stamp counter (TSC) reading becomes
 * CLOCK_MONOTONIC nanoseconds: ns + (reading - tsc) * mult / 2^32, with
 * mult, tsc and ns measured and kept fresh by user space (user/siteclock.h)
 * in the programs' .bss. The kernel's clock read (bpf_ktime_get_ns(),
 * ordered: an lfence and rdtsc) cost ~60 ns of a call's record in a VM, an
 * rdtsc at the site ~10. seq is odd while user space rewrites the rest.
 */
struct pt_site_clock {
	__u32 seq;
	__u32 pad;
	__u64 tsc;
	__u64 ns;
	__u64 mult;
};

struct pt_rec_header {
	__u32 type; /* enum pt_rec_type */
	__u32 tid;
	__u32 tgid;
	__u32 cpu;
	__u64 ts; /* when the record was made (end of the event) */
};

struct pt_rec_call {
	struct pt_rec_header hdr;
	__u32 fn; /* enum pt_alloc_fn */
	__u32 flags; /* PT_CALL_* */
	__u64 t_enter;
	__u64 args[3]; /* arguments in call order */
	__u64 ret; /* raw return value (rax) */
	__u64 addr; /* the block returned, 0 if the call failed */
	__u64 caller; /* return address at entry: the allocating call site */
	__u64 chunk_size; /* glibc chunk size (flags masked), 0 if unknown */
	__s32 stack_id; /* user stack at the call, PT_NO_STACK if none */
	__u32 pad;
};

struct pt_rec_free {
	struct pt_rec_header hdr;
	__u64 addr;
	__u64 caller;
	__u32 flags; /* PT_CALL_* */
	__u32 pad;
};

struct pt_rec_fault {
	struct pt_rec_header hdr;
	__u64 t_start;
	__u64 addr;
	__u64 ip; /* faulting user instruction */
	__u32 error_code;
	__u32 flags; /* PT_FAULT_* */
	__u32 outcome; /* enum pt_outcome */
	__u32 pages; /* pages populated */
	__u32 order; /* order of the last movable folio allocated, 0 if none */
	__u32 alloc_pages; /* pages of all movable folios allocated */
	__u16 rss_events[PT_RSS__COUNT]; /* rss_stat updates seen, per member */
	__s32 stack_id; /* user stack at the fault, PT_NO_STACK if none */
	/* faults the record stands for, a run (below): this one at addr,
	 * then one at each next page, addr + 4 KiB on; PT_RUN_SEALED once
	 * user space has taken it */
	__u32 run;
	__u64 stack_top; /* the word at the user stack pointer, see below */
};

/*
 * A fault run: a thread's faults at one address after another, a page
 * apart, alike in all else (instruction, stack, outcome, what they
 * allocated), go in the record of the first while user space has not
 * taken it: a loop that first touches memory page after page sends one
 * record per run instead of one per fault (~250 ns less per fault here).
 * The default mode only, without --events (every fault has its own time
 * there), and only faults that fill an absent page (anon, zero), outside
 * allocator calls: no other thread's fault could have come between them
 * at those pages. A record of the process that may change which block
 * owns a page (an allocator call, a free, a syscall, a task event) ends
 * every run then open: each run stays in the order of its first fault.
 * A run takes faults that end in the jiffy its record was made in or the
 * next (8 ms at most with HZ 250: the clock, dearer, is not read for a
 * fault likely to join), at most PT_RUN_MAX_FAULTS; the records that end
 * runs are those made within PT_RUN_ENDS_NS of the latest run's first
 * fault, longer than any run.
 * The word's low bits count the faults, PT_RUN_TAG_MASK bits hold
 * PT_RUN_TAG(pos) of the record's ring position: a count is only raised
 * in the record it was read from, never in another made at the same
 * place of the ring since.
 */
#define PT_RUN_SEALED 0x80000000U
#define PT_RUN_COUNT_MASK 0xffffU
#define PT_RUN_TAG(pos) ((__u32)((pos) >> 12) << 16 & PT_RUN_TAG_MASK)
#define PT_RUN_TAG_MASK 0x7fff0000U
#define PT_RUN_MAX_FAULTS 512
#define PT_RUN_JIFFIES 1
#define PT_RUN_ENDS_NS 20000000ULL

struct pt_rec_syscall {
	struct pt_rec_header hdr;
	__u64 t_start;
	__u64 args[6];
	__s64 ret;
	__u32 nr;
	__u32 flags; /* PT_SYS_* */
	__u32 alloc_pages; /* pages of movable folios allocated inside */
	__u32 pad;
	__u16 rss_events[PT_RSS__COUNT];
	__s32 stack_id; /* user stack at the syscall, PT_NO_STACK if none */
	__u32 pad2;
	/*
	 * The word at the user stack pointer, with stacks on. Frame-pointer
	 * unwinding skips the caller of a function that has not set up its
	 * frame (a leaf loop, a syscall wrapper); there the word is that
	 * caller's return address, and user space, which has the unwind
	 * tables to tell, puts it back.
	 */
	__u64 stack_top;
	__u64 ip; /* the user instruction after the syscall */
	__u64 realloc_block; /* PT_SYS_IN_REALLOC: the block it reallocates */
};

/*
 * The record of a file mmap: its path from the root of the task's mount
 * tree, else the file's own name, read in the kernel: the mapping, the
 * file and the process may all be gone before user space can look.
 */
struct pt_rec_syscall_path {
	struct pt_rec_syscall sys;
	char path[PT_PATH_MAX];
};

struct pt_rec_pages {
	struct pt_rec_header hdr;
	__u64 granule; /* address >> PT_GRANULE_SHIFT */
	struct pt_granule pages;
};

/* The size field glibc wrote 8 bytes into a mapping a thread made:
 * (size | PT_GLIBC_IS_MMAPPED) for a chunk of malloc's own. */
struct pt_rec_chunk {
	struct pt_rec_header hdr;
	__u64 mapping; /* its start */
	__u64 length;
	__u64 size_field;
};

/* Sent just before the syscall record it belongs to (same thread): the
 * registers and the stack above sp, for unwinding with the unwind tables
 * in user space. */
struct pt_rec_ustack {
	struct pt_rec_header hdr;
	__u64 ip;
	__u64 sp;
	__u64 bp;
	__u32 size; /* bytes of stack copied */
	__u32 nr; /* the syscall's number, as its record will have it */
	__u8 stack[PT_USTACK_BYTES];
};

/*
 * A user stack whose bucket in the stack map another stack holds (the map
 * keeps the first stack of each hash bucket; with a few dozen stacks in
 * 16384 buckets, two share one in one run in eight). Sent once (see
 * spill_stack()), its record timed before any record that refers to it
 * (but see README, stacks: a record that is preempted before it reads
 * the clock holds the ones after it in its ring back).
 */
struct pt_rec_stack {
	struct pt_rec_header hdr;
	__s32 id; /* PT_STACK_SPILLED_BASE and up */
	__u32 count; /* frames in ips */
	__u64 ips[PT_STACK_MAX_DEPTH]; /* leaf first */
};

/* The fault counts of one instruction of the image an exec replaced. */
struct pt_rec_site {
	struct pt_rec_header hdr;
	struct pt_fault_site_key key;
	struct pt_fault_site counts;
};

struct pt_rec_task {
	struct pt_rec_header hdr;
	__u32 kind; /* enum pt_task_kind */
	__u32 other_pid; /* fork: child tgid; exec: old pid */
	__s32 exit_code;
	__u32 pad;
	char comm[16];
};

/* Sent before realloc may move or unmap a block checked by --verify: the
 * thread stops (under ptrace) until its pages have been read. */
struct pt_rec_hold {
	struct pt_rec_header hdr;
	__u64 addr; /* the block about to be released */
};

/*
 * bench/drain_speed's synthetic producer (bench.bpf.h), the context of one
 * run of it: rounds of a malloc of PT_BENCH_BLOCK bytes, one first-touch
 * fault per page of it, a free; the block address moves on each round
 * through PT_BENCH_SLOTS slots of PT_BENCH_BLOCK + a page from base.
 */
#define PT_BENCH_BLOCK (4 * 4096)
#define PT_BENCH_SLOTS 100000
#define PT_BENCH_RECORDS_PER_ROUND (2 + PT_BENCH_BLOCK / 4096)

struct pt_bench_produce {
	__u64 base; /* in: where the first slot starts */
	__u32 first; /* in: the number of the first round */
	__u32 rounds; /* in: rounds to make */
	__u32 made; /* out: records committed to the ring buffer */
	__u32 refused; /* out: reservations refused (counted as lost too) */
};

#endif /* PAGETRACE_H */
