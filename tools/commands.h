/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * commands.h - the CLI's commands (tools/), each a main() of its own that
 * tools/pcpbuddy.c dispatches to from its command table.  They sit on the
 * workload drivers (workloads/) and the trace library (trace/).
 *
 * Exit codes, for every command: 0 ok, 1 the run failed (an invariant
 * check, I/O), 2 bad arguments (the message names the argument).
 * Invariants: none.  Locking: single-threaded until a driver starts.
 */
#ifndef PCPB_COMMANDS_H
#define PCPB_COMMANDS_H

#include "../workloads/workloads.h"

/* 'pcpbuddy compare WORKLOAD --configs A B ... [--runs R]'. */
int cmd_compare_main(int argc, char **argv);
/* 'pcpbuddy sweep WORKLOAD --param NAME=V,... --configs ...'. */
int cmd_sweep_main(int argc, char **argv);
/* 'pcpbuddy calibrate': the modelled hold's costs on this machine. */
int cmd_calibrate_main(int argc, char **argv);
/* 'pcpbuddy collect DIR': the points of sweep --emit-jobs' jobs merged. */
int cmd_collect_main(int argc, char **argv);
/* 'pcpbuddy plot SWEEP.json -o OUT.png'. */
int cmd_plot_main(int argc, char **argv);
/* 'pcpbuddy exec [--configs ...] -- PROGRAM': a real program under the shim. */
int cmd_exec_main(int argc, char **argv);
/* 'pcpbuddy import ftrace FILE -o TRACE'. */
int cmd_import_main(int argc, char **argv);
/* 'pcpbuddy capture -o TRACE -- COMMAND': kmem events and start state. */
int cmd_capture_main(int argc, char **argv);
/* 'pcpbuddy trace info TRACE'. */
int cmd_trace_info_main(int argc, char **argv);
/* 'pcpbuddy fidelity TRACE ...': the model against the kernel's markers. */
int cmd_fidelity_main(int argc, char **argv);

#endif /* PCPB_COMMANDS_H */
