/*
 * mask_generalize.c
 *    retention.generalize() for inet, dates and times, and numbers.
 *
 * Generalizing replaces a value by the bucket it falls in, so that the
 * value still answers coarse questions (which network, which year, which
 * age group) but no longer points at one person.  Every variant maps a
 * bucket's values to the bucket's first value, so generalizing twice
 * changes nothing.
 *
 * inet: one prefix length, given in IPv4 bits (0 to 32), serves both
 * families.  An IPv6 address keeps twice as many bits (24 -> /48, 32 ->
 * /64): the usual practice (a /24 of IPv4 and a /48 of IPv6 are both "a
 * site"; 32 bits of IPv4 and a /64 are both "a subnet, not a host"),
 * since IPv6 spends its first 64 bits on routing, not on hosts.  An
 * IPv4-mapped IPv6 address (::ffff:a.b.c.d) is an IPv4 address and keeps
 * 96 + prefix bits.  The netmask of the result is the smaller of the
 * value's own and the kept bits, so a network is never made narrower.
 *
 * Dates and times are truncated to the start of their decade, year,
 * quarter, month, ISO week (Monday), day or hour.  A timestamptz is
 * truncated in a time zone: the session's (two-argument form) or a given
 * one (three-argument form, which the anonymize engine uses with the
 * policy's zone, so that every run and every session cuts at the same
 * instants).
 *
 * Clock changes.  A generalized value must never lie after the value (a
 * mask that moves a date forward can make a record look younger than it
 * is), and generalizing twice must change nothing.  Truncating the wall
 * clock and converting back is not enough: when a change repeats a
 * wall-clock time (01:00-02:00 in London on the last Sunday of October),
 * PostgreSQL reads the repeated time as the later instant, so 00:30 UTC
 * (01:30 BST) would become 01:00 GMT, after the value.  So the bucket
 * start is the latest instant, not after the value, at which the zone's
 * wall clock shows the truncated time: each pass of a repeated hour is a
 * bucket of its own.  When a change skips the truncated time (a spring
 * change at midnight, or Lord Howe's half hour), the bucket starts at the
 * change itself, which is what PostgreSQL returns for a skipped time.
 *
 * Numbers go down to a multiple of the step: floor(value / step) * step,
 * computed with exact integer division, so -17 with step 10 is -20 and
 * every bucket [k*step, (k+1)*step) has the same width.
 *
 * The check of a unit is pure C, built alone by tests/fuzz
 * (RT_FUZZ_STANDALONE leaves out the rest of the file).
 */
#include "postgres.h"

#include <sys/socket.h>

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/inet.h"
#include "utils/numeric.h"
#include "pgtime.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "mask.h"

/* Returns true when unit is a unit retention.generalize() accepts. */
bool
rt_generalize_unit_valid(const char *unit, bool is_date)
{
	static const char *const units[] = {"decade", "year", "quarter", "month", "week", "day", "hour"};

	for (size_t i = 0; i < lengthof(units); i++)
	{
		if (pg_strcasecmp(units[i], unit) == 0)
			return !(is_date && i == lengthof(units) - 1);
	}
	return false;
}

#ifndef RT_FUZZ_STANDALONE

/* Returns the unit argument of a date or time generalize(), raising an error for an unknown one. */
static text *
rt_unit_arg(FunctionCallInfo fcinfo, int argno, bool is_date)
{
	text	   *unit = PG_GETARG_TEXT_PP(argno);
	char	   *u = text_to_cstring(unit);

	if (!rt_generalize_unit_valid(u, is_date))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unit \"%s\" is not supported by retention.generalize for %s",
						u, is_date ? "dates" : "timestamps"),
				 errhint(RT_GENERALIZE_UNITS_HINT)));
	pfree(u);
	return unit;
}

PG_FUNCTION_INFO_V1(retention_generalize_inet);

/* SQL: retention.generalize(value inet, prefix int) keeps the first prefix bits (twice as many for IPv6). */
Datum
retention_generalize_inet(PG_FUNCTION_ARGS)
{
	inet	   *value = PG_GETARG_INET_PP(0);
	int32		prefix = PG_GETARG_INT32(1);
	inet	   *result;
	int			keep;
	unsigned char *addr;

	if (prefix < 0 || prefix > RT_GENERALIZE_MAX_PREFIX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("prefix length %d of retention.generalize is out of range", prefix),
				 errhint("Give the IPv4 bits to keep, 0 to 32; IPv6 addresses keep twice as many.")));

	result = (inet *) palloc0(sizeof(inet));
	ip_family(result) = ip_family(value);
	memcpy(ip_addr(result), ip_addr(value), ip_addrsize(value));
	addr = ip_addr(result);
	if (ip_family(value) == PGSQL_AF_INET)
		keep = prefix;
	else
	{
		static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

		keep = memcmp(addr, mapped, sizeof(mapped)) == 0 ? 96 + prefix : 2 * prefix;
	}
	for (int bit = keep; bit < ip_maxbits(value); bit++)
		addr[bit / 8] &= ~(0x80 >> (bit % 8));
	ip_bits(result) = Min(ip_bits(value), keep);
	SET_INET_VARSIZE(result);
	PG_RETURN_INET_P(result);
}

/* Returns the wall-clock time of instant t in zone (a time zone name as text). */
static Timestamp
rt_wall_clock(text *zone, TimestampTz t)
{
	return DatumGetTimestamp(DirectFunctionCall2(timestamptz_zone, PointerGetDatum(zone),
												 TimestampTzGetDatum(t)));
}

/*
 * Truncates instant value to the start of its unit on the wall clock of
 * zone, never returning an instant after value (see the file header).
 */
static TimestampTz
rt_trunc_in_zone(text *unit, text *zone, TimestampTz value)
{
	Timestamp	local = rt_wall_clock(zone, value);
	Timestamp	start = DatumGetTimestamp(DirectFunctionCall2(timestamp_trunc, PointerGetDatum(unit),
															  TimestampGetDatum(local)));
	TimestampTz picked = DatumGetTimestampTz(DirectFunctionCall2(timestamp_zone, PointerGetDatum(zone),
																 TimestampGetDatum(start)));
	TimestampTz candidates[3];
	TimestampTz best = 0;
	bool		found = false;

	/*
	 * The instants whose wall clock may show start: start at the value's own
	 * UTC offset (never after the value, as start <= local), PostgreSQL's
	 * reading of start, and start at the offset of that reading.
	 */
	candidates[0] = start - (local - value);
	candidates[1] = picked;
	candidates[2] = IS_VALID_TIMESTAMP(picked) ? start - (rt_wall_clock(zone, picked) - picked) : picked;
	for (size_t i = 0; i < lengthof(candidates); i++)
	{
		TimestampTz c = candidates[i];

		if (c > value || !IS_VALID_TIMESTAMP(c) || (found && c <= best))
			continue;
		if (rt_wall_clock(zone, c) == start)
		{
			best = c;
			found = true;
		}
	}
	if (found)
		return best;
	/* start was skipped by a clock change: the bucket starts at the change */
	return picked <= value ? picked : candidates[0];
}

PG_FUNCTION_INFO_V1(retention_generalize_timestamptz);

/* SQL: retention.generalize(value timestamptz, unit text) truncates in the session's time zone. */
Datum
retention_generalize_timestamptz(PG_FUNCTION_ARGS)
{
	text	   *unit = rt_unit_arg(fcinfo, 1, false);
	TimestampTz value = PG_GETARG_TIMESTAMPTZ(0);

	if (TIMESTAMP_NOT_FINITE(value))
		PG_RETURN_TIMESTAMPTZ(value);
	PG_RETURN_TIMESTAMPTZ(rt_trunc_in_zone(unit, cstring_to_text(pg_get_timezone_name(session_timezone)),
										   value));
}

PG_FUNCTION_INFO_V1(retention_generalize_timestamptz_zone);

/*
 * SQL: retention.generalize(value timestamptz, unit text, time_zone text)
 * truncates the wall-clock time of value in time_zone.
 */
Datum
retention_generalize_timestamptz_zone(PG_FUNCTION_ARGS)
{
	text	   *unit = rt_unit_arg(fcinfo, 1, false);
	TimestampTz value = PG_GETARG_TIMESTAMPTZ(0);

	if (TIMESTAMP_NOT_FINITE(value))
		PG_RETURN_TIMESTAMPTZ(value);
	PG_RETURN_TIMESTAMPTZ(rt_trunc_in_zone(unit, PG_GETARG_TEXT_PP(2), value));
}

PG_FUNCTION_INFO_V1(retention_generalize_timestamp);

/* SQL: retention.generalize(value timestamp, unit text) truncates a timestamp. */
Datum
retention_generalize_timestamp(PG_FUNCTION_ARGS)
{
	text	   *unit = rt_unit_arg(fcinfo, 1, false);

	return DirectFunctionCall2(timestamp_trunc, PointerGetDatum(unit), PG_GETARG_DATUM(0));
}

PG_FUNCTION_INFO_V1(retention_generalize_date);

/* SQL: retention.generalize(value date, unit text) returns the first day of the value's unit. */
Datum
retention_generalize_date(PG_FUNCTION_ARGS)
{
	text	   *unit = rt_unit_arg(fcinfo, 1, true);
	DateADT		d = PG_GETARG_DATEADT(0);
	Datum		ts;

	if (DATE_NOT_FINITE(d))
		PG_RETURN_DATEADT(d);
	ts = DirectFunctionCall1(date_timestamp, DateADTGetDatum(d));
	ts = DirectFunctionCall2(timestamp_trunc, PointerGetDatum(unit), ts);
	return DirectFunctionCall1(timestamp_date, ts);
}

PG_FUNCTION_INFO_V1(retention_generalize_numeric);

/* SQL: retention.generalize(value numeric, step numeric) rounds down to a multiple of step. */
Datum
retention_generalize_numeric(PG_FUNCTION_ARGS)
{
	Datum		value = PG_GETARG_DATUM(0);
	Datum		step = PG_GETARG_DATUM(1);
	Datum		zero = DirectFunctionCall1(int4_numeric, Int32GetDatum(0));
	Datum		quotient;
	Datum		remainder;

	if (rt_numeric_is_special(PG_GETARG_NUMERIC(1)) ||
		DatumGetInt32(DirectFunctionCall2(numeric_cmp, step, zero)) <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("step %s of retention.generalize must be a positive finite number",
						DatumGetCString(DirectFunctionCall1(numeric_out, step))),
				 errhint("Values are rounded down to a multiple of step, for example step 10 for age groups.")));
	if (rt_numeric_is_special(PG_GETARG_NUMERIC(0)))
		PG_RETURN_DATUM(value);

	quotient = DirectFunctionCall2(numeric_div_trunc, value, step);
	remainder = DirectFunctionCall2(numeric_mod, value, step);
	if (DatumGetInt32(DirectFunctionCall2(numeric_cmp, remainder, zero)) < 0)
		quotient = DirectFunctionCall2(numeric_sub, quotient,
									   DirectFunctionCall1(int4_numeric, Int32GetDatum(1)));
	return DirectFunctionCall2(numeric_mul, quotient, step);
}

#endif							/* RT_FUZZ_STANDALONE */
