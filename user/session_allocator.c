// SPDX-License-Identifier: GPL-2.0
/*
 * A session's allocator: finding glibc's malloc in the target's mappings
 * (at start, after the loader mapped it, after an exec) and probing it,
 * or, with --light, only naming it.
 */
#include "allocator.h"
#include "light.h"
#include "log.h"
#include "mappings.h"
#include "opts.h"
#include "session_internal.h"
#include "symbols.h"
#include "target.h"
#include "trace.h"

static void warn_interposers(const struct allocator *a)
{
	size_t i;

	for (i = 0; i < allocator__interposer_count(a); i++)
		log__warn("%s defines its own malloc: calls that reach it are "
			  "not traced (faults and syscalls still are)",
			  allocator__interposer(a, i));
}

/* Probe allocator a (taken over): 1, or < 0 if the probes failed. */
static int use_allocator(struct session *s, struct allocator *a)
{
	int err;

	if (s->light) {
		/* known, not probed: its frames are skipped in stacks */
		allocator__free(s->allocator);
		s->allocator = a;
		s->fault_module = 0; /* asked again of the new one */
		s->info.allocator = allocator__path(a);
		light__set_allocator(
			s->light,
			mappings__intern(s->maps, allocator__path(a)));
		log__info("--light: no probes on %s; its big blocks are "
			  "followed by their mappings",
			  allocator__path(a));
		return 1;
	}
	if (s->opts->probes_at_symbols)
		allocator__probe_at_symbols(a);
	if (s->opts->events)
		allocator__probe_entries(a);
	if (trace__site_clock(s->trace))
		allocator__use_site_clock(a);
	/* after an exec: the last program's probes may sit on the same file
	 * (pagetrace-preload.so, or glibc), where both would report a call */
	if (s->allocator)
		allocator__detach(s->allocator, s->trace);
	err = allocator__attach(a, s->trace);

	if (err) {
		allocator__free(a);
		return err;
	}
	warn_interposers(a);
	allocator__free(s->allocator);
	s->allocator = a;
	s->fault_module = 0; /* asked again of the new one */
	s->info.allocator = allocator__path(a);
	s->info.allocator_probes = allocator__uses_sites(a)   ? "preload" :
				   s->opts->probes_at_symbols ? "symbols" :
								"placed";
	log__info("allocator probes on %s (%s)", allocator__path(a),
		  s->info.allocator_probes);
	/* kept past an exec into a program without the sites: the calls
	 * before it were timed there */
	if (allocator__site_clock(a))
		s->info.site_clock = trace__site_clock(s->trace);
	return 1;
}

/* 1 once glibc's allocator is probed, 0 if the mappings hold none (yet),
 * < 0 if the probes failed. */
int sess_attach_allocator(struct session *s)
{
	struct allocator *a = allocator__find(target__pid(s->target), s->maps);

	return a ? use_allocator(s, a) : 0;
}

void sess_warn_no_allocator(struct session *s)
{
	char other[256];

	if (allocator__find_other(target__pid(s->target), s->maps, other,
				  sizeof(other)))
		log__warn("process %d allocates with %s, not glibc: allocation "
			  "calls are not traced (faults and syscalls are)",
			  target__pid(s->target), other);
	else
		log__warn("process %d has no glibc malloc (statically linked, "
			  "or another libc): allocation calls are not traced "
			  "(faults and syscalls are)",
			  target__pid(s->target));
}

/* The loader mapped code: is glibc there yet? */
int sess_on_loader_mapped(void *ctx)
{
	struct session *s = ctx;

	if (mappings__load(s->maps))
		return 0;
	symbols__note_code(s->symbols, s->maps);
	return sess_attach_allocator(s);
}

/* After an exec, the new image may map a different glibc: the event-
 * driven mappings tell, as soon as it maps executable code. */
void sess_recheck_allocator(struct session *s)
{
	struct allocator *a = allocator__find(target__pid(s->target), s->maps);

	if (!a)
		return;
	s->check_allocator = false;
	/* the same glibc, probed the same way (an image started without
	 * the preload, setuid say, needs probes in glibc) */
	if (s->allocator &&
	    allocator__same_file(s->allocator, target__pid(s->target),
				 allocator__path(a)) &&
	    allocator__uses_sites(s->allocator) == allocator__uses_sites(a)) {
		allocator__free(a);
		return;
	}
	log__warn("the new program maps another glibc, or loads "
		  "pagetrace-preload.so where the last did not (or the other "
		  "way): attaching late, its first allocations may be missed");
	if (use_allocator(s, a) < 0) {
		s->info.allocator = NULL; /* the report says not traced */
		s->info.allocator_probes = NULL;
	}
}
