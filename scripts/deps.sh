#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only OR MIT
#
# Install the Debian packages pcpbuddy builds and tests with.  The Makefile
# calls this when a stamp is missing.  As root it runs apt-get; otherwise it
# prints the exact command and fails, so nothing is half-installed silently.
set -eu

PKGS="build-essential pkg-config liburcu-dev libnuma-dev libcriterion-dev
libbenchmark-dev gnuplot-nox clang-format python3 libjemalloc2"

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
