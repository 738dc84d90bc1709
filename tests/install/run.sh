#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only OR MIT
# make install into a temporary prefix, then build and run a client
# against it with pkg-config, as a user would; make uninstall removes it
# all.  Usage: tests/install/run.sh.  Ends with "install: N passed, N failed".
set -u
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }

if make --no-print-directory install PREFIX="$tmp/usr" >"$tmp/log" 2>&1; then ok
else bad "make install"; tail -5 "$tmp/log" >&2; fi
cat >"$tmp/client.c" <<'C'
#include <pcpbuddy.h>
#include <stdio.h>

int main(void)
{
	struct pcpb_config cfg;
	struct pcpb *inst;
	long pfn;

	pcpb_config_init(&cfg);
	cfg.memory_bytes = 64ULL << 20;
	cfg.vmstat_ms = 0;
	if (pcpb_create(&cfg, &inst))
		return 1;
	pfn = pcpb_alloc_pages(inst, 0, PCPB_MT_MOVABLE, 0);
	if (pfn < 0 || pcpb_free_pages(inst, (unsigned long)pfn, 0))
		return 1;
	pcpb_destroy(inst);
	printf("client ok %s\n", PCPB_VERSION);
	return 0;
}
C
export PKG_CONFIG_PATH="$tmp/usr/lib/pkgconfig"
if cc -o "$tmp/client" "$tmp/client.c" $(pkg-config --cflags --libs pcpbuddy) 2>"$tmp/cc" &&
   LD_LIBRARY_PATH="$tmp/usr/lib" "$tmp/client" | grep -q "client ok"; then ok
else bad "a client built with pkg-config --cflags --libs pcpbuddy"; cat "$tmp/cc" >&2; fi
if readelf -d "$tmp/usr/lib/libpcpbuddy.so" | grep -q 'SONAME.*libpcpbuddy.so.0'; then ok
else bad "SONAME libpcpbuddy.so.0"; fi
if "$tmp/usr/bin/pcpbuddy" --version | grep -q '^pcpbuddy ' &&
   [ -f "$tmp/usr/lib/pcpbuddy/libpcpbuddy-preload.so" ] &&
   grep -q '^\.TH PCPBUDDY 1' "$tmp/usr/share/man/man1/pcpbuddy.1"; then ok
else bad "installed CLI, shim and man page"; fi
make --no-print-directory uninstall PREFIX="$tmp/usr" >/dev/null 2>&1
left=$(find "$tmp/usr" -type f -o -type l | wc -l)
if [ "$left" -eq 0 ]; then ok; else bad "uninstall left $left files"; fi
echo "install: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
