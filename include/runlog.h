/*
 * runlog.h
 *    Run records: one row of retention.run_history (view retention.runs)
 *    per policy run, written as the run goes so that a crash leaves the
 *    counts of every committed batch behind.
 */
#ifndef RT_RUNLOG_H
#define RT_RUNLOG_H

#include "postgres.h"

#include "datatype/timestamp.h"

#include "policy.h"

/* Counters of one run. */
typedef struct RtRunStats
{
	int64		rows;			/* rows deleted or anonymized */
	int64		batches;
	int64		blocked;		/* kept because a foreign key needs them */
	int64		skipped_locked; /* left because another session locked them */
	int64		undated;		/* rows whose anchor is NULL */
	int64		held;			/* expired rows a legal hold keeps */
	int64		refused;		/* expired rows a constraint or trigger refused to delete or mask */
	int64		partitions;		/* partitions removed whole (their rows are in rows) */
	int64		left;			/* expired rows still there after the run that nothing above explains */
} RtRunStats;

/* Marks the runs of a policy still recorded as running as interrupted (the caller holds the policy's run lock). */
extern void rt_runlog_mark_stale(int64 policy_id);

/* Inserts the record of a starting run and returns its run_id. */
extern int64 rt_runlog_start(const RtPolicy *policy, TimestampTz as_of, TimestampTz cutoff,
							 const char *trigger);

/* Records a run that failed before it could start (say its cutoff cannot be computed). */
extern void rt_runlog_start_failed(const RtPolicy *policy, TimestampTz as_of, const char *trigger,
								   const char *error);

/* Stores the counters of a run so far (in the transaction of the batch that produced them). */
extern void rt_runlog_progress(int64 run_id, const RtRunStats *stats);

/*
 * Records the end of a run: status success, failed, interrupted or
 * incomplete, the error if any, and for an incomplete run the cause of the
 * rows left (stats->left).  On SQL objects older than 0.3.0, which know no
 * incomplete run, it is recorded as failed with the cause as its error.
 */
extern void rt_runlog_finish(int64 run_id, const RtPolicy *policy, const char *status,
							 const RtRunStats *stats, const char *error, const char *cause);

/* Returns the rows the last finished run of a policy left because they were refused (0 if none or no run). */
extern int64 rt_runlog_last_refused(int64 policy_id);

/* Appends a line to the notes of a run (why a partition went by rows, say). */
extern void rt_runlog_note(int64 run_id, const char *note);

/*
 * Appends note to a run and marks it stopped between batches before its
 * work was done (run_history.stopped_early, from 0.3.0 on): its round of
 * runs stays open for the policy's min_interval.
 */
extern void rt_runlog_stopped_early(int64 run_id, const char *note);

/*
 * Ends the open round of a policy whose last run stopped between batches
 * (the next pass found nothing left): clears that run's stopped_early and
 * notes why.
 */
extern void rt_runlog_round_over(int64 policy_id);

/* Deletes the oldest finished run records beyond keep per policy; returns how many. */
extern int64 rt_runlog_trim(int keep);

#endif							/* RT_RUNLOG_H */
