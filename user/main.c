// SPDX-License-Identifier: GPL-2.0
/*
 * pagetrace: when did an allocation really cost memory, and who paid?
 * Entry point: options, then a snapshot, or privilege and kernel checks
 * and one tracing session.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "exitcode.h"
#include "kernel.h"
#include "log.h"
#include "opts.h"
#include "session.h"
#include "snapshot.h"

static volatile sig_atomic_t signals_seen;

static void on_signal(int signo)
{
	(void)signo;
	/* the first signal drains and reports, a second one exits now;
	 * the kernel detaches every probe when the process ends */
	if (signals_seen++)
		_exit(128 + signo);
	session__request_stop();
}

static void install_signal_handlers(void)
{
	/* SA_RESTART: a wait for the command is not cut short; the event
	 * loop polls with a timeout and sees the request */
	struct sigaction sa = { .sa_handler = on_signal,
				.sa_flags = SA_RESTART };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* Tracing: privileges and the kernel first, then one session. */
static int trace(const struct options *opts, FILE *out)
{
	char missing[256];
	struct session *s;
	int exit_code;

	kernel__missing_caps(missing, sizeof(missing));
	if (missing[0]) {
		log__error("missing privilege: %s; run as root (sudo "
			   "pagetrace ...) or grant the capabilities",
			   missing);
		return PT_EXIT_PRIVILEGE;
	}
	exit_code = kernel__check_btf();
	if (exit_code)
		return exit_code;
	install_signal_handlers();
	s = session__new(opts, out, &exit_code);
	if (s) {
		exit_code = session__run(s);
		session__free(s);
	}
	return exit_code;
}

int main(int argc, char **argv)
{
	struct options opts;
	char error[512];
	FILE *out = stdout;
	int exit_code;

	switch (opts__parse(&opts, argc, argv, error, sizeof(error))) {
	case OPTS_HELP:
		opts__print_help();
		return PT_EXIT_OK;
	case OPTS_VERSION:
		printf("pagetrace %s\n", PAGETRACE_VERSION);
		return PT_EXIT_OK;
	case OPTS_ERROR:
		log__error("%s", error);
		return PT_EXIT_USAGE;
	case OPTS_RUN:
		break;
	}
	log__set_verbosity(opts.verbosity);
	libbpf_set_print(log__libbpf);
	if (opts.output) {
		out = fopen(opts.output, "we");
		if (!out) {
			log__error("cannot write %s: %s", opts.output,
				   strerror(errno));
			return PT_EXIT_OUTPUT;
		}
	}
	/* reading page tables needs no BPF, only access to /proc/PID */
	if (opts.snapshot)
		exit_code = snapshot__run(&opts, out);
	else
		exit_code = trace(&opts, out);
	if (out != stdout && fclose(out)) {
		log__error("cannot write %s: %s", opts.output, strerror(errno));
		return PT_EXIT_OUTPUT;
	}
	return exit_code;
}
