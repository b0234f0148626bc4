// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <stdlib.h>
#include <sys/mman.h>
#include "eventlog.h"
#include "format.h"
#include "json.h"
#include "ledger.h"

struct eventlog {
	FILE *out;
	bool json;
	uint64_t t0;
	struct json_writer *w;
	bool header_done;
};

struct eventlog *eventlog__new(FILE *out, bool json, uint64_t t0)
{
	struct eventlog *el = calloc(1, sizeof(*el));

	if (!el)
		return NULL;
	el->out = out;
	el->json = json;
	el->t0 = t0;
	el->w = json_writer__new(out);
	if (!el->w) {
		free(el);
		return NULL;
	}
	return el;
}

void eventlog__free(struct eventlog *el)
{
	if (!el)
		return;
	json_writer__free(el->w);
	free(el);
}

/* text: "    0.001234 1234/1235     " */
static void text_prefix(struct eventlog *el, const struct pt_rec_header *hdr)
{
	double seconds = hdr->ts > el->t0 ? (hdr->ts - el->t0) / 1e9 : 0;
	char ids[32];

	if (!el->header_done) {
		fprintf(el->out, "%12s %-13s %s\n", "TIME(s)", "PID/TID",
			"EVENT");
		el->header_done = true;
	}
	snprintf(ids, sizeof(ids), "%u/%u", hdr->tgid, hdr->tid);
	fprintf(el->out, "%12.6f %-13s ", seconds, ids);
}

static void json_prefix(struct eventlog *el, const char *type,
			const struct pt_rec_header *hdr)
{
	json__begin_object(el->w);
	json__kv_string(el->w, "type", type);
	json__kv_u64(el->w, "t_ns", hdr->ts);
	json__kv_i64(el->w, "pid", hdr->tgid);
	json__kv_i64(el->w, "tid", hdr->tid);
}

static void json_alloc_id(struct eventlog *el, uint64_t alloc_id)
{
	json__key(el->w, "alloc_id");
	if (alloc_id)
		json__u64(el->w, alloc_id);
	else
		json__null(el->w);
}

/* arguments that are pointers print in hex */
static bool arg_is_pointer(uint32_t fn, int i)
{
	return i == 0 && (fn == PT_FN_REALLOC || fn == PT_FN_REALLOCARRAY ||
			  fn == PT_FN_POSIX_MEMALIGN);
}

void eventlog__call(struct eventlog *el, const struct pt_rec_call *rec,
		    uint64_t alloc_id)
{
	int i, n = pt_arg_count(rec->fn);

	if (el->json) {
		json_prefix(el, "call", &rec->hdr);
		json__kv_u64(el->w, "t_enter_ns", rec->t_enter);
		json__kv_string(el->w, "fn", decode__fn_name(rec->fn));
		json__key(el->w, "args");
		json__begin_array(el->w);
		for (i = 0; i < n; i++)
			json__u64(el->w, rec->args[i]);
		json__end_array(el->w);
		json__key(el->w, "addr");
		if (rec->addr)
			json__hex(el->w, rec->addr);
		else
			json__null(el->w);
		json__kv_hex(el->w, "caller", rec->caller);
		json_alloc_id(el, alloc_id);
		json__end_object(el->w);
		return;
	}
	text_prefix(el, &rec->hdr);
	fprintf(el->out, "%s(", decode__fn_name(rec->fn));
	for (i = 0; i < n; i++)
		fprintf(el->out,
			arg_is_pointer(rec->fn, i) ? "%s0x%" PRIx64 :
						     "%s%" PRIu64,
			i ? ", " : "", (uint64_t)rec->args[i]);
	if (rec->addr)
		fprintf(el->out, ") = 0x%" PRIx64, (uint64_t)rec->addr);
	else
		fprintf(el->out, ") = NULL (failed)");
	if (alloc_id)
		fprintf(el->out, "  #%" PRIu64, alloc_id);
	fputc('\n', el->out);
}

void eventlog__free_call(struct eventlog *el, const struct pt_rec_free *rec,
			 uint64_t alloc_id)
{
	if (el->json) {
		json_prefix(el, "free", &rec->hdr);
		json__kv_hex(el->w, "addr", rec->addr);
		json__kv_hex(el->w, "caller", rec->caller);
		json_alloc_id(el, alloc_id);
		json__end_object(el->w);
		return;
	}
	text_prefix(el, &rec->hdr);
	fprintf(el->out, "free(0x%" PRIx64 ")", (uint64_t)rec->addr);
	if (alloc_id)
		fprintf(el->out, "  #%" PRIu64, alloc_id);
	fputc('\n', el->out);
}

static const char *access_of(uint32_t error_code)
{
	if (error_code & PT_PF_INSTR)
		return "exec";
	return error_code & PT_PF_WRITE ? "write" : "read";
}

static void text_charge(struct eventlog *el, const struct ledger_charge *c)
{
	if (c->alloc_id)
		fprintf(el->out, "  #%" PRIu64, c->alloc_id);
	else if (c->deferred)
		fprintf(el->out, "  (inside the allocator call)");
	else if (c->mapping)
		fprintf(el->out, "  %s", c->mapping);
}

void eventlog__fault(struct eventlog *el, const struct pt_rec_fault *rec,
		     const struct ledger_charge *charge)
{
	if (el->json) {
		json_prefix(el, "fault", &rec->hdr);
		json__kv_u64(el->w, "t_start_ns", rec->t_start);
		json__kv_hex(el->w, "addr", rec->addr);
		json__kv_hex(el->w, "ip", rec->ip);
		json__kv_u64(el->w, "error_code", rec->error_code);
		json__kv_string(el->w, "access", access_of(rec->error_code));
		json__kv_bool(el->w, "kernel_mode",
			      rec->flags & PT_FAULT_KERNEL);
		json__kv_bool(el->w, "in_call", rec->flags & PT_FAULT_IN_CALL);
		json__kv_bool(el->w, "major", rec->flags & PT_FAULT_MAJOR);
		json__kv_string(el->w, "outcome",
				decode__outcome_name(charge->outcome));
		json__kv_u64(el->w, "pages", charge->pages);
		json__kv_u64(el->w, "order", rec->order);
		json_alloc_id(el, charge->alloc_id);
		json__key(el->w, "mapping");
		if (charge->mapping)
			json__string(el->w, charge->mapping);
		else
			json__null(el->w);
		json__end_object(el->w);
		return;
	}
	text_prefix(el, &rec->hdr);
	fprintf(el->out, "fault %-5s 0x%" PRIx64 " ip 0x%" PRIx64 " %s",
		access_of(rec->error_code), (uint64_t)rec->addr,
		(uint64_t)rec->ip, decode__outcome_name(charge->outcome));
	if (charge->pages)
		fprintf(el->out, " %" PRIu64 " page%s", charge->pages,
			charge->pages == 1 ? "" : "s");
	if (rec->flags & PT_FAULT_KERNEL)
		fprintf(el->out, " (kernel)");
	if (rec->flags & PT_FAULT_MAJOR)
		fprintf(el->out, " (major)");
	text_charge(el, charge);
	fputc('\n', el->out);
}

void eventlog__syscall(struct eventlog *el, const struct pt_rec_syscall *rec,
		       const struct ledger_charge *charge)
{
	const char *name = decode__syscall_name(rec->nr);
	int i;

	if (el->json) {
		json_prefix(el, "syscall", &rec->hdr);
		json__key(el->w, "name");
		if (name)
			json__string(el->w, name);
		else
			json__null(el->w);
		json__kv_u64(el->w, "nr", rec->nr);
		if (rec->t_start)
			json__kv_u64(el->w, "t_start_ns", rec->t_start);
		json__key(el->w, "args");
		json__begin_array(el->w);
		for (i = 0; name && i < 6; i++)
			json__u64(el->w, rec->args[i]);
		json__end_array(el->w);
		json__kv_i64(el->w, "ret", rec->ret);
		if (rec->nr == PT_NR_MADVISE) {
			const char *advice = decode__madvise_name(rec->args[2]);

			if (advice)
				json__kv_string(el->w, "advice", advice);
		}
		json__kv_bool(el->w, "in_call", rec->flags & PT_SYS_IN_CALL);
		json__kv_u64(el->w, "populated_pages", charge->pages);
		json__kv_u64(el->w, "kernel_alloc_pages", rec->alloc_pages);
		json_alloc_id(el, charge->alloc_id);
		json__end_object(el->w);
		return;
	}
	text_prefix(el, &rec->hdr);
	if (!name) {
		fprintf(el->out, "syscall %u populated %u page%s\n", rec->nr,
			rec->alloc_pages, rec->alloc_pages == 1 ? "" : "s");
		return;
	}
	fprintf(el->out, "%s(", name);
	switch (rec->nr) {
	case PT_NR_BRK:
		fprintf(el->out, "0x%" PRIx64, (uint64_t)rec->args[0]);
		break;
	case PT_NR_MADVISE: {
		const char *advice = decode__madvise_name(rec->args[2]);

		fprintf(el->out, "0x%" PRIx64 ", %" PRIu64 ", ",
			(uint64_t)rec->args[0], (uint64_t)rec->args[1]);
		if (advice)
			fprintf(el->out, "MADV_%s", advice);
		else
			fprintf(el->out, "%" PRIu64, (uint64_t)rec->args[2]);
		break;
	}
	case PT_NR_MLOCKALL:
		fprintf(el->out, "%" PRIu64, (uint64_t)rec->args[0]);
		break;
	default:
		fprintf(el->out, "0x%" PRIx64 ", %" PRIu64,
			(uint64_t)rec->args[0], (uint64_t)rec->args[1]);
		if (rec->nr == PT_NR_MMAP || rec->nr == PT_NR_MREMAP)
			fprintf(el->out, ", %" PRIu64 ", 0x%" PRIx64,
				(uint64_t)rec->args[2], (uint64_t)rec->args[3]);
		break;
	}
	if (pt_syscall_failed(rec->ret))
		fprintf(el->out, ") = -%" PRId64, -(int64_t)rec->ret);
	else if (rec->nr == PT_NR_MMAP || rec->nr == PT_NR_MREMAP ||
		 rec->nr == PT_NR_BRK)
		fprintf(el->out, ") = 0x%" PRIx64, (uint64_t)rec->ret);
	else
		fprintf(el->out, ") = %" PRId64, (int64_t)rec->ret);
	if (charge->pages)
		fprintf(el->out, "  populated %" PRIu64 " page%s",
			charge->pages, charge->pages == 1 ? "" : "s");
	text_charge(el, charge);
	fputc('\n', el->out);
}

void eventlog__task(struct eventlog *el, const struct pt_rec_task *rec)
{
	const char *kind = rec->kind == PT_TASK_EXEC ? "exec" :
			   rec->kind == PT_TASK_FORK ? "fork" :
						       "exit";

	if (el->json) {
		json_prefix(el, kind, &rec->hdr);
		json__kv_string(el->w, "comm", rec->comm);
		if (rec->kind == PT_TASK_FORK)
			json__kv_i64(el->w, "child", rec->other_pid);
		if (rec->kind == PT_TASK_EXIT)
			json__kv_i64(el->w, "exit_code", rec->exit_code);
		json__end_object(el->w);
		return;
	}
	text_prefix(el, &rec->hdr);
	if (rec->kind == PT_TASK_FORK)
		fprintf(el->out, "fork: child %u (not traced)\n",
			rec->other_pid);
	else if (rec->kind == PT_TASK_EXEC)
		fprintf(el->out, "exec %s\n", rec->comm);
	else
		fprintf(el->out, "exit (%s)\n", rec->comm);
}
