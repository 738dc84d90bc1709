#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only OR MIT
# callgrind.sh - instructions per operation for each microbenchmark (the
# machine has no hardware counters): the inclusive Ir of the API calls the
# pattern times (collected with --toggle-collect, so instance setup is not
# counted), divided by the operations (iterations, times the pages per
# iteration for the bulk patterns).
# Usage: bench/callgrind.sh [BENCH_BINARY]   (make bench-callgrind)
set -eu
if ! command -v valgrind >/dev/null || ! command -v callgrind_annotate >/dev/null; then
	echo "callgrind.sh: needs valgrind: apt-get install -y valgrind" >&2
	exit 1
fi
bin=${1:-build/release/pcpbuddy-bench}
[ -x "$bin" ] || make MODE=release "$bin" >&2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# name-prefix  collected-functions (comma-separated)  pages-per-iteration
A=pcpb_alloc_pages_cpu F=pcpb_free_pages_cpu
set -- \
	'BM_repeat/order:0/' "$A,$F" 1 \
	'BM_repeat/order:9/' "$A,$F" 1 \
	'BM_bulk_get/' "$A" 1 \
	'BM_bulk_put/' "$F" 1 \
	'BM_bulk_api/32/' "pcpb_alloc_pages_bulk_cpu,$F" 32
printf "%-40s %12s\n" benchmark "Ir per op"
while [ $# -gt 0 ]; do
	pattern=$1 fn=$2 per=$3
	shift 3
	for v in classic owner pcp_off classic/lockstat_off owner/lockstat_off; do
		name="$pattern$v"
		toggles=$(echo "$fn" | sed 's/\([^,]*\),*/--toggle-collect=\1 /g')
		# shellcheck disable=SC2086
		valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" \
			$toggles "$bin" \
			--benchmark_filter="^$name\$" --benchmark_min_time=0.01 \
			--benchmark_format=json >"$tmp/out.json" 2>/dev/null
		ir=$(callgrind_annotate "$tmp/cg.out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }')
		# Operations: the calls to the first collected function, over
		# every round Google Benchmark ran (the Ir covers them all).
		calls=$(/usr/bin/python3 - "$tmp/cg.out" "${fn%%,*}" <<'PY'
import re, sys
names, cfn, n = {}, None, 0
for line in open(sys.argv[1]):
    m = re.match(r'c?fn=\((\d+)\)(?: (.*))?', line)
    if m:
        if m.group(2):
            names[m.group(1)] = m.group(2).strip()
        cfn = m.group(1) if line.startswith('cfn=') else None
    elif line.startswith('calls=') and cfn and names.get(cfn) == sys.argv[2]:
        n += int(line.split('=')[1].split()[0])
print(n)
PY
)
		awk -v ir="$ir" -v c="$calls" -v per="$per" -v n="$name" \
			'BEGIN { printf "%-40s %12.1f\n", n, ir / (c * per) }'
	done
done
