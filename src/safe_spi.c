/*
 * safe_spi.c
 *    The one safe-settings level of the engine's statements, the SPI
 *    wrappers that run every statement in it, and array parameters.
 *
 * Every statement the extension runs through SPI goes through the wrappers
 * here, which run it with search_path "pg_catalog, pg_temp" in a GUC level
 * of its own: a name the statement leaves unqualified cannot resolve to a
 * function or operator someone planted in a schema of the caller's
 * search_path (which, run as the extension owner, would be a privilege
 * escalation), and a SET made by user code the statement reaches ends with
 * the statement.
 *
 * Ground floor: includes only PostgreSQL's headers, guc.h and safe_spi.h.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "guc.h"
#include "safe_spi.h"

/* Sets one setting for the current GUC nesting level. */
static void
rt_set_for_level(const char *name, const char *value)
{
	(void) set_config_option(name, value, PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
}

/* Opens the safe-settings level; see safe_spi.h. */
int
rt_safe_settings_begin(int flags)
{
	int			nest = NewGUCNestLevel();

	rt_set_for_level("search_path", "pg_catalog, pg_temp");
	if (flags & RT_SAFE_LOCK_TIMEOUT)
	{
		char		buf[32];

		snprintf(buf, sizeof(buf), "%d", rt_lock_timeout_ms);
		rt_set_for_level("lock_timeout", buf);
	}
	/* bounds are printed for the audit trail and read back to attach: ISO reads the same everywhere */
	if (flags & RT_SAFE_ISO_DATES)
		rt_set_for_level("datestyle", "ISO, YMD");
	/* a document prints intervals the same whatever the reader's session says */
	if (flags & RT_SAFE_PLAIN_INTERVALS)
		rt_set_for_level("intervalstyle", "postgres");
	return nest;
}

/* Closes a level of rt_safe_settings_begin, undoing every setting changed inside it. */
void
rt_safe_settings_end(int nest)
{
	/* false: a SET by user code inside must not outlive the statement */
	AtEOXact_GUC(false, nest);
}

/* SPI_execute_with_args under the safe settings, leaving CurrentMemoryContext as it was. */
int
rt_spi_execute(const char *sql, int nargs, Oid *argtypes, Datum *values,
			   const char *nulls, bool read_only, long count)
{
	MemoryContext old = CurrentMemoryContext;
	int			nest = rt_safe_settings_begin(0);
	int			rc = SPI_execute_with_args(sql, nargs, argtypes, values, nulls, read_only, count);

	rt_safe_settings_end(nest);
	MemoryContextSwitchTo(old);
	return rc;
}

/* SPI_execute_plan under the safe settings, leaving CurrentMemoryContext as it was. */
int
rt_spi_execute_plan(SPIPlanPtr plan, Datum *values, const char *nulls, bool read_only, long count)
{
	MemoryContext old = CurrentMemoryContext;
	int			nest = rt_safe_settings_begin(0);
	int			rc = SPI_execute_plan(plan, values, nulls, read_only, count);

	rt_safe_settings_end(nest);
	MemoryContextSwitchTo(old);
	return rc;
}

/* SPI_prepare_cursor under the safe settings, leaving CurrentMemoryContext as it was. */
SPIPlanPtr
rt_spi_prepare_cursor(const char *sql, int nargs, Oid *argtypes, int cursor_options)
{
	MemoryContext old = CurrentMemoryContext;
	int			nest = rt_safe_settings_begin(0);
	SPIPlanPtr	plan = SPI_prepare_cursor(sql, nargs, argtypes, cursor_options);

	rt_safe_settings_end(nest);
	MemoryContextSwitchTo(old);
	return plan;
}

/* SPI_prepare under the safe settings, leaving CurrentMemoryContext as it was. */
SPIPlanPtr
rt_spi_prepare(const char *sql, int nargs, Oid *argtypes)
{
	return rt_spi_prepare_cursor(sql, nargs, argtypes, 0);
}

/* SPI_cursor_open_with_args under the safe settings. */
Portal
rt_spi_cursor_open(const char *sql, int nargs, Oid *argtypes, Datum *values,
				   const char *nulls, bool read_only)
{
	MemoryContext old = CurrentMemoryContext;
	int			nest = rt_safe_settings_begin(0);
	Portal		portal = SPI_cursor_open_with_args(NULL, sql, nargs, argtypes, values, nulls,
												   read_only, 0);

	rt_safe_settings_end(nest);
	MemoryContextSwitchTo(old);
	return portal;
}

/* Returns an oid[] Datum of a list of Oids. */
Datum
rt_oid_array(List *oids)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(1, list_length(oids)));
	int			n = 0;
	ListCell   *lc;

	foreach(lc, oids)
		elems[n++] = ObjectIdGetDatum(lfirst_oid(lc));
	return PointerGetDatum(construct_array(elems, n, OIDOID, sizeof(Oid), true, TYPALIGN_INT));
}

/* Returns a text[] Datum of a list of C strings. */
Datum
rt_text_array(List *strings)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(1, list_length(strings)));
	int			n = 0;
	ListCell   *lc;

	foreach(lc, strings)
		elems[n++] = CStringGetTextDatum(lfirst(lc));
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/* Returns an int8[] Datum of a list of int64 pointers. */
Datum
rt_int8_array(List *values)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(1, list_length(values)));
	int			n = 0;
	ListCell   *lc;

	foreach(lc, values)
		elems[n++] = Int64GetDatum(*(int64 *) lfirst(lc));
	return PointerGetDatum(construct_array(elems, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}
