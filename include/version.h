/*
 * version.h
 *    Which version of the extension's SQL objects this library was built
 *    for, and how two versions compare.
 *
 * A library is installed for the whole cluster at once, while the SQL
 * objects of each database change only with ALTER EXTENSION ... UPDATE.
 * Until then the library keeps working with the older objects (it never
 * relies on an object a later script added without checking for it) and
 * says, once per session, what to run (extension.c).
 *
 * Ground floor: pure C, built alone by tests/fuzz.
 */
#ifndef RT_VERSION_H
#define RT_VERSION_H

#include "c.h"

/* The version of the SQL objects this library was built for (pg_retention.control). */
#define RT_LIBRARY_VERSION "0.3.0"

/*
 * Compares two versions written MAJOR[.MINOR[.PATCH]] (decimal numbers of
 * at most 9 digits, missing parts read as 0): returns -1, 0 or 1, and sets
 * *valid to false (returning 0) when either is not written that way.
 * Pure C, without the server, so that it can be fuzzed alone.
 */
extern int	rt_version_compare(const char *a, const char *b, bool *valid);

#endif							/* RT_VERSION_H */
