#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A quick A/B of a few tracer commands on one workload, rounds
# alternating (A B C A B C ...), each ratio taken within its round:
#
#   bash bench/ab.sh ROUNDS 'WORKLOAD' VARIANT...
#
# VARIANT is "untraced" or a tracer command put before "-o FILE -- "
# (e.g. "./pagetrace --light", "/tmp/old/pagetrace"); WORKLOAD prints
# "elapsed_ns N" (bench/workloads/). The workload runs on CPU
# ${BENCH_CPU:-0}, the tracer on the next. Prints, per variant, the median
# time and the median (min-max) over rounds of the first variant's time
# over its own. bench/overhead.sh is the full harness; this is for
# telling two builds apart while working on one. AB_MARKDOWN=1: the same
# as a Markdown table.
set -u

ROUNDS=${1:-}
WORKLOAD=${2:-}
if ! [[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || [ -z "$WORKLOAD" ] || [ $# -lt 3 ]; then
	echo "usage: bash bench/ab.sh ROUNDS 'WORKLOAD ARGS' VARIANT..." >&2
	exit 64
fi
shift 2
MARKDOWN=${AB_MARKDOWN:-}
WORK_CPU=${BENCH_CPU:-0}
TOOL_CPU=$(((WORK_CPU + 1) % $(nproc)))
TMP=$(mktemp -d /tmp/pagetrace-ab.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

for ((r = 0; r < ROUNDS; r++)); do
	line=""
	for v in "$@"; do
		# (word splitting wanted: commands with their arguments)
		# shellcheck disable=SC2086
		if [ "$v" = untraced ]; then
			out=$(taskset -c "$WORK_CPU" $WORKLOAD)
		else
			out=$(taskset -c "$TOOL_CPU" $v -o "$TMP/report" -- \
				taskset -c "$WORK_CPU" $WORKLOAD 2>/dev/null)
		fi
		ns=$(echo "$out" | awk '/^elapsed_ns/ { print $2 }')
		line="$line ${ns:-0}"
	done
	echo "$line" >>"$TMP/times"
done

[ -n "$MARKDOWN" ] && printf '%s\n%s\n' \
	"| variant | median s | vs the first (min-max) |" "|---|---:|---:|"
i=0
for v in "$@"; do
	i=$((i + 1))
	# this variant's times, and the first variant's over it, per round
	# (a run that printed no time, failed, counts in neither)
	awk -v i=$i '$i > 0 { print $i }' "$TMP/times" | sort -n >"$TMP/t"
	awk -v i=$i '$i > 0 && $1 > 0 { printf "%.4f\n", $1 / $i }' \
		"$TMP/times" | sort -n >"$TMP/r"
	failed=$(awk -v i=$i '$i == 0' "$TMP/times" | wc -l)
	awk -v v="$v" -v t="$TMP/t" -v failed="$failed" -v md="$MARKDOWN" '
		{ r[NR] = $1 }
		END {
			while ((getline x < t) > 0)
				tt[++n] = x
			fmt = md ? "| %s | %.3f | %.3fx (%.3f-%.3f)%s |\n" : \
				   "%-48s %8.3f s  %.3fx (%.3f-%.3f)%s\n"
			printf fmt, md ? "`" v "`" : v,
				tt[int((n + 1) / 2)] / 1e9, r[int((NR + 1) / 2)],
				r[1], r[NR],
				failed ? "  " failed " runs failed" : ""
		}' "$TMP/r"
done
