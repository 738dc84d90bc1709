// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * config.c - libFuzzer target for the command line and the config parser:
 * the input, split at NUL and newline bytes, is a "k=v,..." string for
 * pcpb_config_parse() (whose accepted results must print and parse back to
 * the same config) and the argument vector of a driver's option parsing
 * (wl_prepare(); the first byte picks the driver), which must accept or
 * refuse without crashing, leaking or running anything.
 *
 * Locking: single-threaded.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../tools/commands.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 16

static void config_roundtrip(const char *kv)
{
	struct pcpb_config cfg, again;
	char err[256], text[1024];

	pcpb_config_init(&cfg);
	if (pcpb_config_parse(&cfg, kv, err, sizeof(err)))
		return;
	pcpb_config_format(&cfg, text, sizeof(text));
	pcpb_config_init(&again);
	if (pcpb_config_parse(&again, text, err, sizeof(err))) {
		fprintf(stderr,
			"accepted '%s' printed as '%s' that fails: %s\n", kv,
			text, err);
		abort();
	}
	if (memcmp(&cfg, &again, sizeof(cfg))) {
		char text2[1024];

		pcpb_config_format(&again, text2, sizeof(text2));
		if (strcmp(text, text2)) {
			fprintf(stderr, "'%s' -> '%s' -> '%s'\n", kv, text,
				text2);
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *argv[MAX_ARGS + 1], *p;
	const struct workload *w;
	struct wl_opts o;
	void *priv;
	int argc = 0, i;

	if (size < 2 || size > 2048)
		return 0;
	buf = malloc(size);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	config_roundtrip(buf);

	for (i = 0; wl_registry[i]; i++)
		;
	w = wl_registry[data[0] % i];
	argv[argc++] = (char *)w->name;
	for (p = buf; argc < MAX_ARGS && p < buf + size - 1;) {
		size_t n = strcspn(p, "\n");

		p[n] = '\0';
		argv[argc++] = p;
		p += n + 1;
	}
	argv[argc] = NULL;
	priv = calloc(1, w->priv_size ? w->priv_size : 1);
	/* --help prints and returns 1; nothing here may run a workload. */
	if (priv)
		wl_prepare(w, argc, argv, &o, priv);
	wl_free_priv(w, priv);
	free(buf);
	return 0;
}
