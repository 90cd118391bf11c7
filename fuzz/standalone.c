/*
 * standalone.c: a main() for the fuzz targets, for builds without
 * libFuzzer.  It feeds each file named on the command line (each file of a
 * directory) to LLVMFuzzerTestOneInput once.  With no arguments it replays
 * the target's seed corpus and its regression inputs, FUZZ_DIR/corpus/NAME
 * and FUZZ_DIR/regress/NAME, so that make check runs every input that
 * once crashed, under the normal compiler.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#ifndef FUZZ_DIR
#define FUZZ_DIR	"fuzz"
#endif
#ifndef FUZZ_NAME
#error "FUZZ_NAME names the target's corpus directory"
#endif

static int	replay_path(const char *);

/* Reads a whole file; NULL (after a message) when it cannot. */
static uint8_t *
read_file(const char *path, size_t *len)
{
	FILE	*f = fopen(path, "rb");
	uint8_t	*data = NULL, *grown;
	size_t	 cap = 0, n;

	*len = 0;
	if (f == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (*len == cap) {
			cap = cap ? cap * 2 : 4096;
			if ((grown = realloc(data, cap)) == NULL) {
				fprintf(stderr, "%s: out of memory\n", path);
				free(data);
				fclose(f);
				return NULL;
			}
			data = grown;
		}
		if ((n = fread(data + *len, 1, cap - *len, f)) == 0)
			break;
		*len += n;
	}
	fclose(f);
	return data;
}

/* Feeds one file to the target; -1 when it cannot be read. */
static int
replay_file(const char *path)
{
	uint8_t	*data;
	size_t	 len;

	if ((data = read_file(path, &len)) == NULL)
		return -1;
	LLVMFuzzerTestOneInput(data, len);
	free(data);
	return 0;
}

/* Feeds every file of a directory, in no set order; counts them in *n. */
static int
replay_dir(const char *dir, int *n)
{
	DIR		*d = opendir(dir);
	struct dirent	*e;
	char		 path[4096];
	int		 rc = 0;

	if (d == NULL) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (replay_path(path) != 0)
			rc = -1;
		(*n)++;
	}
	closedir(d);
	return rc;
}

/* Feeds a file, or each file of a directory. */
static int
replay_path(const char *path)
{
	struct stat	st;
	int		n = 0, rc;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return replay_file(path);
	rc = replay_dir(path, &n);
	fprintf(stderr, "%s: %d inputs\n", path, n);
	return rc;
}

/* Replays the arguments, or the target's corpus and regression inputs. */
int
main(int argc, char **argv)
{
	const char	*dirs[] = { FUZZ_DIR "/corpus/" FUZZ_NAME,
	    FUZZ_DIR "/regress/" FUZZ_NAME };
	struct stat	 st;
	int		 i, rc = 0;

	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	if (argc > 1) {
		for (i = 1; i < argc; i++) {
			if (replay_path(argv[i]) != 0)
				rc = 1;
		}
		return rc;
	}
	for (i = 0; i < 2; i++) {
		if (i == 1 && stat(dirs[i], &st) != 0)
			continue;	/* no crasher kept yet */
		if (replay_path(dirs[i]) != 0)
			rc = 1;
	}
	return rc;
}
