#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only OR MIT
# Capture the sample kernel traces on one of Debian's own kernels, booted
# under qemu (TCG: no KVM needed), for the kernel profiles this machine
# does not run.  The guest is a busybox initramfs whose /init traces each
# workload through tracefs exactly as 'pcpbuddy capture' does (snapshots,
# the start-state marker, per-CPU ring-buffer stats) and writes a tar
# archive straight to a raw virtio disk; the host imports each trace with
# its snapshots into OUTDIR/kmem-R-NAME.trace.zst.
#   scripts/capture/qemu.sh KERNEL_DEB OUTDIR
# KERNEL_DEB: a linux-image-*-amd64-unsigned package (apt-get download).
# Needs qemu-system-x86, busybox-static, cpio, zstd; 4 GiB for the guest
# (a smaller one has no Normal zone).  Takes a few minutes per kernel.
set -eu
[ $# -eq 2 ] || { echo "usage: $0 KERNEL_DEB OUTDIR" >&2; exit 2; }
deb=$1
out=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$root/build/release/pcpbuddy
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
dpkg-deb -x "$deb" "$tmp/k"
vmlinuz=$(ls "$tmp"/k/boot/vmlinuz-*)
release=${vmlinuz##*/vmlinuz-}
rel=$(echo "$release" | sed 's/^\([0-9]*\.[0-9]*\).*/\1/')
hz=$(sed -n 's/^CONFIG_HZ=//p' "$tmp"/k/boot/config-*)

# The initramfs: busybox, the virtio block modules (uncompressed, in load
# order; a built-in one is simply absent), the workload program.
ir=$tmp/ir
mkdir -p "$ir/bin" "$ir/mod" "$ir/proc" "$ir/sys" "$ir/dev" "$ir/out" "$ir/tmp"
cp /bin/busybox "$ir/bin/busybox"
cc -O2 -static -pthread -o "$ir/bin/crossfree" "$root/scripts/capture/crossfree.c"
i=0
for m in virtio virtio_ring virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk; do
	f=$(find "$tmp/k/lib/modules" -name "$m.ko" -o -name "$m.ko.xz" | head -1)
	[ -n "$f" ] || continue
	i=$((i + 1))
	case $f in
	*.xz) xz -dc "$f" >"$ir/mod/$i-$m.ko" ;;
	*) cp "$f" "$ir/mod/$i-$m.ko" ;;
	esac
done
cat >"$ir/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs dev /dev
# Dependencies first, whatever the order: retry what failed.
for pass in 1 2 3 4; do
	for m in /mod/*.ko; do [ -e "$m.done" ] || { insmod "$m" 2>/dev/null && touch "$m.done"; }; done
done
[ -b /dev/vda ] || { echo "pcpbuddy-qemu: no /dev/vda (virtio_blk did not load)"; poweroff -f; }
mount -t tracefs tracefs /sys/kernel/tracing; T=/sys/kernel/tracing
echo 0 > $T/tracing_on; echo nop > $T/current_tracer
echo 0 > $T/options/overwrite
echo 114688 > $T/buffer_size_kb
for e in mm_page_alloc mm_page_free mm_page_free_batched mm_page_alloc_zone_locked \
	 mm_page_pcpu_drain mm_page_alloc_extfrag; do echo 1 > $T/events/kmem/$e/enable; done
O=/out
run() {
	n=$1; shift
	head -c 65536 /dev/zero | tr '\0' '\n' > $O/$n.zoneinfo.before
	sync; echo 3 > /proc/sys/vm/drop_caches
	echo > $T/trace
	echo 1 > $T/tracing_on
	cat /proc/buddyinfo > $O/$n.buddyinfo.before
	cat /proc/pagetypeinfo > $O/$n.pagetypeinfo.before
	# zoneinfo last, over a file whose pages exist already (blank lines
	# the parser skips), so the read allocates no page cache; the marker
	# right after it.
	dd if=/proc/zoneinfo of=$O/$n.zoneinfo.before conv=notrunc 2>/dev/null
	echo "pcpbuddy: start state taken" > $T/trace_marker
	"$@"; st=$?
	echo 0 > $T/tracing_on
	cat /proc/zoneinfo > $O/$n.zoneinfo.after
	cat /proc/buddyinfo > $O/$n.buddyinfo.after
	cat /proc/pagetypeinfo > $O/$n.pagetypeinfo.after
	lost=0; entries=0
	for s in $T/per_cpu/cpu*/stats; do
		o=$(sed -n 's/^overrun: //p' $s); d=$(sed -n 's/^dropped events: //p' $s)
		e=$(sed -n 's/^entries: //p' $s)
		lost=$((lost + o + ${d:-0})); entries=$((entries + e))
	done
	{
		echo "kernel_release: $(uname -r)"
		echo "kernel_version: $(uname -v)"
		echo "machine: $(uname -m)"
		echo "cmdline: $(cat /proc/cmdline)"
		for k in min_free_kbytes watermark_scale_factor watermark_boost_factor \
			 percpu_pagelist_high_fraction stat_interval; do
			echo "vm.$k: $(cat /proc/sys/vm/$k)"
		done
		echo "thp.enabled: $(cat /sys/kernel/mm/transparent_hugepage/enabled)"
		echo "command: $*"
		echo "command_status: $st"
		echo "buffer_kb: 114688"
		echo "ring_buffer_entries: $entries"
		echo "lost_events: $lost"
	} > $O/$n.meta
	cat $T/trace > $O/$n.txt
}
run pipe sh -c 'dd if=/dev/zero bs=64k count=5000 2>/dev/null | cat >/dev/null'
run exit crossfree 128 1 exit
run munmap crossfree 32 4 munmap
run madvise crossfree 32 4 madvise
run tar sh -c 'tar cf - /bin /mod | gzip -1 >/dev/null'
cd /out && tar cf /dev/vda . && sync
echo "pcpbuddy-qemu: done"
poweroff -f
INIT
chmod +x "$ir/init"
(cd "$ir" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$tmp/initramfs.gz"
truncate -s 2G "$tmp/out.img"
echo "qemu: booting $release (TCG, 2 CPUs, 4 GiB)" >&2
timeout 3600 qemu-system-x86_64 -accel tcg,thread=multi -cpu qemu64,+rdrand \
	-smp 2 -m 4G -nographic -no-reboot -kernel "$vmlinuz" \
	-initrd "$tmp/initramfs.gz" \
	-append "console=ttyS0 nokaslr panic=-1 loglevel=4" \
	-drive file="$tmp/out.img",format=raw,if=virtio,cache=writeback \
	-net none >"$tmp/serial.log" 2>&1 || true
grep -q "pcpbuddy-qemu: done" "$tmp/serial.log" || {
	echo "qemu: the guest did not finish; its console:" >&2
	tail -30 "$tmp/serial.log" >&2
	exit 1
}
mkdir -p "$tmp/res"
tar xf "$tmp/out.img" -C "$tmp/res"
for n in pipe exit munmap madvise tar; do
	r=$tmp/res/$n
	echo "kernel_hz: $hz" >>"$r.meta"
	# the blank lines the guest's pre-allocated file kept after the text
	awk NF "$r.zoneinfo.before" >"$r.zi" && mv "$r.zi" "$r.zoneinfo.before"
	"$bin" import ftrace "$r.txt" --zoneinfo "$r.zoneinfo.before" \
		--meta "$r.meta" --snapshot "zoneinfo.after=$r.zoneinfo.after" \
		--snapshot "buddyinfo.before=$r.buddyinfo.before" \
		--snapshot "buddyinfo.after=$r.buddyinfo.after" \
		--snapshot "pagetypeinfo.before=$r.pagetypeinfo.before" \
		--snapshot "pagetypeinfo.after=$r.pagetypeinfo.after" \
		-o "$tmp/$n.trace" >/dev/null
	zstd -q -19 -f "$tmp/$n.trace" -o "$out/kmem-$rel-$n.trace.zst"
	printf '%s: ' "$n"
	"$bin" fidelity "$out/kmem-$rel-$n.trace.zst" | tail -1 || true
done
