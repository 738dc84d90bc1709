#!/bin/sh
# trace-speed.sh - the two speeds of traces (import, replay), medians of 5:
#   import: kernel kmem text lines parsed per second ('pcpbuddy import ftrace'
#           on the shipped tar capture repeated to over 1 M lines);
#   replay: simulated events per second for order-0 traffic (a recorded
#           'sim purge' on 64 CPUs, 2.56 M events), lockstat on and off.
# Usage: bench/trace-speed.sh [PCPBUDDY]   (make bench-trace)
set -eu
bin=${1:-build/release/pcpbuddy}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

gzip -dc tests/data/tar-kmem.txt.gz >"$tmp/one.txt"
for i in 1 2 3 4 5 6 7 8 9 10 11; do cat "$tmp/one.txt"; done >"$tmp/big.txt"
lines=$(wc -l <"$tmp/big.txt")

median() { sort -g | sed -n 3p; }

for i in 1 2 3 4 5; do
	s=$(date +%s.%N)
	"$bin" import ftrace "$tmp/big.txt" -o "$tmp/big.trace" >/dev/null
	e=$(date +%s.%N)
	awk -v n="$lines" -v s="$s" -v e="$e" 'BEGIN { print n / (e - s) }'
done | median | awk -v n="$lines" '{ printf "import: %d lines, median %.2f M lines/s\n", n, $1 / 1e6 }'

"$bin" run sim --model purge --config cpus=64 --ops 20000 \
	--record "$tmp/p0.trace" >/dev/null
for cfg in lockstat=on lockstat=off; do
	for i in 1 2 3 4 5; do
		"$bin" replay "$tmp/p0.trace" --config "$cfg" | head -1 |
			sed 's/.* \([0-9.]*\) M events\/s$/\1/'
	done | median | awk -v c="$cfg" '{ printf "replay (order 0, 64 CPUs, %s): median %.1f M events/s\n", c, $1 }'
done
