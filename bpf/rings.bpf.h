/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The rings records travel in: reserve(), then submit(), submit_now()
 * or discard(). Part of pagetrace.bpf.c, included there: it uses the
 * lost counters defined before it.
 */

/* one load or store, as written: the other side of it may be another
 * CPU or user space */
#define READ_ONCE(x) (*(const volatile typeof(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile typeof(x) *)&(x) = (v))

/*
 * A ring per CPU (their layout: pt_ring_ctl in pagetrace.h), sized by user
 * space. With one ring for all, two threads allocating on two CPUs took
 * turns at its lock and producer position; and a BPF ring buffer's
 * reservation and commit (a spinlock with interrupts off, an atomic
 * exchange, two queries for the wake-up mark) took ~45 ns of a free
 * record's ~210: here one compare-and-exchange on a line no other CPU
 * writes. User space merges the rings by record time (user/rings.c).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1); /* one per possible CPU, set by user space */
	__type(key, __u32);
	__type(value, struct pt_ring_ctl);
} ring_ctl SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1); /* the CPUs' elements, set by user space */
	__type(key, __u32);
	__type(value, struct pt_ring_elem);
} ring_data SEC(".maps");

/* Wakes the reader (epoll on this fd): what it carries is not read. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} doorbell SEC(".maps");

_Static_assert(PT_RING_SPAN(sizeof(struct pt_rec_ustack)) <= PT_RING_SLACK &&
		       PT_RING_SPAN(sizeof(struct pt_rec_syscall_path)) <=
			       PT_RING_SLACK,
	       "a record must fit in an element's slack");

/*
 * A record that may change which block owns a page, made at ts: runs
 * opened within PT_RUN_ENDS_NS before may still take faults, and must
 * take none after it (user space reads them in the order of their first
 * fault). With no run that recent (a malloc loop), nothing is written to
 * the line every CPU reads here. Right after the clock: a run's fault
 * between the two would be read before this record though it came after
 * (a window of a few instructions, more if the thread is preempted just
 * there: see README, Limits).
 */
static __always_inline void end_fault_runs(__u64 ts)
{
	__u32 zero = 0;
	struct fault_runs_shared *shared =
		bpf_map_lookup_elem(&fault_runs, &zero);

	if (shared &&
	    (__s64)(ts - READ_ONCE(shared->opened_ns)) < (__s64)PT_RUN_ENDS_NS)
		__sync_fetch_and_add(&shared->gen, 1);
}

/*
 * A record of size bytes in this CPU's ring, its header filled, made at
 * time ts (0: now, the kernel's clock) by the thread whose
 * current_id() is id; NULL (and counted lost) if the
 * ring is full. Every record reserved must then be submitted or
 * discarded: the reader waits for it in order.
 * Programs here may be preempted (uprobes) or interrupted by another on
 * the same CPU: the place is taken with a compare-and-exchange, retried
 * a few times if another took it first.
 */
static __always_inline void *reserve_as(__u32 size, __u32 type, __u64 ts,
					__u64 id)
{
	__u32 cpu = bpf_get_smp_processor_id(), index;
	struct pt_ring_ctl *ctl = bpf_map_lookup_elem(&ring_ctl, &cpu);
	__u64 span = PT_RING_SPAN(size), head = 0;
	struct pt_ring_elem *elem = NULL;
	struct pt_rec_header *hdr;
	struct pt_ring_hdr *rh;
	int tries;

	for (tries = 0; ctl && tries < 4; tries++) {
		head = READ_ONCE(ctl->head);
		if (head + span - READ_ONCE(ctl->tail) > ctl->size)
			break;
		index = ctl->first_elem +
			((head >> PT_RING_ELEM_SHIFT) & ctl->elem_mask);
		elem = bpf_map_lookup_elem(&ring_data, &index);
		if (!elem)
			break;
		if (__sync_val_compare_and_swap(&ctl->head, head,
						head + span) == head)
			goto reserved;
		elem = NULL;
	}
	count_lost(type);
	return NULL;
reserved:
	rh = (void *)&elem->bytes[head & ctl->offset_mask &
				  (PT_RING_ELEM_BYTES - 1)];
	rh->seq = PT_RING_BUSY(head);
	rh->len = size;
	rh->flags = 0;
	hdr = (void *)(rh + 1);
	hdr->type = type;
	hdr->tid = (__u32)id;
	hdr->tgid = id >> 32;
	hdr->cpu = cpu;
	hdr->ts = ts ?: bpf_ktime_get_ns();
	/* a stack changes no page's owner */
	if (targ_fault_runs && type != PT_REC_FAULT && type != PT_REC_STACK)
		end_fault_runs(hdr->ts);
	return hdr;
}

static __always_inline void *reserve(__u32 size, __u32 type)
{
	return reserve_as(size, type, 0, current_id());
}

/* The header of the record at position pos in cpu's ring: a fault run's
 * record, found again for a fault that joins it. */
static __always_inline struct pt_ring_hdr *ring_record(__u32 cpu, __u64 pos)
{
	struct pt_ring_ctl *ctl = bpf_map_lookup_elem(&ring_ctl, &cpu);
	struct pt_ring_elem *elem;
	__u32 index;

	if (!ctl)
		return NULL;
	index = ctl->first_elem +
		((pos >> PT_RING_ELEM_SHIFT) & ctl->elem_mask);
	elem = bpf_map_lookup_elem(&ring_data, &index);
	if (!elem)
		return NULL;
	/* records are 8-byte aligned: the verifier must know it for the
	 * compare-and-exchange on one */
	return (void *)&elem
		->bytes[pos & ctl->offset_mask & (PT_RING_ELEM_BYTES - 8)];
}

/* Wake the reader now. */
static __always_inline void ring_doorbell(__u32 cpu)
{
	bpf_ringbuf_output(&doorbell, &cpu, sizeof(cpu), BPF_RB_FORCE_WAKEUP);
}

/*
 * Waking the reader for every record costs more than the record itself;
 * wake it only once its ring is a quarter unread, the reader polls on a
 * timer too. And while the reader is behind, the ring stays past that
 * mark: a wake-up per record there is an interrupt per record on the
 * traced thread's CPU (an IPI, a VM exit in a guest), which slowed a
 * producer tenfold. One wake-up per CPU per PT_WAKEUP_GAP_NS is enough.
 */
#define PT_WAKEUP_GAP_NS 100000

/* Hand the record over: its bytes first, then its header says so. */
static __always_inline void commit(void *rec, __u32 flags, bool wake)
{
	struct pt_ring_hdr *rh = (struct pt_ring_hdr *)rec - 1;
	const struct pt_rec_header *hdr = rec;
	__u32 cpu = hdr->cpu;
	__u64 pos = rh->seq, ts = hdr->ts; /* PT_RING_BUSY(pos) */
	struct pt_ring_ctl *ctl;

	rh->flags = flags;
	barrier();
	WRITE_ONCE(rh->seq, PT_RING_DONE(pos, targ_ring_key));
	if (wake) {
		ring_doorbell(cpu);
		return;
	}
	ctl = bpf_map_lookup_elem(&ring_ctl, &cpu);
	if (ctl &&
	    READ_ONCE(ctl->head) - READ_ONCE(ctl->tail) >= ctl->wakeup_bytes &&
	    ts - ctl->last_wakeup >= PT_WAKEUP_GAP_NS) {
		ctl->last_wakeup = ts;
		ring_doorbell(cpu);
	}
}

static __always_inline void submit(void *rec)
{
	commit(rec, 0, false);
}

/* submit(), and the reader must see it now: its thread waits for it */
static __always_inline void submit_now(void *rec)
{
	commit(rec, 0, true);
}

/* Thrown away: the reader passes it by. */
static __always_inline void discard(void *rec)
{
	commit(rec, PT_RING_DISCARDED, false);
}
