// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * driver.c - what every driver's 'run' does the same way: parse the common
 * and the driver's options, size the CPUs, create the instance, run, print
 * the driver's line and the report, and run the invariant check.
 *
 * Invariants: the check runs after the driver freed everything, and its
 * failure (or pages still allocated) is exit code 1.
 * Locking: single-threaded around the driver's run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workloads.h"

int wl_no_options(int argc, char **argv, void *priv)
{
	(void)priv;
	if (argc > 1)
		return wl_usage_error(argv[0], "unknown argument '%s'",
				      argv[1]);
	return 0;
}

int wl_prepare(const struct workload *w, int argc, char **argv,
	       struct wl_opts *o, void *priv)
{
	int argi, rc;

	rc = wl_parse_common(argc, argv, o, w->usage, &argi);
	if (rc)
		return rc;
	if (w->init)
		w->init(priv);
	rc = w->parse(argi, argv, priv);
	if (rc)
		return rc;
	if (!o->cpus_given && w->nr_cpus)
		o->cfg.nr_cpus = w->nr_cpus(o, priv);
	return 0;
}

int wl_run_main(const struct workload *w, int argc, char **argv)
{
	struct pcpb_check_result check;
	struct wl_result res;
	struct wl_opts o;
	struct pcpb *inst;
	void *priv = calloc(1, w->priv_size ? w->priv_size : 1);
	int rc;

	if (!priv)
		return 1;
	rc = wl_prepare(w, argc, argv, &o, priv);
	if (rc) {
		free(priv);
		return rc == 1 ? 0 : rc;
	}
	rc = pcpb_create(&o.cfg, &inst);
	if (rc) {
		fprintf(stderr, "%s: cannot create the instance: %s\n", argv[0],
			strerror(-rc));
		free(priv);
		return 1;
	}
	memset(&res, 0, sizeof(res));
	rc = w->run(inst, &o, priv, &res);
	free(priv);
	if (rc) {
		fprintf(stderr, "%s: %s\n", argv[0], strerror(-rc));
		pcpb_destroy(inst);
		return 1;
	}
	if (o.fmt == PCPB_FMT_TEXT)
		printf("%s\n", res.line);
	pcpb_report(inst, stdout, o.fmt);
	rc = pcpb_check(inst, &check) || check.pages_allocated ? 1 : 0;
	if (rc)
		fprintf(stderr, "%s: check failed: %s (allocated %llu)\n",
			argv[0], check.msg,
			(unsigned long long)check.pages_allocated);
	pcpb_destroy(inst);
	return rc;
}
