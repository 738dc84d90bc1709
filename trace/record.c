// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * record.c - a trace of what a program asked the allocator: the event hook
 * of an instance (pcpb_set_event_hook()) appends each allocation, free and
 * instance-wide call, for --record and the LD_PRELOAD shim's
 * PCPBUDDY_TRACE.
 *
 * Invariants: those of trace.h; ids are per recording, from 1.
 * Locking: the event callback runs on every allocating thread and appends
 * under the recorder's mutex, which gives all threads' events one order.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "../util/outfile.h"
#include "trace.h"

static double trace_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct trace_recorder {
	pthread_mutex_t lock; /* one order for all threads' events */
	struct trace t;
	uint32_t *id_of; /* by pfn: the live allocation's id, 0 when free */
	uint32_t next_id;
	double start;
	int err;
	struct outfile out; /* renamed into place by a good finish */
};

static void record_event(void *ctx, enum pcpb_event ev, int cpu,
			 unsigned long pfn, unsigned int order, int mt,
			 unsigned int flags)
{
	struct trace_recorder *r = ctx;
	struct trace_event e = { .cpu = (uint16_t)cpu, .info = order };

	pthread_mutex_lock(&r->lock);
	e.time_ns = (uint64_t)((trace_now() - r->start) * 1e9);
	if (ev == PCPB_EV_ALLOC) {
		e.op = TOP_ALLOC;
		e.id = r->id_of[pfn] = r->next_id++;
		e.info |= (uint8_t)(mt << 4);
		if (flags & PCPB_GFP_ACCOUNT)
			e.info |= TRACE_ACCOUNTED;
	} else if (ev == PCPB_EV_FREE) {
		e.op = TOP_FREE;
		e.id = r->id_of[pfn];
		r->id_of[pfn] = 0;
	} else {
		e.op = TOP_DRAIN_ALL + (ev - PCPB_EV_DRAIN_ALL);
		e.info = 0;
	}
	if (!r->err)
		r->err = trace_push(&r->t, e);
	pthread_mutex_unlock(&r->lock);
}

/* The one recording of this process ('run' only), for trace_record_mark(). */
static struct trace_recorder *active_recorder;
static struct pcpb *active_recorder_inst;

void trace_record_mark(struct pcpb *inst)
{
	struct trace_recorder *r = active_recorder;
	struct trace_event e = { .op = TOP_REPORT_MARK };

	if (!r || active_recorder_inst != inst)
		return;
	pthread_mutex_lock(&r->lock);
	e.time_ns = (uint64_t)((trace_now() - r->start) * 1e9);
	if (!r->err)
		r->err = trace_push(&r->t, e);
	pthread_mutex_unlock(&r->lock);
}

struct trace_recorder *trace_record_start(struct pcpb *inst, const char *path,
					  const char *source)
{
	struct trace_recorder *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return NULL;
	r->id_of = calloc(pcpb_nr_pages(inst), sizeof(*r->id_of));
	if (!r->id_of) {
		free(r);
		errno = ENOMEM;
		return NULL;
	}
	err = outfile_open(&r->out, path);
	if (err) {
		free(r->id_of);
		free(r);
		errno = -err;
		return NULL;
	}
	pthread_mutex_init(&r->lock, NULL);
	r->next_id = 1;
	r->t.mapped = true;
	r->t.h.nr_cpus = (uint32_t)pcpb_get_config(inst)->nr_cpus;
	snprintf(r->t.h.source, sizeof(r->t.h.source), "record:%s", source);
	r->start = trace_now();
	pcpb_set_event_hook(inst, record_event, r);
	active_recorder = r;
	active_recorder_inst = inst;
	return r;
}

int trace_record_finish(struct trace_recorder *r, struct pcpb *inst)
{
	int rc;

	pcpb_set_event_hook(inst, NULL, NULL);
	active_recorder = NULL;
	active_recorder_inst = NULL;
	rc = r->err;
	if (!rc)
		rc = trace_write_file(r->out.f, &r->t);
	if (rc)
		outfile_abort(&r->out);
	else
		rc = outfile_commit(&r->out);
	pthread_mutex_destroy(&r->lock);
	if (r->t.ev)
		munmap(r->t.ev, r->t.cap * sizeof(*r->t.ev));
	free(r->id_of);
	free(r);
	return rc;
}
