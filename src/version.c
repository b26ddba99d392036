/*
 * version.c
 *    The version of the SQL objects the library was built for, the check
 *    against the version a database holds, and retention.library_version().
 *
 * The comparison is a small parser of its own, with no server calls, so
 * that the fuzzing harness (tests/fuzz) can run it alone; the rest of the
 * file is left out of that build by RT_FUZZ_STANDALONE.
 */
#include "postgres.h"

#include "version.h"

/* Reads one decimal part of a version at *s, advancing *s; false when there is none. */
static bool
rt_version_part(const char **s, long *out)
{
	long		v = 0;
	int			digits = 0;

	while (**s >= '0' && **s <= '9')
	{
		if (++digits > 9)
			return false;
		v = v * 10 + (**s - '0');
		(*s)++;
	}
	*out = v;
	return digits > 0;
}

/* Parses MAJOR[.MINOR[.PATCH]] into parts[3]; false when text is not written that way. */
static bool
rt_version_parse(const char *text, long parts[3])
{
	const char *s = text;

	parts[0] = parts[1] = parts[2] = 0;
	if (s == NULL)
		return false;
	for (int i = 0; i < 3; i++)
	{
		if (!rt_version_part(&s, &parts[i]))
			return false;
		if (*s == '\0')
			return true;
		if (*s != '.' || i == 2)
			return false;
		s++;
	}
	return false;
}

/* Compares two versions; see version.h. */
int
rt_version_compare(const char *a, const char *b, bool *valid)
{
	long		pa[3];
	long		pb[3];

	*valid = rt_version_parse(a, pa) && rt_version_parse(b, pb);
	if (!*valid)
		return 0;
	for (int i = 0; i < 3; i++)
	{
		if (pa[i] != pb[i])
			return pa[i] < pb[i] ? -1 : 1;
	}
	return 0;
}

#ifndef RT_FUZZ_STANDALONE

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "pg_retention.h"
#include "privilege.h"

/* the extversion this session was last warned about, so that it is warned once */
static char *rt_warned_version = NULL;

/* the extversion of this database as last read by rt_version_check */
static char *rt_seen_version = NULL;

/* Warns once per session and version when extversion is not the library's; see version.h. */
void
rt_version_check(const char *extversion)
{
	bool		valid;
	int			cmp;

	if (rt_seen_version == NULL || strcmp(rt_seen_version, extversion) != 0)
	{
		if (rt_seen_version != NULL)
			pfree(rt_seen_version);
		rt_seen_version = MemoryContextStrdup(TopMemoryContext, extversion);
	}
	if (strcmp(extversion, RT_LIBRARY_VERSION) == 0)
		return;
	if (rt_warned_version != NULL && strcmp(rt_warned_version, extversion) == 0)
		return;
	if (rt_warned_version != NULL)
		pfree(rt_warned_version);
	rt_warned_version = MemoryContextStrdup(TopMemoryContext, extversion);

	cmp = rt_version_compare(extversion, RT_LIBRARY_VERSION, &valid);
	if (valid && cmp > 0)
		ereport(WARNING,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"%s\" is at version %s, newer than its library (version %s)",
						RT_EXTENSION_NAME, extversion, RT_LIBRARY_VERSION),
				 errdetail("Functions the newer SQL objects call may be missing from this library."),
				 errhint("Install the library of version %s on this server and restart it.", extversion)));
	else
		ereport(WARNING,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"%s\" is at version %s, older than its library (version %s)",
						RT_EXTENSION_NAME, extversion, RT_LIBRARY_VERSION),
				 errdetail("The library keeps working with the SQL objects of version %s, without what later versions added.",
						   extversion),
				 errhint("Run ALTER EXTENSION %s UPDATE; in this database.", RT_EXTENSION_NAME)));
}

/* Tells whether this database's SQL objects are at least of a version; see version.h. */
bool
rt_sql_objects_at_least(const char *version)
{
	bool		valid;
	int			cmp;

	(void) rt_extension_owner();	/* reads extversion afresh (an UPDATE may have run) */
	if (rt_seen_version == NULL)
		return false;
	cmp = rt_version_compare(rt_seen_version, version, &valid);
	return valid && cmp >= 0;
}

PG_FUNCTION_INFO_V1(retention_library_version);

/* SQL: retention.library_version() is the version of the SQL objects this library was built for. */
Datum
retention_library_version(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(RT_LIBRARY_VERSION));
}

#endif							/* RT_FUZZ_STANDALONE */
