// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "mappings.h"
#include "procfs.h"

#define PAGE_MASK_4K (~(uint64_t)4095)

struct interned {
	struct interned *next;
	char name[];
};

struct mappings {
	pid_t pid;
	struct mapping *items; /* sorted by start, disjoint */
	size_t count;
	size_t capacity;
	uint64_t start_brk; /* 0 until known */
	uint64_t last_reload_ns;
	struct interned *names;
	uint64_t generation; /* bumped at every change of items */
};

struct mappings *mappings__new(pid_t pid)
{
	struct mappings *m = calloc(1, sizeof(*m));

	if (m)
		m->pid = pid;
	return m;
}

void mappings__free(struct mappings *m)
{
	struct interned *n, *next;

	if (!m)
		return;
	for (n = m->names; n; n = next) {
		next = n->next;
		free(n);
	}
	free(m->items);
	free(m);
}

const char *mappings__intern(struct mappings *m, const char *name)
{
	struct interned *n;
	size_t len = strlen(name);

	/* few distinct names (one per file, a few kinds): a list will do */
	for (n = m->names; n; n = n->next)
		if (!strcmp(n->name, name))
			return n->name;
	n = malloc(sizeof(*n) + len + 1);
	if (!n)
		return "[?]";
	memcpy(n->name, name, len + 1);
	n->next = m->names;
	m->names = n;
	return n->name;
}

const char *mappings__base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* index of the first mapping whose end is above addr */
static size_t lower_index(const struct mappings *m, uint64_t addr)
{
	size_t lo = 0, hi = m->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->items[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct mapping *mappings__find(const struct mappings *m, uint64_t addr)
{
	size_t i = lower_index(m, addr);

	if (i < m->count && m->items[i].start <= addr)
		return &m->items[i];
	return NULL;
}

const struct mapping *mappings__at(const struct mappings *m, size_t index)
{
	return index < m->count ? &m->items[index] : NULL;
}

size_t mappings__count(const struct mappings *m)
{
	return m->count;
}

uint64_t mappings__generation(const struct mappings *m)
{
	return m->generation;
}

static int insert_at(struct mappings *m, size_t i, const struct mapping *map)
{
	if (m->count == m->capacity) {
		size_t capacity = m->capacity ? m->capacity * 2 : 64;
		struct mapping *items =
			realloc(m->items, capacity * sizeof(*items));

		if (!items)
			return -ENOMEM;
		m->items = items;
		m->capacity = capacity;
	}
	memmove(&m->items[i + 1], &m->items[i],
		(m->count - i) * sizeof(*m->items));
	m->items[i] = *map;
	m->count++;
	m->generation++;
	return 0;
}

/* make addr a mapping boundary if it falls inside one */
static int split_at(struct mappings *m, uint64_t addr)
{
	size_t i = lower_index(m, addr);
	struct mapping upper;

	if (i >= m->count || m->items[i].start >= addr)
		return 0;
	upper = m->items[i];
	upper.start = addr;
	upper.offset += addr - m->items[i].start;
	m->items[i].end = addr;
	m->generation++;
	return insert_at(m, i + 1, &upper);
}

/* indexes [*first, *last) of the mappings inside [start, end) after split */
static int isolate(struct mappings *m, uint64_t start, uint64_t end,
		   size_t *first, size_t *last)
{
	int err = split_at(m, start);

	if (!err)
		err = split_at(m, end);
	if (err)
		return err;
	*first = lower_index(m, start);
	*last = lower_index(m, end);
	return 0;
}

int mappings__unmap(struct mappings *m, uint64_t start, uint64_t end)
{
	size_t first, last;
	int err;

	if (start >= end)
		return 0;
	err = isolate(m, start, end, &first, &last);
	if (err)
		return err;
	memmove(&m->items[first], &m->items[last],
		(m->count - last) * sizeof(*m->items));
	m->count -= last - first;
	m->generation++;
	return 0;
}

int mappings__map(struct mappings *m, const struct mapping *map)
{
	int err = mappings__unmap(m, map->start, map->end);

	if (err)
		return err;
	return insert_at(m, lower_index(m, map->start), map);
}

int mappings__remap(struct mappings *m, uint64_t old_start, uint64_t old_len,
		    uint64_t new_start, uint64_t new_len)
{
	const struct mapping *old = mappings__find(m, old_start);
	struct mapping moved;
	int err;

	if (!old) {
		moved = (struct mapping){ .kind = MAPPING_ANON,
					  .name = mappings__intern(m, "[anon]"),
					  .prot = PROT_READ | PROT_WRITE };
	} else {
		moved = *old;
		moved.offset += old_start - old->start;
	}
	err = mappings__unmap(m, old_start, old_start + old_len);
	if (err)
		return err;
	moved.start = new_start;
	moved.end = new_start + new_len;
	return mappings__map(m, &moved);
}

int mappings__protect(struct mappings *m, uint64_t start, uint64_t end,
		      uint32_t prot)
{
	size_t first, last, i;
	int err = isolate(m, start, end, &first, &last);

	for (i = first; !err && i < last; i++)
		m->items[i].prot = prot;
	m->generation++;
	return err;
}

int mappings__set_flags(struct mappings *m, uint64_t start, uint64_t end,
			uint32_t set, uint32_t clear)
{
	size_t first, last, i;
	int err = isolate(m, start, end, &first, &last);

	for (i = first; !err && i < last; i++)
		m->items[i].flags = (m->items[i].flags & ~clear) | set;
	m->generation++;
	return err;
}

int mappings__set_brk(struct mappings *m, uint64_t new_brk)
{
	uint64_t end = (new_brk + 4095) & PAGE_MASK_4K;
	struct mapping heap = {
		.prot = PROT_READ | PROT_WRITE,
		.kind = MAPPING_HEAP,
	};
	size_t i;
	int err;

	if (!m->start_brk) {
		/* the first brk(0) of a new program answers its start */
		m->start_brk = new_brk;
	}
	heap.start = m->start_brk;
	heap.name = mappings__intern(m, "[heap]");
	/* drop the old heap extent, then lay down the new one */
	for (i = 0; i < m->count; i++) {
		if (m->items[i].kind == MAPPING_HEAP) {
			err = mappings__unmap(m, m->items[i].start,
					      m->items[i].end);
			if (err)
				return err;
			i--;
		}
	}
	if (end <= heap.start)
		return 0;
	heap.end = end;
	return mappings__map(m, &heap);
}

static enum mapping_kind kind_of_name(const char *name, bool shared)
{
	if (!*name)
		return shared ? MAPPING_SHMEM : MAPPING_ANON;
	if (!strcmp(name, "[heap]"))
		return MAPPING_HEAP;
	if (!strcmp(name, "[stack]"))
		return MAPPING_STACK;
	if (name[0] == '[')
		return MAPPING_SPECIAL;
	if (!strncmp(name, "/dev/zero", 9) || !strncmp(name, "/SYSV", 5))
		return MAPPING_SHMEM;
	return MAPPING_FILE;
}

bool mappings__parse_line(struct mappings *m, const char *line,
			  struct mapping *out)
{
	char perms[8] = "";
	unsigned long long start, end, offset, inode;
	int name_at = 0;
	const char *name;
	size_t len;

	if (sscanf(line, "%llx-%llx %7s %llx %*x:%*x %llu %n", &start, &end,
		   perms, &offset, &inode, &name_at) < 5 ||
	    !name_at)
		return false;
	name = line + name_at;
	len = strcspn(name, "\n");
	memset(out, 0, sizeof(*out));
	out->start = start;
	out->end = end;
	out->offset = offset;
	out->prot = (perms[0] == 'r' ? PROT_READ : 0) |
		    (perms[1] == 'w' ? PROT_WRITE : 0) |
		    (perms[2] == 'x' ? PROT_EXEC : 0);
	out->flags = perms[3] == 's' ? MAPPING_SHARED : 0;
	{
		char buf[PATH_MAX];

		if (len >= sizeof(buf))
			len = sizeof(buf) - 1;
		memcpy(buf, name, len);
		buf[len] = '\0';
		out->kind = kind_of_name(buf, out->flags & MAPPING_SHARED);
		if (!len)
			out->name = mappings__intern(
				m, out->kind == MAPPING_SHMEM ? "[shmem]" :
								"[anon]");
		else
			out->name = mappings__intern(m, buf);
	}
	return true;
}

/* Read /proc/PID/maps: replace everything, or only fill the holes. */
static int read_proc_maps(struct mappings *m, bool replace)
{
	char path[64], *line = NULL;
	size_t line_size = 0;
	struct mapping map;
	FILE *f;
	int err = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", m->pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (replace) {
		m->count = 0;
		m->generation++;
		m->start_brk = procfs__stat_number(m->pid, 47); /* start_brk */
	}
	while (!err && getline(&line, &line_size, f) > 0) {
		if (!mappings__parse_line(m, line, &map))
			continue;
		if (replace)
			err = insert_at(m, m->count, &map);
		else if (lower_index(m, map.start) == m->count ||
			 m->items[lower_index(m, map.start)].start >= map.end)
			err = insert_at(m, lower_index(m, map.start), &map);
	}
	free(line);
	fclose(f);
	return err;
}

int mappings__load(struct mappings *m)
{
	return read_proc_maps(m, true);
}

const struct mapping *mappings__lookup(struct mappings *m, uint64_t addr)
{
	const struct mapping *map = mappings__find(m, addr);
	uint64_t now;

	if (map || !m->pid)
		return map;
	now = procfs__now_ns();
	if (now - m->last_reload_ns < 100000000ULL)
		return NULL;
	m->last_reload_ns = now;
	/*
	 * /proc shows the process as it is now, ahead of the events still
	 * being read: take from it only what nothing known covers.
	 */
	if (read_proc_maps(m, false))
		return NULL;
	return mappings__find(m, addr);
}

const char *mappings__file_name(struct mappings *m, uint64_t addr)
{
	char path[PATH_MAX], *line = NULL;
	const char *name = NULL;
	size_t line_size = 0;
	struct mapping map;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", m->pid);
	f = fopen(path, "re");
	if (!f)
		return NULL;
	while (getline(&line, &line_size, f) > 0) {
		if (!mappings__parse_line(m, line, &map))
			continue;
		if (map.start <= addr && addr < map.end) {
			if (map.kind == MAPPING_FILE)
				name = map.name;
			break;
		}
	}
	free(line);
	fclose(f);
	return name;
}
