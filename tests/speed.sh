# shellcheck shell=bash
# Probe placement and the benchmark floor: sourced by tests/run.sh.

t_free_probed_past_the_null_test() {
	local f
	run_pt place -vv --json --no-preload -- "$T/alloc_write"
	expect "exit code" "$(rc_of place)" 0
	expect_match "free's probe" "$(grep 'uprobe on free ' "$TMP/place.err")" \
		'uprobe on free at .*libc\.so\.6\+0x[0-9a-f]+ \(the symbol \+[0-9]+, past the NULL test\)$'
	expect_match "malloc's probe" "$(grep 'uprobe on malloc ' "$TMP/place.err")" \
		'uprobe on malloc at .*libc\.so\.6\+0x[0-9a-f]+ \(the symbol\)$'
	run_pt naive -vv --json --probes-at-symbols -- "$T/alloc_write"
	expect "naive exit code" "$(rc_of naive)" 0
	expect_match "naive free's probe" "$(grep 'uprobe on free ' "$TMP/naive.err")" \
		'uprobe on free at .*libc\.so\.6\+0x[0-9a-f]+ \(the symbol\)$'
	# both placements see the same calls and the same pages
	for f in place naive; do
		expect "$f: freed" "$(alloc "$TMP/$f.out" $((64 * MiB)) '"\(.end) \(.resident_pages) \(.faults)"')" \
			"free 16385 16385"
		expect "$f: frees" "$(summary "$TMP/$f.out" .frees)" \
			"$(summary "$TMP/place.out" .frees)"
	done
}

t_empty_probes_record_nothing() {
	local f=$TMP/empty.out
	run_pt empty --json --empty-probes -- "$T/alloc_write"
	expect "exit code" "$(rc_of empty)" 0
	expect "records" "$(summary "$f" .records)" 0
	expect "flagged" "$(summary "$f" .empty_probes)" true
	expect "no alloc records" "$(jq -c 'select(.type=="alloc")' "$f" | wc -l)" 0
	# the command ran as usual: the kernel counted its faults
	expect_true "command faulted" "$([ "$(summary "$f" .kernel_faults)" -gt 16384 ]; echo $?)"
	bad_input emptyverify 64 "^pagetrace: --empty-probes records nothing: it goes with neither --verify nor --folded$" --empty-probes --verify -- true
}

t_loop_stack_walked_once() {
	local f
	# solve()'s loop faults 16384 times from one frame: its stack is
	# walked once and reused, unless --exact-stacks
	run_pt memo --json -- "$T/stacks"
	run_pt exact --json --exact-stacks -- "$T/stacks"
	for f in memo exact; do
		expect "$f: exit code" "$(rc_of $f)" 0
	done
	expect_true "reused" "$([ "$(summary "$TMP/memo.out" .stacks_reused)" -ge 16383 ]; echo $?)"
	expect_true "walked" "$([ "$(summary "$TMP/memo.out" .stacks_walked)" -lt 1000 ]; echo $?)"
	expect "exact: none reused" "$(summary "$TMP/exact.out" .stacks_reused)" 0
	expect_true "exact: all walked" "$([ "$(summary "$TMP/exact.out" .stacks_walked)" -ge 16384 ]; echo $?)"
	# and the same stacks come out, weighted by the same pages
	run_pt memof --folded -- "$T/stacks"
	run_pt exactf --folded --exact-stacks -- "$T/stacks"
	# (the loader's and libc's start-up faults vary from run to run)
	expect "folded: same stacks" "$(grep -v '^\[no allocation\]' "$TMP/memof.out" | sort | md5sum)" \
		"$(grep -v '^\[no allocation\]' "$TMP/exactf.out" | sort | md5sum)"
	expect "folded: touch line" "$(grep -cE ';main;solve 16384$' "$TMP/memof.out")" 1
	expect "alloc stack" "$(alloc "$TMP/memo.out" $((64 * MiB)) '[.stack[0:2][].sym] | join(";")')" \
		"$(alloc "$TMP/exact.out" $((64 * MiB)) '[.stack[0:2][].sym] | join(";")')"
	expect "alloc stack frames" "$(alloc "$TMP/memo.out" $((64 * MiB)) '[.stack[0:2][].sym] | join(";")')" \
		"make_matrix;main"
}

# bench/drain_speed's producer: records the kernel side makes go through
# the real ring buffer to the loader; what the buffer refuses is counted
t_synthetic_records_drained_or_counted_lost() {
	local out=$TMP/drain.out paced paused taken lost
	if [ "$(nproc)" -lt 2 ]; then
		SKIP_REASON="drain_speed needs two CPUs (producer, drain)"
		return
	fi
	# 200 ms per offered rate
	"$ROOT/build/bench/drain_speed" 200 >"$out" 2>"$TMP/drain.err"
	expect "exit code" "$?" 0
	expect "stderr" "$(cat "$TMP/drain.err")" ""
	# | offered | produced | drained | records | lost | ...
	paced=$(grep '^| 0.5 M/s |' "$out")
	paused=$(grep '^| unpaced, drain paused |' "$out")
	if [ -z "$paced" ] || [ -z "$paused" ]; then
		expect_true "the table's rows" 1
		return
	fi
	taken=$(cut -d'|' -f5 <<<"$paced" | tr -d ' ')
	lost=$(cut -d'|' -f6 <<<"$paced" | tr -d ' ')
	expect "paced: lost" "$lost" 0
	# whole rounds (a malloc, 4 faults, a free) of whole runs of 64
	expect "paced: records in whole runs" "$((taken % 384))" 0
	expect_true "paced: records" "$([ "$taken" -ge 384 ]; echo $?)"
	# the drain held back: the 16 MiB buffer (~170 k of these records)
	# fills, and only a full buffer refuses, what it refuses is lost. A
	# forced wake-up per record past the quarter mark (submit() without
	# its gap) slowed the producer to ~0.6 M records/s here: the buffer
	# never filled in the step
	taken=$(cut -d'|' -f5 <<<"$paused" | tr -d ' ')
	lost=$(cut -d'|' -f6 <<<"$paused" | tr -d ' ')
	expect_true "paused: some taken" "$([ "$taken" -gt 100000 ]; echo $?)"
	expect_true "paused: some lost" "$([ "$lost" -gt 0 ]; echo $?)"
	expect_match "summary" "$(tail -1 "$out")" \
		'^drained with nothing lost, one core: up to [0-9.]+ M records/s \(all decoded\)$'
}
