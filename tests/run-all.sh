#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only OR MIT
# make test's runner: unit tests (debug build), stress programs (debug and
# TSan builds), CLI contract tests, golden replays, fidelity on the shipped
# kernel captures (and a capture, where root and tracefs allow), the LD_PRELOAD shim's
# programs (release build).  Ends with one line
# "tests: N passed, N failed" counting the suites.
pass=0
fail=0
run() {
	echo "== $*"
	if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAILED: $*" >&2; fi
}
run build/debug/tests/unit -j2
run sh tests/run-stress.sh debug build/debug/tests/stress-*
run sh tests/run-stress.sh tsan build/tsan/tests/stress-*
run sh tests/stress/drivers.sh build/tsan/pcpbuddy
run sh tests/cli/cli.sh build/release/pcpbuddy
run sh tests/replay/golden.sh build/release/pcpbuddy
run sh tests/replay/fidelity.sh build/release/pcpbuddy
run sh tests/preload/run.sh build/release
run sh tests/install/run.sh
echo "tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
