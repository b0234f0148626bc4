#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# What a first-touch fault pays per hook that sees it, before any work:
# empty programs (bench/hook_floor) on one, two, three of pagetrace's
# fault attach points, then all four (the default mode's set), against
# untraced and pagetrace's own --empty-probes floors, in alternating
# rounds (bench/ab.sh) on bench/workloads/fault_heavy.
#   bash bench/hook_floor.sh [ROUNDS]
set -eu
cd "$(dirname "$0")/.."
HF=build/bench/hook_floor
AB_MARKDOWN=1 bash bench/ab.sh "${1:-9}" "build/bench/workloads/fault_heavy 1" \
	untraced \
	"$HF fault_user" \
	"$HF fault_user,rss_stat" \
	"$HF fault_user,rss_stat,page_alloc" \
	"$HF fault_user,rss_stat,page_alloc,fault_done" \
	"./pagetrace --light --empty-probes" \
	"./pagetrace --empty-probes"
