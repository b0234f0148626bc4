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

# the fields of an allocation record that do not change from run to run
stable_allocs() { # file
	jq -c 'select(.type=="alloc") | [.size, .pages, .resident_pages,
		.untouched_pages, .faults, .by, .end, .chunk, .released,
		.failed, .site.sym]' "$1" | sort
}

# Each target run by default ($TMP/d_TARGET.json) and with option
# ($TMP/o_TARGET.json): the same ledger, the same faults in blocks (the
# process's own start-up faults vary from run to run).
same_ledger_with() { # option target...
	local opt=$1 t
	shift
	for t in "$@"; do
		run_pt "d_$t" --json -o "$TMP/d_$t.json" -- "$T/$t"
		run_pt "o_$t" --json "$opt" -o "$TMP/o_$t.json" -- "$T/$t"
		expect "$t: exit codes" "$(rc_of "d_$t") $(rc_of "o_$t")" "0 0"
		expect "$t: ledger alike" "$(stable_allocs "$TMP/d_$t.json")" \
			"$(stable_allocs "$TMP/o_$t.json")"
		expect "$t: faults in blocks alike" \
			"$(summary "$TMP/d_$t.json" .faults_in_allocs)" \
			"$(summary "$TMP/o_$t.json" .faults_in_allocs)"
	done
}

t_preload_sites_take_the_calls() {
	local f=$TMP/pre.json g=$TMP/nopre.json lib
	lib=$(readlink -f "$ROOT/build/pagetrace-preload.so")
	run_pt pre -vv --json -o "$f" -- "$T/every_call"
	run_pt nopre --json --no-preload -o "$g" -- "$T/every_call"
	expect "exit codes" "$(rc_of pre) $(rc_of nopre)" "0 0"
	expect "probes" "$(summary "$f" .allocator_probes)" preload
	expect "--no-preload probes" "$(summary "$g" .allocator_probes)" placed
	# the functions that only allocate seen whole after their calls, one
	# probe each; realloc and reallocarray at their entries and returns
	for fn in malloc calloc posix_memalign aligned_alloc memalign valloc pvalloc; do
		expect_match "$fn's site" "$(grep "uprobe on $fn " "$TMP/pre.err")" \
			"uprobe on $fn at $lib\+0x[0-9a-f]+ \(pagetrace's preloaded site, after its call: one probe for the whole call\)$"
	done
	for fn in realloc reallocarray free; do
		expect_match "$fn's site" "$(grep "uprobe on $fn " "$TMP/pre.err")" \
			"uprobe on $fn at $lib\+0x[0-9a-f]+ \(pagetrace's preloaded site: a 5-byte nop the kernel turns into a call\)$"
	done
	expect "sites" "$(grep -c "uprobe on .* at $lib+" "$TMP/pre.err")" 10
	# each function its own site: glibc's aligned_alloc is its memalign
	expect "functions" "$(jq -rs 'map(select(.type=="alloc")) | sort_by(.id) | .[].fn' "$f" | tr '\n' ' ')" \
		"malloc calloc malloc realloc reallocarray posix_memalign aligned_alloc memalign valloc pvalloc "
	expect "ledger as with probes in glibc" "$(stable_allocs "$f")" "$(stable_allocs "$g")"
	# the kernel did turn the nops into calls: its trampoline ran (its
	# page's first execution faulted), and not for probes in glibc
	expect "trampoline" "$(outside "$f" '[uprobes-trampoline]' .faults)" 1
	expect "no trampoline in glibc" "$(jq -c 'select(.type=="outside" and .mapping=="[uprobes-trampoline]")' "$g" | wc -l)" 0
	# the library's constructor calls every site with sizes no allocator
	# serves: none of that is the program's
	expect "failed" "$(summary "$f" .failed)" 0
	expect "allocs" "$(summary "$f" .allocs)" 10
	expect "faults = kernel's count" "$(summary "$f" '.faults - .kernel_faults')" 0
	run_pt pret -o "$TMP/pret.txt" -- "$T/alloc_write"
	expect "text" "$(grep -c "^allocator: .*libc\.so\.6, probed on pagetrace-preload\.so's sites$" "$TMP/pret.txt")" 1
}

t_calls_seen_after_keep_the_ledger() {
	# --events probes the functions that only allocate at their sites'
	# entries and returns, the default after their calls alone: faults
	# inside the calls (glibc writing a header, calloc zeroing a reused
	# chunk) are told by their code and charged to the block all the same
	run_pt evs -vv --json --events -o "$TMP/evs.json" -- "$T/every_call"
	expect_match "--events: malloc at its entry" "$(grep 'uprobe on malloc ' "$TMP/evs.err")" \
		"pagetrace's preloaded site: a 5-byte nop the kernel turns into a call\)$"
	same_ledger_with --events alloc_write calloc_touch lazy zero_cow \
		dontneed heap_free fork_cow populate every_call thread_calls \
		realloc_grow aligned_small
	# glibc's own code faulting inside the aligned functions, around the
	# pieces it splits off: as with probes at glibc's entries
	same_ledger_with --no-preload aligned_small
	expect "aligned_small: blocks" "$(summary "$TMP/d_aligned_small.json" '"\(.allocs) \(.frees)"')" "72 72"
	# memalign trims the heap (brk) inside its calls, after writing the
	# headers around its blocks: that syscall is the allocator's own, and
	# the header faults before it stay the block's. Without address
	# randomization, for the same alignments every run
	local t
	for t in d e; do
		run_pt "trim_$t" --json $([ $t = e ] && echo --events) \
			-o "$TMP/trim_$t.json" -- setarch -R "$T/aligned_trim"
		expect "trim $t: exit code" "$(rc_of "trim_$t")" 0
	done
	expect_true "trim: brk inside memalign" "$([ "$(jq -c 'select(.type=="syscall" and .name=="brk" and .in_call)' "$TMP/trim_e.json" | wc -l)" -ge 1 ]; echo $?)"
	expect "trim: ledger alike" "$(stable_allocs "$TMP/trim_d.json")" \
		"$(stable_allocs "$TMP/trim_e.json")"
	expect "trim: faults in blocks alike" \
		"$(summary "$TMP/trim_d.json" .faults_in_allocs)" \
		"$(summary "$TMP/trim_e.json" .faults_in_allocs)"
}

t_preload_keeps_the_environment() {
	local lib other
	# pagetrace finds it beside its own executable, symbolic links resolved
	lib=$(readlink -f "$ROOT/build/pagetrace-preload.so")
	# a library every process has already: preloading it changes nothing
	other=$(ldd /bin/sh | awk '/libc\.so/ { print $3 }')
	env -u LD_PRELOAD "$PT" -o "$TMP/envd.txt" -- sh -c 'echo "[$LD_PRELOAD]"' >"$TMP/envd.out" 2>&1
	expect "preloaded" "$(cat "$TMP/envd.out")" "[$lib]"
	LD_PRELOAD="$other" run_pt envu -o "$TMP/envu.txt" -- sh -c 'echo "[$LD_PRELOAD]"'
	expect "before the user's" "$(cat "$TMP/envu.out")" "[$lib:$other]"
	expect "no error" "$(cat "$TMP/envu.err")" ""
	for v in no-preload light probes-at-symbols; do
		env -u LD_PRELOAD "$PT" --$v -o "$TMP/env$v.txt" -- sh -c 'echo "[$LD_PRELOAD]"' >"$TMP/env$v.out" 2>&1
		expect "--$v" "$(cat "$TMP/env$v.out")" "[]"
	done
	# a sanitizer's runtime must come first: such a program is left alone
	run_pt asan -v --json -o "$TMP/asan.json" -- "$T/sanitized"
	expect "sanitized: exit code" "$(rc_of asan)" 0
	expect_match "sanitized: said" "$(err_of asan)" \
		"pagetrace: $T/sanitized is not given pagetrace-preload\.so: it links a sanitizer runtime, which must come first"
	expect "sanitized: probes" "$(summary "$TMP/asan.json" .allocator_probes)" placed
}

# how many of a timed_calls run's mallocs and frees pagetrace timed outside
# the windows the program read around them: "allocs frees"
times_outside() { # pagetrace-json program-output
	jq -r 'select(.type=="alloc" and .fn=="malloc") |
		"\(.size) \(.t_alloc_ns) \(.t_free_ns)"' "$1" | sort -n >"$1.times"
	sort -n "$2" | join "$1.times" - | awk '
		# slack for the figures: their error (tens of ns), rounding
		{ s = 500; a = $2; f = $3
		  if (a < $4 - s || a > $5 + s) oa++
		  if (f < $6 - s || f > $7 + s) of++ }
		END { printf "%d %d\n", oa, of }'
}

# where in the windows the mallocs were timed, their median (0: at the
# start, 1: at the end; the site's stamp comes before its probe's kernel
# entry, the kernel's clock during it)
median_place() { # pagetrace-json program-output
	sort -n "$2" | join "$1.times" - |
		awk '{ print ($2 - $4) / ($5 - $4) }' | sort -g |
		awk '{ v[NR] = $1 } END { printf "%s\n", v[int((NR + 1) / 2)] < 0.5 ? "early" : "late" }'
}

# Can this machine's TSC be made the kernel's time (siteclock.h)? "yes" if
# so, else no
tsc_is_the_clock() {
	local dir=/sys/devices/system/clocksource/clocksource0
	case $(cat $dir/current_clocksource) in
	tsc | kvm-clock) ;;
	*) echo no; return ;;
	esac
	if [[ " $(cat $dir/available_clocksource) " == *" tsc "* ]] &&
		grep -m1 '^flags' /proc/cpuinfo | grep -qw constant_tsc &&
		grep -m1 '^flags' /proc/cpuinfo | grep -qw nonstop_tsc; then
		echo yes
	else
		echo no
	fi
}

t_calls_timed_at_their_sites() {
	local f=$TMP/tsite.json k=$TMP/tkern.json
	run_pt tsite -v --json -o "$f" -- "$T/timed_calls"
	run_pt tkern --json --kernel-clock -o "$k" -- "$T/timed_calls"
	expect "exit codes" "$(rc_of tsite) $(rc_of tkern)" "0 0"
	expect "pairs" "$(wc -l <"$TMP/tsite.out") $(wc -l <"$TMP/tkern.out")" "200 200"
	# 200 pairs, the library's warm-up calls (10, one free(NULL) not
	# recorded) and stdout's buffer
	expect "records" "$(summary "$f" .call_records) $(summary "$k" .call_records)" "410 410"
	expect "--kernel-clock: none timed at sites" \
		"$(summary "$k" '"\(.calls_timed_at_sites) \(.site_clock_error_ns)"')" "0 null"
	expect "--kernel-clock: times within the calls" "$(times_outside "$k" "$TMP/tkern.out")" "0 0"
	expect "--kernel-clock: timed in the kernel" "$(median_place "$k" "$TMP/tkern.out")" late
	expect "ledger alike" "$(stable_allocs "$f")" "$(stable_allocs "$k")"
	case $(tsc_is_the_clock) in
	yes)
		# all but realloc's and reallocarray's warm-up calls (entry and
		# return probes, timed in the kernel)
		expect "timed at sites" "$(summary "$f" .calls_timed_at_sites)" 408
		expect_true "figures close" "$([ "$(summary "$f" .site_clock_error_ns)" -le 250 ]; echo $?)"
		expect "not withdrawn" "$(summary "$f" .site_clock_withdrawn)" false
		expect "times within the calls" "$(times_outside "$f" "$TMP/tsite.out")" "0 0"
		expect "timed at the sites" "$(median_place "$f" "$TMP/tsite.out")" early
		run_pt tsitet -o "$TMP/tsite.txt" -- "$T/timed_calls"
		expect_match "text" "$(grep '^call times' "$TMP/tsite.txt")" \
			'^call times: 408 of 410 calls and frees read at the preloaded sites \(TSC at [0-9]+ MHz, made CLOCK_MONOTONIC by figures found off by [0-9]+ ns at most\)$'
		# the library is asked to stamp, and only then
		env -u LD_PRELOAD "$PT" -o /dev/null -- sh -c 'echo "[$PAGETRACE_SITE_CLOCK]"' >"$TMP/envc.out" 2>&1
		expect "asked" "$(cat "$TMP/envc.out")" "[1]"
		;;
	*)
		expect "timed in the kernel" "$(summary "$f" .calls_timed_at_sites)" 0
		expect_match "said why" "$(err_of tsite)" "pagetrace: allocator calls are timed in the kernel: "
		;;
	esac
	PAGETRACE_SITE_CLOCK=1 "$PT" --kernel-clock -o /dev/null -- sh -c 'echo "[$PAGETRACE_SITE_CLOCK]"' >"$TMP/envk.out" 2>&1
	expect "--kernel-clock: not asked" "$(cat "$TMP/envk.out")" "[]"
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
	# the drain held back: the producer CPU's 8 MiB ring (~86 k of these
	# records) fills, and only a full ring refuses, what it refuses is
	# lost. A
	# forced wake-up per record past the quarter mark (submit() without
	# its gap) slowed the producer to ~0.6 M records/s here: the buffer
	# never filled in the step
	taken=$(cut -d'|' -f5 <<<"$paused" | tr -d ' ')
	lost=$(cut -d'|' -f6 <<<"$paused" | tr -d ' ')
	expect_true "paused: some taken" "$([ "$taken" -gt 60000 ]; echo $?)"
	expect_true "paused: some lost" "$([ "$lost" -gt 0 ]; echo $?)"
	expect_match "summary" "$(tail -1 "$out")" \
		'^drained with nothing lost, one core: up to [0-9.]+ M records/s \(all decoded\)$'
}

# bench/hook_floor: its empty programs are attached while the command
# runs, gone after, and the command's status is its own
t_hook_floor_attaches_and_detaches() {
	local hf=$ROOT/build/bench/hook_floor out=$TMP/hooks.out
	"$hf" fault_user,rss_stat,page_alloc,fault_done -o "$TMP/unused" -- \
		sh -c 'bpftool -j prog show; exit 3' >"$out" 2>"$TMP/hooks.err"
	expect "exit code" "$?" 3
	expect "stderr" "$(cat "$TMP/hooks.err")" ""
	expect "programs while it ran" \
		"$(hook_programs <"$out" | tr '\n' ' ')" \
		"hook_fault_done hook_fault_user hook_page_alloc hook_rss_stat "
	"$hf" rss_stat -- sh -c 'bpftool -j prog show' >"$out" 2>&1
	expect "one hook" "$(hook_programs <"$out")" hook_rss_stat
	expect "programs after" "$(bpftool -j prog show | hook_programs)" ""
	"$hf" fault_user,swap -- true 2>"$TMP/hooks.err"
	expect "unknown hook: exit code" "$?" 64
	expect "unknown hook: stderr" "$(cat "$TMP/hooks.err")" \
		"hook_floor: no hook 'swap' (fault_user|rss_stat|page_alloc|fault_done)"
}

# the names of hook_floor's programs in bpftool's JSON list
hook_programs() {
	jq -r '.[].name | select(startswith("hook_"))' | sort
}

# the allocator probes keep each thread's call in a slot of a table by
# thread id; a thread whose slot another holds keeps it in its task
# storage: with one slot, the main thread holds it from its first call
# (the preloaded library's), the four others go there, and the ledger is
# the same
# one address allocated and freed 400 times by two threads on two CPUs:
# its records sit in two CPUs' ring buffers, and only read in the order
# they were made do they pair up (read ring by ring, each thread would
# seem to free its own blocks, and one would be left live)
t_records_merged_across_cpus() {
	local f=$TMP/cross.json
	run_pt cross --events --json -o "$f" -- "$T/cross_cpu"
	expect "exit code" "$(rc_of cross)" 0
	expect "freed by the other thread" \
		"$(jq -r 'select(.type=="alloc" and .size==200) | "\(.tid == .free_tid) \(.end)"' "$f" | sort | uniq -c | tr -s ' ')" \
		" 400 false free"
	expect "unknown frees" "$(summary "$f" .unknown_frees)" 0
	expect "event log in time order" \
		"$(jq -s '[.[] | select(.t_ns != null) | .t_ns] | (. == sort) and length > 800' "$f")" true
}

# every possible CPU has a ring: a CPU brought online while tracing
# (taken offline here, CPU 1) gets the target's records there, none lost
t_cpu_online_later_has_a_ring() {
	local online=/sys/devices/system/cpu/cpu1/online f=$TMP/hot.json pt
	if [ ! -w "$online" ] || [ "$(cat "$online")" != 1 ] ||
		! echo 0 2>/dev/null >"$online"; then
		SKIP_REASON="CPU 1 cannot be taken offline here"
		return
	fi
	rm -f "$TMP/hot1"
	"$PT" --json -o "$f" -- "$T/on_cpu" 1 "$TMP/hot1" 2>"$TMP/hot.err" &
	pt=$!
	wait_for_file "$TMP/hot1" 20 || errors+=("target never got ready")
	echo 1 >"$online"
	kill -USR1 "$(cat "$TMP/hot1")"
	wait "$pt"
	expect "exit code" "$?" 0
	expect "exit status" "$(summary "$f" .exit_status)" 0
	expect "its blocks" \
		"$(jq -r 'select(.type=="alloc" and .size==3000) | .end' "$f" | sort | uniq -c | tr -s ' ')" \
		" 1000 free"
	expect "lost" "$(summary "$f" .lost_events)" 0
}

t_call_slots_shared() {
	local f=$TMP/slots.json g=$TMP/slot1.json
	run_pt slots --json -o "$f" -- "$T/thread_calls"
	run_pt slot1 --json --call-slots 1 -o "$g" -- "$T/thread_calls"
	expect "exit codes" "$(rc_of slots) $(rc_of slot1)" "0 0"
	for h in "$f" "$g"; do
		# 4 blocks and their reallocations, 400 small ones, all
		# freed; and glibc's 4 for the threads' TLS (allocate_dtv)
		expect "$(basename "$h"): allocs frees failed" \
			"$(summary "$h" '"\(.allocs) \(.frees) \(.failed)"')" "412 404 0"
		# thread t's block: 1 + t MiB, every page written once, its
		# header page faulted inside malloc; then reallocated
		expect "$(basename "$h"): 3 MiB block" \
			"$(alloc "$h" $((3 * MiB)) '"\(.end) \(.faults) \(.resident_pages)"')" "realloc 769 769"
		expect "$(basename "$h"): faults = kernel's count" \
			"$(summary "$h" '.faults - .kernel_faults')" 0
	done
	# .released left out: whether realloc's mremap moved a block or grew
	# it where it was depends on where the other threads' mappings went
	expect "ledger with one slot" "$(stable_allocs "$g" | jq -c 'del(.[8])')" \
		"$(stable_allocs "$f" | jq -c 'del(.[8])')"
	expect "threads without a slot" \
		"$(summary "$f" .threads_without_call_slot) $(summary "$g" .threads_without_call_slot)" "0 4"
	run_pt slot1t --call-slots 1 -o "$TMP/slot1.txt" -- "$T/thread_calls"
	expect "text" "$(grep -c '^4 threads followed in task storage (their call slot held by another thread): slower, figures the same; raise --call-slots$' "$TMP/slot1.txt")" 1
	bad_input cs3 64 "^pagetrace: invalid --call-slots '3': out of range \(expected a power of two from 1 to 262144\)$" --call-slots 3 -- true
}
