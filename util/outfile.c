// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * outfile.c - whole-or-nothing output files; see outfile.h.
 *
 * Invariants: a slot of pending[] holds a temporary path exactly while its
 * file is open.  Locking: none; the signal handler only reads pending[].
 */
#include "outfile.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define OUTFILE_MAX 8

static char *volatile pending[OUTFILE_MAX];
static volatile sig_atomic_t handlers_set;

/* Async-signal-safe: unlink what is pending, then die of the signal. */
static void on_signal(int sig)
{
	int i;

	for (i = 0; i < OUTFILE_MAX; i++)
		if (pending[i])
			unlink(pending[i]);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void set_handlers(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	unsigned int i;

	if (handlers_set)
		return;
	handlers_set = 1;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction old;

		/* Leave a handler the program chose alone. */
		if (sigaction(sigs[i], NULL, &old) == 0 &&
		    old.sa_handler == SIG_DFL)
			signal(sigs[i], on_signal);
	}
}

int outfile_open(struct outfile *o, const char *path)
{
	const char *slash;
	struct stat sb;
	size_t dirlen;
	int fd, i;

	memset(o, 0, sizeof(*o));
	o->slot = -1;
	if (!strcmp(path, "-")) {
		o->f = stdout;
		return 0;
	}
	/* A device or a pipe (/dev/null, /dev/full, a fifo) is written in
	 * place: renaming onto it would replace it. */
	if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
		if (S_ISDIR(sb.st_mode))
			return -EISDIR;
		o->f = fopen(path, "w");
		if (!o->f)
			return -errno;
		o->direct = true;
		return 0;
	}
	for (i = 0; i < OUTFILE_MAX && pending[i]; i++)
		;
	if (i == OUTFILE_MAX)
		return -EMFILE;
	slash = strrchr(path, '/');
	dirlen = slash ? (size_t)(slash - path) + 1 : 0;
	o->path = strdup(path);
	o->tmp = malloc(dirlen + 32);
	if (!o->path || !o->tmp) {
		free(o->path);
		free(o->tmp);
		return -ENOMEM;
	}
	memcpy(o->tmp, path, dirlen);
	strcpy(o->tmp + dirlen, ".pcpbuddy-out-XXXXXX");
	set_handlers();
	fd = mkstemp(o->tmp);
	if (fd >= 0) {
		/* mkstemp() makes it 0600; the target gets what open() would
		 * have given it. */
		mode_t mask = umask(0);

		umask(mask);
		fchmod(fd, 0666 & ~mask);
	}
	if (fd < 0 || !(o->f = fdopen(fd, "w"))) {
		int err = errno;

		if (fd >= 0) {
			close(fd);
			unlink(o->tmp);
		}
		free(o->path);
		free(o->tmp);
		return -err;
	}
	o->slot = i;
	pending[i] = o->tmp;
	return 0;
}

static void release(struct outfile *o)
{
	if (o->slot >= 0)
		pending[o->slot] = NULL;
	free(o->path);
	free(o->tmp);
	o->f = NULL;
	o->path = o->tmp = NULL;
	o->slot = -1;
}

int outfile_commit(struct outfile *o)
{
	int err = 0;

	if (!o->path) { /* standard output: flushed and checked, kept open */
		errno = 0;
		if (fflush(o->f) || ferror(o->f))
			err = errno ? -errno : -EIO;
		if (o->direct && fclose(o->f) && !err)
			err = errno ? -errno : -EIO;
		o->f = NULL;
		return err;
	}
	if (fflush(o->f) || ferror(o->f) || fsync(fileno(o->f)))
		err = errno ? -errno : -EIO;
	if (fclose(o->f) && !err)
		err = errno ? -errno : -EIO;
	if (!err && rename(o->tmp, o->path))
		err = -errno;
	if (err)
		unlink(o->tmp);
	release(o);
	return err;
}

void outfile_abort(struct outfile *o)
{
	if (!o->f)
		return;
	if (!o->path) {
		if (o->direct)
			fclose(o->f);
		o->f = NULL;
		return;
	}
	fclose(o->f);
	unlink(o->tmp);
	release(o);
}
