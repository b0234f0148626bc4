// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel side's maps and globals, read and written while tracing:
 * user stacks, --light's counts, framed instructions, lost records, the
 * flags user space sets, the benchmark producer.
 */
#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "pagetrace.h"
#include "pagetrace.skel.h"
#include "trace.h"
#include "trace_internal.h"

void trace__set_hold(struct trace *t, bool enabled)
{
	t->skel->bss->hold_enabled = enabled;
}

void trace__set_free_site_clock(struct trace *t, bool stamped)
{
	t->skel->bss->free_site_clock = stamped;
}

int trace__bench_produce(struct trace *t, struct pt_bench_produce *args)
{
	LIBBPF_OPTS(bpf_test_run_opts, run, .ctx_in = args,
		    .ctx_size_in = sizeof(*args));
	int fd = bpf_program__fd(t->skel->progs.bench_produce);

	if (fd < 0)
		return -ENOENT;
	if (bpf_prog_test_run_opts(fd, &run))
		return -errno;
	return run.retval ? -E2BIG : 0;
}

size_t trace__stack_depth(const struct trace *t)
{
	return t->stack_depth;
}

size_t trace__stack(const struct trace *t, int32_t id, uint64_t *ips,
		    size_t max)
{
	uint64_t frames[PT_STACK_MAX_DEPTH] = { 0 };
	uint32_t key = (uint32_t)id;
	size_t n;

	if (id < 0 ||
	    bpf_map__lookup_elem(t->skel->maps.stacks, &key, sizeof(key),
				 frames, t->stack_depth * sizeof(uint64_t), 0))
		return 0;
	for (n = 0; n < max && n < t->stack_depth && frames[n]; n++)
		ips[n] = frames[n];
	return n;
}

int trace__granules(struct trace *t, trace_granule_fn fn, void *ctx)
{
	struct pt_granule pages;
	uint64_t key, next;
	void *prev = NULL;
	int fd = bpf_map__fd(t->skel->maps.granules);

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (!bpf_map_lookup_elem(fd, &key, &pages))
			fn(ctx, key, &pages);
	}
	return errno == ENOENT ? 0 : -errno;
}

int trace__fault_sites(struct trace *t, trace_fault_site_fn fn, void *ctx)
{
	struct pt_fault_site_key key, next;
	struct pt_fault_site site;
	void *prev = NULL;
	int fd = bpf_map__fd(t->skel->maps.fault_sites);

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (!bpf_map_lookup_elem(fd, &key, &site))
			fn(ctx, &key, &site);
	}
	return errno == ENOENT ? 0 : -errno;
}

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL /* Linux 6.9: a pidfd for any thread */
#endif

/* The end of thread tid's state (struct pt_thread_tail): 1, or 0 if it
 * has none (or is gone), or -errno if it cannot be read. */
static int thread_tail(int fd, pid_t tgid, pid_t tid, void *state,
		       size_t state_size, struct pt_thread_tail *tail)
{
	int pidfd, err;

	pidfd = (int)syscall(SYS_pidfd_open, tid,
			     tid == tgid ? 0 : PIDFD_THREAD);
	if (pidfd < 0)
		return errno == ESRCH ? 0 : -errno;
	err = bpf_map_lookup_elem(fd, &pidfd, state);
	close(pidfd);
	if (err)
		return 0;
	memcpy(tail, (char *)state + state_size - sizeof(*tail), sizeof(*tail));
	return 1;
}

bool trace__exited_late(struct trace *t, uint32_t tid)
{
	__u8 seen;

	return !bpf_map__lookup_elem(t->skel->maps.late_exits, &tid,
				     sizeof(tid), &seen, sizeof(seen), 0);
}

int trace__thread_tails(struct trace *t, trace_thread_tail_fn fn, void *ctx)
{
	pid_t tgid = (pid_t)t->skel->rodata->targ_tgid;
	struct bpf_map *map = t->skel->maps.threads;
	struct pt_thread_tail tail;
	int read, err = 0;
	char path[64];
	struct dirent *d;
	size_t size;
	void *state;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", tgid);
	dir = opendir(path);
	if (!dir)
		return 0; /* gone: its threads' tails went at their exits */
	size = bpf_map__value_size(map);
	if (size < sizeof(tail)) {
		closedir(dir);
		return -EINVAL;
	}
	state = calloc(1, size);
	if (!state) {
		closedir(dir);
		return -ENOMEM;
	}
	while ((d = readdir(dir))) {
		pid_t tid = (pid_t)atoi(d->d_name);

		if (tid <= 0)
			continue;
		read = thread_tail(bpf_map__fd(map), tgid, tid, state, size,
				   &tail);
		if (read > 0)
			fn(ctx, (uint32_t)tid, &tail);
		else if (read < 0 && !err)
			err = read; /* before Linux 6.9: threads have no pidfd
				     */
	}
	free(state);
	closedir(dir);
	return err;
}

const struct pt_release_log *trace__release_log(struct trace *t)
{
	return &t->skel->bss->release_log;
}

int trace__note_framed_ip(struct trace *t, uint64_t ip)
{
	uint8_t one = 1;

	if (bpf_map_update_elem(bpf_map__fd(t->skel->maps.framed_ips), &ip,
				&one, BPF_ANY))
		return -errno;
	return 0;
}

void trace__forget_framed_ips(struct trace *t)
{
	int fd = bpf_map__fd(t->skel->maps.framed_ips);
	uint64_t key;

	/* each deleted key is the first again: no iterator to invalidate */
	while (!bpf_map_get_next_key(fd, NULL, &key))
		if (bpf_map_delete_elem(fd, &key))
			break;
}

void trace__lost(const struct trace *t, uint64_t *lost, size_t count)
{
	uint64_t *per_cpu = calloc(t->ncpus, sizeof(*per_cpu));
	uint32_t key;
	int cpu;

	memset(lost, 0, count * sizeof(*lost));
	if (!per_cpu)
		return;
	for (key = 0; key < count && key < PT_LOST__COUNT; key++) {
		if (bpf_map__lookup_elem(t->skel->maps.lost, &key, sizeof(key),
					 per_cpu, sizeof(*per_cpu) * t->ncpus,
					 0))
			continue;
		for (cpu = 0; cpu < t->ncpus; cpu++)
			lost[key] += per_cpu[cpu];
	}
	free(per_cpu);
}
