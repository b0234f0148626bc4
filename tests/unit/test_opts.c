// SPDX-License-Identifier: GPL-2.0
#include "check.h"
#include "opts.h"
#include "sites.h"

static enum opts_result parse(struct options *o, char *error, int argc,
			      char **argv)
{
	return opts__parse(o, argc, argv, error, 256);
}

static void test_parse_uint(void)
{
	uint64_t v = 0;

	CHECK_U64(parse_uint("4096", 0, UINT64_MAX, false, &v), PARSE_OK);
	CHECK_U64(v, 4096);
	CHECK_U64(parse_uint("64M", 0, UINT64_MAX, true, &v), PARSE_OK);
	CHECK_U64(v, 64ULL << 20);
	CHECK_U64(parse_uint("4KiB", 0, UINT64_MAX, true, &v), PARSE_OK);
	CHECK_U64(v, 4096);
	CHECK_U64(parse_uint("abc", 0, 10, false, &v), PARSE_NOT_NUMBER);
	CHECK_U64(parse_uint("", 0, 10, false, &v), PARSE_EMPTY);
	CHECK_U64(parse_uint("-5", 0, 10, false, &v), PARSE_NEGATIVE);
	CHECK_U64(parse_uint("+5", 0, 10, false, &v), PARSE_NOT_NUMBER);
	CHECK_U64(parse_uint("12x", 0, 100, false, &v), PARSE_NOT_NUMBER);
	CHECK_U64(parse_uint("12X", 0, UINT64_MAX, true, &v), PARSE_BAD_SUFFIX);
	CHECK_U64(parse_uint("99999999999999999999", 0, UINT64_MAX, false, &v),
		  PARSE_RANGE);
	CHECK_U64(parse_uint("20000000T", 0, UINT64_MAX, true, &v),
		  PARSE_RANGE);
	CHECK_U64(parse_uint("0", 1, 10, false, &v), PARSE_RANGE);
}

static void test_parse_seconds(void)
{
	uint64_t ns = 0;

	CHECK_U64(parse_seconds("2", &ns), PARSE_OK);
	CHECK_U64(ns, 2000000000ULL);
	CHECK_U64(parse_seconds("0.25", &ns), PARSE_OK);
	CHECK_U64(ns, 250000000ULL);
	CHECK_U64(parse_seconds("1.5s", &ns), PARSE_OK);
	CHECK_U64(ns, 1500000000ULL);
	CHECK_U64(parse_seconds("0", &ns), PARSE_RANGE);
	CHECK_U64(parse_seconds("-1", &ns), PARSE_NEGATIVE);
	CHECK_U64(parse_seconds("abc", &ns), PARSE_NOT_NUMBER);
	CHECK_U64(parse_seconds("1e3", &ns), PARSE_NOT_NUMBER);
	CHECK_U64(parse_seconds(".", &ns), PARSE_NOT_NUMBER);
}

static void test_parse_range(void)
{
	uint64_t start = 0, end = 0;

	CHECK_U64(parse_range("7f0000001234-7f0000003000", &start, &end),
		  PARSE_OK);
	CHECK_U64(start, 0x7f0000001000ULL);
	CHECK_U64(end, 0x7f0000003000ULL);
	CHECK_U64(parse_range("0x1000-0x2001", &start, &end), PARSE_OK);
	CHECK_U64(end, 0x3000);
	CHECK_U64(parse_range("2000-1000", &start, &end), PARSE_RANGE);
	CHECK_U64(parse_range("1000", &start, &end), PARSE_NOT_NUMBER);
	CHECK_U64(parse_range("zz-1000", &start, &end), PARSE_NOT_NUMBER);
	CHECK_U64(parse_range("1000-", &start, &end), PARSE_EMPTY);
	CHECK_U64(parse_range("-5-1000", &start, &end), PARSE_NEGATIVE);
}

static void test_snapshot_options(void)
{
	char error[256] = "";
	struct options o;
	char *ok[] = { "pagetrace", "--snapshot",	 "-p",	 "7", "--range",
		       "1000-2000", "--pagemap-backend", "read", NULL };
	char *verify[] = { "pagetrace", "--snapshot", "--verify",
			   "-p",	"7",	      NULL };

	CHECK_U64(parse(&o, error, 8, ok), OPTS_RUN);
	CHECK(o.snapshot && o.has_range);
	CHECK_U64(o.backend, PAGETABLE_READ);
	CHECK_U64(parse(&o, error, 5, verify), OPTS_ERROR);
	CHECK_STR(error, "--snapshot traces nothing: --verify and --events "
			 "need tracing");
}

static void test_pid_and_command(void)
{
	char error[256] = "";
	struct options o;
	char *pid_args[] = { "pagetrace", "-p", "1234", "--json", NULL };
	char *cmd_args[] = { "pagetrace", "-e", "--", "ls", "-l", NULL };

	CHECK_U64(parse(&o, error, 4, pid_args), OPTS_RUN);
	CHECK_U64(o.pid, 1234);
	CHECK(o.json);
	CHECK(o.command == NULL);
	CHECK_U64(parse(&o, error, 5, cmd_args), OPTS_RUN);
	CHECK(o.events);
	CHECK_STR(o.command[0], "ls");
	CHECK_STR(o.command[1], "-l");
}

static void test_bad_values_name_the_option(void)
{
	char error[256] = "";
	struct options o;
	char *pid_abc[] = { "pagetrace", "-p", "abc", NULL };
	char *ring[] = {
		"pagetrace", "--ringbuf-size", "5000", "--", "x", NULL
	};
	char *both[] = { "pagetrace", "-p", "1", "--", "x", NULL };
	char *none[] = { "pagetrace", "-v", NULL };
	char *unknown[] = { "pagetrace", "--frobnicate", NULL };
	char *missing[] = { "pagetrace", "-p", NULL };

	CHECK_U64(parse(&o, error, 3, pid_abc), OPTS_ERROR);
	CHECK_STR(error, "invalid --pid 'abc': not a number (expected a "
			 "process id, see ps)");
	CHECK_U64(parse(&o, error, 5, ring), OPTS_ERROR);
	CHECK(strstr(error, "--ringbuf-size") != NULL);
	CHECK_U64(parse(&o, error, 5, both), OPTS_ERROR);
	CHECK_STR(error, "give either -p PID or -- COMMAND, not both");
	CHECK_U64(parse(&o, error, 2, none), OPTS_ERROR);
	CHECK(strstr(error, "nothing to trace") != NULL);
	CHECK_U64(parse(&o, error, 2, unknown), OPTS_ERROR);
	CHECK_STR(error, "unknown option --frobnicate (see --help)");
	CHECK_U64(parse(&o, error, 2, missing), OPTS_ERROR);
	CHECK_STR(error, "option -p needs a value (see --help)");
}

static void test_defaults(void)
{
	char error[256];
	struct options o;
	char *args[] = { "pagetrace", "true", NULL };

	CHECK_U64(parse(&o, error, 2, args), OPTS_RUN);
	CHECK_U64(o.ringbuf_bytes, 0);
	CHECK_U64(o.top, 10);
	CHECK_U64(o.min_size, 0);
	CHECK_U64(o.duration_ns, 0);
	CHECK_U64(o.stack_depth, 32);
	CHECK_U64(o.call_slots, 32768);
	CHECK(!o.folded);
	CHECK_U64(o.interval_ns, 0);
}

static void test_stack_options(void)
{
	char error[256] = "";
	struct options o;
	/* kept on few lines: clang-format would set them in columns */
	// clang-format off
	char *stacks[] = { "pagetrace", "--stack-depth", "8", "--folded=touch",
			   "--warmup", "2", "--", "x", NULL };
	char *interval[] = { "pagetrace", "-i", "0.5", "3", "--", "x", NULL };
	// clang-format on
	char *no_stacks[] = { "pagetrace", "--no-stacks", "-i", "1",
			      "--",	   "x",		  NULL };
	char *depth0[] = { "pagetrace", "--stack-depth", "0", "--", "x", NULL };
	char *depth_big[] = { "pagetrace", "--stack-depth", "128", "--", "x",
			      NULL };
	char *axes[] = { "pagetrace", "--folded=foo", "--", "x", NULL };
	char *folded_json[] = { "pagetrace", "--folded", "--json",
				"--",	     "x",	 NULL };
	char *bad_interval[] = { "pagetrace", "-i", "abc", "--", "x", NULL };
	char *folded_interval[] = { "pagetrace", "--folded", "-i", "1",
				    "--",	 "x",	     NULL };
	char *too_big[] = { "pagetrace", "--stack-storage",
			    "1048576",	 "--stack-depth",
			    "64",	 "--",
			    "x",	 NULL };

	CHECK_U64(parse(&o, error, 8, stacks), OPTS_RUN);
	CHECK_U64(o.stack_depth, 8);
	CHECK(o.folded);
	CHECK_U64(o.folded_axes, FOLDED_TOUCH);
	CHECK_U64(o.warmup_ns, 2000000000ULL);
	CHECK_STR(o.command[0], "x");
	CHECK_U64(parse(&o, error, 6, interval), OPTS_RUN);
	CHECK_U64(o.interval_ns, 500000000ULL);
	CHECK_U64(o.interval_count, 3);
	CHECK_U64(parse(&o, error, 6, no_stacks), OPTS_RUN);
	CHECK_U64(o.stack_depth, 0);
	CHECK_U64(o.interval_count, 0);
	CHECK_U64(parse(&o, error, 5, depth0), OPTS_ERROR);
	CHECK_STR(error, "invalid --stack-depth '0': out of range (expected "
			 "frames, 1 to 127)");
	CHECK_U64(parse(&o, error, 5, depth_big), OPTS_ERROR);
	CHECK(strstr(error, "--stack-depth '128'") != NULL);
	CHECK_U64(parse(&o, error, 4, axes), OPTS_ERROR);
	CHECK_STR(error, "invalid --folded 'foo' (expected both, alloc or "
			 "touch)");
	CHECK_U64(parse(&o, error, 5, folded_json), OPTS_ERROR);
	CHECK(strstr(error, "--folded") != NULL);
	CHECK_U64(parse(&o, error, 6, folded_interval), OPTS_ERROR);
	CHECK_STR(error, "--folded writes folded stacks: it goes with neither "
			 "--json, --events nor -i");
	CHECK_U64(parse(&o, error, 7, too_big), OPTS_ERROR);
	CHECK_STR(error, "--stack-storage 1048576 with --stack-depth 64 needs "
			 "512 MiB of kernel memory: at most 256 MiB, lower "
			 "either");
	CHECK_U64(parse(&o, error, 5, bad_interval), OPTS_ERROR);
	CHECK_STR(error, "invalid --interval 'abc': not a number (expected "
			 "seconds, e.g. 1 or 0.5)");
}

static void test_light_and_speed_options(void)
{
	char error[256] = "";
	struct options o;
	char *light[] = { "pagetrace", "--light", "--min-size", "1M",
			  "--",	       "prog",	  NULL };
	char *exact[] = { "pagetrace", "--exact-stacks", "--", "prog", NULL };
	char *with_warmup[] = { "pagetrace", "--light", "--warmup", "1",
				"--",	     "prog",	NULL };
	char *slots[] = {
		"pagetrace", "--call-slots", "1", "--", "prog", NULL
	};
	char *slots_odd[] = { "pagetrace", "--call-slots", "1000",
			      "--",	   "prog",	   NULL };
	char *slots_big[] = { "pagetrace", "--call-slots", "524288",
			      "--",	   "prog",	   NULL };

	CHECK_U64(parse(&o, error, 6, light), OPTS_RUN);
	CHECK(o.light && !o.exact_stacks);
	CHECK_U64(o.min_size, 1048576);
	CHECK_U64(parse(&o, error, 4, exact), OPTS_RUN);
	CHECK(o.exact_stacks && !o.light);
	CHECK_U64(parse(&o, error, 6, with_warmup), OPTS_ERROR);
	CHECK_STR(error, "--light reads its fault counts when tracing ends "
			 "and probes no allocator: it goes with neither "
			 "--verify, -i, --warmup nor --probes-at-symbols");
	CHECK_U64(parse(&o, error, 5, slots), OPTS_RUN);
	CHECK_U64(o.call_slots, 1);
	CHECK_U64(parse(&o, error, 5, slots_odd), OPTS_ERROR);
	CHECK_STR(error, "invalid --call-slots '1000': out of range (expected "
			 "a power of two from 1 to 262144)");
	CHECK_U64(parse(&o, error, 5, slots_big), OPTS_ERROR);
	CHECK(strstr(error, "--call-slots '524288'") != NULL);
}

int main(void)
{
	RUN(test_parse_uint);
	RUN(test_parse_seconds);
	RUN(test_parse_range);
	RUN(test_snapshot_options);
	RUN(test_pid_and_command);
	RUN(test_bad_values_name_the_option);
	RUN(test_defaults);
	RUN(test_stack_options);
	RUN(test_light_and_speed_options);
	return check_summary();
}
