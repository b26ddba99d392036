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

#include "executor/spi.h"

/* A saved user identity, restored by rt_restore_user(). */
typedef struct RtSavedUser
{
	Oid			userid;
	int			sec_context;
	int			guc_nest;		/* GUC nesting level of the safe search_path */
	int			engine_depth;	/* table-owner switches open before this one; -1 for the catalog owner */
} RtSavedUser;

/* Returns the role that owns the pg_retention extension in this database. */
extern Oid	rt_extension_owner(void);

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

/* Restores the identity and search_path saved by one of the two functions above. */
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
 * Opens a GUC nesting level with search_path set to "pg_catalog, pg_temp"
 * and returns it; rt_safe_path_end() closes it, undoing as well whatever
 * user code (a trigger, a mask, a row-security policy) changed with SET or
 * set_config() in between, so nothing leaks into the caller's session.
 */
extern int	rt_safe_path_begin(void);

/* Closes the level opened by rt_safe_path_begin(), restoring every setting. */
extern void rt_safe_path_end(int nest);

/*
 * SPI_execute_with_args and SPI_execute_plan, but leaving CurrentMemoryContext
 * as it was (SPI itself ends every call in its connection's own context,
 * where whatever the caller allocates next would be freed with the
 * connection), and run under rt_safe_path_begin(): every name the
 * statement does not qualify resolves in pg_catalog, whatever search_path
 * the caller (or a hostile role that planted functions and operators in a
 * schema on it) has set.
 */
extern int	rt_spi_execute(const char *sql, int nargs, Oid *argtypes, Datum *values,
						   const char *nulls, bool read_only, long count);
extern int	rt_spi_execute_plan(SPIPlanPtr plan, Datum *values, const char *nulls,
								bool read_only, long count);

/* SPI_prepare_cursor (cursor_options: CURSOR_OPT_*) under rt_safe_path_begin(), as rt_spi_prepare. */
extern SPIPlanPtr rt_spi_prepare_cursor(const char *sql, int nargs, Oid *argtypes, int cursor_options);

/* SPI_prepare under rt_safe_path_begin(), leaving CurrentMemoryContext as it was; NULL on failure. */
extern SPIPlanPtr rt_spi_prepare(const char *sql, int nargs, Oid *argtypes);

/* SPI_cursor_open_with_args under rt_safe_path_begin() (a cursor is planned when opened). */
extern Portal rt_spi_cursor_open(const char *sql, int nargs, Oid *argtypes, Datum *values,
								 const char *nulls, bool read_only);

/*
 * Runs one statement on the extension's own tables as the extension owner.
 * Arguments are passed as parameters; returns the SPI result code and
 * raises an error when it is not the expected one.
 */
extern int	rt_catalog_exec(const char *sql, int nargs, Oid *argtypes,
							Datum *values, const char *nulls,
							bool read_only, int expected);

/* Returns an oid[] Datum of a list of Oids, to pass as a statement's parameter. */
extern Datum rt_oid_array(List *oids);

/* Returns a text[] Datum of a list of C strings, to pass as a parameter. */
extern Datum rt_text_array(List *strings);

/* Returns an int8[] Datum of a list of int64 pointers (hold ids), to pass as a parameter. */
extern Datum rt_int8_array(List *values);

#endif							/* RT_PRIVILEGE_H */
