#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only OR MIT
# The workload drivers are threaded code too: run each briefly on a
# sanitizer build (TSan in make test), every policy, with and without
# --memory-pressure.  Usage: drivers.sh PCPBUDDY.  A sanitizer report or a
# failed check fails.  Prints "drivers: N passed, N failed".
bin=$1
pass=0
fail=0
out=$(mktemp)
rec=$(mktemp)
trap 'rm -f "$out" "$rec"' EXIT
run_one() {
	if TSAN_OPTIONS="halt_on_error=1" "$bin" "$@" >"$out" 2>&1 &&
	   ! grep -q 'ThreadSanitizer\|AddressSanitizer\|runtime error' "$out"; then
		pass=$((pass + 1))
	else
		echo "FAILED: $bin $*" >&2
		tail -20 "$out" >&2
		fail=$((fail + 1))
	fi
}
while read -r args; do
	# shellcheck disable=SC2086
	run_one $args
done <<'RUNS'
run mixed --threads 3 --seconds 0.5 --config memory=64M,policy=owner,remote_free=llist
run purge --threads 2 --seconds 0.5 --memory-pressure --config memory=64M,policy=owner
run purge --threads 1 --seconds 0.5 --config memory=64M,policy=owner,remote_free=trylock
run exit --threads 3 --pages 4096 --memory-pressure --config memory=64M,policy=owner
run fragment --threads 2 --seconds 0.5 --config memory=64M,policy=chunky
run fragment --threads 1 --seconds 0.5 --config memory=64M,fallback=legacy
compare mixed --threads 2 --ops 3000 --configs policy=classic policy=owner,remote_free=llist
run pipe -w 3 -r 2 -d 0.3 -s 40000 --mode pool --config policy=owner,remote_free=llist
run pipe -w 2 -r 3 -d 0.3 --mode prealloc --memory-pressure --config memory=128M
run pipe -w 2 -r 1 -d 0.3 --mode prealloc-bulk --memcg
run bulk --ops 200 --memcg
run exit --threads 3 --pages 4096 --memory-pressure --config memory=64M,kernel=6.1
compare fragment --threads 2 --seconds 0.3 --config memory=64M --configs kernel=6.1 kernel=6.12 kernel=6.18 kernel=next
RUNS
# The recorder's hook on three threads, then a threaded replay of what it
# wrote (frees wait for their allocations on other threads).
run_one run mixed --threads 3 --ops 3000 --config memory=64M --record "$rec"
run_one replay "$rec" --threaded --config memory=64M,policy=owner,remote_free=llist
run_one replay "$rec" --threaded --cpus 2 --config memory=64M
echo "drivers: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
