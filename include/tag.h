/*
 * tag.h
 *    Tags on personal columns.  A tag is the security label of provider
 *    "retention" on a column, written "CATEGORY" or "CATEGORY:MASK", so
 *    PostgreSQL itself keeps it through renames, drops and pg_dump.
 */
#ifndef RT_TAG_H
#define RT_TAG_H

#include "postgres.h"

#include "access/attnum.h"

/*
 * Splits a label "CATEGORY" or "CATEGORY:MASK" at its first colon into
 * palloc'd *category and *mask (NULL when the label names no mask).
 */
extern void rt_tag_label_split(const char *label, char **category, char **mask);

/* Registers the "retention" security-label provider (called by _PG_init). */
extern void rt_tag_register_label_provider(void);

/*
 * Reads the tag of column attnum of relid.  Returns false when the column
 * has none; otherwise sets *category and *mask (*mask NULL when the tag
 * relies on the category's default mask).
 */
extern bool rt_tag_lookup(Oid relid, AttrNumber attnum,
						  char **category, char **mask);

/*
 * Checks every tag of relid against its column again (after ALTER TABLE,
 * CREATE TABLE or CREATE INDEX), raising the error of the first tag that no
 * longer fits.  With inherited, columns without a tag of their own are
 * checked against the tag of the nearest tagged ancestor too.
 */
extern void rt_tag_revalidate_relation(Oid relid, bool inherited);

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

#endif							/* RT_TAG_H */
