#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only OR MIT
# Run the stress programs of one build: tests/run-stress.sh BUILD BIN...
# Each runs with several thread counts, both CPU modes and every policy and
# remote_free mode; the program's exit code is the verdict.  Prints
# "stress (BUILD): N passed, N failed".
build=$1
shift
pass=0
fail=0
for bin in "$@"; do
	while read -r threads iters config; do
		if TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
			"$bin" "$threads" "$iters" "$config"; then
			pass=$((pass + 1))
		else
			echo "FAILED: $bin $threads $iters $config" >&2
			fail=$((fail + 1))
		fi
	done <<'CONFIGS'
2 20000 cpu_mode=thread
4 10000 cpu_mode=thread
3 10000 cpu_mode=sched
8 4000 cpu_mode=thread
2 20000 policy=chunky
3 10000 policy=owner,remote_free=lock
4 8000 policy=owner,remote_free=trylock
4 8000 policy=owner,remote_free=llist
2 15000 policy=owner,remote_free=llist,owned_lists=per_migratetype
3 8000 policy=owner,phase0_bound=cycle_lock+free_counter+scan_limit:2
3 8000 policy=owner,remote_free=llist,cpu_mode=sched,cma_bytes=8M
3 8000 policy=owner,remote_free=trylock,owner_merge=free
3 8000 policy=owner,remote_free=llist,owner_merge=drain_new
3 10000 pcp_fastpath=mutex,cpu_mode=sched
3 8000 pcp_fastpath=mutex,policy=owner,remote_free=lock
3 10000 pcp_fastpath=rseq,cpu_mode=sched
4 8000 pcp_fastpath=rseq,policy=owner,remote_free=lock
3 10000 kernel=6.1,cma_bytes=8M
3 10000 kernel=6.12
3 8000 kernel=6.18,policy=owner,remote_free=llist
CONFIGS
done
echo "stress ($build): $pass passed, $fail failed"
[ "$fail" -eq 0 ]
