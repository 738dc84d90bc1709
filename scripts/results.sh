#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only OR MIT
#
# results.sh - re-run every table of docs/results.md, each under the kernel
# profile its section names, into one directory: NN-name.txt per table
# (the command on its first line), the sweeps' JSON and plots beside them.
#
#   sh scripts/results.sh [BUILD [OUT]]     (default build/release, results/)
#
# About 20 minutes on 2 cores.  Run it on a quiet machine: the throughput
# columns and the hold times are wall-clock; the counts are not.  Copy the
# plots into docs/img/ after reading them.
set -u
build=${1:-build/release}
out=${2:-results}
bin=$build/pcpbuddy
[ -x "$bin" ] || { echo "results.sh: no $bin (make first)" >&2; exit 2; }
mkdir -p "$out" || exit 1
fails=0

# t NAME ARGS...: one table, its command first.
t() {
	name=$1; shift
	printf '[results] %s\n' "$name" >&2
	{ printf '$ pcpbuddy'; printf ' %s' "$@"; printf '\n'; } >"$out/$name.txt"
	"$bin" "$@" >>"$out/$name.txt" 2>&1 || { fails=$((fails + 1)); echo "[results] $name failed" >&2; }
}

# 1. The RFC's patterns (kernel=next: the tree the RFC applies to)
t 01-purge compare purge --threads 1 --purgers 1 --seconds 2 --runs 5 --config kernel=next \
	--metrics throughput,zone_acq_per_1k_pages,zone_hold_p50,zone_hold_p99,zone_hold_max,zone_wait_p99,pcp_hit_rate \
	--configs policy=classic policy=chunky policy=owner,remote_free=lock policy=owner,remote_free=trylock policy=owner,remote_free=llist
t 01-purge-sweep sweep purge --param threads=1,2,4 --purgers 1 --seconds 1.5 --runs 3 --config kernel=next \
	--configs policy=classic policy=chunky policy=owner policy=owner,remote_free=llist -o "$out/purge-threads.json"
t 01-purge-plot plot "$out/purge-threads.json" -o "$out/purge-zone-locks.png" --metric zone_acq_per_1k_pages
t 01-purge-lock compare purge --threads 1 --purgers 1 --seconds 2 --runs 7 --config kernel=next \
	--metrics throughput,zone_acq_per_1k_pages,pcp_hit_rate \
	--configs policy=owner,remote_free=lock,pcp_fastpath=mutex policy=owner,remote_free=lock,pcp_fastpath=spin
t 01-exit compare exit --threads 2 --runs 7 --config kernel=next \
	--metrics throughput,zone_acq_per_1k_pages,zone_hold_p50,zone_hold_p99,zone_hold_max,zone_wait_p99 \
	--configs policy=classic policy=chunky policy=owner,remote_free=lock policy=owner,remote_free=trylock policy=owner,remote_free=llist
t 01-exit-sweep sweep exit --param threads=1,2,4 --pages 32768 --runs 3 --config kernel=next \
	--configs policy=classic policy=chunky policy=owner -o "$out/exit-threads.json"
t 01-exit-plot plot "$out/exit-threads.json" -o "$out/exit-free-rate.png" --metric throughput
t 01-exit-drain compare exit --threads 2 --runs 5 --config kernel=next --metrics throughput,zone_acq_per_1k_pages \
	--configs policy=classic policy=owner policy=owner,drain=single
t 01-exit-lock compare exit --threads 2 --runs 7 --config kernel=next --metrics throughput,zone_acq_per_1k_pages,zone_hold_max \
	--configs policy=classic,pcp_fastpath=mutex policy=classic,pcp_fastpath=spin \
	policy=owner,pcp_fastpath=mutex policy=owner,pcp_fastpath=spin

# 2. The fallback modes (the kernels of the fallback thread: v6.14/v6.15-rc
#    PCP rules, which are kernel=6.12's; the legacy column is the kernel
#    before the hygiene series, which also freed to the cached type)
t 02-fragment compare fragment --threads 1 --seconds 2 --runs 5 --config memory=256M,kernel=6.12 \
	--metrics throughput,fallback_searches,claims,refill_hold_max,refill_cost_max,mixed_pageblocks \
	--configs fallback=legacy,pcp_mt=cached fallback=hygiene fallback=smallest fallback=cached
t 02-fragment-sweep sweep fragment --param threads=1,2 --seconds 1.5 --runs 3 --config memory=256M,kernel=6.12 \
	--configs fallback=legacy,pcp_mt=cached fallback=hygiene fallback=smallest fallback=cached -o "$out/fragment-threads.json"
t 02-fragment-plot plot "$out/fragment-threads.json" -o "$out/fragment-throughput.png" --metric throughput
t 02-fragment-plot2 plot "$out/fragment-threads.json" -o "$out/fragment-claims.png" --metric claims

# 3. Phase 2 alone (kernel=next)
t 03-chunky compare fragment --threads 1 --seconds 2 --runs 7 --config memory=256M,kernel=next \
	--metrics throughput,zone_acq_per_1k_pages,zone_hold_p99,zone_hold_max,fallback_searches,claims,refill_cost_max \
	--configs policy=classic policy=chunky policy=owner

# 4. The RFC's open questions (kernel=next)
t 04-phase0-purge compare purge --threads 1 --purgers 1 --seconds 2 --runs 3 --config kernel=next \
	--metrics throughput,zone_acq_per_1k_pages,zone_hold_p99,zone_hold_max,phase0_scan_max,blocks_claimed \
	--configs policy=owner policy=owner,phase0_bound=cycle_lock policy=owner,phase0_bound=free_counter \
	policy=owner,phase0_bound=scan_limit:2 policy=owner,phase0_bound=cycle_lock+free_counter+scan_limit:4 \
	policy=owner,owned_lists=per_migratetype
t 04-phase0-mixed compare mixed --threads 2 --seconds 2 --runs 3 --config kernel=next \
	--metrics throughput,zone_acq_per_1k_pages,zone_hold_p99,zone_hold_max,phase0_scan_max,blocks_claimed \
	--configs policy=owner policy=owner,phase0_bound=cycle_lock policy=owner,phase0_bound=free_counter \
	policy=owner,phase0_bound=scan_limit:2 policy=owner,phase0_bound=cycle_lock+free_counter+scan_limit:4 \
	policy=owner,owned_lists=per_migratetype

# 5. The pipe pools and alloc_pages_bulk (kernel=next)
for p in no yes; do
	for m in baseline prealloc pool; do
		for r in 1 2 3; do
			if [ $p = yes ]; then
				t "05-pipe-pressure-$m-$r" run pipe -w 2 -r 2 -d 2 --mode $m --memory-pressure --config memory=512M,kernel=next
			else
				t "05-pipe-$m-$r" run pipe -w 2 -r 2 -d 2 --mode $m --config kernel=next
			fi
		done
	done
done
for m in baseline prealloc pool; do
	t "05-pipe-lockstep-$m" run pipe --lockstep --ops 2000 --mode $m --config kernel=next
done
for m in prealloc pool; do
	t "05-pipe-lockstep32-$m" run pipe --lockstep --ops 300 -s 32768 --mode $m --config kernel=next
done
t 05-pipe-sweep sweep pipe --param -w=1,2,4 --runs 3 -r 2 -d 1 --config cpus=8,kernel=next \
	--configs mode=baseline mode=prealloc mode=pool -o "$out/pipe-writers.json"
t 05-pipe-plot plot "$out/pipe-writers.json" -o "$out/pipe-throughput.png" --metric throughput
for r in 1 2 3; do
	t "05-bulk-$r" run bulk --ops 20000 --config kernel=next
done
t 05-bulk-memcg run bulk --ops 5000 --memcg --config kernel=next
t 05-bulk-sweep sweep bulk --param batch=7,15,31,63 --runs 3 --ops 5000 --config kernel=next \
	--configs memcg=off memcg=on -o "$out/bulk-batch.json"
t 05-bulk-plot plot "$out/bulk-batch.json" -o "$out/bulk-throughput.png" --metric throughput

# 6. 1024 virtual CPUs in simulation (kernel=next)
t 06-sim-purge sim purge --cpus 64,256,1024 --config memory=8G,kernel=next -o "$out/sim-purge.json"
t 06-sim-exit sim exit --cpus 64,256,1024 --config memory=8G,kernel=next --ops 1000 -o "$out/sim-exit.json"
t 06-sim-mixed sim mixed --cpus 64,256,1024 --config memory=8G,kernel=next -o "$out/sim-mixed.json"
t 06-sim-fragment sim fragment --cpus 64,256,1024 --config memory=8G,kernel=next -o "$out/sim-fragment.json"
for pm in purge:zone_acq_per_1k_pages exit:zone_acq_per_1k_pages \
	mixed:zone_acq_per_1k_pages mixed:freelist_ops_per_1k_pages mixed:zone_moved_per_1k_pages \
	fragment:zone_acq_per_1k_pages fragment:freelist_ops_per_1k_pages fragment:pfn_scan_per_1k_pages; do
	t "06-plot-${pm%%:*}-${pm#*:}" plot "$out/sim-${pm%%:*}.json" -o "$out/sim-${pm%%:*}-${pm#*:}.png" --metric "${pm#*:}"
done

# 8. Where the owner merges (kernel=next)
t 08-merge-exit compare exit --threads 2 --runs 5 --config kernel=next \
	--metrics throughput,zone_acq_per_1k_pages,zone_hold_p99,zone_hold_max \
	--configs policy=classic policy=owner,remote_free=lock policy=owner,remote_free=lock,owner_merge=free
t 08-merge-purge compare purge --threads 1 --purgers 1 --seconds 2 --runs 5 --config kernel=next \
	--metrics throughput,zone_acq_per_1k_pages,zone_hold_p99,zone_hold_max \
	--configs policy=classic policy=owner,remote_free=llist policy=owner,remote_free=llist,owner_merge=free \
	policy=owner,remote_free=lock,owner_merge=free
t 08-merge-fragment compare fragment --threads 1 --seconds 2 --runs 3 --config memory=256M,kernel=next \
	--metrics throughput,zone_acq_per_1k_pages,zone_hold_p99 \
	--configs policy=classic policy=owner policy=owner,owner_merge=free
t 08-merge-new compare exit --threads 2 --runs 5 --config kernel=next \
	--metrics throughput,zone_acq_per_1k_pages,zone_hold_p99 \
	--configs policy=classic policy=owner policy=owner,owner_merge=drain_new policy=owner,owner_merge=free

# 7. jemalloc under the shim (kernel=next; its own script)
printf '[results] 07-jemalloc\n' >&2
REPS=5 sh bench/preload-jemalloc.sh "$build" >"$out/07-jemalloc.txt" 2>&1 ||
	{ fails=$((fails + 1)); echo "[results] 07-jemalloc failed" >&2; }

echo "results: $out, $fails failed" >&2
[ "$fails" = 0 ]
