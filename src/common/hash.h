/*
 * hash.h: FNV-1a, a small and even hash for names, ids and numbers, for
 * the hash tables of libaish and aish-rhetor.
 */
#ifndef AC_HASH_H
#define AC_HASH_H

#include <stddef.h>
#include <stdint.h>

/* Where every hash starts. */
#define AC_HASH_START	2166136261u

/* Continues hash h over n bytes at p. */
static inline uint32_t
ac_hash_bytes(uint32_t h, const void *p, size_t n)
{
	const unsigned char	*b = p;

	while (n-- > 0) {
		h ^= *b++;
		h *= 16777619u;
	}
	return h;
}

/* Continues hash h over the string s (without its NUL). */
static inline uint32_t
ac_hash_str(uint32_t h, const char *s)
{
	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

#endif
