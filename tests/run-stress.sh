#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only OR MIT
# Run the stress programs of one build: tests/run-stress.sh BUILD BIN...
# Each runs with several thread counts and both CPU modes; the exit code
# of the program is the verdict.  Prints "stress: N passed, N failed".
build=$1
shift
pass=0
fail=0
for bin in "$@"; do
	for args in "2 20000 thread" "4 10000 thread" "3 10000 sched" "8 4000 thread"; do
		# shellcheck disable=SC2086
		if TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" "$bin" $args; then
			pass=$((pass + 1))
		else
			echo "FAILED: $bin $args" >&2
			fail=$((fail + 1))
		fi
	done
done
echo "stress ($build): $pass passed, $fail failed"
[ "$fail" -eq 0 ]
