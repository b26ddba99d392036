/*
 * partition.h
 *    Whole partitions: a delete policy on a partitioned table removes a
 *    partition that lies wholly before its cutoff by DETACH and DROP (or
 *    keeps it detached) instead of deleting its rows batch by batch.
 *
 * Which partitions qualify is read from the catalog (the bounds each
 * level of partitioning gives the anchor column) and checked against the
 * data (no row with a NULL or later anchor); everything that does not
 * qualify, and every partition whose removal fails, is left to the batch
 * engine, so a run ends with the same rows gone either way.
 */
#ifndef RT_PARTITION_H
#define RT_PARTITION_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/elog.h"
#include "utils/palloc.h"

#include "policy.h"
#include "run_options.h"
#include "runlog.h"

/*
 * Removes the partitions of a delete policy's partitioned table that lie
 * wholly before the cutoff, as the policy's partition_action says, one
 * partition after the other, each in transactions of its own (when the
 * run has them).  Called by a run after it is recorded and before its
 * batches, with SPI connected and CurrentMemoryContext surviving
 * transaction ends.  Adds the rows and partitions removed to *stats and
 * keeps the run record up to date; partitions that qualified but went by
 * rows are explained in the run's notes.  Returns NULL, or the error
 * (copied into error_cxt) that must end the run: an interrupt, or a
 * partition left detached that could be neither dropped nor attached back.
 */
extern ErrorData *rt_partitions_remove(const RtPolicy *policy, TimestampTz cutoff, int64 run_id,
									   const RtRunOptions *options, RtRunStats *stats,
									   MemoryContext error_cxt);

/*
 * Returns true when a RANGE level of partitioning on the anchor column
 * (its unquoted name) gives leaf a lower bound at or after cutoff (of the
 * anchor's type): the partition constraint then admits no expired row and
 * no NULL anchor, so a run has nothing to look for in it
 * (docs/operations.md#partitions).  False for anything else.
 */
extern bool rt_partition_after_cutoff(Oid leaf, const char *anchor, RtAnchorType anchor_type,
									  Datum cutoff);

/* Defines the setting retention.partition_row_count (called by _PG_init). */
extern void rt_partition_define_gucs(void);

#endif							/* RT_PARTITION_H */
