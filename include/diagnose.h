/*
 * diagnose.h
 *    Why rows a statement of the engine was given are still there: the
 *    triggers, rules and row-level security policies of a table that can
 *    suppress, redirect or hide a DELETE or an UPDATE, named the way a DBA
 *    reads them (docs/operations.md#what-pg_retention-checks-after-each-run-and-erasure).
 */
#ifndef RT_DIAGNOSE_H
#define RT_DIAGNOSE_H

#include "postgres.h"

#include "nodes/nodes.h"
#include "nodes/pg_list.h"

/*
 * Returns the names (char *) of the enabled BEFORE ROW triggers of relid
 * for cmd (CMD_DELETE or CMD_UPDATE), those that fire when
 * session_replication_role is origin; internal (foreign-key) triggers are
 * left out.  Any of them may return NULL and so suppress the change.
 */
extern List *rt_before_row_triggers(Oid relid, CmdType cmd);

/*
 * Returns the names (char *) of the enabled user triggers of relid that
 * fire on cmd at all (BEFORE or AFTER, row or statement): those that can
 * copy the rows a statement removes into another table.
 */
extern List *rt_user_triggers(Oid relid, CmdType cmd);

/*
 * Returns the tables (Oids) a DELETE of relid (or of the partitioned table
 * it belongs to) cascades into through ON DELETE CASCADE, SET NULL or SET
 * DEFAULT keys, through any number of tables.
 */
extern List *rt_cascade_tables(Oid relid);

/*
 * Returns true when a DELETE of relid cascades (ON DELETE CASCADE, SET
 * NULL, SET DEFAULT, through any number of tables) into a table with user
 * triggers or rules, which may copy the rows the cascade removes.
 */
extern bool rt_cascade_reaches_user_code(Oid relid);

/* Returns true when relid has rules of any kind (an ALSO rule can copy rows elsewhere). */
extern bool rt_table_has_rules(Oid relid);

/* Returns the names (char *) of the enabled DO INSTEAD rules of relid on cmd. */
extern List *rt_instead_rules(Oid relid, CmdType cmd);

/*
 * Returns true when row-level security of relid applies to the current
 * user, the role the engine acts as (the owner of the policy's table): it
 * is enabled, and forced or relid (a partition, say) belongs to another
 * role, and the user has no BYPASSRLS.  The engine then sees and changes
 * only what the policies allow (nothing, without a policy).
 */
extern bool rt_row_security_binds_owner(Oid relid);

/*
 * Returns how many rows of relid whose anchor (a quoted column) is before
 * cutoff (of type cutoff_type) row-level security hides from its owner, the
 * current user: the owner's count against a count with full visibility
 * (rt_become_all_seeing), of the anchor alone, so that no user function
 * runs with those rights; 0 when row-level security does not bind the
 * owner.  SPI must be connected.
 */
extern int64 rt_rows_hidden_from_owner(Oid relid, const char *anchor, Oid cutoff_type, Datum cutoff);

/*
 * Returns how many of the rows tids (a tid[]) of relid, still there with
 * their anchor (a quoted column) before cutoff, no other session locks but
 * row-level security keeps the owner (the current user) from locking: the
 * rows FOR UPDATE SKIP LOCKED takes with full visibility
 * (rt_become_all_seeing, the anchor alone compared), less those it takes
 * as the owner right after, in a subtransaction that is undone.  Tells
 * such rows apart from rows another session holds.  SPI must be connected.
 */
extern int64 rt_rows_owner_cannot_lock(Oid relid, const char *anchor, Oid cutoff_type, Datum cutoff, Datum tids);

/*
 * Returns the cause of n expired rows that row-level security lets the
 * owner of relid see but not change with cmd (DELETE, or the UPDATE of an
 * anonymize), naming its policies (docs/operations.md#runs).
 */
extern char *rt_diagnose_rls_refused(Oid relid, CmdType cmd, int64 n);

/* Returns names (char *) quoted and joined by commas: "a, b". */
extern char *rt_name_list(List *names);

/* Returns the names (char *) of the row-level security policies of relid. */
extern List *rt_row_security_policies(Oid relid);

/*
 * Returns "trigger t on s.r" or "triggers a, b on s.r" for names of
 * triggers (or, with what "rule", rules) on relid.
 */
extern char *rt_describe_named(const char *what, List *names, Oid relid);

/*
 * Returns the cause of rows a DELETE (cmd CMD_DELETE) or UPDATE left
 * although it was given them, as one sentence naming the object: an
 * INSTEAD rule, a BEFORE ROW trigger that returned NULL, row-level security
 * that hides rows from the owner; NULL when nothing of the table explains
 * it.  n is how many rows were left.
 */
extern char *rt_diagnose_left(Oid relid, CmdType cmd, int64 n);

/* Rows inserted into one table in the current transaction, as counted by rt_inserts_now(). */
typedef struct RtInsertCount
{
	Oid			relid;
	int64		inserted;
} RtInsertCount;

/*
 * Returns the user tables with rows inserted in the current transaction and
 * how many (RtInsertCount *), from pg_stat_xact_user_tables.  Taken before
 * and after a statement, rt_inserts_between() tells where a trigger or rule
 * copied the rows the statement removed.  SPI must be connected.
 */
extern List *rt_inserts_now(void);

/*
 * Returns the tables (RtInsertCount *, with the difference) whose inserts
 * grew from before to after, leaving out pg_retention's own tables.
 */
extern List *rt_inserts_between(List *before, List *after);

#endif							/* RT_DIAGNOSE_H */
