/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The path of a mapped file, walked up its dentries and mounts.
 * Part of pagetrace.bpf.c, included there: it uses the maps, the
 * thread state and the helpers defined before it.
 */

#define PATH_DEPTH 16 /* directories followed up from a mapped file */

/* room for a component read at any offset below PT_PATH_MAX */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, char[2 * PT_PATH_MAX]);
} path_scratch SEC(".maps");

static __always_inline struct mount *mount_of(struct vfsmount *vfs)
{
	return (struct mount *)((void *)vfs -
				bpf_core_field_offset(struct mount, mnt));
}

struct path_walk {
	struct dentry *dentry;
	struct mount *mnt;
	const unsigned char *names[PATH_DEPTH]; /* leaf first */
	__u32 depth;
	__u32 complete; /* the walk reached the root */
};

/* One step up from walk->dentry (a bpf_loop callback: verified once). */
static long path_step(__u32 index, struct path_walk *walk)
{
	/* locals: CO-RE reads go through kernel types only */
	struct dentry *dentry = walk->dentry, *parent;
	struct mount *mnt = walk->mnt, *up;

	if (dentry == BPF_CORE_READ(mnt, mnt.mnt_root)) {
		/* the top of a mount: go on from where it is mounted */
		up = BPF_CORE_READ(mnt, mnt_parent);
		if (up == mnt) {
			walk->complete = 1;
			return 1;
		}
		walk->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		walk->mnt = up;
		return 0;
	}
	parent = BPF_CORE_READ(dentry, d_parent);
	if (parent == dentry) {
		walk->complete = 1;
		return 1;
	}
	if (walk->depth >= PATH_DEPTH)
		return 1;
	walk->names[walk->depth & (PATH_DEPTH - 1)] =
		BPF_CORE_READ(dentry, d_name.name);
	walk->depth++;
	walk->dentry = parent;
	return 0;
}

/*
 * The path of a mapped file, from the root of the task's mount tree, so
 * that user space can open it after the mapping is gone (dlclose) and the
 * process too. The walk is bounded: a path deeper than PATH_DEPTH or
 * longer than PT_PATH_MAX leaves the file's own name alone.
 */
static __always_inline void file_path(struct file *file, char *out)
{
	struct path_walk walk = {
		.dentry = BPF_CORE_READ(file, f_path.dentry),
		.mnt = mount_of(BPF_CORE_READ(file, f_path.mnt)),
	};
	__u32 zero = 0, off = 0;
	bool complete;
	char *buf;
	int i;

	out[0] = '\0';
	bpf_loop(2 * PATH_DEPTH, path_step, &walk, 0);
	if (!walk.depth) {
		/* the file is a mount's root (a bind-mounted file) */
		bpf_probe_read_kernel_str(
			out, PT_PATH_MAX,
			BPF_CORE_READ(file, f_path.dentry, d_name.name));
		return;
	}
	buf = bpf_map_lookup_elem(&path_scratch, &zero);
	if (!buf)
		return;
	complete = walk.complete;
	if (complete) {
#pragma unroll
		for (i = PATH_DEPTH - 1; i >= 0; i--) {
			long n;

			if ((__u32)i >= walk.depth)
				continue;
			if (off >= PT_PATH_MAX - 1) {
				complete = false;
				break;
			}
			/* the masks must stay for the verifier to see each
			 * access inside the scratch: hide off's range */
			barrier_var(off);
			buf[off & (PT_PATH_MAX - 1)] = '/';
			off++;
			barrier_var(off);
			n = bpf_probe_read_kernel_str(
				&buf[off & (PT_PATH_MAX - 1)], PT_PATH_MAX,
				walk.names[i]);
			if (n <= 0) {
				complete = false;
				break;
			}
			off += n - 1;
		}
	}
	if (!complete || off >= PT_PATH_MAX) {
		bpf_probe_read_kernel_str(out, PT_PATH_MAX, walk.names[0]);
		return;
	}
	bpf_probe_read_kernel(out, PT_PATH_MAX, buf);
	out[PT_PATH_MAX - 1] = '\0';
}

/* The file behind descriptor fd of the current task. */
static __always_inline struct file *fd_file(int fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct file **fds = BPF_CORE_READ(task, files, fdt, fd);
	unsigned int max_fds = BPF_CORE_READ(task, files, fdt, max_fds);
	struct file *file = NULL;

	if (fd < 0 || (unsigned int)fd >= max_fds ||
	    bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]))
		return NULL;
	return file;
}
