/*
 * tag.h
 *    Tags on personal columns, as the engine reads them.  A tag is the
 *    security label of provider "retention" on a column, written
 *    "CATEGORY" or "CATEGORY:MASK", so PostgreSQL itself keeps it through
 *    renames, drops and pg_dump.  Declaring tags is tagcmds.h's.
 */
#ifndef RT_TAG_H
#define RT_TAG_H

#include "postgres.h"

#include "access/attnum.h"
#include "nodes/pg_list.h"

/*
 * Splits a label "CATEGORY" or "CATEGORY:MASK" at its first colon into
 * palloc'd *category and *mask (NULL when the label names no mask).
 */
extern void rt_tag_label_split(const char *label, char **category, char **mask);

/*
 * Reads the tag of column attnum of relid.  Returns false when the column
 * has none; otherwise sets *category and *mask (*mask NULL when the tag
 * relies on the category's default mask).
 */
extern bool rt_tag_lookup(Oid relid, AttrNumber attnum,
						  char **category, char **mask);

/*
 * Reads the tag of column colname of relid or, when it has none, of the
 * same-named column of its nearest ancestor (partition parent or
 * inheritance parent) that has one, so that a tag on a partitioned table
 * applies to every partition, also those attached later.  The tags of
 * skip_relid are ignored (InvalidOid: none), to ask "what if it were
 * untagged".
 */
extern bool rt_tag_lookup_inherited(Oid relid, const char *colname, Oid skip_relid,
									char **category, char **mask);

/* Returns the mask a tag applies: mask itself, or the default of category when mask is NULL. */
extern const char *rt_tag_effective_mask(const char *category, const char *mask);

/*
 * Returns true when some column of relid is tagged: by a tag of its own or,
 * with inherited, by the tag of its nearest tagged ancestor's same-named
 * column.  The tag of column skip_col on skip_relid is left out (NULL and
 * InvalidOid: none), to ask "what if it were untagged".
 */
extern bool rt_tag_any_column(Oid relid, bool inherited, const char *skip_col, Oid skip_relid);

/*
 * Returns the names (char *) of the columns of dest that are tagged, are
 * named like a tagged column of src, or are json/jsonb while src has a
 * tagged column (an audit log of whole rows): where rows of src copied
 * into dest (by a history or audit trigger) carry personal data.
 */
extern List *rt_tag_personal_columns_like(Oid src, Oid dest);

#endif							/* RT_TAG_H */
