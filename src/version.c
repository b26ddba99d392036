/*
 * version.c
 *    How two versions of the extension compare: a small parser of its own,
 *    with no server calls, so that the fuzzing harness (tests/fuzz) can run
 *    it alone.  The check against the version a database holds is in
 *    extension.c.
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
