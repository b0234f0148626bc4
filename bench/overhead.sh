#!/usr/bin/env bash
# Overhead, side by side: every workload under every variant, interleaved
# (A B C ... A B C ...), RUNS runs each; medians and min-max of the time
# the workload measures itself (its work, not the tools' start-up), ratios
# to untraced and to the empty-probe floor, lost events, pagetrace's own
# CPU time. Prints a Markdown table and writes it to bench/results.md.
#
#   bash bench/overhead.sh [RUNS [WORKLOAD...]]   (RUNS defaults to 5)
# Some workloads only (more runs where the spread is wide): their table
# goes to bench/results-WORKLOAD[-WORKLOAD...].md, the full one is kept.
set -u
cd "$(dirname "$0")/.." || exit 2
RUNS=${1:-5}
PT=./pagetrace
W=build/bench/workloads
OUT=bench/results.md
PNG=bench/results.png

WORKLOADS=(fault_heavy malloc_heavy malloc_threads malloc_long malloc_threads_long
	calloc_read numpy sqlite)
if ! [[ $RUNS =~ ^[1-9][0-9]*$ ]]; then
	echo "overhead.sh: RUNS must be a positive number, not '$RUNS'" >&2
	exit 64
fi
if [ $# -gt 1 ]; then
	shift
	for w in "$@"; do
		if ! [[ " ${WORKLOADS[*]} " == *" $w "* ]]; then
			echo "overhead.sh: no workload '$w'; there are: ${WORKLOADS[*]}" >&2
			exit 64
		fi
	done
	WORKLOADS=("$@")
	OUT="bench/results-$(IFS=-; echo "$*").md"
	PNG=${OUT%.md}.png
fi
# This VM's vCPUs differ in speed (the same malloc loop ran 1.7x slower on
# one than on the other), and which one a run lands on made the runs of
# every variant bimodal. So a one-thread workload always runs on one CPU
# (BENCH_CPU, else the first this script may use) and the tools on the
# others; two-thread workloads take both CPUs as they come.
cpu_list() { # "0-2,5" -> "0 1 2 5"
	local part
	for part in ${1//,/ }; do
		if [[ $part == *-* ]]; then seq "${part%-*}" "${part#*-}"; else echo "$part"; fi
	done | tr '\n' ' '
}
read -r -a CPUS <<<"$(cpu_list "$(awk '/^Cpus_allowed_list/ { print $2 }' /proc/self/status)")"
WORK_CPU=${BENCH_CPU:-${CPUS[0]}}
if ! [[ " ${CPUS[*]} " == *" $WORK_CPU "* ]]; then
	echo "overhead.sh: BENCH_CPU=$WORK_CPU is not a CPU this shell may use (${CPUS[*]})" >&2
	exit 64
fi
# a full path: bpftrace -c wants one
TASKSET=$(command -v taskset) || {
	echo "overhead.sh: taskset (util-linux) is not installed" >&2
	exit 69
}
TOOL_CPUS=$(for c in "${CPUS[@]}"; do [ "$c" != "$WORK_CPU" ] && echo "$c"; done | paste -sd,)
if [ -n "$TOOL_CPUS" ]; then
	PIN_TOOL="$TASKSET -c $TOOL_CPUS"
	PLACEMENT="one-thread workloads on CPU $WORK_CPU, the tools on CPU $TOOL_CPUS"
else
	PIN_TOOL=""
	PLACEMENT="one CPU: workloads and tools share it"
fi
TMP=$(mktemp -d /tmp/pagetrace-bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
VARIANTS=(untraced floor_naive floor_glibc glibc floor pagetrace kclock nostacks light_floor light
	perf bpftrace other other_light)

workload_cmd() { # name: the command line, pinned unless it has threads
	case $1 in
	# every CPU, not the tool's that it would inherit
	malloc_threads*) printf '%s -c %s ' "$TASKSET" "$(IFS=,; echo "${CPUS[*]}")" ;;
	*) printf '%s -c %s ' "$TASKSET" "$WORK_CPU" ;;
	esac
	case $1 in
	fault_heavy) echo "$W/fault_heavy 1" ;;
	malloc_heavy) echo "$W/malloc_heavy 1000000 1" ;;
	malloc_threads) echo "$W/malloc_heavy 500000 2" ;;
	malloc_long) echo "$W/malloc_heavy 100000000 1" ;;
	malloc_threads_long) echo "$W/malloc_heavy 50000000 2" ;;
	calloc_read) echo "$W/calloc_read 0.25" ;;
	numpy) echo "/usr/bin/python3 bench/workloads/numpy_fill.py" ;;
	sqlite) echo "/usr/bin/sqlite3 -init bench/workloads/sqlite_load.sql :memory: .quit" ;;
	esac
}

describe_workload() {
	case $1 in
	fault_heavy) echo "first touch of 16 x 64 MiB, THP off (median round x 16)" ;;
	malloc_heavy) echo "1 M malloc/free pairs, 16-1024 B" ;;
	malloc_threads) echo "2 threads x 500 k malloc/free pairs" ;;
	malloc_long) echo "100 M malloc/free pairs, no per-call probes" ;;
	malloc_threads_long) echo "2 threads x 50 M pairs, no per-call probes" ;;
	calloc_read) echo "calloc 256 MiB, read every page" ;;
	numpy) echo "python3: numpy.zeros + numpy.ones, 512 MiB each" ;;
	sqlite) echo "sqlite3 :memory:, 400 k rows, index, queries" ;;
	esac
}

describe_variant() {
	case $1 in
	untraced) echo "untraced" ;;
	floor_naive) echo "empty probes, allocator probes on the symbols" ;;
	floor_glibc) echo "empty probes at pagetrace's placements in glibc (-p; --no-preload)" ;;
	glibc) echo "pagetrace --no-preload (probes in glibc, as with -p)" ;;
	floor) echo "empty probes at pagetrace's placements (the floor)" ;;
	pagetrace) echo "pagetrace (default)" ;;
	kclock) echo "pagetrace --kernel-clock (calls timed in the kernel)" ;;
	nostacks) echo "pagetrace --no-stacks" ;;
	light_floor) echo "empty probes at --light's attach points (its floor)" ;;
	light) echo "pagetrace --light (production)" ;;
	perf) echo "perf trace -F all" ;;
	bpftrace) echo "bpftrace: faults by user stack" ;;
	other) echo "untraced, while pagetrace traces another process" ;;
	other_light) echo "untraced, while pagetrace --light traces another process" ;;
	esac
}

have() {
	case $1 in
	perf) command -v perf >/dev/null && perf trace -F all -o /dev/null -- true >/dev/null 2>&1 ;;
	bpftrace) command -v bpftrace >/dev/null ;;
	numpy) /usr/bin/python3 -c 'import numpy' 2>/dev/null ;;
	sqlite) command -v sqlite3 >/dev/null ;;
	*) true ;;
	esac
}

# The short malloc loops take ~10 ms untraced: too short to tell a few
# percent apart, yet 1 M trapped pairs already take ~15 s. Their long
# forms run only under the variants that trap no call.
runs_under() { # workload variant
	case $1,$2 in
	*_long,floor* | *_long,glibc | *_long,pagetrace | *_long,kclock | *_long,nostacks) false ;;
	*) true ;;
	esac
}

# the workload's own time: "elapsed_ns N", or sqlite3's ".timer" lines
work_ns() { # stdout-file
	local ns
	ns=$(awk '$1 == "elapsed_ns" { print $2 }' "$1" | tail -1)
	if [ -z "$ns" ]; then
		ns=$(awk '/^Run Time: real/ { s += $4 } END { if (s) printf "%.0f", s * 1e9 }' "$1")
	fi
	echo "${ns:-}"
}

# lost events and pagetrace's CPU time, from its text report
report_figures() { # report-file -> "lost cpu_ns"
	awk '
	/^events: / { lost = ($4 == "none") ? 0 : $4 }
	/^pagetrace.s own CPU time: / {
		v = $5; u = $6
		cpu = v * (u == "s" ? 1e9 : u == "ms" ? 1e6 : u == "us" ? 1e3 : 1)
	}
	END { printf "%s %.0f\n", (lost == "" ? "-" : lost), cpu }' "$1"
}

# The workload untraced while pagetrace traces a process that sleeps: what
# every other process on the machine pays (the tracepoints' programs run
# for every process's faults and syscalls, and return at once).
run_beside() { # report out cmd pagetrace-options...
	local report=$1 out=$2 cmd=$3 sleeper tracer i
	shift 3
	sleep 600 &
	sleeper=$!
	$PIN_TOOL $PT "$@" -v -p "$sleeper" -o "$report" 2>"$TMP/beside.err" &
	tracer=$!
	for ((i = 0; i < 400; i++)); do
		grep -q "tracing process $sleeper" "$TMP/beside.err" && break
		sleep 0.05
	done
	$cmd >"$out" 2>/dev/null
	kill -INT "$tracer"
	wait "$tracer"
	kill "$sleeper"
	wait "$sleeper" 2>/dev/null
}

run_one() { # workload variant run -> appends "workload variant ns lost cpu_ns"
	local w=$1 v=$2 cmd ns out=$TMP/$1.$2.$3 report=$TMP/$1.$2.$3.report
	local figures="- -"
	cmd=$(workload_cmd "$w")
	case $v in
	untraced) $cmd >"$out" 2>/dev/null ;;
	floor_naive) $PIN_TOOL $PT --empty-probes --probes-at-symbols -o "$report" -- $cmd >"$out" 2>/dev/null ;;
	floor_glibc) $PIN_TOOL $PT --empty-probes --no-preload -o "$report" -- $cmd >"$out" 2>/dev/null ;;
	glibc) $PIN_TOOL $PT --no-preload -o "$report" -- $cmd >"$out" 2>/dev/null ;;
	floor) $PIN_TOOL $PT --empty-probes -o "$report" -- $cmd >"$out" 2>/dev/null ;;
	pagetrace) $PIN_TOOL $PT -o "$report" -- $cmd >"$out" 2>/dev/null ;;
	kclock) $PIN_TOOL $PT --kernel-clock -o "$report" -- $cmd >"$out" 2>/dev/null ;;
	nostacks) $PIN_TOOL $PT --no-stacks -o "$report" -- $cmd >"$out" 2>/dev/null ;;
	light_floor) $PIN_TOOL $PT --light --empty-probes -o "$report" -- $cmd >"$out" 2>/dev/null ;;
	light) $PIN_TOOL $PT --light -o "$report" -- $cmd >"$out" 2>/dev/null ;;
	perf) $PIN_TOOL perf trace -F all -o "$out.perf" -- $cmd >"$out" 2>/dev/null
		figures="$(grep -c 'LOST' "$out.perf" 2>/dev/null) -" ;;
	bpftrace) $PIN_TOOL bpftrace -e 'software:page-faults:1 /pid == cpid/ { @[ustack] = count(); }' \
		-c "$cmd" >"$out" 2>/dev/null ;;
	other) run_beside "$report" "$out" "$cmd" ;;
	other_light) run_beside "$report" "$out" "$cmd" --light ;;
	esac
	[ -s "$report" ] && figures=$(report_figures "$report")
	ns=$(work_ns "$out")
	echo "$w $v ${ns:--} $figures $3" >>"$TMP/results"
	rm -f "$out" "$out.perf" "$report"
}

# each variant against the empty probes on its own attach points
floor_of() { # variant
	case $1 in
	other*) echo untraced ;; # no floor: the workload is not traced
	light*) echo light_floor ;;
	*glibc) echo floor_glibc ;;
	*) echo floor ;;
	esac
}

median() { sort -n | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)] }'; }

seconds() { awk -v ns="$1" 'BEGIN { if (ns == "") print "-"; else printf "%.3f", ns / 1e9 }'; }

# The median over runs of base's time / variant's time within the same run.
# A run's variants go back to back on the same CPU, and this VM has slow
# phases lasting minutes (the same loop 0.86 s, then 1.44 s): they slow a
# run's variants alike, where a ratio of medians would pair times taken
# in different phases.
ratio() { # workload base-variant variant
	local r
	r=$(awk -v w="$1" -v b="$2" -v v="$3" '
		$1 == w && $3 != "-" && $2 == b { base[$6] = $3 }
		$1 == w && $3 != "-" && $2 == v { var[$6] = $3 }
		END {
			for (run in var)
				if ((run in base) && var[run] > 0)
					printf "%.6f\n", base[run] / var[run]
		}' "$TMP/results" | median)
	if [ -n "$r" ]; then printf '%.2f' "$r"; else echo -; fi
}

echo "machine: $(uname -r), $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $RUNS runs each, interleaved, $PLACEMENT" >&2
workloads=()
for w in "${WORKLOADS[@]}"; do
	if have "$w"; then workloads+=("$w"); else echo "skipping $w: not installed" >&2; fi
done
variants=()
for v in "${VARIANTS[@]}"; do
	if have "$v"; then variants+=("$v"); else echo "skipping $v: not installed" >&2; fi
done
for ((run = 1; run <= RUNS; run++)); do
	for w in "${workloads[@]}"; do
		for v in "${variants[@]}"; do
			runs_under "$w" "$v" && run_one "$w" "$v" "$run"
		done
	done
	echo "run $run of $RUNS done" >&2
done

{
	echo "Machine: $(uname -r), $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); $RUNS runs per cell, interleaved; $PLACEMENT; times are the workload's own (median, min-max); speed = untraced time / variant time (1.00 = no overhead); vs floor = floor time / variant time (each against the empty probes at its own attach points: --light its own, --no-preload glibc's); vs naive = time with empty probes on the symbols / variant time; each ratio is the median over runs of that ratio within a run."
	echo
	echo "| workload | variant | time s (min-max) | speed vs untraced | vs floor | vs naive | lost events | pagetrace CPU s |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|"
	for w in "${workloads[@]}"; do
		for v in "${variants[@]}"; do
			runs_under "$w" "$v" || continue
			times=$(awk -v w="$w" -v v="$v" '$1 == w && $2 == v && $3 != "-" { print $3 }' "$TMP/results")
			med=$(median <<<"$times")
			lo=$(sort -n <<<"$times" | head -1)
			hi=$(sort -n <<<"$times" | tail -1)
			lost=$(awk -v w="$w" -v v="$v" '$1 == w && $2 == v { print $4 }' "$TMP/results" | sort -n | tail -1)
			cpu=$(awk -v w="$w" -v v="$v" '$1 == w && $2 == v && $5 != "-" { print $5 }' "$TMP/results" | median)
			printf '| %s | %s | %s (%s-%s) | %s | %s | %s | %s | %s |\n' \
				"$(describe_workload "$w")" "$(describe_variant "$v")" \
				"$(seconds "$med")" "$(seconds "$lo")" "$(seconds "$hi")" \
				"$(ratio "$w" untraced "$v")" \
				"$(ratio "$w" "$(floor_of "$v")" "$v")" \
				"$(ratio "$w" floor_naive "$v")" \
				"${lost:--}" "$(seconds "$cpu")"
		done
	done
} | tee "$OUT"

# a picture of the speed column, where gnuplot is installed
if command -v gnuplot >/dev/null; then
	{
		printf 'workload'
		printf ' "%s"' "${variants[@]}"
		echo
		for w in "${workloads[@]}"; do
			printf '%s' "$w"
			for v in "${variants[@]}"; do
				printf ' %s' "$(ratio "$w" untraced "$v")"
			done
			echo
		done
	} >"$TMP/speed.dat"
	gnuplot <<GNUPLOT
set terminal png size 1100,520 noenhanced
set output "$PNG"
set title "speed vs untraced (1.0 = no overhead), median of $RUNS runs"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set yrange [0:1.2]
set grid ytics
set key outside right
set xtics rotate by -20
set datafile missing "-"
plot for [i=2:$((${#variants[@]} + 1))] "$TMP/speed.dat" using i:xtic(1) title columnheader(i)
GNUPLOT
	echo "plot: $PNG" >&2
fi
