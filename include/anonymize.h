/*
 * anonymize.h
 *    The anonymize action: which columns a policy masks on each table,
 *    the SQL that masks them, and the guards that keep policies and tags
 *    consistent.
 *
 * The batch engine (purge.c) runs anonymize policies with the same
 * keyset scan as delete policies; only the statement differs (an UPDATE
 * that sets each masked column to its mask) and the candidates carry one
 * more condition, "some masked column still differs from its mask", which
 * is what makes a rerun change nothing.
 */
#ifndef RT_ANONYMIZE_H
#define RT_ANONYMIZE_H

#include "postgres.h"

#include "access/attnum.h"
#include "utils/relcache.h"

#include "policy.h"

/* The SQL an anonymize policy applies to one table. */
typedef struct RtAnonSql
{
	char	   *set_list;		/* "col = mask, ..." for UPDATE ... SET */
	char	   *set_list_node;	/* the same for the shards of a Citus table: the pseudonym mask in its node form */
	char	   *pending;		/* boolean: some masked column still differs from its mask */
	int			ncolumns;		/* masked columns */
	bool		uses_key;		/* a mask is a pseudonym */
} RtAnonSql;

/*
 * Returns the SQL of an anonymize policy for table relid (a leaf, or the
 * policy's own table): its columns referred to as alias.col, or bare when
 * alias is NULL.  The masked columns are the policy's columns, or all
 * tagged ones; a tag on an ancestor's same-named column counts.  Raises an
 * error when a column lost its tag.  Function names, operators and types
 * are schema-qualified.
 */
extern RtAnonSql *rt_anon_sql(const RtPolicy *policy, Oid relid, const char *alias);

/*
 * Checks an anonymize policy when it is declared: the mask of every column
 * it masks, on its table and on every table below it, with the checks of
 * tags (rt_mask_check_column).  Warns when a pseudonym mask has no usable
 * key yet.
 */
extern void rt_anon_validate_policy(const RtPolicy *policy, Relation rel);

/*
 * Raises dependent_objects_still_exist (2BP01) when removing the tag of
 * column colname of relid would leave an anonymize policy (on relid or a
 * table below it) naming an untagged column, or with no tagged column.
 */
extern void rt_anon_check_untag(Oid relid, const char *colname);

#endif							/* RT_ANONYMIZE_H */
