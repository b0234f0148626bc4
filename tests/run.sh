#!/usr/bin/env bash
# pagetrace tests: the unit tests, then integration tests that run the real
# binary as root with real BPF on the targets in tests/targets, asserting
# exact figures. Ends with "N passed, N failed".
#
#   bash tests/run.sh [PATTERN]   run the tests whose name contains PATTERN
set -u
cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
PT=$ROOT/pagetrace
T=$ROOT/build/tests
FILTER=${1:-}
TMP=$(mktemp -d /tmp/pagetrace-tests.XXXXXX)
chmod 755 "$TMP"
PIDS_TO_KILL=()

passed=0
failed=0
skipped=0
failures=()
skip_reasons=()

cleanup() {
	local pid
	for pid in "${PIDS_TO_KILL[@]}"; do
		kill -9 "$pid" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

MiB=1048576

# ---- assertions: each test collects its errors ----------------------

errors=()

expect() { # what actual expected
	if [ "$2" != "$3" ]; then
		errors+=("$1: got '$2', expected '$3'")
	fi
}

expect_match() { # what text regex
	if ! [[ $2 =~ $3 ]]; then
		errors+=("$1: '$2' does not match /$3/")
	fi
}

expect_true() { # what condition-result(0/1)
	if [ "$2" != 0 ]; then
		errors+=("$1")
	fi
}

# one field of the single record a jq condition selects
one_record() { # file jq-condition jq-expression
	local n
	n=$(jq -c "select($2)" "$1" | wc -l)
	if [ "$n" != 1 ]; then
		echo "<$n records with $2>"
		return
	fi
	jq -r "select($2) | $3" "$1"
}

# one field of the single alloc record of the given size
alloc() { # file size jq-expression
	one_record "$1" ".type==\"alloc\" and .size==$2" "$3"
}

summary() { # file jq-expression
	jq -r "select(.type==\"summary\") | $2" "$1"
}

snap_summary() { # file jq-expression
	jq -r "select(.type==\"snapshot_summary\") | $2" "$1"
}

outside() { # file mapping jq-expression
	jq -r "select(.type==\"outside\" and .mapping==\"$2\") | $3" "$1"
}

# run pagetrace, keep stdout, stderr and the exit code
run_pt() { # name args...
	local name=$1
	shift
	"$PT" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
	echo $? >"$TMP/$name.rc"
}

rc_of() { cat "$TMP/$1.rc"; }
err_of() { cat "$TMP/$1.err"; }
err_lines() { wc -l <"$TMP/$1.err" | tr -d ' '; }

wait_for_file() { # path timeout-seconds
	local i
	for ((i = 0; i < $2 * 20; i++)); do
		[ -s "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

wait_for_text() { # file text timeout-seconds
	local i
	for ((i = 0; i < $3 * 20; i++)); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# ---- running tests ---------------------------------------------------

run_test() { # name
	local name=$1 e
	[ -n "$FILTER" ] && [[ $name != *"$FILTER"* ]] && return
	errors=()
	SKIP_REASON=""
	if declare -F "t_$name" >/dev/null; then
		"t_$name"
	else
		errors+=("no test function t_$name")
	fi
	if [ -n "$SKIP_REASON" ]; then
		skipped=$((skipped + 1))
		skip_reasons+=("$name: $SKIP_REASON")
		printf 'skip %s (%s)\n' "$name" "$SKIP_REASON"
	elif [ ${#errors[@]} -eq 0 ]; then
		passed=$((passed + 1))
		printf 'ok   %s\n' "$name"
	else
		failed=$((failed + 1))
		failures+=("$name")
		printf 'FAIL %s\n' "$name"
		for e in "${errors[@]}"; do
			printf '       %s\n' "$e"
		done
	fi
}

run_unit_tests() {
	local t out line p f
	for t in build/unit/test_*; do
		[[ $t == *.d ]] && continue
		[ -n "$FILTER" ] && [[ $t != *"$FILTER"* ]] && continue
		out=$("$t")
		line=$(tail -n 1 <<<"$out")
		p=${line%% passed*}
		f=${line#*, }
		f=${f%% failed*}
		if ! [[ $p =~ ^[0-9]+$ && $f =~ ^[0-9]+$ ]]; then
			p=0
			f=1
		fi
		passed=$((passed + p))
		failed=$((failed + f))
		grep -v '^ok ' <<<"$out" | grep -v 'passed, ' | sed 's/^/  /'
		printf '%-4s %s (%s)\n' "$([ "$f" = 0 ] && echo ok || echo FAIL)" \
			"${t##*/}" "$line"
		[ "$f" = 0 ] || failures+=("${t##*/}")
	done
}

# ---- integration tests -------------------------------------------------

ZERO_PAGE=$("$T/zero_probe" 2>/dev/null || echo unknown)

t_malloc_write_every_page() {
	run_pt mw --json -- "$T/alloc_write"
	local f=$TMP/mw.out s=$((64 * MiB))
	expect "exit code" "$(rc_of mw)" 0
	expect "fn" "$(alloc "$f" $s .fn)" malloc
	# 16385 pages: the block starts 16 bytes into its mapping
	expect "pages" "$(alloc "$f" $s .pages)" 16385
	expect "resident" "$(alloc "$f" $s .resident_pages)" 16385
	expect "zero" "$(alloc "$f" $s .zero_pages)" 0
	expect "untouched" "$(alloc "$f" $s .untouched_pages)" 0
	# glibc writes the header page inside malloc: 1 + 16384 faults
	expect "faults" "$(alloc "$f" $s .faults)" 16385
	expect "by.anon" "$(alloc "$f" $s .by.anon)" 16385
	expect "by.zero+cow+thp" "$(alloc "$f" $s '.by.zero+.by.cow+.by.thp')" 0
	expect "resident at return" "$(alloc "$f" $s .resident_at_alloc)" 1
	expect "chunk" "$(alloc "$f" $s .chunk)" mmap
	expect "end" "$(alloc "$f" $s '.end')" free
	expect "released" "$(alloc "$f" $s .released)" true
	expect "first touch known" "$(alloc "$f" $s '.first_touch_ns > 0')" true
	expect "complete" "$(summary "$f" .complete)" true
	expect "faults = kernel's count" "$(summary "$f" '.faults == .kernel_faults')" true
}

t_calloc_read_every_page() {
	run_pt cr --json -- "$T/calloc_touch" read
	local f=$TMP/cr.out s=$((64 * MiB))
	expect "exit code" "$(rc_of cr)" 0
	expect "fn" "$(alloc "$f" $s .fn)" calloc
	expect "faults" "$(alloc "$f" $s .faults)" 16385
	expect "kernel facts agree" "$(summary "$f" .kernel.zero_page_on_read)" \
		"$([ "$ZERO_PAGE" = zero ] && echo true || echo false)"
	if [ "$ZERO_PAGE" = zero ]; then
		# reads map the shared zero page: no memory but the header
		expect "by.zero" "$(alloc "$f" $s .by.zero)" 16384
		expect "by.anon" "$(alloc "$f" $s .by.anon)" 1
		expect "zero pages" "$(alloc "$f" $s .zero_pages)" 16384
		expect "resident" "$(alloc "$f" $s .resident_pages)" 1
	else
		# this kernel allocates a private page on each read fault
		expect "by.zero" "$(alloc "$f" $s .by.zero)" 0
		expect "by.anon" "$(alloc "$f" $s .by.anon)" 16385
		expect "zero pages" "$(alloc "$f" $s .zero_pages)" 0
		expect "resident" "$(alloc "$f" $s .resident_pages)" 16385
	fi
}

t_calloc_read_then_write() {
	run_pt crw --json -- "$T/calloc_touch" readwrite
	local f=$TMP/crw.out s=$((64 * MiB))
	expect "exit code" "$(rc_of crw)" 0
	expect "resident" "$(alloc "$f" $s .resident_pages)" 16385
	expect "zero pages" "$(alloc "$f" $s .zero_pages)" 0
	if [ "$ZERO_PAGE" = zero ]; then
		# each write copies the zero page: counted in zero and in cow
		expect "by.zero" "$(alloc "$f" $s .by.zero)" 16384
		expect "by.cow" "$(alloc "$f" $s .by.cow)" 16384
		expect "faults" "$(alloc "$f" $s .faults)" 32769
	else
		# pages already private after the reads: writes do not fault
		expect "by.anon" "$(alloc "$f" $s .by.anon)" 16385
		expect "by.cow" "$(alloc "$f" $s .by.cow)" 0
		expect "faults" "$(alloc "$f" $s .faults)" 16385
	fi
}

t_cow_of_zero_page() {
	# userfaultfd maps the zero page into pages 1..16383, then all are
	# written: 16383 copies of the zero page, whatever the kernel's read
	# faults do
	run_pt zc --json -- "$T/zero_cow"
	local f=$TMP/zc.out s=$((64 * MiB))
	expect "exit code" "$(rc_of zc)" 0
	expect "by.cow" "$(alloc "$f" $s .by.cow)" 16383
	expect "by.anon (header, last page)" "$(alloc "$f" $s .by.anon)" 2
	expect "faults" "$(alloc "$f" $s .faults)" 16385
	expect "resident" "$(alloc "$f" $s .resident_pages)" 16385
	# each of the block's copies is of the zero page (the process may make
	# another at start-up, outside it: a page read, then written)
	run_pt zce --json --events -- "$T/zero_cow"
	expect "--events exit code" "$(rc_of zce)" 0
	expect "cow_zero faults in the block" \
		"$(jq -r 'select(.type=="fault" and .outcome=="cow_zero" and .alloc_id != null) | .alloc_id' "$TMP/zce.out" | sort | uniq -c | awk '{ print $1 }')" 16383
}

t_malloc_never_touched_is_lazy() {
	run_pt lz --json -- "$T/lazy"
	local f=$TMP/lz.out s=$((64 * MiB))
	expect "exit code" "$(rc_of lz)" 0
	expect "lazy" "$(alloc "$f" $s .lazy)" true
	expect "untouched" "$(alloc "$f" $s .untouched_pages)" 16384
	expect "resident (the header page)" "$(alloc "$f" $s .resident_pages)" 1
	expect "faults (in malloc)" "$(alloc "$f" $s .faults)" 1
	expect "first touch" "$(alloc "$f" $s .first_touch_ns)" null
	expect "end" "$(alloc "$f" $s '.end')" live
	expect "t_free" "$(alloc "$f" $s .t_free_ns)" null
	expect "freed" "$(alloc "$f" $s .freed)" false
	expect "lazy bytes" "$(summary "$f" .lazy_bytes)" $s
	run_pt lzt -- "$T/lazy"
	expect "text report" \
		"$(grep -c '^lazy: 1 allocation, 64.0 MiB allocated, never populated by the program$' "$TMP/lzt.out")" 1
}

t_populate_syscalls_without_faults() {
	run_pt pop --json -- "$T/populate"
	local f=$TMP/pop.out a=$((64 * MiB)) b=$((48 * MiB))
	expect "exit code" "$(rc_of pop)" 0
	# MADV_POPULATE_WRITE over pages 0..16383, page 0 was the header's
	expect "A by.syscall" "$(alloc "$f" $a .by.syscall)" 16383
	expect "A faults" "$(alloc "$f" $a .faults)" 1
	expect "A resident" "$(alloc "$f" $a .resident_pages)" 16384
	expect "A untouched" "$(alloc "$f" $a .untouched_pages)" 1
	# MAP_FIXED | MAP_POPULATE over pages 1..12287
	expect "B by.syscall" "$(alloc "$f" $b .by.syscall)" 12287
	expect "B faults" "$(alloc "$f" $b .faults)" 1
	expect "B resident" "$(alloc "$f" $b .resident_pages)" 12288
	# mlock over pages 1..10239
	expect "C by.syscall" "$(alloc "$f" $((40 * MiB)) .by.syscall)" 10239
	expect "C faults" "$(alloc "$f" $((40 * MiB)) .faults)" 1
	# MADV_POPULATE_READ over pages 1..8191: zero pages, or private ones
	# where this kernel allocates on reads
	local d=$((32 * MiB))
	expect "D by.syscall" "$(alloc "$f" $d .by.syscall)" 8191
	if [ "$ZERO_PAGE" = zero ]; then
		expect "D zero" "$(alloc "$f" $d .zero_pages)" 8191
	else
		expect "D resident" "$(alloc "$f" $d .resident_pages)" 8192
	fi
	# 16 MiB MAP_POPULATE outside any allocation
	expect "outside by.syscall" "$(outside "$f" '[anon]' .by.syscall)" 4096
	local populated=$((16383 + 12287 + 10239 + 8191 + 4096))
	expect "syscall pages" "$(summary "$f" .syscall_pages)" $populated
	# the kernel counts a fault for each populated page, no event fires
	expect "kernel faults - seen" "$(summary "$f" '.kernel_faults - .faults')" \
		$populated
}

t_hugepage_region() {
	local thp
	thp=$(sed 's/.*\[\(.*\)\].*/\1/' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)
	if [ "$thp" = never ] || [ -z "$thp" ]; then
		SKIP_REASON="transparent huge pages are off ($thp)"
		return
	fi
	run_pt thp --json -o "$TMP/thp.json" -- "$T/thp"
	local f=$TMP/thp.json s=$((8 * MiB)) lead
	expect "exit code" "$(rc_of thp)" 0
	expect "fn" "$(alloc "$f" $s .fn)" posix_memalign
	expect "pages" "$(alloc "$f" $s .pages)" 2048
	expect "by.thp" "$(alloc "$f" $s .by.thp)" 2048
	expect "resident" "$(alloc "$f" $s .resident_pages)" 2048
	# four huge-page faults, and the block's header written below the
	# block: its own fault. Where the block starts one page into glibc's
	# mapping (1 run in 512) the mapping's chunk header, written first,
	# populated that page: the block's header page, and so its fault
	# all the same (a block with a mapping of its own owns the faults
	# its call made in its header's page)
	lead=$(sed -n 's/^lead //p' "$TMP/thp.out")
	expect_match "target's lead line" "$lead" '^[0-9]+$'
	expect "faults (lead $lead)" "$(alloc "$f" $s .faults)" 5
	expect "thp faults" "$(summary "$f" .faults_by_outcome.thp)" 4
}

t_realloc_moves_pages_with_mremap() {
	run_pt rg --json -o "$TMP/rg.json" -- "$T/realloc_grow"
	local f=$TMP/rg.json old=$((64 * MiB)) new=$((128 * MiB))
	expect "exit code" "$(rc_of rg)" 0
	expect "old end" "$(alloc "$f" $old '.end')" realloc
	expect "old resident" "$(alloc "$f" $old .resident_pages)" 16385
	expect "new from old" "$(alloc "$f" $new .realloc_from)" "$(alloc "$f" $old .id)"
	expect "old to new" "$(alloc "$f" $old .realloc_to)" "$(alloc "$f" $new .id)"
	# the populated pages came along: resident, no fault, no by-count
	expect "new resident" "$(alloc "$f" $new .resident_pages)" 16385
	expect "new resident at return" "$(alloc "$f" $new .resident_at_alloc)" 16385
	expect "new untouched" "$(alloc "$f" $new .untouched_pages)" 16384
	expect "new faults" "$(alloc "$f" $new .faults)" 0
	expect "new by.anon" "$(alloc "$f" $new .by.anon)" 0
	expect "new not lazy" "$(alloc "$f" $new .lazy)" false
	expect "target said" "$(cat "$TMP/rg.out")" moved
}

t_realloc_copy_charges_the_new_block() {
	run_pt rc --json -o "$TMP/rc.json" -- "$T/realloc_copy"
	local f=$TMP/rc.json old=102400 new=$((64 * MiB))
	expect "exit code" "$(rc_of rc)" 0
	expect "old chunk" "$(alloc "$f" $old .chunk)" heap
	expect "old end" "$(alloc "$f" $old '.end')" realloc
	expect "old released" "$(alloc "$f" $old .released)" false
	expect "new from old" "$(alloc "$f" $new .realloc_from)" "$(alloc "$f" $old .id)"
	# glibc wrote the new header, then copied 102408 bytes: pages 0..25
	# of the new block, all populated inside realloc
	expect "new faults" "$(alloc "$f" $new .faults)" 26
	expect "new by.anon" "$(alloc "$f" $new .by.anon)" 26
	expect "new resident" "$(alloc "$f" $new .resident_pages)" 26
	expect "new first touch" "$(alloc "$f" $new .first_touch_ns)" null
}

t_allocated_in_one_thread_touched_in_another() {
	run_pt th --json -e -- "$T/threads"
	local f=$TMP/th.out s=$((16 * MiB)) id pid
	expect "exit code" "$(rc_of th)" 0
	id=$(alloc "$f" $s .id)
	pid=$(summary "$f" .pid)
	expect "allocating thread" "$(alloc "$f" $s .tid)" "$pid"
	# the header page in malloc, by the allocating thread, and every
	# page after by the other thread
	expect "faults" "$(alloc "$f" $s .faults)" 4097
	expect "faults by the other thread" \
		"$(jq -c "select(.type==\"fault\" and .alloc_id==$id and (.in_call|not) and .tid!=$pid)" "$f" | wc -l)" 4096
}

t_attach_to_running_process() {
	local ready=$TMP/attach.ready target pt rc f=$TMP/attach.json
	"$T/attach_wait" "$ready" &
	target=$!
	PIDS_TO_KILL+=("$target")
	wait_for_file "$ready" 10 || errors+=("target never got ready")
	"$PT" -v -p "$target" --json -o "$f" 2>"$TMP/attach.err" &
	pt=$!
	wait_for_text "$TMP/attach.err" "tracing process $target" 20 ||
		errors+=("pagetrace never said it was tracing")
	kill -USR1 "$target"
	wait "$pt"
	rc=$?
	wait "$target" 2>/dev/null
	local s=$((64 * MiB))
	expect "exit code" "$rc" 0
	expect "stop" "$(summary "$f" .stop)" exit
	expect "resident" "$(alloc "$f" $s .resident_pages)" 16385
	expect "faults" "$(alloc "$f" $s .faults)" 16385
	expect "by.anon" "$(alloc "$f" $s .by.anon)" 16385
	# the 1 MiB block was allocated before pagetrace came
	expect "unknown frees" "$(summary "$f" .unknown_frees)" 1
	expect "allocs" "$(summary "$f" .allocs)" 1
}

t_min_size_filters_in_kernel() {
	run_pt ms --json -e --min-size 1M -- "$T/min_size"
	local f=$TMP/ms.out
	expect "exit code" "$(rc_of ms)" 0
	expect "allocs" "$(summary "$f" .allocs)" 2
	expect "frees" "$(summary "$f" .frees)" 2
	# the small calls never left the kernel
	expect "call events" "$(jq -c 'select(.type=="call")' "$f" | wc -l)" 2
	expect "free events" "$(jq -c 'select(.type=="free")' "$f" | wc -l)" 2
	run_pt msall --json -e -- "$T/min_size"
	expect "without --min-size" \
		"$(jq -c 'select(.type=="alloc" and .size==100)' "$TMP/msall.out" | wc -l)" 1000
	# the event log has each call's entry time, read at its entry: before
	# it returned, even for a call that neither faulted nor made a syscall
	expect "entered before returned" \
		"$(jq -r 'select(.type=="call") | .t_enter_ns < .t_ns' "$TMP/msall.out" | sort | uniq -c | awk '{ print $1, $2 }')" \
		"1002 true"
}

t_ctrl_c_drains_and_reports() {
	local ready=$TMP/sleeper.ready pt rc target f=$TMP/sleeper.json
	"$PT" --json -o "$f" -- "$T/sleeper" "$ready" 2>"$TMP/sleeper.err" &
	pt=$!
	wait_for_file "$ready" 20 || errors+=("target never got ready")
	target=$(cat "$ready")
	PIDS_TO_KILL+=("$target")
	kill -INT "$pt"
	wait "$pt"
	rc=$?
	local s=$((64 * MiB))
	expect "exit code" "$rc" 0
	expect "stop" "$(summary "$f" .stop)" signal
	expect "resident" "$(alloc "$f" $s .resident_pages)" 16385
	expect "faults" "$(alloc "$f" $s .faults)" 16385
	expect "end" "$(alloc "$f" $s '.end')" live
	# the target was only observed: it keeps running, untraced
	kill -0 "$target" 2>/dev/null
	expect_true "target still running" $?
	kill "$target" 2>/dev/null
	expect "stderr" "$(err_of sleeper)" ""
}

# Trace fault_on_signal with a 4 KiB ring buffer while pagetrace itself is
# stopped: 16384 faults cannot fit, losses are certain.
run_with_stopped_reader() { # name pagetrace-args...
	local name=$1 pt target
	shift
	rm -f "$TMP/$name.ready" "$TMP/$name.done"
	"$PT" "$@" -- "$T/fault_on_signal" "$TMP/$name.ready" "$TMP/$name.done" \
		>"$TMP/$name.out" 2>"$TMP/$name.err" &
	pt=$!
	wait_for_file "$TMP/$name.ready" 20 || errors+=("$name: target never got ready")
	target=$(cat "$TMP/$name.ready")
	PIDS_TO_KILL+=("$target")
	kill -STOP "$pt"
	kill -USR1 "$target"
	wait_for_file "$TMP/$name.done" 20 || errors+=("$name: target never finished")
	kill -CONT "$pt"
	wait "$pt"
	echo $? >"$TMP/$name.rc"
}

t_tiny_ring_buffer_counts_lost_events() {
	# a record per fault: each one lost is a fault lost
	run_with_stopped_reader rb --json --ringbuf-size 4096 --no-fault-runs
	local f=$TMP/rb.out g=$TMP/rbr.out
	expect "exit code" "$(rc_of rb)" 0
	expect "events were lost" "$(summary "$f" '.lost.fault > 16000')" true
	# every fault the kernel counted was either received or counted lost
	expect "received + lost = kernel's count" \
		"$(summary "$f" '.faults + .lost.fault - .kernel_faults')" 0
	# runs: a record lost is the one fault that failed to make it (how
	# many are lost depends on how long runs last: 512 faults or 2 jiffies)
	run_with_stopped_reader rbr --json --ringbuf-size 4096
	expect "exit code (runs)" "$(rc_of rbr)" 0
	expect "received + lost = kernel's count (runs)" \
		"$(summary "$g" '.faults + .lost.fault - .kernel_faults')" 0
	expect "lost total" "$(summary "$f" '.lost_events == (.lost | add)')" true
	expect "complete" "$(summary "$f" .complete)" false
	expect "incomplete" "$(summary "$f" '.incomplete | index("faults") != null')" true
	expect_match "live warning" "$(head -1 "$TMP/rb.err")" \
		'^pagetrace: warning: [0-9]+ events lost so far \(the ring buffer was full\): the report will be incomplete; raise --ringbuf-size$'
	run_with_stopped_reader rbt --ringbuf-size 4096
	expect_match "text report" "$(grep '^events:' "$TMP/rbt.out")" \
		'^events: [0-9]+ received, [0-9]+ LOST \(.*fault [0-9]+.*\): INCOMPLETE, figures are lower bounds; raise --ringbuf-size$'
}

t_exit_status_of_the_command() {
	run_pt st -- /bin/sh -c 'exit 7'
	expect "exit code" "$(rc_of st)" 7
	run_pt sig -- /bin/sh -c 'kill -TERM $$'
	expect "killed by SIGTERM" "$(rc_of sig)" 143
}

t_static_binary_keeps_tracing_faults() {
	run_pt sb --json -e -- "$T/static_target"
	local f=$TMP/sb.out start
	expect "exit code" "$(rc_of sb)" 0
	expect_match "warning" "$(err_of sb)" \
		'^pagetrace: warning: process [0-9]+ has no glibc malloc \(statically linked, or another libc\): allocation calls are not traced \(faults and syscalls are\)$'
	expect "allocator" "$(summary "$f" .allocator)" null
	expect "allocs" "$(summary "$f" .allocs)" 0
	# every page of its 4 MiB mapping faulted once
	start=$(jq -r 'select(.type=="syscall" and .name=="mmap" and .args[1]==4194304) | .ret' "$f")
	expect "faults in the 4 MiB mapping" \
		"$(jq -r 'select(.type=="fault") | .addr' "$f" |
			while read -r a; do
				((a >= start && a < start + 4194304)) && echo x
			done | wc -l)" 1024
	expect "incomplete" "$(summary "$f" '.incomplete | index("allocations") != null')" true
}

t_own_allocator_is_named() {
	run_pt om --json -- "$T/own_malloc"
	local f=$TMP/om.out
	expect "exit code" "$(rc_of om)" 0
	expect_match "warning" "$(err_of om)" \
		"^pagetrace: warning: $T/own_malloc defines its own malloc: calls that reach it are not traced \(faults and syscalls still are\)$"
	expect "allocs" "$(summary "$f" .allocs)" 0
	expect "[anon] faults" "$(outside "$f" '[anon]' '.faults >= 1024')" true
	# its malloc comes before the preloaded one: glibc itself is probed
	expect "probes in glibc" "$(summary "$f" .allocator_probes)" placed
	# then it executes a program of glibc's malloc: the preloaded sites
	# take over, and glibc's probes go (else each free would count twice).
	# They come late, while the program runs: its malloc waits for them
	run_pt omx --json -o "$TMP/omx.json" -- "$T/own_malloc" "$T/alloc_write" 300
	expect "exec: exit code" "$(rc_of omx)" 0
	expect_match "exec: said" "$(err_of omx)" "pagetrace-preload.so where the last did not"
	expect "exec: probes" "$(summary "$TMP/omx.json" .allocator_probes)" preload
	expect "exec: allocs, frees" "$(summary "$TMP/omx.json" '"\(.allocs) \(.frees)"')" "1 1"
}

t_failed_allocations_are_reported() {
	run_pt fa --json -- "$T/failed_alloc"
	local f=$TMP/fa.out
	expect "exit code" "$(rc_of fa)" 0
	expect "failed" "$(summary "$f" .failed)" 3
	expect "failed records" \
		"$(jq -r 'select(.type=="alloc" and .failed and .end=="failed" and .addr==null) | .fn' "$f" | tr '\n' ' ')" \
		"malloc calloc posix_memalign "
	expect "allocs" "$(summary "$f" .allocs)" 0
}

t_dontneed_returns_pages() {
	run_pt dn --json -- "$T/dontneed"
	local f=$TMP/dn.out s=$((64 * MiB))
	expect "exit code" "$(rc_of dn)" 0
	expect "faults" "$(alloc "$f" $s .faults)" 16385
	expect "by.anon" "$(alloc "$f" $s .by.anon)" 16385
	# 8192 pages went back to the kernel before the free
	expect "resident" "$(alloc "$f" $s .resident_pages)" 8193
	expect "untouched" "$(alloc "$f" $s .untouched_pages)" 8192
	expect "fault errors" "$(summary "$f" .fault_errors)" 0
}

t_file_pages_outside_allocations() {
	local file=$TMP/data.bin f=$TMP/fr.out
	head -c $((256 * 1024)) /dev/urandom >"$file"
	run_pt fr --json -e -- "$T/file_read" "$file"
	expect "exit code" "$(rc_of fr)" 0
	# the full path while the process lives, else the kernel's file name
	local name
	name=$(jq -r 'select(.type=="outside" and (.mapping|endswith("data.bin"))) | .mapping' "$f")
	expect_match "mapping group" "$name" "^($file|data\.bin)\$"
	# fault-around maps several file pages per fault, never more than 64
	expect "faults" "$(outside "$f" "$name" '.faults >= 1 and .faults <= 64')" true
	expect "outcomes" "$(jq -r "select(.type==\"fault\" and .mapping==\"$name\") | .outcome" "$f" | sort -u)" file
}

t_major_faults_are_told() {
	# on the disk, not in /tmp (which may be memory): a page the cache
	# dropped is read from it at the fault, a major one
	local file=$T/cold.bin f=$TMP/mj_cold.out state
	head -c $((1024 * 1024)) /dev/urandom >"$file"
	sync "$file"
	dd if=/dev/null of="$file" oflag=nocache conv=notrunc,fdatasync count=0 2>/dev/null
	run_pt mj_cold --json -e -- "$T/file_read" "$file" say-cache
	state=$(grep -E '^(cold|cached)$' "$TMP/mj_cold.err")
	expect "cold: exit code" "$(rc_of mj_cold)" 0
	if [ "$state" = cold ]; then
		expect "cold: a major fault" "$(jq -r "select(.type==\"fault\" and .mapping==\"$file\" and .major) | .outcome" "$f" | sort | uniq -c | awk '{ print ($1 >= 1), $2 }')" \
			"1 file"
	else
		echo "  (the file system kept the file cached: no major fault to see)"
	fi
	# read again, from the cache: minor faults only
	run_pt mj_warm --json -e -- "$T/file_read" "$file" say-cache
	expect "warm: exit code" "$(rc_of mj_warm)" 0
	expect "warm: cached" "$(grep -E '^(cold|cached)$' "$TMP/mj_warm.err")" cached
	expect "warm: no major fault" "$(jq -r 'select(.type=="fault" and .major) | .addr' "$TMP/mj_warm.out" | wc -l)" 0
	expect "warm: faults" "$(jq -r "select(.type==\"fault\" and .mapping==\"$file\") | .outcome" "$TMP/mj_warm.out" | sort -u)" file
	rm -f "$file"
}

t_cow_after_fork() {
	run_pt fc --json -- "$T/fork_cow"
	local f=$TMP/fc.out s=$((4 * MiB))
	expect "exit code" "$(rc_of fc)" 0
	expect "by.anon" "$(alloc "$f" $s .by.anon)" 1025
	# every page shared with the child is copied on the second write
	expect "by.cow" "$(alloc "$f" $s .by.cow)" 1025
	expect "faults" "$(alloc "$f" $s .faults)" 2050
	expect "resident" "$(alloc "$f" $s .resident_pages)" 1025
	expect "faults = kernel's count" "$(summary "$f" '.faults - .kernel_faults')" 0
}

t_freed_heap_block_stays_resident() {
	run_pt hf --json -o "$TMP/hf.json" -- "$T/heap_free"
	local f=$TMP/hf.json s=102400 addr pages
	expect "exit code" "$(rc_of hf)" 0
	addr=$(cat "$TMP/hf.out")
	pages=$(((addr + s - 1) / 4096 - addr / 4096 + 1))
	expect "addr" "$(alloc "$f" $s .addr)" "$addr"
	expect "chunk" "$(alloc "$f" $s .chunk)" heap
	expect "end" "$(alloc "$f" $s '.end')" free
	expect "released" "$(alloc "$f" $s .released)" false
	expect "resident" "$(alloc "$f" $s .resident_pages)" "$pages"
	expect "retained" "$(summary "$f" .retained_pages)" "$pages"
	run_pt hft -- "$T/heap_free"
	expect "text" "$(grep -c "^freed heap blocks: 1 left $pages pages .* resident, kept by the allocator for reuse$" "$TMP/hft.out")" 1
}

# A small block's chunk header is left unread: where it lies says heap,
# and glibc puts every block with a mapping of its own 16 bytes into a
# page, which the kernel side tells (a small block included).
t_small_block_header_left_unread() {
	local f=$TMP/sc.json g=$TMP/scm.json small big
	run_pt sc --json -o "$f" -- "$T/small_chunks"
	expect "exit code" "$(rc_of sc)" 0
	read -r small big <"$TMP/sc.out"
	expect "small addr" "$(alloc "$f" 200 .addr)" "$small"
	expect "small chunk" "$(alloc "$f" 200 .chunk)" heap
	expect "small chunk_size unread" "$(alloc "$f" 200 .chunk_size)" null
	expect "big addr" "$(alloc "$f" 5000 .addr)" "$big"
	expect "big chunk" "$(alloc "$f" 5000 .chunk)" heap
	expect "big chunk_size" "$(alloc "$f" 5000 .chunk_size)" 5008
	run_pt scm --json -o "$g" -- "$T/small_chunks" mmap
	expect "exit code (mmap)" "$(rc_of scm)" 0
	read -r small big <"$TMP/scm.out"
	expect_match "small addr (mmap)" "$small" '010$'
	expect "small chunk (mmap)" "$(alloc "$g" 200 .chunk)" mmap
	expect "small chunk_size (mmap)" "$(alloc "$g" 200 .chunk_size)" 4096
	expect "small released (mmap)" "$(alloc "$g" 200 .released)" true
	expect "big chunk (mmap)" "$(alloc "$g" 5000 .chunk)" mmap
	expect "big chunk_size (mmap)" "$(alloc "$g" 5000 .chunk_size)" 8192
}

t_other_processes_stay_out() {
	local busy
	"$T/fault_loop" &
	busy=$!
	run_pt iso --json -- "$T/alloc_write"
	wait "$busy"
	# another process faulting at the same time adds nothing
	expect "faults = kernel's count" "$(summary "$TMP/iso.out" '.faults - .kernel_faults')" 0
	expect "allocs" "$(summary "$TMP/iso.out" .allocs)" 1
}

t_duration_and_sigterm() {
	local ready=$TMP/dur.ready target pt rc
	run_pt dur --json -d 0.5 -p $$
	expect "duration exit code" "$(rc_of dur)" 0
	expect "duration stop" "$(summary "$TMP/dur.out" .stop)" duration
	expect "duration" "$(summary "$TMP/dur.out" '.duration_ns >= 500000000 and .duration_ns < 3000000000')" true
	"$PT" --json -o "$TMP/term.json" -- "$T/sleeper" "$ready" 2>/dev/null &
	pt=$!
	wait_for_file "$ready" 20 || errors+=("target never got ready")
	target=$(cat "$ready")
	PIDS_TO_KILL+=("$target")
	kill -TERM "$pt"
	wait "$pt"
	rc=$?
	expect "SIGTERM exit code" "$rc" 0
	expect "SIGTERM stop" "$(summary "$TMP/term.json" .stop)" signal
	kill -0 "$target" 2>/dev/null
	expect_true "target still running" $?
	kill "$target" 2>/dev/null
}

t_help_and_version() {
	run_pt help --help
	expect "help exit code" "$(rc_of help)" 0
	expect "usage line" "$(head -1 "$TMP/help.out")" "Usage: pagetrace [OPTIONS] -p PID"
	expect "examples" "$(grep -c '^Examples:$' "$TMP/help.out")" 1
	run_pt version --version
	expect "version" "$(cat "$TMP/version.out")" "pagetrace 0.1.0"
}

# ---- page tables (--verify, --snapshot) ----------------------------------

VERIFY_TARGETS=("alloc_write" "calloc_touch read" "calloc_touch readwrite"
	"zero_cow" "lazy" "populate" "realloc_grow" "realloc_copy" "threads"
	"min_size" "dontneed" "fork_cow" "heap_free" "thp")

thp_mode() {
	sed 's/.*\[\(.*\)\].*/\1/' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null
}

t_verify_matches_every_core_target() {
	local t name f backend
	for backend in scan read; do
		for t in "${VERIFY_TARGETS[@]}"; do
			[ "$t" = thp ] && [ "$(thp_mode)" = never ] && continue
			name=v_${backend}_${t// /_}
			# shellcheck disable=SC2086
			run_pt "$name" --verify --pagemap-backend $backend --json \
				-o "$TMP/$name.json" -- "$T/"$t
			f=$TMP/$name.json
			expect "$t ($backend) exit code" "$(rc_of "$name")" 0
			expect "$t ($backend) verified" "$(summary "$f" '.verified_allocs > 0')" true
			expect "$t ($backend) mismatched" "$(summary "$f" .mismatched_allocs)" 0
			expect "$t ($backend) late" "$(summary "$f" .late_allocs)" 0
			expect "$t ($backend) unverified" "$(summary "$f" .unverified_allocs)" 0
		done
	done
	# the page tables' own figures, the same by both back ends
	for backend in scan read; do
		f=$TMP/v_${backend}_alloc_write.json
		expect "alloc_write pt ($backend)" \
			"$(alloc "$f" $((64 * MiB)) '.pt | [.present,.zero,.swapped,.not_present,.huge,.file] | map(tostring) | join(" ")')" \
			"16385 0 0 0 0 0"
		# read at the exit, held: the header page, nothing else
		f=$TMP/v_${backend}_lazy.json
		expect "lazy pt ($backend)" \
			"$(alloc "$f" $((64 * MiB)) '.pt | [.present,.not_present] | map(tostring) | join(" ")')" \
			"1 16384"
		f=$TMP/v_${backend}_dontneed.json
		expect "dontneed pt ($backend)" "$(alloc "$f" $((64 * MiB)) .pt.not_present)" 8192
		# read before realloc moved it: all there
		f=$TMP/v_${backend}_realloc_grow.json
		expect "realloc old pt ($backend)" "$(alloc "$f" $((64 * MiB)) .pt.present)" 16385
		f=$TMP/v_${backend}_calloc_touch_read.json
		if [ "$ZERO_PAGE" = zero ]; then
			expect "calloc read pt.zero ($backend)" "$(alloc "$f" $((64 * MiB)) .pt.zero)" 16384
		else
			expect "calloc read pt.present ($backend)" "$(alloc "$f" $((64 * MiB)) .pt.present)" 16385
		fi
		if [ "$(thp_mode)" != never ]; then
			f=$TMP/v_${backend}_thp.json
			expect "thp pt.huge ($backend)" "$(alloc "$f" $((8 * MiB)) .pt.huge)" 2048
		fi
	done
}

# fault_on_signal's way: pagetrace stopped while the target writes (a
# record per fault, so that the small ring overflows)
t_verify_reports_lost_events_as_mismatch() {
	local pt target f=$TMP/vd.json
	rm -f "$TMP/vd1" "$TMP/vd2"
	"$PT" -v --verify --ringbuf-size 16384 --no-fault-runs --json -o "$f" -- \
		"$T/verify_drop" "$TMP/vd1" "$TMP/vd2" 2>"$TMP/vd.err" &
	pt=$!
	wait_for_file "$TMP/vd1" 20 || errors+=("target never got ready")
	target=$(cat "$TMP/vd1")
	PIDS_TO_KILL+=("$target")
	kill -STOP "$pt"
	kill -USR1 "$target"
	wait_for_file "$TMP/vd2" 20 || errors+=("target never wrote")
	kill -CONT "$pt"
	wait_for_text "$TMP/vd.err" "lost so far" 20 || errors+=("no loss seen")
	sleep 0.2
	kill -USR1 "$target"
	wait "$pt"
	expect "exit code" "$?" 0
	expect "match" "$(alloc "$f" $((64 * MiB)) .pt_match)" false
	expect "late" "$(alloc "$f" $((64 * MiB)) .pt_late)" false
	expect "present by the page tables" "$(alloc "$f" $((64 * MiB)) .pt.present)" 16385
	expect "mismatched pages" \
		"$(alloc "$f" $((64 * MiB)) '.pt_mismatched_pages == .pages - .resident_pages')" true
	expect "mismatched allocs" "$(summary "$f" .mismatched_allocs)" 1
	expect "incomplete" "$(summary "$f" .complete)" false
}

t_verify_text_lists_mismatches() {
	local pt target out=$TMP/vdt.out
	rm -f "$TMP/vdt1" "$TMP/vdt2"
	"$PT" -v --verify --ringbuf-size 16384 --no-fault-runs -o "$out" -- \
		"$T/verify_drop" "$TMP/vdt1" "$TMP/vdt2" 2>"$TMP/vdt.err" &
	pt=$!
	wait_for_file "$TMP/vdt1" 20 || errors+=("target never got ready")
	target=$(cat "$TMP/vdt1")
	PIDS_TO_KILL+=("$target")
	kill -STOP "$pt"
	kill -USR1 "$target"
	wait_for_file "$TMP/vdt2" 20 || errors+=("target never wrote")
	kill -CONT "$pt"
	wait_for_text "$TMP/vdt.err" "lost so far" 20 || errors+=("no loss seen")
	sleep 0.2
	kill -USR1 "$target"
	wait "$pt"
	expect_match "coverage" "$(grep '^verification:' "$out")" \
		'^verification: [0-9]+ allocations checked against the page tables, 1 mismatched, 0 read after release, 0 not checked$'
	expect_match "the allocation" "$(grep -E '^  #[0-9]+ malloc 67108864 bytes' "$out")" \
		'^  #[0-9]+ malloc 67108864 bytes: [0-9]+ pages differ$'
	expect_match "the pages" "$(grep -E '^    pages 0x' "$out" | head -1)" \
		'^    pages 0x[0-9a-f]+-0x[0-9a-f]+: ledger not present, page tables resident$'
}

t_verify_without_hold_reads_late() {
	if ! command -v strace >/dev/null; then
		SKIP_REASON="strace is not installed"
		return
	fi
	local target pt f=$TMP/late.json
	rm -f "$TMP/late1" "$TMP/late2"
	# another tracer holds the target: pagetrace cannot seize it
	strace -o /dev/null "$T/free_wait" "$TMP/late1" "$TMP/late2" &
	wait_for_file "$TMP/late1" 20 || errors+=("target never got ready")
	target=$(cat "$TMP/late1")
	PIDS_TO_KILL+=("$target")
	"$PT" -v --verify -p "$target" --json -o "$f" 2>"$TMP/late.err" &
	pt=$!
	wait_for_text "$TMP/late.err" "tracing process $target" 20 ||
		errors+=("pagetrace never said it was tracing")
	kill -USR1 "$target"
	wait_for_file "$TMP/late2" 20 || errors+=("target never freed")
	sleep 0.3
	kill -USR1 "$target"
	wait "$pt"
	expect "exit code" "$?" 0
	expect_match "warning" "$(grep 'cannot hold' "$TMP/late.err")" \
		"^pagetrace: warning: cannot hold process $target \\(Operation not permitted; another tracer\\?\\): pages are read after their release, records say \"pt_late\"$"
	# the 64 MiB block was unmapped before its pages were read
	expect "late" "$(alloc "$f" $((64 * MiB)) .pt_late)" true
	expect "read after release" "$(alloc "$f" $((64 * MiB)) .pt.not_present)" 16385
	expect "late allocs" "$(summary "$f" .late_allocs)" 1
}

# Start the layout target with ASLR off; its pid in LAYOUT_PID.
layout_start() { # name [setpriv args...]
	local name=$1
	shift
	rm -f "$TMP/$name.ready"
	head -c 16384 /dev/zero | tr '\0' x >"$TMP/four.bin"
	chmod 755 "$TMP"
	chmod 644 "$TMP/four.bin"
	"$@" setarch -R "$T/layout" "$TMP/$name.ready" "$TMP/four.bin" \
		</dev/null >/dev/null 2>&1 &
	LAYOUT_PID=$!
	PIDS_TO_KILL+=("$LAYOUT_PID")
	wait_for_file "$TMP/$name.ready" 20 || errors+=("layout target never got ready")
	LAYOUT_PID=$(cat "$TMP/$name.ready" 2>/dev/null || echo "$LAYOUT_PID")
	PIDS_TO_KILL+=("$LAYOUT_PID")
}

layout_ready() { # name: start the layout target with ASLR off
	rm -f "$TMP/$1.ready"
	head -c 16384 /dev/zero | tr '\0' x >"$TMP/four.bin"
	setarch -R "$T/layout" "$TMP/$1.ready" "$TMP/four.bin" &
	PIDS_TO_KILL+=("$!")
	wait_for_file "$TMP/$1.ready" 20 || errors+=("layout target never got ready")
	cat "$TMP/$1.ready"
}

t_snapshot_of_a_known_layout() {
	local pid f=$TMP/snap.json m
	layout_start snap
	pid=$LAYOUT_PID
	run_pt snap --snapshot --json -p "$pid" -o "$f"
	expect "exit code" "$(rc_of snap)" 0
	m='select(.type=="mapping" and .start=="0x100000000")'
	expect "anon" "$(jq -r "$m | [.pages,.present,.not_present,.zero] | map(tostring) | join(\" \")" "$f")" "4096 1024 3072 0"
	m='select(.type=="mapping" and .start=="0x200000000")'
	expect "file" "$(jq -r "$m | [.path,.present,.file] | map(tostring) | join(\" \")" "$f")" "$TMP/four.bin 4 4"
	m='select(.type=="mapping" and .start=="0x400000000")'
	expect "zero pages" "$(jq -r "$m | [.zero,.present,.not_present] | map(tostring) | join(\" \")" "$f")" "1023 1 0"
	if [ "$(thp_mode)" != never ]; then
		m='select(.type=="mapping" and .start=="0x300000000")'
		expect "huge" "$(jq -r "$m | [.present,.huge] | map(tostring) | join(\" \")" "$f")" "512 512"
	fi
	# the biggest hole: after our mappings, before the program's
	expect "largest gap" "$(snap_summary "$f" '[.largest_gap_start,.largest_gap_end] | join(" ")')" \
		"0x400400000 0x555555554000"
	expect "largest gap bytes" "$(snap_summary "$f" .largest_gap_bytes)" $((0x555555554000 - 0x400400000))
	expect "summary sums" "$(snap_summary "$f" '.present + .zero + .swapped + .not_present == .pages')" true
	run_pt snapt --snapshot -p "$pid"
	expect "text row" "$(grep -c '^000400000000-000400400000 rw-p      1024         1    1023       0       0       0  \[anon\]$' "$TMP/snapt.out")" 1
	expect "gap line" "$(grep -c '^largest free gap: 000400400000-555555554000 (85.3 TiB): the biggest mapping this process can still get$' "$TMP/snapt.out")" 1
	expect "hole in layout" "$(grep -c '^  000400400000   85.3 TiB  -- hole --$' "$TMP/snapt.out")" 1
	run_pt snapr --snapshot -p "$pid" --range 400000000-400004000
	expect "page map" "$(tail -1 "$TMP/snapr.out")" "    0000000400000000 #000"
	kill "$pid"
}

t_snapshot_back_ends_agree_page_for_page() {
	local pid range
	layout_start agree
	pid=$LAYOUT_PID
	for range in 100000000-100400000 100400000-100800000 200000000-200004000 \
		300000000-300400000 400000000-400400000; do
		run_pt agree_s --snapshot -p "$pid" --pagemap-backend scan --range $range
		run_pt agree_r --snapshot -p "$pid" --pagemap-backend read --range $range
		# a character per page: the pictures must be the same
		expect "range $range" "$(sed -n '/^page map/,$p' "$TMP/agree_s.out" | md5sum)" \
			"$(sed -n '/^page map/,$p' "$TMP/agree_r.out" | md5sum)"
	done
	run_pt agree_js --snapshot --json -p "$pid" --pagemap-backend scan
	run_pt agree_jr --snapshot --json -p "$pid" --pagemap-backend read
	expect "mappings" "$(grep '"mapping"' "$TMP/agree_js.out" | md5sum)" \
		"$(grep '"mapping"' "$TMP/agree_jr.out" | md5sum)"
	kill "$pid"
}

t_snapshot_without_privilege() {
	local pid name=np
	# the target runs as nobody, in a directory nobody may write
	mkdir -p "$TMP/nobody"
	chown 65534 "$TMP/nobody"
	TMP_SAVED=$TMP
	TMP=$TMP/nobody
	layout_start np setpriv --reuid=65534 --regid=65534 --clear-groups
	TMP=$TMP_SAVED
	pid=$LAYOUT_PID
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$PT" --snapshot --json -p "$pid" --pagemap-backend read \
		>"$TMP/$name.out" 2>"$TMP/$name.err"
	expect "exit code" "$?" 0
	expect "one warning" "$(cat "$TMP/$name.err")" \
		"pagetrace: warning: page frame numbers read as 0 without CAP_SYS_ADMIN: zero and huge pages cannot be told apart by the read back end (use --pagemap-backend scan, or run as root)"
	expect "frames" "$(snap_summary "$TMP/$name.out" .frames_known)" false
	expect "zero unknown" "$(jq -r 'select(.type=="mapping" and .start=="0x400000000") | .zero' "$TMP/$name.out")" null
	# the scan back end needs no privilege to tell the zero page
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$PT" --snapshot --json -p "$pid" >"$TMP/${name}s.out" 2>"$TMP/${name}s.err"
	expect "scan exit code" "$?" 0
	expect "scan zero" "$(jq -r 'select(.type=="mapping" and .start=="0x400000000") | .zero' "$TMP/${name}s.out")" 1023
	expect "scan stderr" "$(cat "$TMP/${name}s.err")" ""
	kill "$pid"
}

t_snapshot_bad_input() {
	bad_input snopid 64 "^pagetrace: --snapshot reads a running process: give -p PID$" --snapshot -- true
	bad_input srange 64 "^pagetrace: --range goes with --snapshot$" --range 0-1000 -p 1
	bad_input sbadr 64 "^pagetrace: invalid --range 'zz': not a number \(expected START-END in hex" --snapshot --range zz -p 1
	bad_input sback 64 "^pagetrace: invalid --pagemap-backend 'fast' \(expected scan, read or auto\)$" --pagemap-backend fast -p 1
	local gone
	/bin/true &
	gone=$!
	wait "$gone"
	bad_input sgone 65 "^pagetrace: no process with pid $gone: check the pid with ps or pgrep$" --snapshot -p "$gone"
}

bad_input() { # name expected-rc stderr-regex args...
	local name=$1 rc=$2 re=$3
	shift 3
	run_pt "$name" "$@"
	expect "$name exit code" "$(rc_of "$name")" "$rc"
	expect "$name stderr lines" "$(err_lines "$name")" 1
	expect_match "$name message" "$(err_of "$name")" "$re"
	expect "$name stdout" "$(cat "$TMP/$name.out")" ""
}

t_bad_options() {
	bad_input pabc 64 "^pagetrace: invalid --pid 'abc': not a number \(expected a process id, see ps\)$" -p abc
	bad_input pneg 64 "^pagetrace: invalid --pid '-5': negative value" -p -5
	bad_input pbig 64 "^pagetrace: invalid --pid '99999999999999999999': out of range" -p 99999999999999999999
	bad_input pzero 64 "^pagetrace: invalid --pid '0': out of range" -p 0
	bad_input dabc 64 "^pagetrace: invalid --duration 'abc': not a number \(expected seconds" -d abc -- true
	bad_input dneg 64 "^pagetrace: invalid --duration '-1': negative value" -d -1 -- true
	bad_input msx 64 "^pagetrace: invalid --min-size '12X': unknown suffix" --min-size 12X -- true
	bad_input rbs 64 "^pagetrace: invalid --ringbuf-size '5000': out of range \(expected a power of two from 4K to 1G\)$" --ringbuf-size 5000 -- true
	bad_input both 64 "^pagetrace: give either -p PID or -- COMMAND, not both$" -p 1 -- true
	bad_input none 64 "^pagetrace: nothing to trace: give -p PID or -- COMMAND \(see --help\)$"
	bad_input unk 64 "^pagetrace: unknown option --frobnicate \(see --help\)$" --frobnicate
	bad_input out 73 "^pagetrace: cannot write /nonexistent/dir/out: No such file or directory$" -o /nonexistent/dir/out -- true
	bad_input sd0 64 "^pagetrace: invalid --stack-depth '0': out of range \(expected frames, 1 to 127\)$" --stack-depth 0 -- true
	bad_input sd500 64 "^pagetrace: invalid --stack-depth '500': out of range" --stack-depth 500 -- true
	bad_input fold 64 "^pagetrace: invalid --folded 'foo' \(expected both, alloc or touch\)$" --folded=foo -- true
	bad_input foldjson 64 "^pagetrace: --folded writes folded stacks: it goes with neither --json, --events nor -i$" --folded --json -- true
	bad_input ivabc 64 "^pagetrace: invalid --interval 'abc': not a number \(expected seconds" -i abc -- true
	bad_input ss0 64 "^pagetrace: invalid --stack-storage '0': out of range \(expected stacks, 1 to 1048576\)$" --stack-storage 0 -- true
	bad_input wuneg 64 "^pagetrace: invalid --warmup '-1': negative value" --warmup -1 -- true
}

t_bad_targets() {
	local gone zpid zombie_parent
	/bin/true &
	gone=$!
	wait "$gone"
	bad_input nopid 65 "^pagetrace: no process with pid $gone: check the pid with ps or pgrep$" -p "$gone"
	"$T/zombie" >"$TMP/zombie.pid" &
	zombie_parent=$!
	PIDS_TO_KILL+=("$zombie_parent")
	wait_for_file "$TMP/zombie.pid" 10
	zpid=$(cat "$TMP/zombie.pid")
	bad_input zombie 66 "^pagetrace: process $zpid has already exited \(it is a zombie waiting for its parent\): nothing to trace$" -p "$zpid"
	kill "$zombie_parent"
	bad_input kthread 65 "^pagetrace: process 2 is a kernel thread: it has no user memory to trace$" -p 2
	bad_input notfound 127 "^pagetrace: cannot execute '/nonexistent/cmd': No such file or directory \(check the name and \\\$PATH\)$" -- /nonexistent/cmd
	printf 'not a program\n' >"$TMP/notexec"
	chmod 644 "$TMP/notexec"
	bad_input notexec 126 "^pagetrace: cannot execute '$TMP/notexec': Permission denied$" -- "$TMP/notexec"
}

t_missing_privilege() {
	if ! command -v setpriv >/dev/null; then
		SKIP_REASON="setpriv (util-linux) is not installed"
		return
	fi
	local name=nopriv
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$PT" -- /bin/true >"$TMP/$name.out" 2>"$TMP/$name.err"
	echo $? >"$TMP/$name.rc"
	expect "exit code" "$(rc_of $name)" 77
	expect "stderr lines" "$(err_lines $name)" 1
	expect "message" "$(err_of $name)" \
		"pagetrace: missing privilege: CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE, CAP_SYS_ADMIN; run as root (sudo pagetrace ...) or grant the capabilities"
}

t_missing_btf_or_tracepoint() {
	PAGETRACE_KERNEL_BTF=/nonexistent/vmlinux run_pt nobtf -- /bin/true
	expect "no BTF exit code" "$(rc_of nobtf)" 69
	expect "no BTF message" "$(err_of nobtf)" \
		"pagetrace: no kernel BTF at /nonexistent/vmlinux (No such file or directory): pagetrace needs a kernel built with CONFIG_DEBUG_INFO_BTF=y"
	# a BTF that lacks the kernel's tracepoints: our own BPF object's
	PAGETRACE_KERNEL_BTF=$ROOT/build/pagetrace.bpf.o run_pt notp -- /bin/true
	expect "no tracepoint exit code" "$(rc_of notp)" 69
	expect_match "no tracepoint message" "$(err_of notp)" \
		"^pagetrace: this kernel has no page_fault_user tracepoint"
	expect "one line" "$(err_lines notp)" 1
}

t_text_report_and_events() {
	run_pt txt -e -- "$T/alloc_write"
	local out=$TMP/txt.out
	expect "exit code" "$(rc_of txt)" 0
	expect_match "header" "$(grep '^pagetrace: process' "$out")" \
		'^pagetrace: process [0-9]+ \(alloc_write\), traced for .*, exited with status 0$'
	expect "malloc event" "$(grep -cE '^ +[0-9.]+ [0-9]+/[0-9]+ +malloc\(67108864\) = 0x[0-9a-f]+  #1$' "$out")" 1
	expect "free event" "$(grep -cE ' free\(0x[0-9a-f]+\)  #1$' "$out")" 1
	expect "fault events of #1" "$(grep -cE ' fault write 0x[0-9a-f]+ ip 0x[0-9a-f]+ anon 1 page  #1$' "$out")" 16384
	# glibc's first malloc sets up the heap, then writes the header
	expect "in-call faults" "$(grep -cE ' fault write .* anon 1 page  \(inside the allocator call\)$' "$out")" 2
	# the return probe's trampoline, run first by the library's warm-up
	# calls (before their probes are all attached, or inside one), in the
	# page the kernel keeps for it at the top of the address space (a
	# page of glibc's code may fault inside a call too, as the page cache
	# and fault-around have it)
	expect "uretprobe trampoline" "$(grep -cE ' fault exec +0x7fffffff[0-9a-f]{4} .* (\[uprobes\]|\(inside the allocator call\))$' "$out")" 1
	expect_match "top row" "$(grep -E '^ +1  malloc' "$out" | head -1)" \
		'^ +1  malloc +64\.0 MiB +64\.0 MiB +0 B +0 B +16385 +[0-9.]+ [mun]?s +free$'
	expect_match "events line" "$(grep '^events:' "$out")" '^events: [0-9]+ received, none lost$'
}

t_numpy_zeros_versus_ones() {
	if ! /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
		SKIP_REASON="python3-numpy is not installed (make deps installs it)"
		return
	fi
	run_pt np --json --min-size 64M -- /usr/bin/python3 -c \
		'import numpy as np; a = np.zeros(1 << 23); b = np.ones(1 << 23)'
	local f=$TMP/np.out s=$((64 * MiB))
	expect "exit code" "$(rc_of np)" 0
	expect "records" "$(jq -c 'select(.type=="alloc")' "$f" | wc -l)" 2
	# zeros: calloc, nothing populated but glibc's header page
	expect "zeros fn" "$(jq -r 'select(.type=="alloc" and .id==1) | .fn' "$f")" calloc
	expect "zeros lazy" "$(jq -r 'select(.type=="alloc" and .id==1) | .lazy' "$f")" true
	expect "zeros resident" "$(jq -r 'select(.type=="alloc" and .id==1) | .resident_pages' "$f")" 1
	# ones: malloc and a fill that populates every page
	expect "ones fn" "$(jq -r 'select(.type=="alloc" and .id==2) | .fn' "$f")" malloc
	expect "ones resident" "$(jq -r 'select(.type=="alloc" and .id==2) | .resident_pages' "$f")" 16385
}

t_no_probe_left_behind() {
	# every program pagetrace loaded is gone once it exits
	# the kernel frees the programs on the syscall tracepoints after a
	# grace period: here up to ~0.5 s after the loader exited
	local left tries=0
	while :; do
		left=$(bpftool prog show 2>/dev/null | grep -cE ' name (floor_[a-z_]+|bench_produce|alloc_entry|alloc_return|free_entry|fault_done|fault_signal|fault_user|page_alloc|rss_stat|sys_enter|sys_exit|proc_exit)( |$)')
		[ "$left" = 0 ] || [ $((tries += 1)) -gt 30 ] && break
		sleep 0.1
	done
	expect "pagetrace programs still loaded" "$left" 0
}

# shellcheck source=tests/stacks.sh
. tests/stacks.sh
# shellcheck source=tests/speed.sh
. tests/speed.sh
# shellcheck source=tests/light.sh
. tests/light.sh
# shellcheck source=tests/runs.sh
. tests/runs.sh

# ---- main --------------------------------------------------------------

echo "unit tests"
run_unit_tests

echo "integration tests (real BPF, as root)"
if [ "$(id -u)" != 0 ]; then
	skipped=$((skipped + 1))
	skip_reasons+=("integration: must run as root (sudo make test)")
	echo "skip integration tests: not root"
else
	for t in malloc_write_every_page calloc_read_every_page \
		calloc_read_then_write cow_of_zero_page \
		malloc_never_touched_is_lazy populate_syscalls_without_faults \
		hugepage_region realloc_moves_pages_with_mremap \
		realloc_copy_charges_the_new_block \
		allocated_in_one_thread_touched_in_another \
		attach_to_running_process min_size_filters_in_kernel \
		ctrl_c_drains_and_reports tiny_ring_buffer_counts_lost_events \
		exit_status_of_the_command static_binary_keeps_tracing_faults \
		own_allocator_is_named failed_allocations_are_reported \
		dontneed_returns_pages file_pages_outside_allocations \
		major_faults_are_told \
		cow_after_fork freed_heap_block_stays_resident small_block_header_left_unread \
		other_processes_stay_out duration_and_sigterm help_and_version \
		bad_options bad_targets \
		missing_privilege missing_btf_or_tracepoint \
		text_report_and_events numpy_zeros_versus_ones \
		verify_matches_every_core_target \
		verify_reports_lost_events_as_mismatch \
		verify_text_lists_mismatches verify_without_hold_reads_late \
		snapshot_of_a_known_layout snapshot_back_ends_agree_page_for_page \
		snapshot_without_privilege snapshot_bad_input \
		stacks_name_alloc_and_touch_sites \
		stripped_binary_names_the_caller \
		made_up_frame_record_not_walked \
		deleted_binary_symbolized_after_exit \
		dlclosed_library_symbolized namespaced_binary_symbolized \
		interval_shows_the_steady_loop warmup_excludes_startup \
		no_stacks_keeps_sites stack_depth_limits_frames \
		stacks_past_the_map_sent_whole \
		free_probed_past_the_null_test preload_sites_take_the_calls \
		calls_seen_after_keep_the_ledger \
		preload_keeps_the_environment calls_timed_at_their_sites \
		call_slots_shared \
		records_merged_across_cpus cpu_online_later_has_a_ring \
		empty_probes_record_nothing \
		loop_stack_walked_once \
		synthetic_records_drained_or_counted_lost \
		hook_floor_attaches_and_detaches \
		light_ledger_equals_the_default \
		light_traps_no_call_and_sends_no_fault \
		light_own_mapping_is_a_mapping \
		light_unwinds_by_debug_frame light_counts_faults_of_live_threads \
		light_thread_exits_while_detaching light_counts_a_fault_after_exit \
		light_closes_faults_without_perf_events \
		light_fault_released_by_another_thread light_kernel_copies_a_file_page \
		light_huge_page_released_in_part \
		fault_runs_join_a_loop fault_runs_keep_the_ledger \
		fault_runs_read_the_stack_once \
		no_probe_left_behind; do
		run_test "$t"
	done
fi

echo
if [ ${#skip_reasons[@]} -gt 0 ]; then
	echo "skipped: ${#skip_reasons[@]}"
	printf '  %s\n' "${skip_reasons[@]}"
fi
if [ ${#failures[@]} -gt 0 ]; then
	echo "failed: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
