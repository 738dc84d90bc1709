#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only OR MIT
#
# Install the Debian packages pcpbuddy builds and tests with.  make run,
# make test, make check and the benchmarks call this when a stamp is
# missing.  As root it runs apt-get; otherwise it prints the exact command
# and fails, so nothing is half-installed silently.  On a system without
# apt it names what to install and fails.
#
#   scripts/deps.sh            install what is missing
#   scripts/deps.sh --headers  only check that the library's headers are
#                              there (plain `make` runs this, installs nothing)
set -eu

PKGS="build-essential pkg-config liburcu-dev libnuma-dev libcriterion-dev
libbenchmark-dev gnuplot-nox clang-format python3 libjemalloc2 libgsl-dev libjansson-dev
zlib1g-dev libzstd-dev libtracefs-dev libtraceevent-dev libtracecmd-dev
trace-cmd linux-perf zstd python3-jsonschema parallel"
# What the library and the CLI need to build, and the package of each header.
HEADERS="urcu/lfstack.h:liburcu-dev numa.h:libnuma-dev gsl/gsl_cdf.h:libgsl-dev jansson.h:libjansson-dev
zlib.h:zlib1g-dev zstd.h:libzstd-dev tracefs/tracefs.h:libtracefs-dev traceevent/event-parse.h:libtraceevent-dev
trace-cmd/trace-cmd.h:libtracecmd-dev"

if [ "${1:-}" = "--headers" ]; then
	missing=""
	for hp in $HEADERS; do
		h=${hp%%:*}
		printf "#include <%s>\n" "$h" | ${CC:-cc} -I/usr/include/traceevent -I/usr/include/tracefs -E -x c - >/dev/null 2>&1 ||
			missing="$missing ${hp#*:} (<$h>)"
	done
	[ -z "$missing" ] && exit 0
	echo "pcpbuddy: missing headers:$missing" >&2
	echo "pcpbuddy: 'make run' or 'make test' installs them on Debian (sh scripts/deps.sh)" >&2
	exit 1
fi

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
	echo "pcpbuddy: no apt here; install the equivalents of these Debian packages:" >&2
	# shellcheck disable=SC2086
	echo "  "$PKGS >&2
	echo "pcpbuddy: then 'touch build/.deps-ok' and run make again" >&2
	exit 1
fi

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

cmd="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "pcpbuddy: missing packages:$missing" >&2
	echo "pcpbuddy: run as root:  apt-get update && $cmd" >&2
	exit 1
fi
echo "pcpbuddy: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2 || true
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing </dev/null >&2
