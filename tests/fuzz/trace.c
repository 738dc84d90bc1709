// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * trace.c - libFuzzer target for the trace readers: the first byte picks
 * kernel kmem text through 'import ftrace' (then 'trace info' of what it
 * wrote), or raw bytes as a binary trace through 'trace info' and a
 * 'replay' on a small instance.  Nothing may crash, leak or read out of
 * bounds; errors are fine.  Built with clang (make fuzz), run for a bounded
 * time by make check.
 *
 * Locking: single-threaded; the files live in /dev/shm, one pair per process.
 */
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "../../tools/commands.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int write_file(const char *path, const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (!f)
		return -1;
	ok = fwrite(data, 1, size, f) == size;
	return fclose(f) == 0 && ok ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char in[64], out[64],
		import[] = "import", ftrace[] = "ftrace", dash_o[] = "-o",
		trace[] = "trace", info[] = "info", replay[] = "replay",
		dash_trace[] = "--trace", config[] = "--config",
		small[] = "memory=8M,cpus=2,vmstat_ms=0";

	if (!in[0]) {
		snprintf(in, sizeof(in), "/dev/shm/pcpb-fuzz-%d.in", getpid());
		snprintf(out, sizeof(out), "/dev/shm/pcpb-fuzz-%d.trace",
			 getpid());
	}
	if (!size || write_file(in, data + 1, size - 1))
		return 0;
	if (data[0] & 1) {
		char *imp[] = { import, ftrace, in, dash_o, out };
		char *inf[] = { trace, info, out };

		if (cmd_import_main(5, imp) == 0)
			cmd_trace_info_main(3, inf);
	} else {
		char *inf[] = { trace, info, in };
		char *rep[] = { replay, dash_trace, in, config, small };

		if (cmd_trace_info_main(3, inf) == 0)
			wl_run_main(wl_find("replay"), 5, rep);
	}
	return 0;
}
