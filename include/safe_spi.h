/*
 * safe_spi.h
 *    Statements the extension runs through SPI, with settings of its own:
 *    the one safe-settings level every statement runs in, the SPI wrappers
 *    that open it, and the builders of array parameters.
 *
 * Ground floor: includes only PostgreSQL's headers and guc.h.
 */
#ifndef RT_SAFE_SPI_H
#define RT_SAFE_SPI_H

#include "postgres.h"

#include "executor/spi.h"
#include "nodes/pg_list.h"

/* What rt_safe_settings_begin() sets besides search_path (flags, or-ed). */
#define RT_SAFE_LOCK_TIMEOUT	0x01	/* lock_timeout = retention.lock_timeout */
#define RT_SAFE_ISO_DATES		0x02	/* DateStyle = ISO, YMD: dates printed and read back alike */
#define RT_SAFE_PLAIN_INTERVALS	0x04	/* IntervalStyle = postgres: intervals printed as '90 days' */

/*
 * Opens a GUC nesting level with search_path "pg_catalog, pg_temp", the
 * other settings the engine's statements need pinned whatever the session
 * says (session_replication_role origin, row_security on, DateStyle
 * "ISO, MDY", IntervalStyle postgres, TimeZone UTC, extra_float_digits 1,
 * bytea_output hex, array_nulls on) and what flags ask for, and returns
 * it; rt_safe_settings_end() closes it, undoing as well whatever user code
 * (a trigger, a mask, a row-security policy) changed with SET or
 * set_config() in between, so nothing leaks into the caller's session.
 * Every statement of the engine runs in such a level (docs/security.md
 * "search_path", docs/operations.md "Session settings the engine pins").
 */
extern int	rt_safe_settings_begin(int flags);

/* Closes the level opened by rt_safe_settings_begin(), restoring every setting. */
extern void rt_safe_settings_end(int nest);

/* The caller's settings that say how a value it typed reads: DateStyle, IntervalStyle, TimeZone. */
typedef struct RtReaderSettings
{
	char	   *datestyle;
	char	   *intervalstyle;
	char	   *timezone;
} RtReaderSettings;

/* Captures the session's RtReaderSettings, before the engine pins its own. */
extern void rt_reader_settings_save(RtReaderSettings *reader);

/*
 * Opens a GUC level, inside the engine's safe level, in which a value the
 * caller typed reads as a cast in the caller's session would read it (a
 * date '02/01/2024' in DateStyle DMY is 2 January); close it with
 * rt_safe_settings_end().
 */
extern int	rt_reader_settings_begin(const RtReaderSettings *reader);

/*
 * Makes the transaction just started (before its first snapshot) read
 * committed and read-write (read-only still during recovery), whatever
 * default_transaction_isolation and default_transaction_read_only say: a
 * batch must step around rows changed meanwhile, not fail with a
 * serialization error, and must be able to write.  For the transactions
 * CALL retention.run() starts itself; the worker pins the defaults of its
 * session instead.
 */
extern void rt_pin_transaction(void);

/* Returns true when the current transaction is not read committed and read-write. */
extern bool rt_transaction_needs_pinning(void);

/*
 * Raises read_only_sql_transaction (25006) during recovery or in a
 * read-only transaction, with errmsg "cannot WHAT in a read-only
 * transaction" and hint: work that must write fails before it does or
 * records anything.
 */
extern void rt_require_read_write(const char *what, const char *hint);

/*
 * SPI_execute_with_args and SPI_execute_plan, but leaving CurrentMemoryContext
 * as it was (SPI itself ends every call in its connection's own context,
 * where whatever the caller allocates next would be freed with the
 * connection), and run under rt_safe_settings_begin(0): every name the
 * statement does not qualify resolves in pg_catalog, whatever search_path
 * the caller (or a hostile role that planted functions and operators in a
 * schema on it) has set.  User code the statement reaches that changes
 * session_replication_role makes the statement fail (39P01): the rest of
 * it skipped its foreign-key actions.
 */
extern int	rt_spi_execute(const char *sql, int nargs, Oid *argtypes, Datum *values,
						   const char *nulls, bool read_only, long count);
extern int	rt_spi_execute_plan(SPIPlanPtr plan, Datum *values, const char *nulls,
								bool read_only, long count);

/* SPI_prepare_cursor (cursor_options: CURSOR_OPT_*) under rt_safe_settings_begin(0), as rt_spi_prepare. */
extern SPIPlanPtr rt_spi_prepare_cursor(const char *sql, int nargs, Oid *argtypes, int cursor_options);

/* SPI_prepare under rt_safe_settings_begin(0), leaving CurrentMemoryContext as it was; NULL on failure. */
extern SPIPlanPtr rt_spi_prepare(const char *sql, int nargs, Oid *argtypes);

/* SPI_cursor_open_with_args under rt_safe_settings_begin(0) (a cursor is planned when opened). */
extern Portal rt_spi_cursor_open(const char *sql, int nargs, Oid *argtypes, Datum *values,
								 const char *nulls, bool read_only);

/* Returns an oid[] Datum of a list of Oids, to pass as a statement's parameter. */
extern Datum rt_oid_array(List *oids);

/* Returns a text[] Datum of a list of C strings, to pass as a parameter. */
extern Datum rt_text_array(List *strings);

/* Returns an int8[] Datum of a list of int64 pointers (hold ids), to pass as a parameter. */
extern Datum rt_int8_array(List *values);

#endif							/* RT_SAFE_SPI_H */
