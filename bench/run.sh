#!/usr/bin/env bash
# pagetrace benchmarks (not tests): each prints a Markdown table.
set -eu
cd "$(dirname "$0")/.."
echo "machine: $(uname -r), $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
echo
./build/bench/pagemap_speed
