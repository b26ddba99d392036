/*
 * fk_guard.h
 *    Rows that foreign keys still need.  A row referenced through an
 *    ON DELETE RESTRICT or NO ACTION foreign key cannot be deleted; the
 *    purge skips it and counts it as blocked instead of letting it abort
 *    the batch.  ON DELETE CASCADE / SET NULL / SET DEFAULT are left to
 *    PostgreSQL.
 */
#ifndef RT_FK_GUARD_H
#define RT_FK_GUARD_H

#include "postgres.h"

#include "nodes/pg_list.h"

/*
 * A policy's own table referencing itself (a reply thread, an org chart):
 * a referencing row that the same statement deletes (its anchor is past
 * the cutoff too) does not keep the row it references.
 */
typedef struct RtFkSelf
{
	Oid			policy_relid;	/* the policy's table (relid or its partitioned ancestor) */
	const char *anchor;			/* its anchor column, quoted */
	const char *cutoff_ref;		/* the cutoff in the statement: a parameter such as "$3" */
} RtFkSelf;

/*
 * Returns an SQL boolean expression, true when the row of relid aliased
 * alias is still referenced through a RESTRICT or NO ACTION foreign key,
 * or NULL when no such foreign key references relid.  With self, rows of
 * the policy's own table that are past the cutoff too do not count (they
 * go in the same statement), and live rows of it count through a key of
 * any ON DELETE action (a cascade must not take a live reply along).  Identifiers are quoted and operators
 * schema-qualified.  SPI must be connected.
 */
extern char *rt_fk_blocked_expr(Oid relid, const char *alias, const RtFkSelf *self);

/* ON DELETE actions (pg_constraint.confdeltype) as an array literal, for rt_fk_referenced_expr */
#define RT_FK_RESTRICTING "{a,r}"	/* the delete itself would fail */
#define RT_FK_ANY "{a,r,c,n,d}"		/* ... or would change the referencing row */

/*
 * Returns an SQL boolean expression, true when the row of relid aliased
 * alias is referenced through a foreign key whose ON DELETE action is one
 * of actions (an array literal above), or NULL when there is none.  An
 * erasure uses it so that deleting one subject's row never cascades into
 * rows that are kept, held, or another subject's.
 */
extern char *rt_fk_referenced_expr(Oid relid, const char *alias, const char *actions);

/*
 * Returns true when a foreign key on columns cols (char *) declared on
 * partition part of owner is contradicted by a sibling partition's key on
 * the same columns to a table other than referenced: the key then speaks
 * for its own partition only.  SPI must be connected.
 */
extern bool rt_partition_key_conflicts(Oid owner, Oid part, Oid referenced, List *cols);

#endif							/* RT_FK_GUARD_H */
