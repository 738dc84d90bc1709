/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * outfile.h - an output file that appears whole or not at all: written to
 * a temporary file beside the target, every write and the close checked,
 * renamed into place only by outfile_commit().  A failed or interrupted
 * command leaves the previous file intact; SIGINT, SIGTERM and SIGHUP
 * remove the temporary file.  "-" is standard output; a device or a pipe
 * is written in place (its write errors still count).
 *
 * Invariants: at most OUTFILE_MAX files open at once per process.
 * Locking: none; one thread opens and commits a file.
 */
#ifndef PCPB_OUTFILE_H
#define PCPB_OUTFILE_H

#include <stdbool.h>
#include <stdio.h>

struct outfile {
	FILE *f;
	char *path; /* the target; NULL for standard output */
	char *tmp;  /* the temporary file beside it */
	int slot;
	bool direct; /* not a regular file: written in place, no rename */
};

/* Return: 0, or -errno (the directory cannot take a file, say). */
int outfile_open(struct outfile *o, const char *path);
/* Flush, check, close and rename.  Return: 0 or -errno; either way @o is
 * closed, and on failure the target is untouched. */
int outfile_commit(struct outfile *o);
/* Close and remove the temporary file: the target is untouched. */
void outfile_abort(struct outfile *o);

#endif /* PCPB_OUTFILE_H */
