#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# pagetrace's start-up and end, apart from any work: its own CPU time
# (self_cpu_ns, the kernel's verifier above all) and the wall time of
# `pagetrace [MODE] -- /bin/true`, median (min-max) of RUNS runs per
# mode, printed as a Markdown table. A change that makes the verifier
# walk much more shows here first.
#
#   bash bench/startup.sh [RUNS]      (RUNS defaults to 7)
set -u
cd "$(dirname "$0")/.." || exit 2
RUNS=${1:-7}
if ! [[ $RUNS =~ ^[1-9][0-9]*$ ]]; then
	echo "startup.sh: RUNS must be a positive number, not '$RUNS'" >&2
	exit 64
fi
TMP=$(mktemp -d /tmp/pagetrace-startup.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# "median (min-max)" of numbers on stdin, in ms
summary() {
	sort -n | awk '{ v[NR] = $1 } END {
		printf "%.0f (%.0f-%.0f)", v[int((NR + 1) / 2)], v[1], v[NR] }'
}

echo "| mode | own CPU ms (min-max) | wall ms (min-max) |"
echo "|---|---:|---:|"
for mode in "" "--light" "--empty-probes" "--light --empty-probes"; do
	: >"$TMP/cpu"
	: >"$TMP/wall"
	for ((i = 0; i < RUNS; i++)); do
		start=$(date +%s%N)
		# shellcheck disable=SC2086 # the mode is words
		if ! ./pagetrace $mode --json -o "$TMP/out.json" -- /bin/true 2>"$TMP/err"; then
			echo "startup.sh: pagetrace $mode failed: $(head -n 1 "$TMP/err")" >&2
			exit 1
		fi
		end=$(date +%s%N)
		echo $(((end - start) / 1000000)) >>"$TMP/wall"
		jq -r 'select(.type=="summary") | .self_cpu_ns / 1e6' "$TMP/out.json" >>"$TMP/cpu"
	done
	echo "| ${mode:-default} | $(summary <"$TMP/cpu") | $(summary <"$TMP/wall") |"
done
