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
 * Checks every tag of relid against its column again (after ALTER TABLE or
 * CREATE INDEX), raising the error of the first tag that no longer fits.
 */
extern void rt_tag_revalidate_relation(Oid relid);

#endif							/* RT_TAG_H */
