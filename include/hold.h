/*
 * hold.h
 *    Legal holds (SPEC section 6): a hold on one data subject or on a whole
 *    table pauses purges and erasure of the rows it covers until it is
 *    released or expires.
 */
#ifndef RT_HOLD_H
#define RT_HOLD_H

#include "postgres.h"

#include "nodes/pg_list.h"

/* Returns true when an active table hold covers relid (or one of its partitioned ancestors). SPI must be connected. */
extern bool rt_table_on_hold(Oid relid);

/* Returns the ids (char *) of the subjects of kind under an active hold. SPI must be connected. */
extern List *rt_held_subjects(const char *kind);

/* Returns the ids (int64 *) of the active holds that cover subject id of kind or one of tables (Oids). SPI must be connected. */
extern List *rt_holds_covering(const char *kind, const char *id, List *tables);

#endif							/* RT_HOLD_H */
