#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only OR MIT
# preload-jemalloc.sh - the RFC's motivating pattern from a real allocator:
# tests/preload/jemalloc.c (linked with Debian's libjemalloc2, background
# purging threads, 100 ms decay) under the LD_PRELOAD shim, on each
# configuration given (default: policy=classic and policy=owner with every
# remote_free), REPS runs each (default 5), interleaved; prints medians of
# the shim's and the allocator's figures.
# Usage: bench/preload-jemalloc.sh [BUILD_DIR [CONFIG...]]
set -eu
b=${1:-build/release}
[ $# -gt 0 ] && shift
[ $# -gt 0 ] || set -- policy=classic policy=chunky policy=owner,remote_free=lock \
	policy=owner,remote_free=trylock policy=owner,remote_free=llist
lib=$(cd "$b" && pwd)/libpcpbuddy-preload.so
reps=${REPS:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for i in $(seq "$reps"); do
	n=0
	for cfg in "$@"; do
		n=$((n + 1))
		MALLOC_CONF=background_thread:true,dirty_decay_ms:100,muzzy_decay_ms:100 \
			LD_PRELOAD="$lib" PCPBUDDY_CONFIG="$cfg" \
			PCPBUDDY_REPORT="$tmp/$n-$i.json" \
			"$b/tests/preload-jemalloc" --threads 4 --waves 6 >/dev/null
	done
done
/usr/bin/python3 - "$tmp" "$reps" "$@" <<'PY'
import json, statistics, sys
tmp, reps, cfgs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
cols = ["faulted", "purged", "remote", "zone acq", "acq/1k pages",
        "zone hold p99", "zone hold max", "pcp contended"]
print("%-32s" % "config" + "".join("%15s" % c for c in cols))
for n, cfg in enumerate(cfgs, 1):
    rows = []
    for i in range(1, reps + 1):
        r = json.load(open("%s/%d-%d.json" % (tmp, n, i)))
        p, z = r["preload"], r["locks"]["zone"]
        purged = p["frees"]["free"]["pages"] + p["frees"]["dontneed"]["pages"]
        rows.append([p["faults"]["pages"], purged,
                     p["cross_thread_free_fraction"], z["acquisitions"],
                     1000 * z["acquisitions"] / max(1, p["faults"]["pages"]),
                     z["hold_ns"]["p99"], z["hold_ns"]["max"],
                     r["locks"]["pcp"]["contended"]])
    med = [statistics.median(c) for c in zip(*rows)]
    print("%-32s" % cfg + "".join(
        "%15.3f" % v if k == 2 else "%15.2f" % v if k == 4 else "%15d" % v
        for k, v in enumerate(med)))
print("(medians of %d runs; remote: the fraction of freed pages freed by a"
      " thread other than the one that faulted them)" % reps)
PY
