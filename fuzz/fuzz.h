/*
 * fuzz.h: the entry points every fuzz target defines, as libFuzzer names
 * them; fuzz/standalone.c calls them the same way in builds without
 * libFuzzer.  Each target also checks what it can about the result, and
 * calls abort() when a property does not hold, so that the fuzzer and the
 * replay in make check both see it as a crash.
 */
#ifndef AISH_FUZZ_H
#define AISH_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Runs the code under test on one input; always returns 0. */
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);
/* Optional one-time set-up, before the first input. */
int	LLVMFuzzerInitialize(int *argc, char ***argv)
	    __attribute__((weak));

/* Stops at once when a property of the result does not hold. */
#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,	\
		    __LINE__, #cond);					\
		abort();						\
	}								\
} while (0)

#endif
