/*
 * tagcmds.h
 *    Declaring tags: retention.tag(), retention.untag(), the security-label
 *    provider, and the check of a table's tags after DDL.
 */
#ifndef RT_TAGCMDS_H
#define RT_TAGCMDS_H

#include "postgres.h"

/* Registers the "retention" security-label provider (called by _PG_init). */
extern void rt_tag_register_label_provider(void);

/*
 * Checks every tag of relid against its column again (after ALTER TABLE,
 * CREATE TABLE or CREATE INDEX), raising the error of the first tag that no
 * longer fits.  With inherited, columns without a tag of their own are
 * checked against the tag of the nearest tagged ancestor too.
 */
extern void rt_tag_revalidate_relation(Oid relid, bool inherited);

#endif							/* RT_TAGCMDS_H */
