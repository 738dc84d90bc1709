#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only OR MIT
# Golden simulation results: the deterministic counters must equal the
# expectations exactly.
#   tar-kmem.expected: the shipped real trace (a tar | gzip pipeline on this
#     project's VM, captured as tracefs text) imported and
#     replayed on classic and owner, and its fidelity table;
#   sim.expected: 'run sim' (mixed, purge, exit, fragment) on 256 virtual CPUs on
#     classic, chunky and owner.
# --update rewrites the expectations (do that only when the model changed on
# purpose, and say so in the commit).
#   tests/replay/golden.sh PCPBUDDY [--update]
set -eu
bin=$1
dir=$(dirname "$0")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# One line of the counters that repeat exactly, from a --json report.
summary() {
	/usr/bin/python3 -c "
import json, sys
r = json.load(sys.stdin)
w, p, o = r['work'], r['pcp'], r['owner']
print('$1', 'allocs', r['ops']['alloc'], 'zone_acq', r['locks']['zone']['acquisitions'],
      'pcp_refills', p['refills'], 'pcp_drains', p['drains'], 'freelist_ops', w['freelist_ops'],
      'merges', w['merges'], 'fallback_searches', w['fallback_searches'],
      'blocks_claimed', o['blocks_claimed'], 'check', r['check']['ok'])"
}

gzip -dc "$dir/../data/tar-kmem.txt.gz" > "$tmp/tar.txt"
"$bin" import ftrace "$tmp/tar.txt" -o "$tmp/tar.trace" > "$tmp/import.txt"
{
	sed 's/^import: //' "$tmp/import.txt"
	for cfg in policy=classic policy=owner policy=owner,remote_free=llist; do
		"$bin" replay "$tmp/tar.trace" --config "$cfg" --json | summary "$cfg"
	done
	# The done-when: compare in simulation is the same every run
	# (and replay takes the shipped capture as it is, gzipped text).
	for run in 1 2; do
		"$bin" replay "$dir/../data/tar-kmem.txt.gz" --sim --configs policy=classic \
			policy=owner --json >"$tmp/cmp$run.json"
	done
	/usr/bin/python3 -c "
import json
def work(f):
    r = json.load(open(f))
    return [(x['config'], x['report']['work'], x['report']['pcp'],
             x['report']['fragmentation'],
             x['report']['locks']['zone']['acquisitions']) for x in r['results']]
a, b = work('$tmp/cmp1.json'), work('$tmp/cmp2.json')
print('compare --sim twice:', 'identical' if a == b else 'DIFFERENT', len(a), 'configs')
for c, w, p, f, acq in a:
    print(' ', c, 'zone_acq', acq, 'freelist_ops', w['freelist_ops'], 'pcp_refills', p['refills'])"
	# A capture without a start state: the model starts cold, and the
	# verdict fails (exit 1), as docs/fidelity.md explains.
	"$bin" fidelity "$tmp/tar.trace" --batch 63 --high-min 3133 \
		--high-max 20480 --memory 1280M | sed "s|$tmp/||" || [ $? -eq 1 ]
} > "$tmp/tar-kmem.expected"

for model in mixed purge exit fragment; do
	for cfg in policy=classic policy=chunky policy=owner; do
		"$bin" run sim --model $model --ops 200 \
			--config "cpus=256,$cfg" --json | summary "$model,$cfg"
	done
done > "$tmp/sim.expected"

pass=0 failed=0
for f in tar-kmem.expected sim.expected; do
	if [ "${2:-}" = "--update" ]; then
		cp "$tmp/$f" "$dir/$f"
		echo "golden: updated $dir/$f"
	elif diff -u "$dir/$f" "$tmp/$f"; then
		pass=$((pass + 1))
	else
		failed=$((failed + 1))
	fi
done
[ "${2:-}" = "--update" ] && exit 0
echo "golden replay: $pass passed, $failed failed"
[ "$failed" -eq 0 ]
