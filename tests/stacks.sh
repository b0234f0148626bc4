# shellcheck shell=bash
# Stacks, sites, folded stacks and intervals: sourced by tests/run.sh,
# whose helpers (run_pt, expect, alloc, ...) these tests use.

line_of() { # file marker: the line the marker comment is on
	grep -n "$2" "$1" | head -1 | cut -d: -f1
}

site_record() { # file kind sym jq-expression: of the one site record
	one_record "$1" ".type==\"site\" and .kind==\"$2\" and .site.sym==\"$3\"" "$4"
}

t_stacks_name_alloc_and_touch_sites() {
	local src=tests/targets/stacks.c f=$TMP/stk.out s=$((64 * MiB)) al tl
	al=$(line_of $src ALLOC_SITE)
	tl=$(line_of $src TOUCH_SITE)
	run_pt stk --json -- "$T/stacks"
	expect "exit code" "$(rc_of stk)" 0
	# the allocating frame: the allocator's caller, file:line of the call
	expect "alloc site" "$(alloc "$f" $s '[.site.sym, .site.file, .site.line] | @tsv')" \
		"$(printf 'make_matrix\t%s\t%s' $src "$al")"
	expect "alloc stack" "$(alloc "$f" $s '[.stack[0:2][].sym] | join(";")')" "make_matrix;main"
	expect "alloc stack lines" "$(alloc "$f" $s '.stack[1].line')" \
		"$(line_of $src 'm = make_matrix()')"
	# the per-site tables: allocation site and touching site
	expect "site allocs" "$(site_record "$f" alloc make_matrix .allocs)" 1
	expect "site bytes" "$(site_record "$f" alloc make_matrix .bytes_requested)" $s
	expect "site resident" "$(site_record "$f" alloc make_matrix .resident_bytes)" $((16385 * 4096))
	expect "site untouched" "$(site_record "$f" alloc make_matrix .untouched_bytes)" 0
	expect "site zero" "$(site_record "$f" alloc make_matrix .zero_bytes)" 0
	expect "touched by" "$(site_record "$f" alloc make_matrix '.touched_by[0] | "\(.site.sym):\(.site.line) \(.pages)"')" \
		"solve:$tl 16384"
	expect "first touch measured" "$(site_record "$f" alloc make_matrix '.first_touch_max_ns > 0')" true
	expect "touch site line" "$(site_record "$f" touch solve '.site.line')" "$tl"
	expect "touch pages" "$(site_record "$f" touch solve '.pages')" 16384
	expect "touch faults" "$(site_record "$f" touch solve '.faults_by_outcome.anon')" 16384
	expect "touch hits" "$(site_record "$f" touch solve '.hits[0] | "\(.site.sym) \(.pages)"')" \
		"make_matrix 16384"
	# two-axis folded stacks, weighted by pages
	run_pt stkf --folded -- "$T/stacks"
	expect "folded exit code" "$(rc_of stkf)" 0
	expect "two-axis line" "$(grep -cE '(^|;)main;make_matrix;-- touched by --;(.*;)?main;solve 16384$' "$TMP/stkf.out")" 1
	run_pt stka --folded=alloc -- "$T/stacks"
	expect "alloc axis" "$(grep -cE '(^|;)main;make_matrix 16385$' "$TMP/stka.out")" 1
	run_pt stkt --folded=touch -- "$T/stacks"
	expect "touch axis" "$(grep -cE '(^|;)main;solve 16384$' "$TMP/stkt.out")" 1
	expect "no other axis" "$(grep -c 'touched by' "$TMP/stkt.out")" 0
	# the text report: tables and the first-touch histogram
	run_pt stktxt -- "$T/stacks"
	f=$TMP/stktxt.out
	expect_match "alloc site row" "$(grep -E 'make_matrix\+0x[0-9a-f]+ \(stacks.c:' "$f" | head -1)" \
		"^ +1 +64\.0 MiB +64\.0 MiB +0 B +0 B +.*make_matrix\+0x[0-9a-f]+ \(stacks\.c:$al\)$"
	expect "touched by row" "$(grep -cE "^ +touched by solve\+0x[0-9a-f]+ \(stacks\.c:$tl\): 16384 pages$" "$f")" 1
	expect "touch site row" "$(grep -cE "^ +16384 +16384  solve\+0x[0-9a-f]+ \(stacks\.c:$tl\)$" "$f")" 1
	expect "histogram header" "$(grep -cE '^ +first touch \(usecs\) +: count +distribution$' "$f")" 1
	expect "histogram bar" "$(grep -cE '^ +[0-9]+ -> [0-9]+ +: 1 +\|\*{40}\|$' "$f")" 1
}

t_stripped_binary_names_the_caller() {
	local f=$TMP/strip.out
	expect "no symbol table" "$(readelf -S "$T/stripped" | grep -c '\.symtab')" 0
	run_pt strip --json -- "$T/stripped"
	expect "exit code" "$(rc_of strip)" 0
	expect "caller from .dynsym" "$(alloc "$f" $((8 * MiB)) .site.sym)" allocate_buffer
	expect "no line information" "$(alloc "$f" $((8 * MiB)) .site.line)" null
	expect "module" "$(alloc "$f" $((8 * MiB)) .site.module)" "$T/stripped"
}

t_made_up_frame_record_not_walked() {
	local src=tests/targets/no_frame_chain.c f=$TMP/nfc.out s=$((8 * MiB)) e=$TMP/nfce.out
	run_pt nfc --json -- "$T/no_frame_chain"
	expect "exit code" "$(rc_of nfc)" 0
	# rbp held data, not a frame pointer: the allocation stack is the site
	expect "alloc site" "$(alloc "$f" $s '"\(.site.sym) \(.site.line)"')" \
		"main $(line_of $src ALLOC_SITE)"
	expect "alloc stack" "$(alloc "$f" $s '[.stack[].sym] | join(";")')" main
	expect "populated block's stack" "$(alloc "$f" $((4 * MiB)) '"\([.stack[].sym] | join(";")) \(.site.line)"')" \
		"main $(line_of $src POPULATE_ALLOC_SITE)"
	# the frameless loop, its caller from the top of the stack, no more
	expect "touch pages" "$(site_record "$f" touch fill .pages)" 2047
	expect "touch line" "$(site_record "$f" touch fill .site.line)" "$(line_of $src TOUCH_SITE)"
	expect "no made-up frame" "$(grep -c decoy "$f")" 0
	expect_true "counted" "$([ "$(summary "$f" .stacks_without_chain)" -ge 2049 ]; echo $?)"
	# a fault and a populating syscall, each with the caller put back
	run_pt nfcf --folded -- "$T/no_frame_chain"
	expect "folded loop" "$(grep -cx 'main;-- touched by --;main;fill 2047' "$TMP/nfcf.out")" 1
	expect "folded syscall" "$(grep -cx 'main;-- touched by --;main;__madvise 1024' "$TMP/nfcf.out")" 1
	expect "no made-up frame folded" "$(grep -c decoy "$TMP/nfcf.out")" 0
	# every stack walked, but only from a frame pointer
	run_pt nfce --json --exact-stacks -- "$T/no_frame_chain"
	expect "exact: alloc stack" "$(alloc "$e" $s '[.stack[].sym] | join(";")')" main
	expect "exact: touch pages" "$(site_record "$e" touch fill .pages)" 2047
	expect "exact: no made-up frame" "$(grep -c decoy "$e")" 0
	run_pt nfct -- "$T/no_frame_chain"
	expect "text line" "$(grep -cE '^user stacks: [0-9]+ walked, [0-9]+ reused .*, [0-9]+ without a frame-pointer chain ' "$TMP/nfct.out")" 1
}

t_deleted_binary_symbolized_after_exit() {
	local f=$TMP/del.out
	cp "$T/deleted" "$TMP/deleted_copy"
	run_pt del --json -- "$TMP/deleted_copy"
	expect "exit code" "$(rc_of del)" 0
	expect "the binary is gone" "$([ -e "$TMP/deleted_copy" ] && echo present || echo gone)" gone
	expect "site" "$(alloc "$f" $((8 * MiB)) '"\(.site.sym) \(.site.line)"')" \
		"after_unlink $(line_of tests/targets/deleted.c ALLOC_SITE)"
	expect "caller's caller" "$(alloc "$f" $((8 * MiB)) .stack[1].sym)" main
}

t_dlclosed_library_symbolized() {
	local f=$TMP/dl.out lib=tests/targets/lib/liballoc.c
	run_pt dl --json -- "$T/dlopen_alloc" "$T/liballoc.so"
	expect "exit code" "$(rc_of dl)" 0
	expect "site" "$(alloc "$f" $((8 * MiB)) '"\(.site.sym) \(.site.file):\(.site.line)"')" \
		"lib_allocate $lib:$(line_of $lib ALLOC_SITE)"
	expect "module" "$(alloc "$f" $((8 * MiB)) .site.module)" "$T/liballoc.so"
	expect "loop line and pages" "$(jq -r 'select(.type=="site" and .kind=="touch" and .site.sym=="lib_touch" and .pages > 1) | "\(.site.line) \(.pages)"' "$f")" \
		"$(line_of $lib TOUCH_SITE) 2047"
	expect "touched pages" "$(jq -s '[.[] | select(.type=="site" and .kind=="touch" and .site.sym=="lib_touch") | .pages] | add' "$f")" 2048
	run_pt dlf --folded -- "$T/dlopen_alloc" "$T/liballoc.so"
	expect "two-axis line" "$(grep -cE '(^|;)main;lib_allocate;-- touched by --;(.*;)?main;lib_touch 2048$' "$TMP/dlf.out")" 1
}

t_namespaced_binary_symbolized() {
	if ! command -v unshare >/dev/null; then
		SKIP_REASON="unshare (util-linux) is not installed"
		return
	fi
	# the binary exists only in the command's own mount namespace, while
	# the program runs: it stays a moment after its work, for the reader
	# to have read its exec (after two execs, each moving the allocator
	# probes, the reader may be ~0.2 s behind; see README, Limits)
	local f=$TMP/ns.out dir=/run/pagetrace-ns-test
	mkdir -p "$dir"
	run_pt ns --json -- unshare -m sh -c \
		"mount -t tmpfs none $dir && cp $T/stacks $dir/stacks_ns && exec $dir/stacks_ns 500"
	expect "exit code" "$(rc_of ns)" 0
	expect "not visible here" "$([ -e $dir/stacks_ns ] && echo visible || echo hidden)" hidden
	expect "site" "$(alloc "$f" $((64 * MiB)) '"\(.site.module) \(.site.sym) \(.site.line)"')" \
		"$dir/stacks_ns make_matrix $(line_of tests/targets/stacks.c ALLOC_SITE)"
	rmdir "$dir"
}

t_interval_shows_the_steady_loop() {
	local f=$TMP/iv.out later
	run_pt iv --json -i 1 -- "$T/phases"
	expect "exit code" "$(rc_of iv)" 0
	expect_true "three intervals or more" "$([ "$(jq -c 'select(.type=="interval")' "$f" | wc -l)" -ge 3 ]; echo $?)"
	expect "first interval: start-up" "$(jq -r 'select(.type=="interval") | .sites[0].site.sym' "$f" | head -1)" warm_up
	# every later interval with faults: the steady loop first, and all of
	# its pages; at most two others, from exit's code, where this
	# machine's proactive reclaim (DAMON pageout) took a page it reads
	later=$(jq -r 'select(.type=="interval" and .faults > 0) | .sites[0].site.sym' "$f" | tail -n +2 | sort -u)
	expect "later intervals" "$later" steady_state
	expect "steady pages" "$(jq -s '[.[] | select(.type=="interval") | .sites[] | select(.site.sym=="steady_state") | .pages] | add' "$f")" 1250
	expect_true "no other site but exit's" "$([ "$(jq -s '[.[] | select(.type=="interval" and .faults > 0)][1:] | [.[].sites[] | select(.site.sym!="steady_state") | .pages] | add // 0' "$f")" -le 2 ]; echo $?)"
	run_pt ivc -i 1 2 -- "$T/phases"
	expect "count exit code" "$(rc_of ivc)" 0
	expect "two intervals" "$(grep -cE '^[0-9]{2}:[0-9]{2}:[0-9]{2} \(\+[0-9.]+ s\): [0-9]+ faults \([0-9]+/s\), .* populated \(.*/s\)$' "$TMP/ivc.out")" 2
	expect_match "stopped by the count" "$(grep '^pagetrace: process' "$TMP/ivc.out")" 'still running \(-i count reached\)$'
}

t_warmup_excludes_startup() {
	local f=$TMP/wu.out
	run_pt wu --json --warmup 2 -- "$T/phases"
	expect "exit code" "$(rc_of wu)" 0
	expect "no start-up site" "$(jq -c 'select(.type=="site" and .site.sym=="warm_up")' "$f" | wc -l)" 0
	expect "steady pages" "$(site_record "$f" touch steady_state .pages)" 1250
}

t_no_stacks_keeps_sites() {
	local f=$TMP/nos.out
	run_pt nos --json --no-stacks -- "$T/stacks"
	expect "exit code" "$(rc_of nos)" 0
	expect "site" "$(alloc "$f" $((64 * MiB)) .site.sym)" make_matrix
	expect "stack: the site alone" "$(alloc "$f" $((64 * MiB)) '[.stack[].sym] | join(";")')" make_matrix
	expect "touch site" "$(site_record "$f" touch solve .pages)" 16384
	run_pt nosf --folded --no-stacks -- "$T/stacks"
	expect "folded without stacks" "$(grep -c '^make_matrix;-- touched by --;solve 16384$' "$TMP/nosf.out")" 1
}

t_stack_depth_limits_frames() {
	local f=$TMP/sd.out
	run_pt sd --json --stack-depth 2 -- "$T/stacks"
	expect "exit code" "$(rc_of sd)" 0
	expect "frames" "$(alloc "$f" $((64 * MiB)) '[.stack[].sym] | join(";")')" "make_matrix;main"
}

t_stacks_past_the_map_sent_whole() {
	# one bucket: the first stack taken holds it, every other one
	# (make_matrix's, solve's loop) is sent whole in a record of its own
	local f=$TMP/ls.out
	run_pt ls --json --stack-storage 1 -- "$T/stacks"
	expect "exit code" "$(rc_of ls)" 0
	expect "none lost" "$(summary "$f" .lost_stacks)" 0
	expect_true "sent whole" "$([ "$(summary "$f" .stacks_spilled)" -ge 2 ]; echo $?)"
	expect_true "reused" "$([ "$(summary "$f" .stacks_reused)" -ge 16383 ]; echo $?)"
	expect "alloc stack" "$(alloc "$f" $((64 * MiB)) '[.stack[0:2][].sym] | join(";")')" \
		"make_matrix;main"
	expect "site" "$(site_record "$f" touch solve .pages)" 16384
	run_pt lstxt --stack-storage 1 -- "$T/stacks"
	expect_match "text says so" "$(grep 'sent whole' "$TMP/lstxt.out")" \
		'^[0-9]+ user stacks sent whole, in records of their own \(their bucket in the kernel.s stack map held by another stack; raising --stack-storage saves those records\)$'
	expect "text: no loss line" "$(grep -c 'stacks not taken' "$TMP/lstxt.out")" 0
	# the same stacks as with the default map
	run_pt lsf --folded --stack-storage 1 -- "$T/stacks"
	run_pt dsf --folded -- "$T/stacks"
	expect "folded: same stacks" "$(grep -v '^\[no allocation\]' "$TMP/lsf.out" | sort | md5sum)" \
		"$(grep -v '^\[no allocation\]' "$TMP/dsf.out" | sort | md5sum)"
	expect "folded: touch line" "$(grep -cE '(^|;)main;make_matrix;-- touched by --;(.*;)?main;solve 16384$' "$TMP/lsf.out")" 1
	# two sites taking turns: every call's stack walked, each of the two
	# sent once, not at every walk
	f=$TMP/two.out
	run_pt two --json --stack-storage 1 -- "$T/two_sites"
	expect "two sites: exit code" "$(rc_of two)" 0
	expect_true "two sites: walked" "$([ "$(summary "$f" .stacks_walked)" -ge 40000 ]; echo $?)"
	expect_true "two sites: sent once" "$([ "$(summary "$f" .stacks_spilled)" -lt 200 ]; echo $?)"
	expect "two sites: nothing lost" "$(summary "$f" '"\(.lost_events) \(.lost_stacks)"')" "0 0"
	expect "two sites: stacks" "$(jq -r 'select(.type=="alloc") | [.stack[0:2][].sym] | join(";")' "$f" | sort | uniq -c | awk '{print $1, $2}' | tr '\n' ' ')" \
		"20000 a;main 20000 b;main "
}
