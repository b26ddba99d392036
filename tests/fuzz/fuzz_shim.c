/*
 * fuzz_shim.c
 *    The few server memory functions the parsers call (palloc, pnstrdup,
 *    psprintf ...), for the fuzzing build, where no server runs.
 *
 * In the server every allocation of a parser goes with its memory context;
 * here each one is remembered and all are freed after each input
 * (rt_fuzz_free_all), so that a long run neither grows nor trips the leak
 * checker, and AddressSanitizer still sees every allocation as its own
 * block, with its exact size.
 */
#include "postgres.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* Frees every allocation made since the last call. */
void		rt_fuzz_free_all(void);

static void **rt_fuzz_blocks = NULL;
static size_t rt_fuzz_nblocks = 0;
static size_t rt_fuzz_capacity = 0;

/* Allocates size bytes and remembers the block. */
static void *
rt_fuzz_alloc(size_t size)
{
	void	   *p = malloc(size > 0 ? size : 1);

	if (p == NULL)
		abort();
	if (rt_fuzz_nblocks == rt_fuzz_capacity)
	{
		rt_fuzz_capacity = rt_fuzz_capacity ? rt_fuzz_capacity * 2 : 256;
		rt_fuzz_blocks = realloc(rt_fuzz_blocks, rt_fuzz_capacity * sizeof(void *));
		if (rt_fuzz_blocks == NULL)
			abort();
	}
	rt_fuzz_blocks[rt_fuzz_nblocks++] = p;
	return p;
}

/* Frees every allocation made since the last call. */
void
rt_fuzz_free_all(void)
{
	for (size_t i = 0; i < rt_fuzz_nblocks; i++)
		free(rt_fuzz_blocks[i]);
	rt_fuzz_nblocks = 0;
}

/* palloc: an allocation that lives until rt_fuzz_free_all. */
void *
palloc(Size size)
{
	return rt_fuzz_alloc(size);
}

/* palloc0: a zeroed allocation. */
void *
palloc0(Size size)
{
	void	   *p = rt_fuzz_alloc(size);

	memset(p, 0, size);
	return p;
}

/* pfree: left to rt_fuzz_free_all, as a memory context would. */
void
pfree(void *pointer)
{
	(void) pointer;
}

/* pstrdup: a copy of a string. */
char *
pstrdup(const char *in)
{
	size_t		len = strlen(in);
	char	   *out = rt_fuzz_alloc(len + 1);

	memcpy(out, in, len + 1);
	return out;
}

/* pnstrdup: a copy of at most len bytes of a string, NUL-terminated. */
char *
pnstrdup(const char *in, Size len)
{
	size_t		n = strnlen(in, len);
	char	   *out = rt_fuzz_alloc(n + 1);

	memcpy(out, in, n);
	out[n] = '\0';
	return out;
}

/* psprintf: a formatted string. */
char *
psprintf(const char *fmt,...)
{
	va_list		args;
	int			len;
	char	   *out;

	va_start(args, fmt);
	len = vsnprintf(NULL, 0, fmt, args);
	va_end(args);
	if (len < 0)
		abort();
	out = rt_fuzz_alloc(len + 1);
	va_start(args, fmt);
	vsnprintf(out, len + 1, fmt, args);
	va_end(args);
	return out;
}
