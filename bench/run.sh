#!/usr/bin/env bash
# pagetrace benchmarks (not tests): each prints a Markdown table.
#   bash bench/run.sh [RUNS]      RUNS per cell of the overhead table (5)
set -eu
cd "$(dirname "$0")/.."
echo "machine: $(uname -r), $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
echo
echo "## page-table back ends"
./build/bench/pagemap_speed
echo
echo "## the loader"
./build/bench/ledger_speed
echo
echo "## the drain, from the kernel side's ring buffer"
./build/bench/drain_speed
echo
echo "## a fault's floor, hook by hook (first touch, THP off)"
bash bench/hook_floor.sh "$((${1:-5} + 4))"
echo
echo "## start-up and end, pagetrace -- /bin/true"
bash bench/startup.sh
echo
echo "## overhead, side by side"
bash bench/overhead.sh "${1:-5}"
