#!/usr/bin/env bash
# make demo: pagetrace tells the story of lazy allocation and the zero page
# on the bundled demo (tests/targets/demo.c), then on numpy if installed.
set -eu
cd "$(dirname "$0")/.."
PT=./pagetrace
DEMO=build/tests/demo
json=$(mktemp /tmp/pagetrace-demo.XXXXXX)
trap 'rm -f "$json"' EXIT
MiB=1048576

say() { printf '%s\n' "$*"; }

say "== sudo pagetrace -- $DEMO"
say
$PT -- "$DEMO"
$PT --json -o "$json" -- "$DEMO"

field() { # size-in-MiB jq-expression
	jq -r "select(.type==\"alloc\" and .size==$(($1 * MiB))) | $2" "$json"
}

say
say "== what each chapter of the demo really cost, in 4 KiB pages"
printf '  %-34s %-7s %9s %6s %10s %7s\n' CHAPTER CALL RESIDENT ZERO UNTOUCHED FAULTS
chapter() { # size title
	printf '  %-34s %-7s %9s %6s %10s %7s\n' "$2" "$(field "$1" .fn)" \
		"$(field "$1" .resident_pages)" "$(field "$1" .zero_pages)" \
		"$(field "$1" .untouched_pages)" "$(field "$1" .faults)"
}
chapter 32 "calloc 32 MiB, never touched"
chapter 33 "calloc 33 MiB, every page read"
chapter 34 "calloc 34 MiB, read, then written"
chapter 35 "malloc 35 MiB + memset(0xAB)"
chapter 36 "malloc 36 MiB + memset(0)"

say
say "1. calloc'd memory costs nothing until touched: 32 MiB asked,"
say "   $(field 32 .resident_pages) page resident (glibc's chunk header, written inside calloc)."
if [ "$(jq -r 'select(.type=="summary") | .kernel.zero_page_on_read' "$json")" = true ]; then
	say "2. Reading it maps the shared zero page: $(field 33 .by.zero) pages read,"
	say "   $(field 33 .zero_pages) of them still the zero page: no memory spent."
	say "3. Writing breaks the sharing: $(field 34 .by.cow) copy-on-write faults, each a new page."
else
	say "2. This kernel does not map the shared zero page on a read fault"
	say "   ($(grep -o 'pvm_no_zero_page=1' /proc/cmdline || echo 'zero page off')):"
	say "   reading allocated $(field 33 .by.anon) private pages; elsewhere they would be free."
	say "3. So the writes found private pages already: $(field 34 .by.cow) copies, no new faults."
fi
say "4. A non-zero sentinel forces every page in, up front: $(field 35 .resident_pages) pages"
say "   resident after $(field 35 .faults) faults inside memset, before the program uses them."
if [ "$(field 36 .fn)" = calloc ]; then
	say "5. malloc + memset(0) was compiled into calloc: pagetrace saw a calloc,"
	say "   and the block is as lazy as chapter 1 ($(field 36 .untouched_pages) pages untouched)."
else
	say "5. malloc + memset(0) stayed a malloc here: $(field 36 .resident_pages) pages populated."
fi

if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
	say
	say "== numpy.zeros versus numpy.ones, 64 MiB each"
	$PT --json -o "$json" --min-size 64M -- /usr/bin/python3 -c \
		'import numpy as np; a = np.zeros(1 << 23); b = np.ones(1 << 23)'
	jq -r 'select(.type=="alloc") |
		"  \(.fn)(\(.size / 1048576) MiB): \(.resident_pages) pages resident, \(.untouched_pages) untouched, \(.faults) faults (\(.by.thp) pages in huge pages)"' "$json"
	say "  numpy.zeros asks calloc and stays lazy; numpy.ones fills its block,"
	say "  and its MADV_HUGEPAGE lets most of it come in 2 MiB at a fault."
else
	say
	say "(numpy is not installed: 'sudo make deps' adds python3-numpy for the last chapter)"
fi
