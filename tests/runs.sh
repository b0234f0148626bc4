# shellcheck shell=bash
# Fault runs (PT_RUN_* in bpf/pagetrace.h): sourced by tests/run.sh.

t_fault_runs_join_a_loop() {
	local f=$TMP/runs.json g=$TMP/noruns.json s=$((64 * MiB))
	# 16384 pages written one after the other, 16 bytes into each: the
	# header's page came with malloc's call
	run_pt runs --json -o "$f" -- "$T/alloc_write"
	run_pt noruns --json --no-fault-runs -o "$g" -- "$T/alloc_write"
	expect "exit codes" "$(rc_of runs) $(rc_of noruns)" "0 0"
	expect "block" "$(alloc "$f" $s '"\(.faults) \(.resident_pages) \(.by.anon)"')" \
		"16385 16385 16385"
	expect "every fault" "$(summary "$f" '.faults - .kernel_faults')" 0
	expect "complete" "$(summary "$f" .complete)" true
	# a run takes at most 512 faults, each record is a fault or a run
	# (failed faults have records too)
	expect "records + joined = faults" \
		"$(summary "$f" '.fault_records + .faults_joined - .faults - .fault_errors')" 0
	expect_true "few records" \
		"$([ "$(summary "$f" .fault_records)" -le $((16384 / 8)) ]; echo $?)"
	expect_true "at most 512 a record" \
		"$([ "$(summary "$f" .fault_records)" -ge $((16384 / 512)) ]; echo $?)"
	# without: a record per fault, the same block
	expect "no runs" "$(summary "$g" '"\(.faults_joined) \(.fault_records - .faults)"')" "0 0"
	expect "block without runs" "$(alloc "$g" $s '"\(.faults) \(.resident_pages) \(.by.anon)"')" \
		"16385 16385 16385"
	# main has its frame set up where it faults: after its first run
	# there, the next ones leave the word at sp unread
	expect_true "stack tops unread" \
		"$([ "$(summary "$f" .stack_tops_unread)" -ge 8192 ]; echo $?)"
	expect "stack tops read without runs" "$(summary "$g" .stack_tops_unread)" 0
	# --events lists every fault with its time: no runs there
	run_pt evruns --json --events -o "$TMP/evruns.json" -- "$T/alloc_write"
	expect "events: no runs" "$(summary "$TMP/evruns.json" .faults_joined)" 0
}

t_fault_runs_keep_the_ledger() {
	# zero pages read in a row (calloc_touch, zero_cow), pages written
	# in a row, in calls and out, by threads, by the kernel (populate)
	same_ledger_with --no-fault-runs alloc_write calloc_touch lazy \
		zero_cow dontneed realloc_grow realloc_copy populate fork_cow \
		heap_free thp phases
	# the zero page read page after page joined runs too
	expect_true "zero runs" \
		"$([ "$(summary "$TMP/d_calloc_touch.json" .faults_joined)" -gt 0 ]; echo $?)"
}

t_fault_runs_read_the_stack_once() {
	local f=$TMP/frun.json g=$TMP/fnorun.json
	# fill() is frameless: its 2047 faults come from one frame, whose
	# stack the run's first fault reads and the others keep unread
	run_pt frun --json -o "$f" -- "$T/no_frame_chain"
	run_pt fnorun --json --no-fault-runs -o "$g" -- "$T/no_frame_chain"
	expect "exit codes" "$(rc_of frun) $(rc_of fnorun)" "0 0"
	expect_true "stack tops unread in the run" \
		"$([ "$(summary "$f" .stack_tops_unread)" -ge 2000 ]; echo $?)"
	expect "read without runs" "$(summary "$g" .stack_tops_unread)" 0
	# and the same touching stacks, weighted by the same pages
	run_pt frunf --folded -- "$T/no_frame_chain"
	run_pt fnorunf --folded --no-fault-runs -- "$T/no_frame_chain"
	expect "folded: exit codes" "$(rc_of frunf) $(rc_of fnorunf)" "0 0"
	expect "folded: stderr" "$(err_of frunf)$(err_of fnorunf)" ""
	expect "folded: fill's pages" "$(grep -c ';fill 2047$' "$TMP/frunf.out")" 1
	expect "folded: same stacks" \
		"$(grep -v '^\[no allocation\]' "$TMP/frunf.out" | sort | md5sum)" \
		"$(grep -v '^\[no allocation\]' "$TMP/fnorunf.out" | sort | md5sum)"
}
