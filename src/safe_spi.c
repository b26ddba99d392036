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
 * The same level pins the other settings that change what the engine's
 * statements do, whatever the session, the role (ALTER ROLE ... SET), the
 * database (ALTER DATABASE ... SET) or postgresql.conf says
 * (docs/operations.md "Session settings the engine pins"):
 * session_replication_role (in replica, foreign-key actions and checks and
 * ordinary triggers are skipped: a purge would leave orphans), row_security
 * (off makes every statement on a table with forced row-level security
 * fail), and the formats in which values are read and printed (DateStyle,
 * IntervalStyle, TimeZone, extra_float_digits, bytea_output, array_nulls),
 * so that a constant mask, a text mask of a non-text column and a
 * subject's key mean the same in the worker and in every session.  A
 * setting is assigned only when it differs: changing
 * session_replication_role empties the plan cache.  The transactions the
 * engine starts itself are made read committed and read-write here too
 * (rt_pin_transaction), and work that must write is refused at once in a
 * read-only transaction (rt_require_read_write).
 *
 * Ground floor: includes only PostgreSQL's headers, guc.h and safe_spi.h.
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "pgtime.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/bytea.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"

#include "guc.h"
#include "safe_spi.h"

/* the search_path every engine statement runs with */
#define RT_SAFE_SEARCH_PATH "pg_catalog, pg_temp"

/* Sets one setting for the current GUC nesting level. */
static void
rt_set_for_level(const char *name, const char *value)
{
	(void) set_config_option(name, value, PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
}

/* Returns true when the session's TimeZone is UTC already. */
static bool
rt_time_zone_is_utc(void)
{
	static pg_tz *utc = NULL;

	if (utc == NULL)
		utc = pg_tzset("UTC");
	return session_timezone == utc;
}

/*
 * Pins, for the current GUC nesting level, the settings other than
 * search_path that change what the engine's statements do; each is
 * assigned only when it differs from the pinned value.
 */
static void
rt_pin_statement_settings(void)
{
	/* replica skips foreign-key actions and checks and ordinary triggers */
	if (SessionReplicationRole != SESSION_REPLICATION_ROLE_ORIGIN)
		(void) set_config_option("session_replication_role", "origin", PGC_SUSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
	/* off turns row-level security that applies into an error instead of a filter */
	if (!row_security)
		rt_set_for_level("row_security", "on");
	/* how constants are read and values printed: PostgreSQL's defaults, and UTC */
	if (DateStyle != USE_ISO_DATES || DateOrder != DATEORDER_MDY)
		rt_set_for_level("datestyle", "ISO, MDY");
	if (IntervalStyle != INTSTYLE_POSTGRES)
		rt_set_for_level("intervalstyle", "postgres");
	if (!rt_time_zone_is_utc())
		rt_set_for_level("timezone", "UTC");
	if (extra_float_digits != 1)
		rt_set_for_level("extra_float_digits", "1");
	if (bytea_output != BYTEA_OUTPUT_HEX)
		rt_set_for_level("bytea_output", "hex");
	if (!Array_nulls)
		rt_set_for_level("array_nulls", "on");
}

/* Opens the safe-settings level; see safe_spi.h. */
int
rt_safe_settings_begin(int flags)
{
	int			nest = NewGUCNestLevel();

	/* already so (a level inside another): setting it again would only make lookups recompute it */
	if (namespace_search_path == NULL || strcmp(namespace_search_path, RT_SAFE_SEARCH_PATH) != 0)
		rt_set_for_level("search_path", RT_SAFE_SEARCH_PATH);
	rt_pin_statement_settings();
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

/* Captures the session's DateStyle, IntervalStyle and TimeZone; see safe_spi.h. */
void
rt_reader_settings_save(RtReaderSettings *reader)
{
	reader->datestyle = pstrdup(GetConfigOption("datestyle", false, false));
	reader->intervalstyle = pstrdup(GetConfigOption("intervalstyle", false, false));
	reader->timezone = pstrdup(GetConfigOption("timezone", false, false));
}

/* Opens a level with the caller's reading settings; see safe_spi.h. */
int
rt_reader_settings_begin(const RtReaderSettings *reader)
{
	int			nest = NewGUCNestLevel();

	rt_set_for_level("datestyle", reader->datestyle);
	rt_set_for_level("intervalstyle", reader->intervalstyle);
	rt_set_for_level("timezone", reader->timezone);
	return nest;
}

/* Closes a level of rt_safe_settings_begin, undoing every setting changed inside it. */
void
rt_safe_settings_end(int nest)
{
	/* false: a SET by user code inside must not outlive the statement */
	AtEOXact_GUC(false, nest);
}

/*
 * Makes the transaction just started read committed and read-write, as
 * COMMIT AND CHAIN gives a new transaction its characteristics; see
 * safe_spi.h.
 */
void
rt_pin_transaction(void)
{
	if (FirstSnapshotSet)
		elog(ERROR, "transaction characteristics pinned after the first snapshot");
	XactIsoLevel = XACT_READ_COMMITTED;
	XactDeferrable = false;
	/* a standby's transactions stay read-only: rt_require_read_write says why */
	if (!RecoveryInProgress())
		XactReadOnly = false;
}

/* Returns true when the current transaction is not read committed and read-write. */
bool
rt_transaction_needs_pinning(void)
{
	return XactIsoLevel != XACT_READ_COMMITTED || XactReadOnly;
}

/* Raises 25006 when the current transaction cannot write; see safe_spi.h. */
void
rt_require_read_write(const char *what, const char *hint)
{
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot %s during recovery", what),
				 errhint("Do it on the primary server.")));
	if (XactReadOnly)
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot %s in a read-only transaction", what),
				 errdetail("Rows would be deleted or anonymized and the work recorded; nothing was done."),
				 errhint("%s", hint)));
}

/*
 * Raises trigger_protocol_violated when user code a statement reached (a
 * trigger, a mask function) changed session_replication_role, which the
 * statement's level pinned to origin: in replica the foreign-key actions
 * and checks and ordinary triggers of the rest of the statement were
 * skipped, so the statement must not stand.  Called before the level ends
 * (its end would restore the setting and hide the change).
 */
static void
rt_check_pinned_settings(void)
{
	if (SessionReplicationRole != SESSION_REPLICATION_ROLE_ORIGIN)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("user code reached by a statement of pg_retention changed session_replication_role"),
				 errdetail("In replica mode foreign-key actions and checks and ordinary triggers are skipped: the statement is rolled back rather than leave orphans."),
				 errhint("Find the trigger or function that calls set_config('session_replication_role', ...) and leave the setting alone there.")));
}

/* SPI_execute_with_args under the safe settings, leaving CurrentMemoryContext as it was. */
int
rt_spi_execute(const char *sql, int nargs, Oid *argtypes, Datum *values,
			   const char *nulls, bool read_only, long count)
{
	MemoryContext old = CurrentMemoryContext;
	int			nest = rt_safe_settings_begin(0);
	int			rc = SPI_execute_with_args(sql, nargs, argtypes, values, nulls, read_only, count);

	rt_check_pinned_settings();
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

	rt_check_pinned_settings();
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
