// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/btf.h>
#include "exitcode.h"
#include "kernel.h"
#include "log.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

#define PM_PRESENT (1ULL << 63)
#define PM_EXCLUSIVE (1ULL << 56)

static const struct {
	int cap;
	const char *name;
} needed_caps[] = {
	{ CAP_BPF, "CAP_BPF" },
	{ CAP_PERFMON, "CAP_PERFMON" },
	{ CAP_SYS_PTRACE, "CAP_SYS_PTRACE" },
	{ CAP_SYS_ADMIN, "CAP_SYS_ADMIN" },
};

void kernel__missing_caps(char *buf, size_t size)
{
	struct __user_cap_header_struct header = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2] = { 0 };
	size_t used = 0, i;

	buf[0] = '\0';
	if (syscall(SYS_capget, &header, data)) {
		snprintf(buf, size, "capabilities unreadable");
		return;
	}
	for (i = 0; i < sizeof(needed_caps) / sizeof(needed_caps[0]); i++) {
		int cap = needed_caps[i].cap;

		if (data[cap / 32].effective & (1U << (cap % 32)))
			continue;
		used += snprintf(buf + used, used < size ? size - used : 0,
				 "%s%s", used ? ", " : "", needed_caps[i].name);
	}
}

const char *kernel__btf_path(void)
{
	const char *path = getenv("PAGETRACE_KERNEL_BTF");

	return path && *path ? path : "/sys/kernel/btf/vmlinux";
}

int kernel__check_btf(void)
{
	/* the tracepoints pagetrace attaches to, as the BTF names them */
	static const char *const tracepoints[] = {
		"page_fault_user",    "page_fault_kernel",
		"mm_page_alloc",      "rss_stat",
		"sys_enter",	      "sys_exit",
		"sched_process_exec", "sched_process_fork",
		"sched_process_exit",
	};
	const char *path = kernel__btf_path();
	struct btf *btf;
	size_t i;

	if (access(path, R_OK)) {
		log__error("no kernel BTF at %s (%s): pagetrace needs a kernel "
			   "built with CONFIG_DEBUG_INFO_BTF=y",
			   path, strerror(errno));
		return PT_EXIT_KERNEL;
	}
	btf = btf__parse(path, NULL);
	if (!btf) {
		log__error("cannot read kernel BTF %s (%s): pagetrace needs a "
			   "kernel built with CONFIG_DEBUG_INFO_BTF=y",
			   path, strerror(errno));
		return PT_EXIT_KERNEL;
	}
	for (i = 0; i < sizeof(tracepoints) / sizeof(tracepoints[0]); i++) {
		char name[64];

		snprintf(name, sizeof(name), "btf_trace_%s", tracepoints[i]);
		if (btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF) < 0) {
			log__error(
				"this kernel has no %s tracepoint (not in %s): "
				"pagetrace needs an x86_64 kernel with "
				"tracepoints for page faults, kmem, syscalls "
				"and sched",
				tracepoints[i], path);
			btf__free(btf);
			return PT_EXIT_KERNEL;
		}
	}
	btf__free(btf);
	return 0;
}

static void read_word(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	char line[256], *open, *close;

	buf[0] = '\0';
	if (!f)
		return;
	if (fgets(line, sizeof(line), f)) {
		/* "always [madvise] never": the bracketed word is the setting
		 */
		open = strchr(line, '[');
		close = open ? strchr(open, ']') : NULL;
		if (open && close) {
			*close = '\0';
			snprintf(buf, size, "%.*s", (int)size - 1, open + 1);
		} else {
			line[strcspn(line, "\n")] = '\0';
			snprintf(buf, size, "%.*s", (int)size - 1, line);
		}
	}
	fclose(f);
}

/* Read a fresh anonymous page and see whether the zero page backs it. */
static void probe_zero_page(struct kernel_facts *kf)
{
	long page_size = sysconf(_SC_PAGESIZE);
	volatile char *page;
	uint64_t entry;
	char sink;
	int fd;

	page = mmap(NULL, page_size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		return;
	sink = page[0];
	(void)sink;
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd >= 0 &&
	    pread(fd, &entry, sizeof(entry),
		  (uintptr_t)page / page_size * sizeof(entry)) ==
		    sizeof(entry) &&
	    (entry & PM_PRESENT)) {
		kf->zero_page_known = true;
		/* the zero page is never exclusively mapped */
		kf->zero_page_on_read = !(entry & PM_EXCLUSIVE);
	}
	if (fd >= 0)
		close(fd);
	munmap((void *)page, page_size);
}

void kernel__probe_facts(struct kernel_facts *kf)
{
	char value[16];

	memset(kf, 0, sizeof(*kf));
	probe_zero_page(kf);
	read_word("/sys/kernel/mm/transparent_hugepage/enabled",
		  kf->thp_enabled, sizeof(kf->thp_enabled));
	read_word("/sys/kernel/mm/transparent_hugepage/use_zero_page", value,
		  sizeof(value));
	kf->thp_use_zero_page = value[0] == '1';
	/* a paravirtual kernel can switch the zero page off */
	read_word("/sys/module/kernel/parameters/pvm_no_zero_page", value,
		  sizeof(value));
	if (value[0] == 'Y' || value[0] == '1')
		snprintf(kf->why_no_zero_page, sizeof(kf->why_no_zero_page),
			 "pvm_no_zero_page=1");
}

bool kernel__target_thp_allowed(pid_t target)
{
	char path[64], line[256];
	bool allowed = true;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", target);
	f = fopen(path, "re");
	if (!f)
		return true;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "THP_enabled:", 12))
			allowed = atoi(line + 12) != 0;
	}
	fclose(f);
	return allowed;
}
