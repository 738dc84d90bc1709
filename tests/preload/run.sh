#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only OR MIT
# The LD_PRELOAD shim's tests: real programs run on libpcpbuddy-preload.so,
# check their own bytes, and the shim's report must agree with what they did.
#   tests/preload/run.sh BUILD_DIR     (e.g. build/release)
# Each check has a timeout: a deadlock fails it instead of hanging CI.
set -u
b=$1
lib=$(cd "$b" && pwd)/libpcpbuddy-preload.so
pcpbuddy=$b/pcpbuddy
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }

# under [ENV=V...] PROG...: PROG under the shim, killed after 120 s (the
# timeout itself runs outside it).
under() {
	env LD_PRELOAD="$lib" "$@"
}

# prog in MODE: every count of the report equals the program's own.
prog_exact() {
	mode=$1
	shift
	under PCPBUDDY_MODE="$mode" PCPBUDDY_REPORT="$tmp/p.json" "$@" \
		"$b/tests/preload-prog" --threads 4 --rounds 60 \
		>"$tmp/p.out" 2>"$tmp/p.err"
	rc=$?
	if [ $rc -eq 0 ] && $py - "$mode" "$tmp/p.out" "$tmp/p.json" <<'EOF'; then ok; else bad "prog in $mode mode ($*): rc $rc"; cat "$tmp/p.err" >&2; fi
import json, sys
mode, a, r = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
p = r['preload']
assert a['bad_pages'] == 0, a
assert p['mode'] == mode, p['mode']
assert p['mappings']['served'] == a['mmaps'] + a['reserves_opened'], (p['mappings'], a)
assert p['mappings']['reservations_opened'] == a['reserves_opened'] == 4, p['mappings']
assert p['calls']['mremap'] == a['mremap_calls']
f = p['frees']
assert f['dontneed'] == {'calls': a['dontneed_calls'], 'pages': a['dontneed_pages']}, f
assert f['free'] == {'calls': a['free_calls'], 'pages': a['free_pages']}, f
assert f['munmap']['calls'] == a['munmap_calls'], f
if mode == 'fault':
    # every first touch, and every touch after a purge, is one frame
    assert p['faults']['pages'] == a['touched'], (p['faults'], a)
    assert p['faults']['unserved'] == 0, p['faults']
    assert f['munmap']['pages'] == a['munmap_pages'], (f, a)
    assert p['frees_remote_pages'] == a['remote_pages'], (p, a)
else:
    # frames at mmap time; the reuse after a purge is not seen
    assert p['eager_pages'] == a['mapped_pages'] + 16 * a['reserves_opened'], (p, a)
    assert f['munmap']['pages'] == (a['munmap_pages'] - a['dontneed_pages']
        - a['free_pages'] - 4 * a['mremap_calls']), (f, a)
# the allocator's side: every frame given back, the invariants hold
# (remote_free=llist: some frees still wait on an owner's list)
assert r['ops']['alloc_pages'] == r['ops']['free'] + r['check']['pages_in_flight'], (r['ops'], r['check'])
assert r['check']['ok'] and r['check']['pages_allocated'] == 0, r['check']
EOF
}

prog_exact fault
prog_exact eager
prog_exact fault PCPBUDDY_CONFIG=cpu_mode=sched,cpus=4
# The RFC's policy with the lock-free remote frees (liburcu), and the
# recorder's own mmaps inside the hooks: no deadlock, same counts.
prog_exact fault PCPBUDDY_CONFIG=policy=owner,remote_free=llist \
	PCPBUDDY_TRACE="$tmp/prog.trace"
# ... and the recorded trace replays to the same allocations.
n=$($py -c "import json; print(json.load(open('$tmp/p.json'))['preload']['faults']['pages'])")
if "$pcpbuddy" trace info "$tmp/prog.trace" | grep -q "^ops: alloc $n " &&
   "$pcpbuddy" replay "$tmp/prog.trace" --json | $py -c "
import json, sys; r = json.load(sys.stdin)
assert r['ops']['alloc'] == $n and r['check']['ok'], r['ops']"; then ok; else bad "PCPBUDDY_TRACE then replay"; fi

# PCPBUDDY_THP=1: a 2 MiB-aligned extent faults in as one order-9 frame.
under PCPBUDDY_THP=1 PCPBUDDY_REPORT="$tmp/thp.json" \
	"$b/tests/preload-prog" --threads 4 --rounds 8 --big >"$tmp/t.out"
if [ $? -eq 0 ] && $py - "$tmp/t.out" "$tmp/thp.json" <<'EOF'; then ok; else bad "PCPBUDDY_THP=1"; fi
import json, sys
a, r = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
p = r['preload']
assert p['thp'] and p['faults']['thp_faults'] >= 4, p['faults']
assert p['faults']['pages'] == a['touched'], (p['faults'], a)
assert r['ops']['alloc'] < r['ops']['alloc_pages'], r['ops']  # order-9 allocations
assert r['check']['ok'] and r['check']['pages_allocated'] == 0
EOF

# fork without exec: the child carries on with its copy of the instance,
# served eagerly, and writes its own report; fork then exec: the child
# starts clean and reports for itself (%p).
under PCPBUDDY_REPORT="$tmp/r-%p.json" "$b/tests/preload-prog" \
	--threads 2 --rounds 20 --fork --exec "$b/tests/preload-prog" >"$tmp/f.out"
if [ $? -eq 0 ] && $py - "$tmp/f.out" "$tmp" <<'EOF'; then ok; else bad "fork and exec"; ls "$tmp" >&2; fi
import glob, json, sys
a = json.loads(open(sys.argv[1]).read().splitlines()[-1])  # the exec'd child's line first
reports = [json.load(open(f)) for f in glob.glob(sys.argv[2] + '/r-*.json')]
assert a['child_bad'] == 0 and a['bad_pages'] == 0, a
assert len(reports) == 3, len(reports)  # the parent, the fork child, the exec'd child
forked = [r for r in reports if r['preload']['forked_from']]
assert len(forked) == 1, [r['preload']['forked_from'] for r in reports]
f = forked[0]['preload']
parent = [r for r in reports if r['preload']['pid'] == f['forked_from']]
assert len(parent) == 1 and f['mode'] == 'eager' and 'fork child' in f['why_eager'], f
assert f['mappings']['served'] > 0 and f['eager_pages'] > 0, f
served = sorted(r['preload']['mappings']['served'] for r in reports if not r['preload']['forked_from'])
assert served[1] == a['mmaps'] + a['reserves_opened'] and 0 < served[0] < served[1], (served, a)
assert all(r['check']['ok'] for r in reports)
EOF

# A daemon (fork, the parent exits, setsid, fork again, the first child
# exits), as redis-server --daemonize yes: the daemon is served and
# reports, with the pages it inherited; a path without %p gets the pid.
under PCPBUDDY_REPORT="$tmp/daemon.json" "$b/tests/preload-daemon" "$tmp/d.done" 50
i=0
while [ $i -lt 200 ]; do
	if [ -s "$tmp/d.done" ]; then
		dpid=$($py -c "import json; print(json.load(open('$tmp/d.done'))['pid'])")
		[ -s "$tmp/daemon.$dpid.json" ] && break
	fi
	sleep 0.05
	i=$((i + 1))
done
if [ $i -lt 200 ] && $py - "$tmp/d.done" "$tmp/daemon.$dpid.json" "$tmp/daemon.json" <<'EOF'; then ok; else bad "a daemon is served and reported"; ls "$tmp" >&2; fi
import json, sys
d, r, parent = (json.load(open(f)) for f in sys.argv[1:4])
p = r['preload']
assert d['bad'] == 0, d
assert p['pid'] == d['pid'] and p['forked_from'] > 0, p
assert parent['preload']['pid'] != p['pid'] and not parent['preload']['forked_from']
assert p['mappings']['served'] == 50, p['mappings']
assert p['eager_pages'] == d['pages'], (p['eager_pages'], d)
assert p['inherited_pages'] >= 32, p['inherited_pages']  # touched before the forks
assert p['frees']['munmap']['pages'] == d['pages'] + 32, p['frees']
assert r['check']['ok'], r['check']
EOF

# Python calls mmap64: its arenas are served, its result is right, in both
# modes; eager maps every page of an arena at mmap time.
for mode in fault eager; do
	under PCPBUDDY_MODE=$mode PCPBUDDY_REPORT="$tmp/py.json" \
		$py tests/preload/alloc_heavy.py 2 >"$tmp/py.out"
	if [ $? -eq 0 ] && $py -c "
import json
a = json.load(open('$tmp/py.out')); p = json.load(open('$tmp/py.json'))['preload']
assert a['ok'] and p['mappings']['served'] > 10, p['mappings']
assert (p['faults']['pages'] if '$mode' == 'fault' else p['eager_pages']) > 1000, p
assert p['frees']['munmap']['pages'] > 1000, p['frees']"; then ok; else bad "python in $mode mode"; fi
done

# jemalloc's background threads purge what the workers faulted: the frees
# run on other threads (jemalloc_bg_thd), on classic and on owner.
for policy in classic owner; do
	under MALLOC_CONF=background_thread:true,dirty_decay_ms:100,muzzy_decay_ms:100 \
		PCPBUDDY_CONFIG=policy=$policy PCPBUDDY_REPORT="$tmp/je.json" \
		"$b/tests/preload-jemalloc" --threads 4 --waves 4 >"$tmp/je.out"
	if [ $? -eq 0 ] && $py -c "
import json
a = json.load(open('$tmp/je.out')); r = json.load(open('$tmp/je.json')); p = r['preload']
assert a['bad_pages'] == 0
purged = p['frees']['free']['pages'] + p['frees']['dontneed']['pages']
assert purged > 1000 and p['frees_remote_pages'] > purged // 2, p['frees']
assert any(t['name'] == 'jemalloc_bg_thd' and t['frees_remote'] > 0
           for t in p['top_threads_by_frees']), p['top_threads_by_frees']
# coverage at exit: jemalloc's live extents are served; the parts add up
c = p['coverage']
assert c['served_kb'] > 0 and c['unserved_kb']['brk_heap'] == 0, c
assert abs(c['anon_kb'] - c['served_kb'] - sum(c['unserved_kb'].values())) <= 8, c
assert ',policy=$policy,' in r['config'] and r['check']['ok']"; then ok; else bad "jemalloc purge on $policy"; fi
done

# liburcu-bp registers threads by mmapping with signals blocked and its
# mutex held: the hooks must not deadlock it.
under PCPBUDDY_REPORT="$tmp/u.json" "$b/tests/preload-urcu-bp" >/dev/null
if [ $? -eq 0 ]; then ok; else bad "liburcu-bp under the shim"; fi

# PCPBUDDY_REPORT=*.csv: the same report as key,value rows.
under PCPBUDDY_REPORT="$tmp/p.csv" "$b/tests/preload-prog" --threads 2 --rounds 10 >"$tmp/c.out"
if [ $? -eq 0 ] && $py -c "
import csv, json
a = json.load(open('$tmp/c.out')); rows = list(csv.reader(open('$tmp/p.csv')))
assert all(len(r) == 2 for r in rows)
d = dict(rows)
assert int(d['preload.faults.pages']) == a['touched'], (d['preload.faults.pages'], a)
assert int(d['preload.mappings.served']) == a['mmaps'] + a['reserves_opened']
assert d['check.ok'] == 'true'"; then ok; else bad "PCPBUDDY_REPORT as CSV"; fi

# pcpbuddy exec: the program once per configuration and run, one table;
# --json carries every run, whose pages are the program's touches.
"$pcpbuddy" exec --configs policy=classic policy=owner --runs 2 --json -- \
	"$b/tests/preload-prog" --threads 2 --rounds 10 >"$tmp/exec.json" 2>"$tmp/exec.err"
if [ $? -eq 0 ] && $py -c "
import json
r = json.load(open('$tmp/exec.json'))
assert [x['config'] for x in r['results']] == ['policy=classic', 'policy=owner']
for x in r['results']:
    assert len(x['runs']) == 2
    for run in x['runs']:
        assert run['failed'] is None and len(run['processes']) == 1, run['failed']
        rep = run['processes'][0]['report']
        assert run['pages'] > 1000 and rep['check']['ok'], run['pages']
        assert run['processes'][0]['process'] == 'preload-prog', run['processes'][0]['process']
        assert ',' + x['config'] + ',' in rep['config']"; then ok; else bad "pcpbuddy exec --json"; cat "$tmp/exec.err" >&2; fi
# Every process of a run reports (%p), and exec sums them: a shell that
# runs the program twice at once shows two processes in every run.
"$pcpbuddy" exec --runs 3 --json -- sh -c "'$b/tests/preload-prog' --threads 2 --rounds 6 & '$b/tests/preload-prog' --threads 2 --rounds 6; wait" >"$tmp/two.json" 2>"$tmp/two.err"
if [ $? -eq 0 ] && $py -c "
import json
r = json.load(open('$tmp/two.json'))
for run in r['results'][0]['runs']:
    ps = run['processes']
    assert run['failed'] is None and len(ps) == 2, [p['process'] for p in ps]
    assert len({p['pid'] for p in ps}) == 2
    assert run['pages'] == sum(p['pages'] for p in ps) > 1000, run['pages']"; then ok; else bad "pcpbuddy exec: two processes in every run"; cat "$tmp/two.err" >&2; fi
# A run that fails is named, and the runs that succeeded still make the
# table; the exit status says a run failed.
rm -f "$tmp/count"
"$pcpbuddy" exec --runs 3 -- sh -c "n=\$(cat '$tmp/count' 2>/dev/null || echo 0); echo \$((n + 1)) >'$tmp/count'; '$b/tests/preload-prog' --threads 2 --rounds 4 >/dev/null; [ \$n != 1 ]" >"$tmp/fail.txt" 2>"$tmp/fail.err"
if [ $? -eq 1 ] && grep -q "run 2: exit status 1" "$tmp/fail.err" && grep -q "^(default) *1 " "$tmp/fail.txt" &&
	grep -q "^1 of 3 runs failed" "$tmp/fail.txt"; then ok; else bad "pcpbuddy exec: a failed run among good ones"; cat "$tmp/fail.txt" "$tmp/fail.err" >&2; fi
"$pcpbuddy" exec --configs policy=classic policy=owner -- "$b/tests/preload-prog" --threads 2 --rounds 5 >"$tmp/exec.txt" 2>/dev/null
if [ $? -eq 0 ] && grep -q '^policy=classic ' "$tmp/exec.txt" && grep -q '^policy=owner ' "$tmp/exec.txt"; then ok; else bad "pcpbuddy exec table"; fi
"$pcpbuddy" exec -- false 2>/dev/null
if [ $? -eq 1 ]; then ok; else bad "pcpbuddy exec of a failing program"; fi
"$pcpbuddy" exec --mode bogus -- true 2>"$tmp/e.err"
if [ $? -eq 2 ] && grep -q "not fault or eager" "$tmp/e.err"; then ok; else bad "pcpbuddy exec --mode bogus"; fi
"$pcpbuddy" exec --configs policy=nope -- true 2>"$tmp/e.err"
if [ $? -eq 2 ] && grep -q "policy=nope" "$tmp/e.err"; then ok; else bad "pcpbuddy exec bad config"; fi
"$pcpbuddy" exec --runs 2 2>"$tmp/e.err"
if [ $? -eq 2 ] && grep -q "needs -- PROGRAM" "$tmp/e.err"; then ok; else bad "pcpbuddy exec without a program"; fi

# A bad value: one line on stderr, the program untouched, no report.
for kv in PCPBUDDY_MODE=bogus PCPBUDDY_MEM=lots PCPBUDDY_CONFIG=policy=nope PCPBUDDY_THP=2; do
	rm -f "$tmp/bad.json"
	under "$kv" PCPBUDDY_REPORT="$tmp/bad.json" \
		"$b/tests/preload-prog" --threads 2 --rounds 4 >/dev/null 2>"$tmp/bad.err"
	if [ $? -eq 0 ] && [ ! -e "$tmp/bad.json" ] && [ "$(wc -l <"$tmp/bad.err")" -eq 1 ] &&
	   grep -q "running the program untouched" "$tmp/bad.err"; then ok; else bad "bad value $kv"; cat "$tmp/bad.err" >&2; fi
done

# A size below the minimum names the range it takes.
under PCPBUDDY_MEM=1M "$b/tests/preload-prog" --threads 1 --rounds 2 >/dev/null 2>"$tmp/bad.err"
if grep -q "PCPBUDDY_MEM='1M': bad value '1M' for key 'memory' (takes bytes\[KMGT\] in 4096K..4T)" "$tmp/bad.err"; then ok
else bad "PCPBUDDY_MEM=1M's message"; cat "$tmp/bad.err" >&2; fi

# Out of modelled memory: the program still runs right; the shim counts it,
# and in eager mode says which of the allocator's allocations were for
# mappings that did not fit (given back at once), not pages served.
for mode in fault eager; do
	under PCPBUDDY_MODE=$mode PCPBUDDY_MEM=4M PCPBUDDY_REPORT="$tmp/oom.json" \
		"$b/tests/preload-prog" --threads 2 --rounds 20 --big >/dev/null
	if [ $? -eq 0 ] && $py -c "
import json; r = json.load(open('$tmp/oom.json')); p = r['preload']
assert p['faults']['no_memory'] + p['mappings']['passed_by_reason']['no_memory'] > 0, p
if '$mode' == 'eager':
    assert p['eager_rolled_back_pages'] > 0, p
    assert r['ops']['alloc'] == p['eager_pages'] + p['eager_rolled_back_pages'], (r['ops'], p['eager_pages'])"; then ok; else bad "out of memory in $mode mode"; fi
done

# The shim's userfaultfd is not the program's: closefrom(3), a dup2()
# onto it and a raw close() followed by a reuse of the number never let
# the fault handler read the program's data, and memory keeps working
# (served, except after the raw close, which the report states).
for m in closefrom dup2 rawclose; do
	timeout 60 env LD_PRELOAD="$lib" PCPBUDDY_REPORT="$tmp/fd.json" \
		"$b/tests/preload-fdsafe" $m >"$tmp/fd.out" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && [ "$(cat "$tmp/fd.out")" = ok ] && $py - $m "$tmp/fd.json" <<'EOF'; then ok; else bad "fd-safe $m (rc $rc)"; cat "$tmp/fd.out" >&2; fi
import json, sys
m, p = sys.argv[1], json.load(open(sys.argv[2]))['preload']
if m == 'rawclose':
    assert p['uffd_lost'] is True, p
else:
    assert p['uffd_lost'] is False and p['mappings']['passed_by_reason']['uffd_register'] == 0, p
    assert p['faults']['unserved'] == 0 and p['faults']['pages'] >= 800, p['faults']
EOF
done
# bash reading a file through `exec 3<` gets every line (the descriptor the
# shim once had at 3 was bash's to replace; its handler then read the file).
seq 100000 >"$tmp/lines"
n_ok=0
for i in 1 2 3 4 5; do
	n=$(timeout 60 env LD_PRELOAD="$lib" bash -c 'exec 3< "$1"; c=0; while read -r -u 3 l; do c=$((c+1)); done; echo $c' _ "$tmp/lines" 2>/dev/null)
	[ "$n" = 100000 ] && n_ok=$((n_ok + 1))
done
if [ $n_ok = 5 ]; then ok; else bad "bash exec 3< under the shim: $n_ok of 5 runs read every line"; fi

# Code on stacks the program mapped (makecontext, pthread_attr_setstack)
# calls mmap, madvise and munmap: its hook's own frames fault on served
# pages while it holds the shim's lock; the handler serves those without
# the lock (it hung before).  SIGKILL: a hung shim blocks SIGTERM.
for m in context thread; do
	timeout -s KILL 60 env LD_PRELOAD="$lib" PCPBUDDY_REPORT="$tmp/st.json" \
		"$b/tests/preload-stacks" $m >"$tmp/st.out" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && [ "$(cat "$tmp/st.out")" = ok ] && $py -c "
import json, sys
p = json.load(open(sys.argv[1]))['preload']
assert p['mappings']['served'] >= 202 and p['faults']['pages'] >= 400, p
assert p['faults']['lock_holder'] > 0, p['faults']" "$tmp/st.json"; then ok; else bad "stack-switching program ($m): rc $rc"; cat "$tmp/st.out" >&2; fi
done

# A program with its own userfaultfd registers a range the shim serves:
# the shim steps aside for it (frees.yield) and the program's pages are its
# own (UFFDIO_REGISTER failed with EBUSY before).
timeout -s KILL 60 env LD_PRELOAD="$lib" PCPBUDDY_REPORT="$tmp/own.json" \
	"$b/tests/preload-ownuffd" >"$tmp/own.out" 2>&1
rc=$?
if [ $rc -eq 0 ] && [ "$(cat "$tmp/own.out")" = ok ] && $py -c "
import json, sys
r = json.load(open(sys.argv[1])); p = r['preload']
assert p['frees']['yield'] == {'calls': 1, 'pages': 4}, p['frees']
assert p['faults']['pages'] == 4, p['faults']
assert r['check']['ok'] and r['check']['pages_allocated'] == 0, r['check']" "$tmp/own.json"; then ok
else bad "a program with its own userfaultfd (rc $rc)"; cat "$tmp/own.out" >&2; fi

# The report is written when the program ends by a signal it leaves at its
# default (SIGTERM, SIGINT, SIGHUP), and at _exit(): before, nothing was.
# (A background job of sh starts with SIGINT ignored: python puts every
# signal back to its default before the exec.)
for sig in 15 2 1; do
	rm -f "$tmp/sig.json"
	PCPBUDDY_REPORT="$tmp/sig.json" $py -c "
import os, signal, sys
for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(s, signal.SIG_DFL)
os.environ['LD_PRELOAD'] = sys.argv[1]
os.execv(sys.argv[2], sys.argv[2:])" "$lib" "$b/tests/preload-prog" --threads 2 --rounds 1000000 >/dev/null 2>&1 &
	pid=$!
	sleep 0.5
	kill -$sig $pid
	( sleep 30; kill -9 $pid 2>/dev/null ) &
	dog=$!
	wait $pid
	rc=$?
	kill $dog 2>/dev/null
	if [ $rc -eq $((128 + sig)) ] && $py -c "
import json, sys
r = json.load(open(sys.argv[1]))
assert r['preload']['faults']['pages'] > 0 and r['check']['ok'], r['preload']['faults']" "$tmp/sig.json"; then ok
	else bad "report on signal $sig (rc $rc)"; ls -la "$tmp" >&2; fi
done
rm -f "$tmp/x.json"
timeout -s KILL 60 env LD_PRELOAD="$lib" PCPBUDDY_REPORT="$tmp/x.json" $py -c "
import mmap, os
m = mmap.mmap(-1, 1 << 20)
m[0:1] = b'x'; m[4096:4097] = b'y'
os._exit(3)"
rc=$?
if [ $rc -eq 3 ] && $py -c "
import json, sys
p = json.load(open(sys.argv[1]))['preload']
assert p['faults']['pages'] >= 2, p['faults']" "$tmp/x.json"; then ok; else bad "report at _exit() (rc $rc)"; fi

# More threads over the program's life than the shim has slots: the slots
# of exited threads are taken back, so every thread's figures stay its own
# (6,000 threads one at a time, one page each; before, the last 1,906 went
# to one overflow slot that the report showed as a thread).
timeout -s KILL 120 env LD_PRELOAD="$lib" PCPBUDDY_REPORT="$tmp/th.json" \
	"$b/tests/preload-threads" 6000 >"$tmp/th.out" 2>&1
rc=$?
if [ $rc -eq 0 ] && $py -c "
import json, sys
p = json.load(open(sys.argv[1]))['preload']
assert p['faults']['pages'] == 6000, p['faults']
assert p['threads_seen'] >= 6000 and p['exited_threads']['slots_recycled'] > 0, (p['threads_seen'], p['exited_threads'])
assert all(t['tid'] > 0 and t['allocs'] == 1 for t in p['top_threads_by_allocs']), p['top_threads_by_allocs']" "$tmp/th.json"; then ok
else bad "thread slots taken back (rc $rc)"; cat "$tmp/th.out" >&2; fi

echo "preload: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
