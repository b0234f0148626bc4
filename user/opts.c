// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include "opts.h"
#include "pagetrace.h"
#include "sites.h"

#define PID_LIMIT (1U << 22) /* PID_MAX_LIMIT on 64-bit */
#define DEFAULT_TOP 10
#define DEFAULT_STACK_DEPTH 32
#define MAX_STACK_DEPTH PT_STACK_MAX_DEPTH
#define DEFAULT_STACK_STORAGE 16384
#define MAX_STACK_STORAGE (1U << 20)
#define DEFAULT_CALL_SLOTS PT_CALL_SLOTS
#define MAX_CALL_SLOTS (1U << 18)
#define MAX_STACK_MAP_BYTES (256U << 20)

enum long_only_option {
	OPT_JSON = 256,
	OPT_MIN_SIZE,
	OPT_RINGBUF_SIZE,
	OPT_TOP,
	OPT_VERIFY,
	OPT_SNAPSHOT,
	OPT_RANGE,
	OPT_BACKEND,
	OPT_STACK_DEPTH,
	OPT_NO_STACKS,
	OPT_STACK_STORAGE,
	OPT_CALL_SLOTS,
	OPT_EMPTY_PROBES,
	OPT_EXACT_STACKS,
	OPT_NO_FAULT_RUNS,
	OPT_LIGHT,
	OPT_PROBES_AT_SYMBOLS,
	OPT_NO_PRELOAD,
	OPT_KERNEL_CLOCK,
	OPT_FOLDED,
	OPT_WARMUP,
};

static const struct option long_options[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "duration", required_argument, NULL, 'd' },
	{ "events", no_argument, NULL, 'e' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "output", required_argument, NULL, 'o' },
	{ "min-size", required_argument, NULL, OPT_MIN_SIZE },
	{ "ringbuf-size", required_argument, NULL, OPT_RINGBUF_SIZE },
	{ "top", required_argument, NULL, OPT_TOP },
	{ "verify", no_argument, NULL, OPT_VERIFY },
	{ "snapshot", no_argument, NULL, OPT_SNAPSHOT },
	{ "range", required_argument, NULL, OPT_RANGE },
	{ "pagemap-backend", required_argument, NULL, OPT_BACKEND },
	{ "stack-depth", required_argument, NULL, OPT_STACK_DEPTH },
	{ "no-stacks", no_argument, NULL, OPT_NO_STACKS },
	{ "stack-storage", required_argument, NULL, OPT_STACK_STORAGE },
	{ "call-slots", required_argument, NULL, OPT_CALL_SLOTS },
	{ "empty-probes", no_argument, NULL, OPT_EMPTY_PROBES },
	{ "exact-stacks", no_argument, NULL, OPT_EXACT_STACKS },
	{ "no-fault-runs", no_argument, NULL, OPT_NO_FAULT_RUNS },
	{ "light", no_argument, NULL, OPT_LIGHT },
	{ "probes-at-symbols", no_argument, NULL, OPT_PROBES_AT_SYMBOLS },
	{ "no-preload", no_argument, NULL, OPT_NO_PRELOAD },
	{ "kernel-clock", no_argument, NULL, OPT_KERNEL_CLOCK },
	{ "folded", optional_argument, NULL, OPT_FOLDED },
	{ "interval", required_argument, NULL, 'i' },
	{ "warmup", required_argument, NULL, OPT_WARMUP },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ 0 },
};

void opts__print_help(void)
{
	fputs("Usage: pagetrace [OPTIONS] -p PID\n"
	      "       pagetrace [OPTIONS] -- COMMAND [ARGS...]\n"
	      "       pagetrace --snapshot [--range START-END] -p PID\n"
	      "\n"
	      "Trace a process's allocations and page faults: for every malloc,\n"
	      "calloc, realloc... when its pages were really populated, by whom\n"
	      "and how (zero page, private page, huge page, copy-on-write,\n"
	      "populating syscall).\n"
	      "\n"
	      "  -p, --pid PID             trace a running process, all its threads\n"
	      "  -d, --duration SECONDS    stop after SECONDS (fractions allowed)\n"
	      "  -e, --events              also print every event as it happens\n"
	      "      --json                JSON Lines instead of text\n"
	      "  -o, --output FILE         write the report and events to FILE\n"
	      "      --min-size BYTES      ignore smaller allocations (in the kernel);\n"
	      "                            K, M, G suffixes are powers of 1024\n"
	      "      --top N               allocations listed in the text report\n"
	      "                            (default 10, 0 for none)\n"
	      "      --ringbuf-size BYTES  each CPU's kernel ring buffer, a power of\n"
	      "                            two of at least 4K (default: 16M shared\n"
	      "                            among the online CPUs, 1M at least)\n"
	      "      --light               production mode: no allocator probes; the\n"
	      "                            allocations are the mappings made (glibc's\n"
	      "                            big blocks, heap growth), faults counted in\n"
	      "                            the kernel (see README)\n"
	      "      --no-preload          leave the command's environment alone:\n"
	      "                            allocator probes in glibc, as with -p\n"
	      "                            (dearer, see README)\n"
	      "      --kernel-clock        time allocator calls with the kernel's\n"
	      "                            clock, not the preloaded sites' TSC\n"
	      "                            (dearer, see README)\n"
	      "      --verify              check every allocation's pages against the\n"
	      "                            page tables when it is freed (of at least\n"
	      "                            --min-size) and when tracing ends\n"
	      "      --snapshot            no tracing: the memory of -p PID now, per\n"
	      "                            mapping, its layout and a page map\n"
	      "      --range START-END     with --snapshot: draw only this range (hex)\n"
	      "      --stack-depth N       user stack frames kept (default 32, max 127)\n"
	      "      --no-stacks           no stacks: call sites and faulting\n"
	      "                            instructions only, cheaper\n"
	      "      --exact-stacks        walk the stack at every event, even where a\n"
	      "                            loop's last one from the same frame is\n"
	      "                            reused (see README)\n"
	      "      --no-fault-runs       one record per fault, even where a loop\n"
	      "                            faults page after page (see README)\n"
	      "      --stack-storage N     buckets of the kernel's stack map, a stack\n"
	      "                            each (default 16384); a stack whose\n"
	      "                            bucket another holds is sent whole\n"
	      "      --call-slots N        threads whose allocator calls the kernel\n"
	      "                            follows in its table, a power of two\n"
	      "                            (default 32768); a thread whose slot\n"
	      "                            another holds is followed, more slowly,\n"
	      "                            in its task storage\n"
	      "      --folded[=AXES]       folded stacks for flame graphs instead of the\n"
	      "                            report, weighted by populated pages: AXES\n"
	      "                            'both' (allocation;-- touched by --;touch,\n"
	      "                            the default), 'alloc' or 'touch'\n"
	      "  -i, --interval SECS [N]   every SECS, faults and pages per touching\n"
	      "                            site; stop after N intervals\n"
	      "      --warmup SECONDS      site figures count from SECONDS after start\n"
	      "      --pagemap-backend B   read page tables by 'scan' (PAGEMAP_SCAN,\n"
	      "                            Linux 6.7+) or 'read' (pagemap entries and\n"
	      "                            kpageflags); default: scan if available\n"
	      "  -v, --verbose             diagnostics; -vvv adds libbpf's debug output\n"
	      "\n"
	      "Measuring pagetrace itself (bench/):\n"
	      "      --empty-probes        programs that only return, on the same\n"
	      "                            attach points: the floor; nothing recorded\n"
	      "      --probes-at-symbols   allocator entry probes on the symbols, not\n"
	      "                            past the NULL test and flag checks\n"
	      "  -h, --help                this help\n"
	      "  -V, --version             print the version\n"
	      "\n"
	      "Tracing ends when the target exits, after --duration, or on Ctrl-C\n"
	      "(events still in flight are drained and reported).\n"
	      "\n"
	      "Examples:\n"
	      "  pagetrace -- ./prog ARG            trace prog from its first instruction\n"
	      "  pagetrace -p 1234 -d 10            trace process 1234 for 10 seconds\n"
	      "  pagetrace -e --min-size 1M -- ./prog\n"
	      "                                     stream events of blocks of 1 MiB or more\n"
	      "  pagetrace --json -o run.jsonl -- python3 script.py\n"
	      "                                     one JSON object per allocation\n"
	      "  pagetrace --verify --min-size 1M -- ./prog\n"
	      "                                     prove the ledger by the page tables\n"
	      "  pagetrace --snapshot -p 1234       what process 1234's memory holds now\n"
	      "  pagetrace --folded -- ./prog > prog.folded; flamegraph.pl prog.folded\n"
	      "                                     who allocated, who touched, as a graph\n"
	      "  pagetrace -i 1 --warmup 5 -p 1234  faults per site, every second\n",
	      stdout);
}

const char *parse_error__str(enum parse_error err)
{
	switch (err) {
	case PARSE_OK:
		return "ok";
	case PARSE_EMPTY:
		return "empty value";
	case PARSE_NOT_NUMBER:
		return "not a number";
	case PARSE_NEGATIVE:
		return "negative value";
	case PARSE_RANGE:
		return "out of range";
	case PARSE_BAD_SUFFIX:
		return "unknown suffix";
	}
	return "invalid value";
}

static int suffix_shift(char suffix)
{
	switch (toupper((unsigned char)suffix)) {
	case 'K':
		return 10;
	case 'M':
		return 20;
	case 'G':
		return 30;
	case 'T':
		return 40;
	default:
		return -1;
	}
}

enum parse_error parse_uint(const char *text, uint64_t min, uint64_t max,
			    bool with_suffix, uint64_t *value)
{
	unsigned long long number;
	const char *digits = text;
	char *end;
	int shift = 0;

	while (isspace((unsigned char)*digits))
		digits++;
	if (!*digits)
		return PARSE_EMPTY;
	if (*digits == '-')
		return PARSE_NEGATIVE;
	/* strtoull accepts "+" and would wrap "-1"; digits only from here */
	if (!isdigit((unsigned char)*digits))
		return PARSE_NOT_NUMBER;
	errno = 0;
	number = strtoull(digits, &end, 10);
	if (errno == ERANGE)
		return PARSE_RANGE;
	if (*end) {
		if (!with_suffix)
			return PARSE_NOT_NUMBER;
		shift = suffix_shift(*end);
		if (shift < 0)
			return PARSE_BAD_SUFFIX;
		/* "4k", "4KiB" and "4KB" all mean 4096 */
		end++;
		if (!strcasecmp(end, "iB") || !strcasecmp(end, "B"))
			end += strlen(end);
		if (*end)
			return PARSE_BAD_SUFFIX;
	}
	if (shift && number > (UINT64_MAX >> shift))
		return PARSE_RANGE;
	number <<= shift;
	if (number < min || number > max)
		return PARSE_RANGE;
	*value = number;
	return PARSE_OK;
}

static enum parse_error parse_hex(const char *text, const char **end,
				  uint64_t *value)
{
	unsigned long long number;
	char *stop;

	while (isspace((unsigned char)*text))
		text++;
	if (*text == '-')
		return PARSE_NEGATIVE;
	if (!strncasecmp(text, "0x", 2))
		text += 2;
	if (!isxdigit((unsigned char)*text))
		return *text ? PARSE_NOT_NUMBER : PARSE_EMPTY;
	errno = 0;
	number = strtoull(text, &stop, 16);
	if (errno == ERANGE)
		return PARSE_RANGE;
	*end = stop;
	*value = number;
	return PARSE_OK;
}

enum parse_error parse_range(const char *text, uint64_t *start, uint64_t *end)
{
	const uint64_t page_mask = 4095;
	const char *rest;
	enum parse_error err;

	err = parse_hex(text, &rest, start);
	if (err)
		return err;
	if (*rest != '-')
		return PARSE_NOT_NUMBER;
	err = parse_hex(rest + 1, &rest, end);
	if (err)
		return err;
	if (*rest)
		return PARSE_NOT_NUMBER;
	if (*end <= *start || *end > UINT64_MAX - page_mask)
		return PARSE_RANGE;
	*start &= ~page_mask;
	*end = (*end + page_mask) & ~page_mask;
	return PARSE_OK;
}

enum parse_error parse_seconds(const char *text, uint64_t *ns)
{
	const uint64_t max_seconds = 365ULL * 24 * 3600;
	uint64_t whole = 0, fraction = 0, scale = 1000000000ULL;
	const char *p = text;

	while (isspace((unsigned char)*p))
		p++;
	if (!*p)
		return PARSE_EMPTY;
	if (*p == '-')
		return PARSE_NEGATIVE;
	if (!isdigit((unsigned char)*p) && *p != '.')
		return PARSE_NOT_NUMBER;
	for (; isdigit((unsigned char)*p); p++) {
		whole = whole * 10 + (*p - '0');
		if (whole > max_seconds)
			return PARSE_RANGE;
	}
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p) && p - 1 == text)
			return PARSE_NOT_NUMBER;
		for (; isdigit((unsigned char)*p); p++) {
			if (scale > 1) {
				scale /= 10;
				fraction += (uint64_t)(*p - '0') * scale;
			}
		}
	}
	if (*p == 's' && !p[1])
		p++;
	if (*p)
		return PARSE_NOT_NUMBER;
	*ns = whole * 1000000000ULL + fraction;
	if (*ns == 0)
		return PARSE_RANGE;
	return PARSE_OK;
}

static enum opts_result value_error(char *error, size_t error_size,
				    const char *option, const char *value,
				    enum parse_error err, const char *expected)
{
	snprintf(error, error_size, "invalid %s '%s': %s (expected %s)", option,
		 value, parse_error__str(err), expected);
	return OPTS_ERROR;
}

enum opts_result opts__parse(struct options *opts, int argc, char **argv,
			     char *error, size_t error_size)
{
	uint64_t value;
	enum parse_error err;
	int c;

	memset(opts, 0, sizeof(*opts));
	opts->ringbuf_bytes = 0; /* see trace_config */
	opts->top = DEFAULT_TOP;
	opts->stack_depth = DEFAULT_STACK_DEPTH;
	opts->stack_storage = DEFAULT_STACK_STORAGE;
	opts->call_slots = DEFAULT_CALL_SLOTS;
	/* "+": stop at the first non-option, it starts the command */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:p:d:eo:vhVi:", long_options,
				NULL)) != -1) {
		switch (c) {
		case 'p':
			err = parse_uint(optarg, 1, PID_LIMIT, false, &value);
			if (err)
				return value_error(error, error_size, "--pid",
						   optarg, err,
						   "a process id, see ps");
			opts->pid = (pid_t)value;
			break;
		case 'd':
			err = parse_seconds(optarg, &opts->duration_ns);
			if (err)
				return value_error(error, error_size,
						   "--duration", optarg, err,
						   "seconds, e.g. 10 or 0.5");
			break;
		case 'e':
			opts->events = true;
			break;
		case OPT_JSON:
			opts->json = true;
			break;
		case 'o':
			if (!*optarg) {
				snprintf(
					error, error_size,
					"invalid --output '': empty file name");
				return OPTS_ERROR;
			}
			opts->output = optarg;
			break;
		case OPT_MIN_SIZE:
			err = parse_uint(optarg, 0, UINT64_MAX, true,
					 &opts->min_size);
			if (err)
				return value_error(error, error_size,
						   "--min-size", optarg, err,
						   "bytes, e.g. 4096 or 1M");
			break;
		case OPT_RINGBUF_SIZE:
			err = parse_uint(optarg, 4096, 1ULL << 30, true,
					 &value);
			if (!err && (value & (value - 1)))
				err = PARSE_RANGE;
			if (err)
				return value_error(
					error, error_size, "--ringbuf-size",
					optarg, err,
					"a power of two from 4K to 1G");
			opts->ringbuf_bytes = value;
			break;
		case OPT_TOP:
			err = parse_uint(optarg, 0, 1000000, false, &value);
			if (err)
				return value_error(error, error_size, "--top",
						   optarg, err,
						   "a count, e.g. 10");
			opts->top = (unsigned int)value;
			break;
		case OPT_STACK_DEPTH:
			err = parse_uint(optarg, 1, MAX_STACK_DEPTH, false,
					 &value);
			if (err)
				return value_error(error, error_size,
						   "--stack-depth", optarg, err,
						   "frames, 1 to 127");
			opts->stack_depth = (unsigned int)value;
			break;
		case OPT_NO_STACKS:
			opts->stack_depth = 0;
			break;
		case OPT_EXACT_STACKS:
			opts->exact_stacks = true;
			break;
		case OPT_NO_FAULT_RUNS:
			opts->no_fault_runs = true;
			break;
		case OPT_LIGHT:
			opts->light = true;
			break;
		case OPT_EMPTY_PROBES:
			opts->empty_probes = true;
			break;
		case OPT_PROBES_AT_SYMBOLS:
			opts->probes_at_symbols = true;
			break;
		case OPT_KERNEL_CLOCK:
			opts->kernel_clock = true;
			break;
		case OPT_NO_PRELOAD:
			opts->no_preload = true;
			break;
		case OPT_STACK_STORAGE:
			err = parse_uint(optarg, 1, MAX_STACK_STORAGE, false,
					 &value);
			if (err)
				return value_error(error, error_size,
						   "--stack-storage", optarg,
						   err, "stacks, 1 to 1048576");
			opts->stack_storage = (unsigned int)value;
			break;
		case OPT_CALL_SLOTS:
			err = parse_uint(optarg, 1, MAX_CALL_SLOTS, false,
					 &value);
			if (!err && (value & (value - 1)))
				err = PARSE_RANGE;
			if (err)
				return value_error(error, error_size,
						   "--call-slots", optarg, err,
						   "a power of two from 1 to "
						   "262144");
			opts->call_slots = (unsigned int)value;
			break;
		case OPT_FOLDED:
			opts->folded = true;
			if (!optarg || !strcmp(optarg, "both")) {
				opts->folded_axes = FOLDED_BOTH;
			} else if (!strcmp(optarg, "alloc")) {
				opts->folded_axes = FOLDED_ALLOC;
			} else if (!strcmp(optarg, "touch")) {
				opts->folded_axes = FOLDED_TOUCH;
			} else {
				snprintf(error, error_size,
					 "invalid --folded '%s' (expected "
					 "both, alloc or touch)",
					 optarg);
				return OPTS_ERROR;
			}
			break;
		case 'i':
			err = parse_seconds(optarg, &opts->interval_ns);
			if (err)
				return value_error(error, error_size,
						   "--interval", optarg, err,
						   "seconds, e.g. 1 or 0.5");
			/* an optional count follows, as bcc's tools take it */
			if (optind < argc && argv[optind][0] != '-' &&
			    isdigit((unsigned char)argv[optind][0])) {
				err = parse_uint(argv[optind], 1, UINT32_MAX,
						 false, &opts->interval_count);
				if (err)
					return value_error(error, error_size,
							   "--interval count",
							   argv[optind], err,
							   "a count");
				optind++;
			}
			break;
		case OPT_WARMUP:
			err = parse_seconds(optarg, &opts->warmup_ns);
			if (err)
				return value_error(error, error_size,
						   "--warmup", optarg, err,
						   "seconds, e.g. 5");
			break;
		case OPT_VERIFY:
			opts->verify = true;
			break;
		case OPT_SNAPSHOT:
			opts->snapshot = true;
			break;
		case OPT_RANGE:
			err = parse_range(optarg, &opts->range_start,
					  &opts->range_end);
			if (err)
				return value_error(error, error_size, "--range",
						   optarg, err,
						   "START-END in hex, e.g. "
						   "7f0000000000-7f0000100000");
			opts->has_range = true;
			break;
		case OPT_BACKEND:
			if (!strcmp(optarg, "scan")) {
				opts->backend = PAGETABLE_SCAN;
			} else if (!strcmp(optarg, "read")) {
				opts->backend = PAGETABLE_READ;
			} else if (!strcmp(optarg, "auto")) {
				opts->backend = PAGETABLE_AUTO;
			} else {
				snprintf(error, error_size,
					 "invalid --pagemap-backend '%s' "
					 "(expected scan, read or auto)",
					 optarg);
				return OPTS_ERROR;
			}
			break;
		case 'v':
			opts->verbosity++;
			break;
		case 'h':
			return OPTS_HELP;
		case 'V':
			return OPTS_VERSION;
		case ':':
			snprintf(error, error_size,
				 "option %s needs a value (see --help)",
				 argv[optind - 1]);
			return OPTS_ERROR;
		default:
			if (optopt)
				snprintf(error, error_size,
					 "unknown option -%c (see --help)",
					 optopt);
			else
				snprintf(error, error_size,
					 "unknown option %s (see --help)",
					 argv[optind - 1]);
			return OPTS_ERROR;
		}
	}
	if (optind < argc)
		opts->command = &argv[optind];
	if (opts->pid && opts->command) {
		snprintf(error, error_size,
			 "give either -p PID or -- COMMAND, not both");
		return OPTS_ERROR;
	}
	if (!opts->pid && !opts->command) {
		snprintf(
			error, error_size,
			"nothing to trace: give -p PID or -- COMMAND (see --help)");
		return OPTS_ERROR;
	}
	if (opts->snapshot && !opts->pid) {
		snprintf(error, error_size,
			 "--snapshot reads a running process: give -p PID");
		return OPTS_ERROR;
	}
	if (opts->has_range && !opts->snapshot) {
		snprintf(error, error_size, "--range goes with --snapshot");
		return OPTS_ERROR;
	}
	if (opts->folded && (opts->json || opts->events || opts->interval_ns)) {
		snprintf(error, error_size,
			 "--folded writes folded stacks: it goes with neither "
			 "--json, --events nor -i");
		return OPTS_ERROR;
	}
	/* the kernel allocates the whole stack map at load */
	if ((uint64_t)opts->stack_storage * opts->stack_depth * 8 >
	    MAX_STACK_MAP_BYTES) {
		snprintf(
			error, error_size,
			"--stack-storage %u with --stack-depth %u needs %" PRIu64
			" MiB of kernel memory: at most %u MiB, lower either",
			opts->stack_storage, opts->stack_depth,
			(uint64_t)opts->stack_storage * opts->stack_depth * 8 >>
				20,
			MAX_STACK_MAP_BYTES >> 20);
		return OPTS_ERROR;
	}
	if (opts->empty_probes && (opts->verify || opts->folded)) {
		snprintf(error, error_size,
			 "--empty-probes records nothing: it goes with neither "
			 "--verify nor --folded");
		return OPTS_ERROR;
	}
	if (opts->light && (opts->verify || opts->interval_ns ||
			    opts->warmup_ns || opts->probes_at_symbols)) {
		snprintf(error, error_size,
			 "--light reads its fault counts when tracing ends and "
			 "probes no allocator: it goes with neither --verify, "
			 "-i, --warmup nor --probes-at-symbols");
		return OPTS_ERROR;
	}
	if (opts->snapshot && (opts->verify || opts->events)) {
		snprintf(error, error_size,
			 "--snapshot traces nothing: --verify and --events "
			 "need tracing");
		return OPTS_ERROR;
	}
	return OPTS_RUN;
}
