/*
 * cache.h
 *    What the engine keeps across calls: SPI plans by their SQL text, and a
 *    catalog generation that every change of a table's definition, of a
 *    schema, or of pg_retention's own catalogs moves on.
 *
 * Ground floor: includes only PostgreSQL's headers.
 */
#ifndef RT_CACHE_H
#define RT_CACHE_H

#include "postgres.h"

#include "executor/spi.h"

/*
 * SPI_execute_with_args under the safe settings (safe_spi.h rt_spi_execute),
 * through a plan kept across calls and transactions: prepared the first time
 * this SQL text is run with these argument types, as a generic plan (planned
 * once, whatever the parameters: for statements that find rows by a key or
 * a tid), then only executed.
 * PostgreSQL's plan cache re-plans it after DDL on what it reads (and per
 * role where row-level security applies), so a kept plan never runs against
 * a changed table; the text itself must come from a catalog state that
 * rt_catalog_generation() still vouches for.  Same contract as
 * rt_spi_execute.  In a database with Citus no plan is kept: the statement
 * is planned with its values each time (Citus cannot plan some
 * parameterized statements generically).  SPI must be connected.
 */
extern int	rt_spi_execute_kept(const char *sql, int nargs, Oid *argtypes, Datum *values,
								const char *nulls, bool read_only, long count);

/*
 * rt_spi_execute_kept for a statement that the caller runs alone inside a
 * safe-settings level of its own (safe_spi.h rt_safe_settings_begin, as
 * privilege.h's rt_become_table_owner and rt_become_catalog_owner open
 * one, and rt_restore_user closes it right after the statement): that
 * level already undoes what the statement's triggers may SET, and
 * PostgreSQL before 16 pays for every level with a walk over all its
 * settings.
 */
extern int	rt_spi_execute_kept_in_level(const char *sql, int nargs, Oid *argtypes, Datum *values,
										 const char *nulls, bool read_only, long count);

/*
 * Returns the catalog generation: a number that grows whenever a relation's
 * definition changes anywhere (a relcache invalidation: DDL, GRANT,
 * VACUUM and ANALYZE too), a schema is renamed or dropped, or
 * pg_retention's own catalogs change (their triggers call
 * retention.catalog_changed()).  What is built from the catalogs and kept
 * with the generation it was built in is still right while the generation
 * is the same.
 */
extern uint64 rt_catalog_generation(void);

/*
 * Returns a copy (in the current memory context) of the text remembered
 * under key in this catalog generation; *found tells whether anything is
 * remembered (NULL is a value: "there is none").  What was remembered in
 * an earlier generation is gone.
 */
extern char *rt_memo_get(const char *key, bool *found);

/* Remembers value (or NULL) under key for this catalog generation; returns value. */
extern const char *rt_memo_put(const char *key, const char *value);

#endif							/* RT_CACHE_H */
