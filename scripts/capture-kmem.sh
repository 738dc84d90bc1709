#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only OR MIT
# Capture the kernel's kmem page events while COMMAND runs, as tracefs text
# for 'pcpbuddy import ftrace'.  Needs root.  Uses a private tracefs
# instance, so the global buffer is left alone, and removes it afterwards.
#   scripts/capture-kmem.sh OUT.txt COMMAND [ARGS...]
set -eu
[ $# -ge 2 ] || { echo "usage: $0 OUT.txt COMMAND [ARGS...]" >&2; exit 2; }
out=$1
shift
tr=/sys/kernel/tracing
[ -d $tr/events ] || mount -t tracefs nodev $tr
inst=$tr/instances/pcpbuddy-$$
mkdir "$inst"
trap 'echo 0 > "$inst/tracing_on" 2>/dev/null; rmdir "$inst" 2>/dev/null' EXIT
for e in mm_page_alloc mm_page_free mm_page_free_batched \
	 mm_page_alloc_zone_locked mm_page_pcpu_drain; do
	echo 1 > "$inst/events/kmem/$e/enable"
done
echo 16384 > "$inst/buffer_size_kb"
echo 1 > "$inst/tracing_on"
"$@" || true
echo 0 > "$inst/tracing_on"
cat "$inst/trace" > "$out"
echo "capture: $(grep -c 'mm_page_' "$out") kmem events in $out" >&2
