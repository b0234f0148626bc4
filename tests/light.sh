# shellcheck shell=bash
# --light, the production mode: sourced by tests/run.sh.

# the big allocations of a run, one line each, in an order of their own:
# pages, resident, zero, untouched, populated by, end, site
big_allocs() { # file
	jq -r 'select(.type=="alloc" and .pages >= 64 and .fn != "mmap" and .fn != "brk")
		| [.pages, .resident_pages, .zero_pages, .untouched_pages,
		   (.by | tostring), .end, .site.sym, .site.line] | @tsv' "$1" | sort
}

t_light_ledger_equals_the_default() {
	local t n
	# the core targets whose big blocks glibc maps (aligned ones aside:
	# thp's posix_memalign block is seen as its whole mapping)
	for t in alloc_write calloc_touch lazy zero_cow dontneed realloc_grow \
		realloc_copy threads populate fork_cow stacks heap_trim; do
		# (some targets print: the report goes to a file of its own)
		run_pt "d_$t" --json -o "$TMP/d_$t.json" -- "$T/$t"
		run_pt "l_$t" --json --light -o "$TMP/l_$t.json" -- "$T/$t"
		expect "$t: exit codes" "$(rc_of "d_$t") $(rc_of "l_$t")" "0 0"
		n=$(big_allocs "$TMP/d_$t.json" | wc -l)
		expect_true "$t: big blocks" "$([ "$n" -ge 1 ]; echo $?)"
		expect "$t: big blocks alike" "$(big_allocs "$TMP/l_$t.json")" \
			"$(big_allocs "$TMP/d_$t.json")"
		expect "$t: light" "$(summary "$TMP/l_$t.json" .light)" true
		expect "$t: complete" "$(summary "$TMP/l_$t.json" .complete)" true
	done
	# the heap shrank under a mapped block: its growths ended, not it
	expect_true "trimmed heap" "$([ "$(jq -r 'select(.type=="alloc" and .fn=="brk" and .end=="free") | .id' "$TMP/l_heap_trim.json" | wc -l)" -ge 1 ]; echo $?)"
}

t_light_traps_no_call_and_sends_no_fault() {
	local f=$TMP/light.out s=$((64 * MiB))
	run_pt light -v --json --light -- "$T/stacks"
	expect "exit code" "$(rc_of light)" 0
	expect "no uprobes" "$(grep -c 'uprobe on' "$TMP/light.err")" 0
	expect_match "said so" "$(grep -- '--light' "$TMP/light.err")" \
		'^pagetrace: --light: no probes on .*libc\.so\.6; its big blocks are followed by their mappings$'
	# 16384 faults, counted in the kernel: a few dozen records in all
	expect_true "few records" "$([ "$(summary "$f" .records)" -lt 200 ]; echo $?)"
	expect "stacks walked" "$(summary "$f" .stacks_walked)" 0
	# every fault of the command, counted in the kernel per instruction,
	# and none of pagetrace's own child before the exec
	expect "every fault" "$(summary "$f" .faults)" "$(summary "$f" .kernel_faults)"
	# the block: glibc's header read, its site unwound through glibc
	# (no frame pointers there) by the call frame information
	expect "block" "$(one_record "$f" '.type=="alloc" and .fn=="mmapped_chunk"' \
		'"\(.size) \(.chunk_size) \(.pages) \(.resident_pages) \(.end)"')" \
		"$((s + 4096 - 16)) $((s + 4096)) 16385 16385 free"
	expect "block site" "$(one_record "$f" '.type=="alloc" and .fn=="mmapped_chunk"' \
		'"\(.site.sym):\(.site.line) \([.stack[0:2][].sym] | join(";"))"')" \
		"make_matrix:$(line_of tests/targets/stacks.c ALLOC_SITE) make_matrix;main"
	# the touching site, from the kernel's counts per instruction
	expect "touch site" "$(site_record "$f" touch solve '"\(.site.line) \(.faults) \(.pages) \(.faults_by_outcome.anon)"')" \
		"$(line_of tests/targets/stacks.c TOUCH_SITE) 16384 16384 16384"
	# the heap's growth is an allocation too, not a chunk
	expect "heap growth" "$(jq -r 'select(.type=="alloc" and .fn=="brk") | .size % 4096' "$f" | sort -u)" 0
}

t_light_unwinds_by_debug_frame() {
	local f=$TMP/ldf.out src=tests/targets/debug_frame_only.c
	# the program's own functions have call frame information in
	# .debug_frame alone
	expect "sections" "$(readelf -S "$T/debug_frame_only" | grep -oE '\.(eh|debug)_frame( |$)' | sort | tr -d ' ' | paste -sd,)" \
		".debug_frame,.eh_frame"
	run_pt ldf --json --light -- "$T/debug_frame_only"
	expect "exit code" "$(rc_of ldf)" 0
	expect "block site" "$(one_record "$f" '.type=="alloc" and .fn=="mmapped_chunk"' \
		'"\(.site.sym):\(.site.line) \([.stack[0:3][].sym] | join(";"))"')" \
		"make_block:$(line_of $src ALLOC_SITE) make_block;outer;main"
}

t_light_own_mapping_is_a_mapping() {
	local f=$TMP/lmap.out s=$((8 * MiB))
	run_pt lmap --json --light -- "$T/own_mmap"
	expect "exit code" "$(rc_of lmap)" 0
	# no glibc header in the program's own mapping: it stays "mmap"
	expect "own mapping" "$(one_record "$f" '.type=="alloc" and .fn=="mmap" and .size=='$s \
		'"\(.pages) \(.resident_pages) \(.end) \(.site.sym)"')" "2048 100 free main"
	expect "malloc's" "$(one_record "$f" '.type=="alloc" and .fn=="mmapped_chunk"' \
		'"\(.pages) \(.resident_pages) \(.end) \(.site.sym)"')" "2049 201 free main"
	bad_input lightverify 64 "^pagetrace: --light reads its fault counts when tracing ends and probes no allocator: it goes with neither --verify, -i, --warmup nor --probes-at-symbols$" --light --verify -- true
	bad_input lightint 64 "^pagetrace: --light reads its fault counts" --light -i 1 -- true
}

# Runs "$T/prog" $TMP/name.ready $TMP/name.done ARGS..., a target that
# says it is ready, waits for SIGUSR1, writes its block and marks 'D' in
# its done file; traces it with pagetrace -v --light -p (JSON to
# $TMP/name.json, stderr to $TMP/name.err) from before SIGUSR1, and once
# the block is written asks pagetrace to stop (SIGINT). Sets target and
# pt: the caller waits for them.
light_on_live_target() { # name prog args...
	local name=$1 prog=$2
	shift 2
	"$T/$prog" "$TMP/$name.ready" "$TMP/$name.done" "$@" &
	target=$!
	PIDS_TO_KILL+=("$target")
	wait_for_file "$TMP/$name.ready" 10 || errors+=("$name: target never got ready")
	"$PT" -v --light -p "$target" --json -o "$TMP/$name.json" 2>"$TMP/$name.err" &
	pt=$!
	wait_for_text "$TMP/$name.err" "tracing process $target" 20 ||
		errors+=("$name: pagetrace never said it was tracing")
	kill -USR1 "$target"
	wait_for_text "$TMP/$name.done" D 10 || errors+=("$name: target never wrote its block")
	kill -INT "$pt"
}

# The end of light_on_live_target's run: pagetrace's exit code in rc,
# the target killed.
end_live_target() {
	wait "$pt"
	rc=$?
	kill -KILL "$target"
	wait "$target" 2>/dev/null
}

# What both live targets leave: the touching loop's 4095 faults (every
# page but the header's, which malloc wrote) at its TOUCH_SITE line, the
# block of 4096 pages, the run complete. Labels start with prefix.
expect_live_ledger() { # prefix json target-source
	expect "${1}touch site" "$(site_record "$2" touch touch '"\(.site.line) \(.faults) \(.faults_by_outcome.anon)"')" \
		"$(line_of "$3" TOUCH_SITE) 4095 4095"
	expect "${1}block" "$(one_record "$2" '.type=="alloc" and .fn=="mmapped_chunk"' '"\(.resident_pages) \(.by.anon)"')" \
		"4096 4096"
	expect "${1}complete" "$(summary "$2" .complete)" true
}

t_light_counts_faults_of_live_threads() {
	local target pt rc f=$TMP/live.json
	light_on_live_target live touch_then_spin
	end_live_target
	expect "exit code" "$rc" 0
	# the loop's faults stayed in the spinning thread's state, read
	# when pagetrace left: its tally (struct pt_site_tally) and its last
	# fault, still open
	expect_live_ledger "" "$f" tests/targets/touch_then_spin.c
}

t_light_thread_exits_while_detaching() {
	local mode target pt rc f mark
	# the window between the tails' read and the detach, held open: a
	# thread that exits in it sends its tally and open fault to the maps
	# at its exit, the copy read before it left out; one that makes a
	# syscall in it keeps them as they were read. Counted once either way
	for mode in exit syscall; do
		f=$TMP/late_$mode.json
		mark=$([ $mode = exit ] && echo E || echo S)
		PAGETRACE_TEST_DETACH_PAUSE_MS=3000 \
			light_on_live_target "late_$mode" exit_when_told $mode
		wait_for_text "$TMP/late_$mode.err" "tails read; detaching in" 10 ||
			errors+=("$mode: pagetrace never read the tails")
		kill -USR2 "$target"
		wait_for_text "$TMP/late_$mode.done" "$mark" 10 ||
			errors+=("$mode: the thread never did it")
		expect_true "$mode: done before the detach" "$(kill -0 "$pt"; echo $?)"
		end_live_target
		expect "$mode: exit code" "$rc" 0
		expect_live_ledger "$mode: " "$f" tests/targets/exit_when_told.c
		expect "$mode: other site" "$(site_record "$f" touch touch_other '"\(.site.line) \(.faults)"')" \
			"$(line_of tests/targets/exit_when_told.c OTHER_SITE) 1"
	done
}

t_light_counts_a_fault_after_exit() {
	local a m n f
	# after sched_process_exit the kernel writes the exiting thread's
	# clear_child_tid word (write: on a page nothing touched) and reads
	# its robust list's head (read: in a file page never mapped yet);
	# --light counts the one at its anon page, the other at the task's
	# end (no event of the thread is left to close it)
	for a in write read; do
		for m in d l; do
			n=ef_${a}_$m
			if [ $m = d ]; then
				run_pt "$n" --json -- "$T/exit_fault" $a
			else
				run_pt "$n" --json --light -- "$T/exit_fault" $a
			fi
			f=$TMP/$n.out
			expect "$a, $m: exit code" "$(rc_of "$n")" 0
			expect "$a, $m: every fault" "$(summary "$f" '"\(.faults == .kernel_faults) \(.faults_unplaced)"')" \
				"true 0"
			[ $a = write ] && expect "$a, $m: block" \
				"$(one_record "$f" '.type=="alloc" and .pages == 4097' '"\(.resident_pages) \(.by.anon)"')" \
				"2 2"
			expect "$a, $m: complete" "$(summary "$f" .complete)" true
		done
	done
}

t_light_closes_faults_without_perf_events() {
	local ready pt target m n
	# a fault that raises SIGSEGV, one that ends its syscall with EFAULT
	# (no mapping with the access) and one past a file's end (EFAULT from
	# SIGBUS) failed; --light tells them by that, the default by the
	# page-faults events that never came
	run_pt ffd --json -- "$T/failed_faults"
	run_pt ffl --json --light -- "$T/failed_faults"
	expect "exit codes" "$(rc_of ffd) $(rc_of ffl)" "0 0"
	expect "failed faults" "$(summary "$TMP/ffd.out" .fault_errors) $(summary "$TMP/ffl.out" .fault_errors)" "3 3"
	# the kernel counts the faults that completed, --light each once
	expect "light: every fault" "$(summary "$TMP/ffl.out" '.faults - .fault_errors - .kernel_faults')" 0
	# the default opens a page-faults event per CPU and kind, --light none
	for m in default light; do
		ready=$TMP/perf_$m.ready
		"$T/attach_wait" "$ready" &
		target=$!
		PIDS_TO_KILL+=("$target")
		wait_for_file "$ready" 10 || errors+=("$m: target never got ready")
		if [ $m = light ]; then
			"$PT" -v --light -p "$target" -o /dev/null 2>"$TMP/perf_$m.err" &
		else
			"$PT" -v -p "$target" -o /dev/null 2>"$TMP/perf_$m.err" &
		fi
		pt=$!
		wait_for_text "$TMP/perf_$m.err" "tracing process $target" 20 ||
			errors+=("$m: pagetrace never said it was tracing")
		n=$(find /proc/$pt/fd -lname 'anon_inode:\[perf_event\]' 2>/dev/null | wc -l)
		kill -INT "$pt"
		wait "$pt"
		kill "$target" 2>/dev/null
		wait "$target" 2>/dev/null
		if [ $m = light ]; then
			expect "light: perf events" "$n" 0
		else
			expect "default: perf events" "$n" $((2 * $(getconf _NPROCESSORS_ONLN)))
		fi
	done
}

t_light_fault_released_by_another_thread() {
	local f=$TMP/rrace.json s=$((8 * MiB))
	# a thread writes 2048 pages and spins, its last fault still open
	# (--light closes it at the thread's next event); main unmaps the
	# block, maps it again at the same address and writes that very
	# page: the thread's page is the old mapping's, never the new one's,
	# so it is not placed, and said so, and main's page stays placed
	run_pt rrace --json --light -o "$f" -- "$T/release_race"
	expect "exit code" "$(rc_of rrace)" 0
	expect "mappings" "$(jq -r "select(.type==\"alloc\" and .size==$s) | \"\(.end) \(.resident_pages) \(.by.anon)\"" "$f" | paste -sd,)" \
		"free 2047 2047,live 2 2"
	expect "unplaced" "$(summary "$f" '"\(.faults_unplaced) \(.complete) \(.incomplete)"')" \
		'1 false ["page_states"]'
	# a release that covers no open fault places every page
	run_pt rwrite --json --light -o "$TMP/rwrite.json" -- "$T/alloc_write"
	expect "alloc_write: none unplaced" "$(summary "$TMP/rwrite.json" '"\(.faults_unplaced) \(.complete)"')" "0 true"
}

t_light_kernel_copies_a_file_page() {
	local a
	# read(2) into a private file page mapped for reading: the kernel's
	# write copies it (file counter down, then anon up), one fault that
	# --light closes at the anon change, not the file one: read(2)'s own
	# instruction has it, a copy, and read(2) populates nothing itself
	for a in 0 1; do
		run_pt "kcow$a" --json --light -- "$T/kernel_cow" $a
		expect "exit code $a" "$(rc_of "kcow$a")" 0
	done
	expect "the copy" "$(jq -r 'select(.type=="site" and .kind=="touch" and .site.sym=="read") | "\(.faults) \(.faults_by_outcome.cow)"' "$TMP/kcow1.out")" "1 1"
	expect "no read, no copy" "$(jq -r 'select(.type=="site" and .kind=="touch" and .site.sym=="read")' "$TMP/kcow0.out")" ""
	expect "no page more in syscalls" \
		"$(($(summary "$TMP/kcow1.out" .other_syscall_pages) - $(summary "$TMP/kcow0.out" .other_syscall_pages)))" 0
}

t_light_huge_page_released_in_part() {
	local f=$TMP/tharace.json thp
	# a thread's huge-page fault still open while main drops half of the
	# page: the fault's 512 pages meet the release, so none is placed
	# (an undercount said so, never 512 pages where 256 stay)
	run_pt tharace --json --light -o "$f" -- "$T/thp_release_race"
	expect "exit code" "$(rc_of tharace)" 0
	thp=$(summary "$f" .faults_by_outcome.thp)
	if [ "$thp" = 1 ]; then
		expect "mapping" "$(jq -r 'select(.type=="alloc" and .size==4194304) | "\(.end) \(.resident_pages)"' "$f")" "live 0"
		expect "unplaced" "$(summary "$f" '"\(.faults_unplaced) \(.complete)"')" "1 false"
	else
		# no huge page to be had: a 4 KiB page in the half that stays
		expect "mapping (no huge page)" "$(jq -r 'select(.type=="alloc" and .size==4194304) | "\(.end) \(.resident_pages)"' "$f")" "live 1"
		expect "unplaced (no huge page)" "$(summary "$f" .faults_unplaced)" 0
	fi
}
