#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only OR MIT
# Golden replay: import the shipped real trace (a tar | gzip pipeline on
# this project's VM, captured with scripts/capture-kmem.sh), replay it in
# simulation on classic and owner, and compare the deterministic counters
# with tests/replay/tar-kmem.expected.  --update rewrites the expectation
# (do that only when the model changed on purpose, and say so).
#   tests/replay/golden.sh PCPBUDDY [--update]
set -eu
bin=$1
dir=$(dirname "$0")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gzip -dc "$dir/../data/tar-kmem.txt.gz" > "$tmp/tar.txt"
"$bin" import ftrace "$tmp/tar.txt" -o "$tmp/tar.trace" > "$tmp/import.txt"
{
	sed 's/^import: //' "$tmp/import.txt"
	for cfg in policy=classic policy=owner policy=owner,remote_free=llist; do
		"$bin" replay "$tmp/tar.trace" --config "$cfg" --json |
			/usr/bin/python3 -c "
import json, sys
r = json.load(sys.stdin)
w, p, o = r['work'], r['pcp'], r['owner']
print('$cfg', 'allocs', r['ops']['alloc'], 'zone_acq', r['locks']['zone']['acquisitions'],
      'pcp_refills', p['refills'], 'pcp_drains', p['drains'], 'freelist_ops', w['freelist_ops'],
      'merges', w['merges'], 'fallback_searches', w['fallback_searches'],
      'blocks_claimed', o['blocks_claimed'], 'check', r['check']['ok'])"
	done
	"$bin" fidelity "$tmp/tar.trace" --batch 63 --high-min 3133 \
		--high-max 20480 --memory 1280M
} > "$tmp/got"
if [ "${2:-}" = "--update" ]; then
	cp "$tmp/got" "$dir/tar-kmem.expected"
	echo "golden: updated $dir/tar-kmem.expected"
	exit 0
fi
if diff -u "$dir/tar-kmem.expected" "$tmp/got"; then
	echo "golden replay: 1 passed, 0 failed"
else
	echo "golden replay: 0 passed, 1 failed"
	exit 1
fi
