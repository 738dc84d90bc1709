#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only OR MIT
# preload-overhead.sh - what the LD_PRELOAD shim costs a real program: the
# wall time of the C test program (tests/preload/prog.c, 4 threads) and of
# the allocation-heavy Python script (tests/preload/alloc_heavy.py, 2
# threads), natively and under the shim in eager and fault mode, medians of
# REPS runs (default 5) interleaved, with the ratio to the native run.
# Usage: bench/preload-overhead.sh [BUILD_DIR] (make bench-preload)
set -eu
b=${1:-build/release}
lib=$(cd "$b" && pwd)/libpcpbuddy-preload.so
reps=${REPS:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# wall time of one run, in seconds
timed() {
	s=$(date +%s.%N)
	"$@" >/dev/null
	e=$(date +%s.%N)
	awk -v s="$s" -v e="$e" 'BEGIN { printf "%.4f\n", e - s }'
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

printf "%-10s %-7s %10s %7s\n" program mode "median s" ratio
for prog in c python; do
	case $prog in
	c) cmd="$b/tests/preload-prog --threads 4 --rounds 200" ;;
	python) cmd="/usr/bin/python3 tests/preload/alloc_heavy.py 6" ;;
	esac
	for i in $(seq "$reps"); do
		# shellcheck disable=SC2086
		timed $cmd >>"$tmp/$prog-native"
		# shellcheck disable=SC2086
		timed env LD_PRELOAD="$lib" PCPBUDDY_MODE=eager $cmd >>"$tmp/$prog-eager"
		# shellcheck disable=SC2086
		timed env LD_PRELOAD="$lib" PCPBUDDY_MODE=fault $cmd >>"$tmp/$prog-fault"
	done
	base=$(median <"$tmp/$prog-native")
	for mode in native eager fault; do
		m=$(median <"$tmp/$prog-$mode")
		printf "%-10s %-7s %10.3f %6.2fx\n" "$prog" "$mode" "$m" \
			"$(awk -v m="$m" -v b="$base" 'BEGIN { print m / b }')"
	done
done
