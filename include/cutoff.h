/*
 * cutoff.h
 *    Retention arithmetic: the cutoff of a policy (as_of minus the
 *    retention period, computed in the policy's time zone), anchor column
 *    types and time-zone validation.
 */
#ifndef RT_CUTOFF_H
#define RT_CUTOFF_H

#include "postgres.h"

#include "datatype/timestamp.h"

/* The data types an anchor column may have (after looking through domains). */
typedef enum RtAnchorType
{
	RT_ANCHOR_DATE,
	RT_ANCHOR_TIMESTAMP,
	RT_ANCHOR_TIMESTAMPTZ
} RtAnchorType;

/* Classifies typid (or the base type of a domain); false when it cannot anchor a policy. */
extern bool rt_anchor_type_of(Oid typid, RtAnchorType *anchor_type);

/* Returns the type OID matching an anchor type. */
extern Oid	rt_anchor_type_oid(RtAnchorType anchor_type);

/*
 * Returns the cutoff for as_of and keep: as_of is read as a wall-clock time
 * in time zone tz, keep is subtracted there (so "1 month" and "1 day" keep
 * their calendar meaning across daylight-saving changes), and the result is
 * converted back to an absolute time.
 */
extern TimestampTz rt_cutoff(TimestampTz as_of, const Interval *keep, const char *tz);

/*
 * Returns the value an anchor of the given type is compared with: a row
 * has expired when anchor < this value.  A date anchor stands for its
 * whole day, so it expires once that whole day lies before the cutoff.
 */
extern Datum rt_cutoff_for_anchor(TimestampTz cutoff, const char *tz, RtAnchorType anchor_type);

/* Converts an anchor value to an absolute time, reading it in time zone tz. */
extern TimestampTz rt_anchor_to_timestamptz(Datum value, RtAnchorType anchor_type, const char *tz);

/*
 * Returns true when tz is written as a time zone name may be (not empty,
 * not too long, no POSIX offset such as "+08"); pure C, for the fuzzer.
 */
extern bool rt_time_zone_syntax_ok(const char *tz);

/* Returns true when tz names a time zone PostgreSQL knows (and passes rt_time_zone_syntax_ok). */
extern bool rt_time_zone_valid(const char *tz);

/* Returns the canonical spelling of a valid time zone name. */
extern char *rt_canonical_time_zone(const char *tz);

/* Returns the name of the session's current TimeZone setting. */
extern char *rt_session_time_zone(void);

/* Returns the length of an interval in seconds, counting a month as 30 days. */
extern double rt_interval_seconds(const Interval *interval);

/* Returns an interval as text in the "postgres" style, whatever the session's IntervalStyle. */
extern char *rt_interval_text(const Interval *interval);

#endif							/* RT_CUTOFF_H */
