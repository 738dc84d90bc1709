# SPDX-License-Identifier: GPL-2.0-only OR MIT
"""Allocation-heavy Python for the LD_PRELOAD shim's tests and benchmark.

pymalloc's 1 MiB arenas come from mmap64 and go back with munmap: list and
dict churn on two threads creates and frees many of them.  The result is
computed twice, in two different ways, and must agree: the bytes are right.
Prints one JSON line; exit 0 when the checks pass.
"""
import json
import sys
import threading

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 6
results = {}


def churn(name, seed):
    total = 0
    for r in range(ROUNDS):
        objs = [{"k": i, "v": str(i * seed + r)} for i in range(60000)]
        total += sum(len(o["v"]) for o in objs)
        del objs  # the arenas empty, and pymalloc unmaps them
    results[name] = total


def expected(seed):
    return sum(len(str(i * seed + r)) for r in range(ROUNDS)
               for i in range(60000))


threads = [threading.Thread(target=churn, args=("t%d" % s, s))
           for s in (3, 7)]
for t in threads:
    t.start()
for t in threads:
    t.join()
ok = results == {"t3": expected(3), "t7": expected(7)}
print(json.dumps({"ok": ok, "results": results}))
sys.exit(0 if ok else 1)
