/*
 * privilege.h
 *    Who does what.  SQL functions of pg_retention run with the caller's
 *    rights; the extension's own tables are written as the extension's
 *    owner, and a policy's batches run as the owner of its table, never as
 *    the (possibly superuser) caller or worker.
 */
#ifndef RT_PRIVILEGE_H
#define RT_PRIVILEGE_H

#include "postgres.h"

#include "nodes/pg_list.h"

/* A saved user identity, restored by rt_restore_user(). */
typedef struct RtSavedUser
{
	Oid			userid;
	int			sec_context;
	int			guc_nest;		/* the safe-settings level opened by the switch (safe_spi.h) */
	int			engine_depth;	/* table-owner switches open before this one; -1 for the catalog owner */
} RtSavedUser;

/*
 * Switches to the extension owner to read or write the extension's tables,
 * with search_path = pg_catalog, pg_temp so that no object of the caller's
 * schemas (an operator, a function) runs with the owner's rights.
 */
extern void rt_become_catalog_owner(RtSavedUser *saved);

/*
 * Switches to the owner of relid inside a restricted security context, as
 * PostgreSQL does for maintenance commands, so that user code reached by a
 * purge (triggers, masks) runs with that role's rights and cannot change
 * session state; search_path is pg_catalog, pg_temp meanwhile.
 */
extern void rt_become_table_owner(Oid relid, RtSavedUser *saved);

/*
 * Switches to the bootstrap superuser in a restricted security context, so
 * that a count sees the rows row-level security hides from the table
 * owner.  Only for read-only statements of built-in functions and
 * operators named in pg_catalog: the postconditions of runs and erasures.
 */
extern void rt_become_all_seeing(RtSavedUser *saved);

/* Restores the identity and search_path saved by one of the functions above. */
extern void rt_restore_user(const RtSavedUser *saved);

/*
 * Returns true when the engine has switched to table owner roleid (with
 * rt_become_table_owner, not yet restored or rolled back) and the current
 * user is that owner in the restricted context the switch set: the code now
 * running is the engine's statement or that owner's own code reached by it.
 * Masks that only the engine may apply (the pseudonym mask) check this.
 */
extern bool rt_engine_acting_as(Oid roleid);

/* Raises insufficient_privilege unless the current user owns relid. */
extern void rt_require_table_owner(Oid relid, const char *what);

/*
 * Raises insufficient_privilege unless the current user is a superuser or a
 * member of role (such as retention_officer); the refusal is also written
 * to the server log, so that refused attempts are visible although the
 * transaction that made them rolls back.
 */
extern void rt_require_role(const char *role, const char *what);

/* Raises insufficient_privilege when relid is a system catalog or lives in a system schema. */
extern void rt_refuse_system_relation(Oid relid, const char *what);

/* Returns true when roleid has the privileges of relid's owner. */
extern bool rt_has_owner_rights(Oid relid, Oid roleid);

/*
 * Runs one statement on the extension's own tables as the extension owner.
 * Arguments are passed as parameters; returns the SPI result code and
 * raises an error when it is not the expected one.
 */
extern int	rt_catalog_exec(const char *sql, int nargs, Oid *argtypes,
							Datum *values, const char *nulls,
							bool read_only, int expected);

/*
 * rt_catalog_exec through a plan kept across calls (cache.h
 * rt_spi_execute_kept): for the statements of constant text that every
 * erasure and run repeats.
 */
extern int	rt_catalog_exec_kept(const char *sql, int nargs, Oid *argtypes,
								 Datum *values, const char *nulls,
								 bool read_only, int expected);

#endif							/* RT_PRIVILEGE_H */
