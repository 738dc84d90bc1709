#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only OR MIT
# Capture the sample kernel traces tests/data ships, on this machine's
# kernel: a pipe, an exit avalanche, cross-CPU frees by munmap and by
# madvise(MADV_DONTNEED), and a compiler run.  Needs root and tracefs.
#   scripts/capture/samples.sh OUTDIR     (writes OUTDIR/kmem-R-NAME.trace.zst)
# R is the kernel's major.minor.  Each trace is then checked with
# 'pcpbuddy fidelity', and the verdicts printed, for tests/replay/fidelity.sh.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
out=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$root/build/release/pcpbuddy
rel=$(uname -r | sed 's/^\([0-9]*\.[0-9]*\).*/\1/')
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
cc -O2 -pthread -o "$tmp/crossfree" "$root/scripts/capture/crossfree.c"
capture() {
	name=$1
	shift
	"$bin" capture -o "$tmp/$name.trace" -- "$@"
	zstd -q -19 -f "$tmp/$name.trace" -o "$out/kmem-$rel-$name.trace.zst"
	printf '%s: ' "$name"
	"$bin" fidelity "$out/kmem-$rel-$name.trace.zst" | tail -1 || true
}
capture pipe sh -c 'dd if=/dev/zero bs=64k count=5000 status=none | cat >/dev/null'
capture exit "$tmp/crossfree" 128 1 exit
capture munmap "$tmp/crossfree" 32 4 munmap
capture madvise "$tmp/crossfree" 32 4 madvise
capture gcc cc -O2 -I"$root/include" -D_GNU_SOURCE -c "$root/alloc/alloc.c" -o "$tmp/alloc.o"
