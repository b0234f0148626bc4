// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <linux/perf_event.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "exitcode.h"
#include "log.h"
#include "decode.h"
#include "pagetrace.h"
#include "pagetrace.skel.h"
#include "ringmaps.h"
#include "procfs.h"
#include "rings.h"
#include "siteclock.h"
#include "trace.h"
#include "trace_internal.h"

/* Linux 6.6 uprobe_multi links, unknown to the system's libbpf 1.1 */
#define ATTACH_UPROBE_MULTI 48
#define UPROBE_MULTI_RETURN 1U

struct uprobe_multi_attr {
	__u32 prog_fd;
	__u32 target_fd;
	__u32 attach_type;
	__u32 flags;
	__aligned_u64 path;
	__aligned_u64 offsets;
	__aligned_u64 ref_ctr_offsets;
	__aligned_u64 cookies;
	__u32 cnt;
	__u32 multi_flags;
	__u32 pid;
	__u32 pad;
};

static int keep_link(struct trace *t, struct bpf_link *link)
{
	if (t->link_count == t->link_capacity) {
		size_t capacity = t->link_capacity ? t->link_capacity * 2 : 32;
		struct bpf_link **links =
			realloc(t->links, capacity * sizeof(*links));

		if (!links)
			return -ENOMEM;
		t->links = links;
		t->link_capacity = capacity;
	}
	t->links[t->link_count++] = link;
	return 0;
}

/* "0-3,5" from /sys/devices/system/cpu/online into a bitmap of max CPUs */
static int read_online_cpus(bool *online, int max)
{
	FILE *f = fopen("/sys/devices/system/cpu/online", "re");
	int first, last, cpu, count = 0;
	char sep;

	if (!f)
		return -errno;
	while (fscanf(f, "%d", &first) == 1) {
		last = first;
		if (fscanf(f, "%c", &sep) == 1 && sep == '-') {
			if (fscanf(f, "%d", &last) != 1)
				break;
			if (fscanf(f, "%c", &sep) != 1)
				sep = '\n';
		}
		for (cpu = first; cpu <= last && cpu < max; cpu++, count++)
			online[cpu] = true;
		if (sep != ',')
			break;
	}
	fclose(f);
	return count ? 0 : -EINVAL;
}

/* After the load, before any program runs: the rings laid out and read,
 * and the doorbell that wakes the reader. */
static int open_rings(struct trace *t)
{
	int err;

	t->rings =
		rings__new(t->on_record, t->ctx, ring_maps__key(t->ring_maps));
	if (!t->rings)
		return -errno;
	err = ring_maps__open(t->ring_maps, bpf_map__fd(t->skel->maps.ring_ctl),
			      bpf_map__fd(t->skel->maps.ring_data), t->rings);
	return err   ?:
		       rings__add_doorbell(t->rings,
					   bpf_map__fd(t->skel->maps.doorbell));
}

/*
 * The kernel fires page-faults-min/maj when handle_mm_fault() has finished
 * a fault: the closest thing to a fault-exit tracepoint. One event per
 * online CPU and kind, every occurrence sampled, each running fault_done.
 */
static int attach_fault_done(struct trace *t, const bool *online)
{
	static const unsigned long long kinds[] = {
		PERF_COUNT_SW_PAGE_FAULTS_MIN,
		PERF_COUNT_SW_PAGE_FAULTS_MAJ,
	};
	int cpu, err = 0;
	size_t k;

	t->perf_fds = calloc((size_t)t->ncpus * 2, sizeof(int));
	if (!t->perf_fds)
		return -ENOMEM;
	for (cpu = 0; cpu < t->ncpus && !err; cpu++) {
		if (!online[cpu])
			continue;
		for (k = 0; k < 2 && !err; k++) {
			struct perf_event_attr attr = {
				.type = PERF_TYPE_SOFTWARE,
				.size = sizeof(attr),
				.config = kinds[k],
				.sample_period = 1,
			};
			struct bpf_link *link;
			int fd;

			fd = syscall(SYS_perf_event_open, &attr, -1, cpu, -1,
				     PERF_FLAG_FD_CLOEXEC);
			if (fd < 0) {
				err = -errno;
				break;
			}
			t->perf_fds[t->perf_fd_count++] = fd;
			link = bpf_program__attach_perf_event(
				t->empty ? t->skel->progs.floor_fault_done :
					   t->skel->progs.fault_done,
				fd);
			if (!link) {
				err = -errno;
				break;
			}
			err = keep_link(t, link);
		}
	}
	return err;
}

/*
 * Detaching a uprobe waits for an RCU grace period (~80 ms here): one
 * uprobe_multi link per program waits once instead of once per probe.
 */
static bool kernel_has_uprobe_multi(void)
{
	struct btf *btf = btf__load_vmlinux_btf();
	bool found = false;
	__s32 id;

	if (!btf)
		return false;
	id = btf__find_by_name_kind(btf, "bpf_attach_type", BTF_KIND_ENUM);
	if (id > 0) {
		const struct btf_type *type = btf__type_by_id(btf, id);
		const struct btf_enum *values = btf_enum(type);
		int i;

		for (i = 0; i < btf_vlen(type); i++)
			if (!strcmp(btf__name_by_offset(btf,
							values[i].name_off),
				    "BPF_TRACE_UPROBE_MULTI") &&
			    values[i].val == ATTACH_UPROBE_MULTI)
				found = true;
	}
	btf__free(btf);
	return found;
}

static int load_error(int err)
{
	if (err == -EPERM) {
		log__error("the kernel refused to load BPF programs (%s): run "
			   "as root, or with CAP_BPF and CAP_PERFMON",
			   strerror(-err));
		return PT_EXIT_PRIVILEGE;
	}
	log__error("the kernel refused pagetrace's BPF programs (%s): rerun "
		   "with -v to see the verifier's log",
		   strerror(-err));
	return PT_EXIT_KERNEL;
}

static struct bpf_program *uprobe_program(struct trace *t,
					  enum uprobe_kind kind)
{
	switch (kind) {
	case UPROBE_ALLOC_ENTRY:
		return t->empty ? t->skel->progs.floor_alloc_entry :
				  t->skel->progs.alloc_entry;
	case UPROBE_ALLOC_RETURN:
		return t->empty ? t->skel->progs.floor_alloc_return :
				  t->skel->progs.alloc_return;
	case UPROBE_ALLOC_BACK:
		return t->empty ? t->skel->progs.floor_alloc_back :
				  t->skel->progs.alloc_back;
	default:
		return t->empty ? t->skel->progs.floor_free_entry :
				  t->skel->progs.free_entry;
	}
}

/* The floor programs (--empty-probes) or the real ones, never both: the
 * others are not loaded, so the skeleton attaches nothing of them. A
 * benchmark's producer only when asked for. */
static void choose_programs(struct trace *t, bool bench_producer)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, t->skel->obj)
	{
		const char *name = bpf_program__name(prog);
		bool floor = !strncmp(name, "floor_", 6);

		if (!strncmp(name, "bench_", 6))
			bpf_program__set_autoload(prog, bench_producer);
		else
			bpf_program__set_autoload(prog, floor == t->empty);
	}
}

struct trace *trace__new(const struct trace_config *cfg, int *exit_code)
{
	struct trace *t = calloc(1, sizeof(*t));
	unsigned int call_slots;
	bool *online = NULL;
	int err;

	*exit_code = PT_EXIT_INTERNAL;
	if (!t) {
		log__error("out of memory");
		return NULL;
	}
	t->on_record = cfg->on_record;
	t->ctx = cfg->ctx;
	t->skel = pagetrace_bpf__open();
	if (!t->skel) {
		log__error("cannot open the BPF object: %s", strerror(errno));
		goto fail;
	}
	t->empty = cfg->empty_probes;
	choose_programs(t, cfg->bench_producer);
	/* failed faults tell by their signal, and a fault still open at
	 * its task's end is closed there, only where no page-faults event
	 * ends the faults: --light */
	if (!cfg->light) {
		bpf_program__set_autoload(t->skel->progs.fault_signal, false);
		bpf_program__set_autoload(t->skel->progs.floor_fault_signal,
					  false);
		bpf_program__set_autoload(t->skel->progs.fault_at_free, false);
		bpf_program__set_autoload(t->skel->progs.floor_fault_at_free,
					  false);
	}
	t->uprobe_multi = kernel_has_uprobe_multi();
	if (t->uprobe_multi) {
		bpf_program__set_expected_attach_type(
			uprobe_program(t, UPROBE_ALLOC_ENTRY),
			ATTACH_UPROBE_MULTI);
		bpf_program__set_expected_attach_type(
			uprobe_program(t, UPROBE_ALLOC_RETURN),
			ATTACH_UPROBE_MULTI);
		bpf_program__set_expected_attach_type(
			uprobe_program(t, UPROBE_FREE_ENTRY),
			ATTACH_UPROBE_MULTI);
		bpf_program__set_expected_attach_type(
			uprobe_program(t, UPROBE_ALLOC_BACK),
			ATTACH_UPROBE_MULTI);
	}
	t->skel->rodata->targ_min_size = cfg->min_size;
	t->skel->rodata->targ_stacks = cfg->stack_depth > 0;
	t->skel->rodata->targ_event_details = cfg->event_details;
	t->skel->rodata->targ_exact_stacks = cfg->exact_stacks;
	t->skel->rodata->targ_light = cfg->light;
	t->skel->rodata->targ_fault_runs = cfg->fault_runs;
	t->skel->rodata->targ_tgid = (uint32_t)cfg->tgid;
	t->stack_depth = cfg->stack_depth ? cfg->stack_depth : 1;
	if (t->stack_depth > PT_STACK_MAX_DEPTH)
		t->stack_depth = PT_STACK_MAX_DEPTH;
	err = bpf_map__set_value_size(t->skel->maps.stacks,
				      t->stack_depth * sizeof(uint64_t));
	if (!err)
		err = bpf_map__set_max_entries(
			t->skel->maps.stacks,
			cfg->stack_depth && cfg->stack_storage ?
				cfg->stack_storage :
				1);
	if (err) {
		log__error("cannot size the stack map: %s", strerror(-err));
		goto fail;
	}
	/* no allocator probes, no table: --light, --empty-probes */
	call_slots = cfg->light || cfg->empty_probes ? 1 :
		     cfg->call_slots		     ? cfg->call_slots :
						       PT_CALL_SLOTS;
	t->skel->rodata->targ_call_slot_mask = call_slots - 1;
	err = bpf_map__set_max_entries(t->skel->maps.call_slots, call_slots);
	if (err) {
		log__error("cannot size the call table: %s", strerror(-err));
		goto fail;
	}
	t->skel->rodata->targ_zero_page_on_read = cfg->zero_page_on_read;
	t->ncpus = libbpf_num_possible_cpus();
	online = t->ncpus > 0 ? calloc(t->ncpus, sizeof(*online)) : NULL;
	if (!online || read_online_cpus(online, t->ncpus)) {
		log__error("cannot tell which CPUs are online: %s",
			   t->ncpus > 0 ? "/sys/devices/system/cpu/online" :
					  strerror(-t->ncpus));
		goto fail;
	}
	t->ring_maps = ring_maps__new(online, t->ncpus, cfg->ringbuf_bytes);
	if (!t->ring_maps) {
		log__error("out of memory");
		goto fail;
	}
	t->skel->rodata->targ_ring_key = ring_maps__key(t->ring_maps);
	err = bpf_map__set_max_entries(t->skel->maps.ring_ctl, t->ncpus);
	if (!err)
		err = bpf_map__set_max_entries(t->skel->maps.ring_data,
					       ring_maps__elems(t->ring_maps));
	if (err) {
		log__error("cannot size the ring buffers: %s", strerror(-err));
		goto fail;
	}
	err = pagetrace_bpf__load(t->skel);
	if (err) {
		*exit_code = load_error(err);
		goto fail;
	}
	err = open_rings(t);
	if (err) {
		log__error("cannot set up the ring buffers: %s",
			   strerror(-err));
		goto fail;
	}
	err = pagetrace_bpf__attach(t->skel);
	if (err) {
		log__error("cannot attach to the kernel's tracepoints (%s): "
			   "rerun with -v for details",
			   strerror(-err));
		*exit_code = PT_EXIT_KERNEL;
		goto fail;
	}
	/* --light closes its faults without them (close_fault() in bpf/) */
	err = cfg->light ? 0 : attach_fault_done(t, online);
	if (err) {
		log__error("cannot open the page-fault perf events (%s): the "
			   "kernel needs CONFIG_PERF_EVENTS",
			   strerror(-err));
		*exit_code = err == -EACCES || err == -EPERM ?
				     PT_EXIT_PRIVILEGE :
				     PT_EXIT_KERNEL;
		goto fail;
	}
	free(online);
	if (cfg->site_clock && !cfg->empty_probes) {
		t->site_clock =
			site_clock__new(&t->skel->bss->site_clock, NULL, NULL);
		if (!t->site_clock)
			log__info("the TSC cannot be measured against the "
				  "clock: allocator calls are timed in the "
				  "kernel");
	}
	*exit_code = PT_EXIT_OK;
	return t;
fail:
	free(online);
	trace__free(t);
	return NULL;
}

void trace__stop_faults(struct trace *t)
{
	if (t->skel && t->skel->bss)
		t->skel->bss->detaching = 1;
}

void trace__detach(struct trace *t)
{
	size_t i;

	t->detached = true;
	/* --light's faults stop at once (see detaching in bpf/) */
	trace__stop_faults(t);
	/* uprobes first: every allocator call the target makes traps into
	 * them; links made last (the fallback's uprobes) go first */
	for (i = 0; i < t->multi_fd_count; i++)
		close(t->multi_fds[i]);
	t->multi_fd_count = 0;
	for (i = t->link_count; i-- > 0;)
		bpf_link__destroy(t->links[i]);
	t->link_count = 0;
	for (i = 0; i < t->perf_fd_count; i++)
		close(t->perf_fds[i]);
	t->perf_fd_count = 0;
	if (t->skel)
		pagetrace_bpf__detach(t->skel);
}

void trace__free(struct trace *t)
{
	if (!t)
		return;
	trace__detach(t);
	site_clock__free(t->site_clock);
	free(t->links);
	free(t->multi_fds);
	free(t->perf_fds);
	rings__free(t->rings);
	ring_maps__free(t->ring_maps);
	pagetrace_bpf__destroy(t->skel);
	free(t);
}

static int attach_multi(struct trace *t, pid_t pid, const char *path,
			enum uprobe_kind kind, const struct uprobe_spec *specs,
			size_t count)
{
	struct uprobe_multi_attr attr;
	uint64_t *offsets = calloc(count, sizeof(*offsets));
	uint64_t *cookies = calloc(count, sizeof(*cookies));
	size_t i;
	int fd, err = 0;

	if (!offsets || !cookies) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < count; i++) {
		offsets[i] = specs[i].offset;
		cookies[i] = specs[i].cookie;
	}
	memset(&attr, 0, sizeof(attr));
	attr.prog_fd = bpf_program__fd(uprobe_program(t, kind));
	attr.attach_type = ATTACH_UPROBE_MULTI;
	attr.path = (uintptr_t)path;
	attr.offsets = (uintptr_t)offsets;
	attr.cookies = (uintptr_t)cookies;
	attr.cnt = (__u32)count;
	attr.multi_flags =
		kind == UPROBE_ALLOC_RETURN ? UPROBE_MULTI_RETURN : 0;
	attr.pid = (__u32)pid;
	fd = (int)syscall(SYS_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	if (t->multi_fd_count == t->multi_fd_capacity) {
		size_t capacity =
			t->multi_fd_capacity ? t->multi_fd_capacity * 2 : 8;
		int *fds = realloc(t->multi_fds, capacity * sizeof(*fds));

		if (!fds) {
			close(fd);
			err = -ENOMEM;
			goto out;
		}
		t->multi_fds = fds;
		t->multi_fd_capacity = capacity;
	}
	t->multi_fds[t->multi_fd_count++] = fd;
out:
	free(offsets);
	free(cookies);
	return err;
}

void trace__uprobe_mark(const struct trace *t, struct trace_mark *mark)
{
	mark->links = t->link_count;
	mark->multi_fds = t->multi_fd_count;
}

void trace__uprobe_rollback(struct trace *t, const struct trace_mark *mark)
{
	while (t->multi_fd_count > mark->multi_fds)
		close(t->multi_fds[--t->multi_fd_count]);
	while (t->link_count > mark->links)
		bpf_link__destroy(t->links[--t->link_count]);
}

int trace__attach_uprobes(struct trace *t, pid_t pid, const char *path,
			  enum uprobe_kind kind,
			  const struct uprobe_spec *specs, size_t count)
{
	struct bpf_program *prog = uprobe_program(t, kind);
	size_t i;
	int err;

	if (!count)
		return 0;
	if (t->uprobe_multi)
		return attach_multi(t, pid, path, kind, specs, count);
	for (i = 0; i < count; i++) {
		LIBBPF_OPTS(bpf_uprobe_opts, opts,
			    .bpf_cookie = specs[i].cookie,
			    .retprobe = kind == UPROBE_ALLOC_RETURN);
		struct bpf_link *link = bpf_program__attach_uprobe_opts(
			prog, pid, path, specs[i].offset, &opts);

		if (!link)
			return -errno;
		err = keep_link(t, link);
		if (err) {
			bpf_link__destroy(link);
			return err;
		}
	}
	return 0;
}

int trace__epoll_fd(const struct trace *t)
{
	return rings__epoll_fd(t->rings);
}

long trace__drain(struct trace *t)
{
	uint64_t now;

	if (rings__draining(t->rings))
		return 0;
	now = procfs__now_ns();
	/* while probes may still read the figures */
	if (t->site_clock && !t->detached)
		site_clock__refresh(t->site_clock, now);
	/* the rings' positions are read once RINGS_SETTLE_NS have passed:
	 * 20 us, a spin costs less than a sleep that long */
	while (procfs__now_ns() - now < RINGS_SETTLE_NS)
		;
	return rings__drain(t->rings, now);
}

const struct site_clock *trace__site_clock(const struct trace *t)
{
	return t->site_clock;
}

bool trace__drain_blocked(const struct trace *t)
{
	return rings__blocked(t->rings);
}

long trace__drain_through(struct trace *t)
{
	const struct timespec pause = { .tv_nsec = 1000000 };
	long handed = trace__drain(t);
	int tries = 100;

	while (rings__blocked(t->rings) && tries-- > 0) {
		nanosleep(&pause, NULL);
		handed += trace__drain(t);
	}
	return handed;
}

bool trace__draining(const struct trace *t)
{
	return rings__draining(t->rings);
}
