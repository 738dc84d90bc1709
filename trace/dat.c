// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * dat.c - a trace-cmd .dat file read directly, through libtracecmd and
 * libtraceevent: every record is printed as one tracefs text line
 * ("comm-pid [cpu] seconds: event: fields"), the form the importer reads,
 * so a .dat and the text 'trace-cmd report' prints import alike.
 *
 * Invariants: records come in time order across CPUs and buffers
 * (tracecmd_iterate_events_multi()).  Locking: none; single-threaded.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <trace-cmd/trace-cmd.h>

#include "trace.h"

struct dat_ctx {
	FILE *out;
	struct trace_seq info;
	unsigned long long records;
};

static int dat_record(struct tracecmd_input *h, struct tep_record *rec, int cpu,
		      void *data)
{
	struct dat_ctx *d = data;
	struct tep_handle *tep = tracecmd_get_tep(h);
	struct tep_event *ev = tep_find_event_by_record(tep, rec);
	int pid = tep_data_pid(tep, rec);
	const char *comm = tep_data_comm_from_pid(tep, pid);

	(void)cpu; /* over several buffers an index, not the CPU: rec->cpu is */
	if (!ev)
		return 0;
	trace_seq_reset(&d->info);
	tep_print_event(tep, &d->info, rec, "%s", TEP_PRINT_INFO);
	trace_seq_terminate(&d->info);
	fprintf(d->out, "%s-%d [%03d] %llu.%09llu: %s: %s\n",
		comm ? comm : "<...>", pid, rec->cpu, rec->ts / 1000000000ULL,
		rec->ts % 1000000000ULL, ev->name, d->info.buffer);
	d->records++;
	return 0;
}

int trace_dat_to_text(const char *path, FILE *out, char *err, size_t len)
{
	struct dat_ctx d = { .out = out };
	struct tracecmd_input *h, **hs;
	int i, nr, n = 0;

	tracecmd_set_loglevel(TEP_LOG_NONE);
	h = tracecmd_open(path, TRACECMD_FL_LOAD_NO_PLUGINS);
	if (!h) {
		snprintf(
			err, len,
			"a trace-cmd .dat file libtracecmd cannot open (damaged, or a newer format)");
		return -EINVAL;
	}
	/* The top buffer and every instance buffer ('trace-cmd record -B',
	 * 'extract -B'), merged in time order. */
	nr = tracecmd_buffer_instances(h);
	hs = calloc((size_t)nr + 1, sizeof(*hs));
	if (!hs) {
		tracecmd_close(h);
		snprintf(err, len, "out of memory");
		return -EIO;
	}
	hs[n++] = h;
	for (i = 0; i < nr; i++) {
		struct tracecmd_input *b =
			tracecmd_buffer_instance_handle(h, i);

		if (b)
			hs[n++] = b;
	}
	trace_seq_init(&d.info);
	tracecmd_iterate_events_multi(hs, n, dat_record, &d);
	trace_seq_destroy(&d.info);
	for (i = 1; i < n; i++)
		tracecmd_close(hs[i]);
	tracecmd_close(h);
	free(hs);
	if (ferror(out)) {
		snprintf(err, len, "cannot write its text");
		return -EIO;
	}
	return 0;
}
