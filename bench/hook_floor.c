// SPDX-License-Identifier: GPL-2.0
/*
 * What a page fault pays for each hook that sees it, whatever runs there:
 * empty programs (bpf/hook_floor.bpf.c) on the attach points named, then
 * the command, then nothing. The attach points are pagetrace's: --light
 * runs page_fault_user, mm_page_alloc and rss_stat on a first touch; the
 * default mode also the page-faults-min/maj events (fault_done, one per
 * CPU and kind, every process's faults). bench/run.sh runs it under
 * bench/ab.sh, which puts "-o FILE" before the "--": taken and unused.
 *
 *   hook_floor HOOK[,HOOK...] [-o FILE] -- COMMAND [ARG...]
 *
 * HOOK: fault_user, rss_stat, page_alloc, fault_done. Exits with the
 * command's status; 64 on bad usage, 70 if the programs would not attach.
 * Needs root (BPF).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "hook_floor.skel.h"

#define EXIT_USAGE 64
#define EXIT_ATTACH 70
#define MAX_LINKS 1024

struct hook_set {
	struct hook_floor_bpf *skel;
	struct bpf_link *links[MAX_LINKS];
	int perf_fds[MAX_LINKS];
	int link_count;
	int perf_fd_count;
};

static const char *const hook_names[] = {
	"fault_user",
	"rss_stat",
	"page_alloc",
	"fault_done",
};

#define HOOK_COUNT (sizeof(hook_names) / sizeof(hook_names[0]))

/* The hooks a comma-separated list names, as bits; -1 on a name not known. */
static int parse_hooks(const char *list)
{
	char *copy = strdup(list), *save = NULL, *name;
	int mask = 0;
	size_t i;

	if (!copy)
		return -1;
	for (name = strtok_r(copy, ",", &save); name;
	     name = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < HOOK_COUNT; i++)
			if (!strcmp(name, hook_names[i]))
				break;
		if (i == HOOK_COUNT) {
			fprintf(stderr,
				"hook_floor: no hook '%s' (%s|%s|%s|%s)\n",
				name, hook_names[0], hook_names[1],
				hook_names[2], hook_names[3]);
			free(copy);
			return -1;
		}
		mask |= 1 << i;
	}
	free(copy);
	return mask;
}

static int keep(struct hook_set *set, struct bpf_link *link)
{
	if (!link)
		return -errno;
	if (set->link_count == MAX_LINKS) {
		bpf_link__destroy(link);
		return -E2BIG;
	}
	set->links[set->link_count++] = link;
	return 0;
}

/* fault_done as pagetrace attaches it: a sampled page-faults-min and
 * page-faults-maj event on every CPU, for every process. */
static int attach_fault_done(struct hook_set *set)
{
	static const unsigned long long kinds[] = {
		PERF_COUNT_SW_PAGE_FAULTS_MIN,
		PERF_COUNT_SW_PAGE_FAULTS_MAJ,
	};
	int cpus = libbpf_num_possible_cpus(), cpu, err;
	size_t k;

	for (cpu = 0; cpu < cpus; cpu++) {
		for (k = 0; k < 2; k++) {
			struct perf_event_attr attr = {
				.type = PERF_TYPE_SOFTWARE,
				.size = sizeof(attr),
				.config = kinds[k],
				.sample_period = 1,
			};
			int fd = syscall(SYS_perf_event_open, &attr, -1, cpu,
					 -1, PERF_FLAG_FD_CLOEXEC);

			if (fd < 0) {
				if (errno == ENODEV)
					continue; /* a CPU offline */
				return -errno;
			}
			if (set->perf_fd_count == MAX_LINKS) {
				close(fd);
				return -E2BIG;
			}
			set->perf_fds[set->perf_fd_count++] = fd;
			err = keep(
				set,
				bpf_program__attach_perf_event(
					set->skel->progs.hook_fault_done, fd));
			if (err)
				return err;
		}
	}
	return 0;
}

static int hook_set__attach(struct hook_set *set, int mask)
{
	struct bpf_program *tps[] = {
		set->skel->progs.hook_fault_user,
		set->skel->progs.hook_rss_stat,
		set->skel->progs.hook_page_alloc,
	};
	size_t i;
	int err;

	for (i = 0; i < sizeof(tps) / sizeof(tps[0]); i++)
		bpf_program__set_autoload(tps[i], mask & (1 << i));
	bpf_program__set_autoload(set->skel->progs.hook_fault_done, mask & 8);
	err = hook_floor_bpf__load(set->skel);
	if (err)
		return err;
	for (i = 0; i < sizeof(tps) / sizeof(tps[0]); i++) {
		if (!(mask & (1 << i)))
			continue;
		err = keep(set, bpf_program__attach(tps[i]));
		if (err)
			return err;
	}
	return mask & 8 ? attach_fault_done(set) : 0;
}

static void hook_set__detach(struct hook_set *set)
{
	int i;

	for (i = 0; i < set->link_count; i++)
		bpf_link__destroy(set->links[i]);
	for (i = 0; i < set->perf_fd_count; i++)
		close(set->perf_fds[i]);
	set->link_count = 0;
	set->perf_fd_count = 0;
}

/* The command, started but held until the hooks are on: its first
 * instruction runs with them. */
static pid_t start_held(char **argv, int *release_fd)
{
	int go[2];
	pid_t pid;
	char byte;

	if (pipe2(go, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(go[1]);
		if (read(go[0], &byte, 1) != 1)
			_exit(EXIT_ATTACH); /* the hooks never came */
		execvp(argv[0], argv);
		fprintf(stderr, "hook_floor: %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	close(go[0]);
	*release_fd = go[1];
	return pid;
}

static int usage(void)
{
	fprintf(stderr, "usage: hook_floor HOOK[,HOOK...] [-o FILE] -- "
			"COMMAND [ARG...]\n");
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	struct hook_set set = {};
	int mask, argi = 2, release_fd = -1, status = 0, err;
	pid_t pid;

	if (argc < 4)
		return usage();
	mask = parse_hooks(argv[1]);
	if (mask < 0)
		return EXIT_USAGE;
	if (argi + 1 < argc && !strcmp(argv[argi], "-o"))
		argi += 2;
	if (argi >= argc || strcmp(argv[argi], "--") || argi + 1 >= argc)
		return usage();
	set.skel = hook_floor_bpf__open();
	if (!set.skel) {
		fprintf(stderr, "hook_floor: cannot open the BPF object: %s\n",
			strerror(errno));
		return EXIT_ATTACH;
	}
	pid = start_held(argv + argi + 1, &release_fd);
	if (pid < 0) {
		fprintf(stderr, "hook_floor: cannot start %s: %s\n",
			argv[argi + 1], strerror(errno));
		hook_floor_bpf__destroy(set.skel);
		return EXIT_ATTACH;
	}
	err = hook_set__attach(&set, mask);
	if (err) {
		fprintf(stderr,
			"hook_floor: cannot attach (%s): run as root on a "
			"kernel with BTF\n",
			strerror(-err));
		close(release_fd); /* the command ends unrun */
		waitpid(pid, NULL, 0);
		hook_set__detach(&set);
		hook_floor_bpf__destroy(set.skel);
		return EXIT_ATTACH;
	}
	if (write(release_fd, "", 1) != 1)
		kill(pid, SIGKILL);
	close(release_fd);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	hook_set__detach(&set);
	hook_floor_bpf__destroy(set.skel);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
