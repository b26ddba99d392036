/*
 * horizon.h
 *    The erasure horizon (docs/reference.md#retentionerasure_horizon-view):
 *    where each erasure and purge run left its change, and when the data
 *    it removed stops being recoverable from this cluster -- dead tuples
 *    vacuumed, WAL removed, backups expired -- with the targeted VACUUM
 *    that shortens the first.
 */
#ifndef RT_HORIZON_H
#define RT_HORIZON_H

#include "postgres.h"

#include "nodes/pg_list.h"

/* Defines retention.backup_retention and retention.vacuum_after_erasure (called by _PG_init). */
extern void rt_horizon_define_gucs(void);

/*
 * Records that an erasure or a purge run (source "erasure" or "run", and
 * its id) changed the tables relids (Oid) up to the WAL position now.
 * Nothing is recorded when relids is empty.  SPI must be connected.
 */
extern void rt_horizon_mark(const char *source, const char *source_id, List *relids);

/*
 * Records, for the erasures and runs whose dead tuples have been vacuumed
 * or whose WAL has been removed since the last call, when that was first
 * seen, so that the view's times stop moving with later vacuums and
 * checkpoints.  Returns the tables (Oid) whose dead tuples erasures still
 * leave when retention.vacuum_after_erasure is on (NIL otherwise), for the
 * worker to vacuum.  SPI must be connected.
 */
extern List *rt_horizon_settle(void);

/*
 * Runs VACUUM on one table, as a top-level command: outside any
 * transaction, which it starts and commits itself (the database worker).
 */
extern void rt_horizon_vacuum(Oid relid);

#endif							/* RT_HORIZON_H */
