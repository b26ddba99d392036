/*
 * cutoff.c
 *    Retention arithmetic.
 *
 * docs/reference.md#policies: the cutoff is computed in the time zone recorded with
 * the policy, never in whatever zone a worker or session happens to have,
 * so that "1 month" means the same calendar month on every run.  The
 * arithmetic is PostgreSQL's own (timestamp minus interval), done on the
 * wall-clock time of that zone.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "cutoff.h"

/*
 * Returns true when tz is written as a time zone name may be: not empty,
 * shorter than TZ_STRLEN_MAX, and no POSIX offset ("+08", "UTC+8"), whose
 * sign is the reverse of ISO 8601's, so that "+08" would silently mean
 * eight hours west of Greenwich.  Pure C: tests/fuzz builds it alone
 * (RT_FUZZ_STANDALONE leaves out the rest of the file).
 */
bool
rt_time_zone_syntax_ok(const char *tz)
{
	if (tz == NULL || tz[0] == '\0' || strlen(tz) >= TZ_STRLEN_MAX)
		return false;
	if (strchr("+-0123456789", tz[0]) != NULL ||
		(strpbrk(tz, "+-") != NULL && strchr(tz, '/') == NULL))
		return false;
	return true;
}

#ifndef RT_FUZZ_STANDALONE

/* Classifies typid (or the base type of a domain); false when it cannot anchor a policy. */
bool
rt_anchor_type_of(Oid typid, RtAnchorType *anchor_type)
{
	switch (getBaseType(typid))
	{
		case DATEOID:
			*anchor_type = RT_ANCHOR_DATE;
			return true;
		case TIMESTAMPOID:
			*anchor_type = RT_ANCHOR_TIMESTAMP;
			return true;
		case TIMESTAMPTZOID:
			*anchor_type = RT_ANCHOR_TIMESTAMPTZ;
			return true;
		default:
			return false;
	}
}

/* Returns the type OID matching an anchor type. */
Oid
rt_anchor_type_oid(RtAnchorType anchor_type)
{
	switch (anchor_type)
	{
		case RT_ANCHOR_DATE:
			return DATEOID;
		case RT_ANCHOR_TIMESTAMP:
			return TIMESTAMPOID;
		case RT_ANCHOR_TIMESTAMPTZ:
			return TIMESTAMPTZOID;
	}
	return InvalidOid;
}

/* Returns the cutoff for as_of and keep, computed in time zone tz. */
TimestampTz
rt_cutoff(TimestampTz as_of, const Interval *keep, const char *tz)
{
	Datum		zone = CStringGetTextDatum(tz);
	Datum		local;
	Datum		local_cutoff;

	if (TIMESTAMP_NOT_FINITE(as_of))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("as_of must be a finite time"),
				 errhint("Pass a time such as now() or timestamptz '2022-08-01 00:00+00'.")));
	local = DirectFunctionCall2(timestamptz_zone, zone, TimestampTzGetDatum(as_of));
	local_cutoff = DirectFunctionCall2(timestamp_mi_interval, local,
									   IntervalPGetDatum(keep));
	return DatumGetTimestampTz(DirectFunctionCall2(timestamp_zone, zone, local_cutoff));
}

/* Returns the value an anchor of the given type is compared with (anchor < value). */
Datum
rt_cutoff_for_anchor(TimestampTz cutoff, const char *tz, RtAnchorType anchor_type)
{
	Datum		local;

	if (anchor_type == RT_ANCHOR_TIMESTAMPTZ)
		return TimestampTzGetDatum(cutoff);
	local = DirectFunctionCall2(timestamptz_zone, CStringGetTextDatum(tz),
								TimestampTzGetDatum(cutoff));
	if (anchor_type == RT_ANCHOR_TIMESTAMP)
		return local;
	/* a date expires once its whole day lies before the cutoff */
	return DirectFunctionCall1(timestamp_date, local);
}

/* Converts an anchor value to an absolute time, reading it in time zone tz. */
TimestampTz
rt_anchor_to_timestamptz(Datum value, RtAnchorType anchor_type, const char *tz)
{
	Datum		local;

	if (anchor_type == RT_ANCHOR_TIMESTAMPTZ)
		return DatumGetTimestampTz(value);
	local = anchor_type == RT_ANCHOR_DATE ?
		DirectFunctionCall1(date_timestamp, value) : value;
	return DatumGetTimestampTz(DirectFunctionCall2(timestamp_zone,
												   CStringGetTextDatum(tz), local));
}

/* Returns true when tz names a time zone PostgreSQL knows (and passes rt_time_zone_syntax_ok). */
bool
rt_time_zone_valid(const char *tz)
{
	return rt_time_zone_syntax_ok(tz) && pg_tzset(tz) != NULL;
}

/* Returns the canonical spelling of a valid time zone name ("asia/shanghai" gives "Asia/Shanghai"). */
char *
rt_canonical_time_zone(const char *tz)
{
	return pstrdup(pg_get_timezone_name(pg_tzset(tz)));
}

/* Returns the name of the session's current TimeZone setting. */
char *
rt_session_time_zone(void)
{
	return pstrdup(pg_get_timezone_name(session_timezone));
}

/* Returns the length of an interval in seconds, counting a month as 30 days. */
double
rt_interval_seconds(const Interval *interval)
{
	return (double) interval->time / USECS_PER_SEC +
		(double) interval->day * SECS_PER_DAY +
		(double) interval->month * DAYS_PER_MONTH * SECS_PER_DAY;
}

/* Returns an interval as text in the "postgres" style ("1 year 2 mons"), whatever the session's IntervalStyle. */
char *
rt_interval_text(const Interval *interval)
{
	int			nest = NewGUCNestLevel();
	char	   *text;

	(void) set_config_option("intervalstyle", "postgres", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	text = DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(interval)));
	AtEOXact_GUC(false, nest);
	return text;
}

#endif							/* RT_FUZZ_STANDALONE */
