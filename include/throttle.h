/*
 * throttle.h
 *    How fast a run deletes or masks: fixed batches and pauses, or the
 *    adaptive mode, which shrinks batches and pauses from what it measures
 *    (its own batch time, sessions waiting for its locks, the WAL it
 *    writes, the replay lag of standbys) against limits the DBA sets, and
 *    never goes slower than retention.min_purge_rate
 *    (docs/operations.md#protecting-the-workload).
 */
#ifndef RT_THROTTLE_H
#define RT_THROTTLE_H

#include "postgres.h"

#include "access/xlogdefs.h"
#include "datatype/timestamp.h"

#include "policy.h"

/* (LSN, time) samples a run keeps to tell how far behind a standby's replay is */
#define RT_THROTTLE_HISTORY 512

/* The throttle of one run. */
typedef struct RtThrottle
{
	bool		adaptive;
	int			max_batch;		/* the policy's batch size: never more */
	int			min_batch;		/* never fewer rows a batch */
	int			batch;			/* rows the next batch may take */
	int			fixed_pause_ms; /* retention.batch_pause (fixed mode) */
	TimestampTz deadline;		/* no pause goes past it (0: none): a time budget, a run window's end */
	TimestampTz batch_start;
	XLogRecPtr	batch_start_lsn;
	int			waiters;		/* sessions the current batch's locks made wait (before its commit) */
	XLogRecPtr	hist_lsn[RT_THROTTLE_HISTORY];
	TimestampTz hist_at[RT_THROTTLE_HISTORY];
	int			nhist;
	int			hist_next;
	/* what it did and why, for the run's notes */
	int64		batches;
	int			smallest;
	int			largest;
	int64		paused_ms;
	int			longest_pause;
	int64		by_time;
	int64		by_locks;
	int64		by_wal;
	int64		by_lag;
	double		max_lag_ms;
} RtThrottle;

/* Defines retention.throttle and the adaptive mode's limits (called by _PG_init). */
extern void rt_throttle_define_gucs(void);

/*
 * Sets up the throttle of a run of policy: adaptive when the policy's own
 * setting (retention.throttle()) or else retention.throttle says so and
 * the run commits between batches (commits), with batches of up to the
 * policy's batch size and, in fixed mode, pauses of fixed_pause_ms; no
 * pause lasts past deadline (0: none).  SPI must be connected.
 */
extern void rt_throttle_init(RtThrottle *t, const RtPolicy *policy, bool commits, int fixed_pause_ms,
							 TimestampTz deadline);

/* Returns the rows the next batch may take. */
extern int	rt_throttle_batch_rows(const RtThrottle *t);

/* Marks the start of a batch (its time and WAL position). */
extern void rt_throttle_batch_begins(RtThrottle *t);

/*
 * Counts, in the batch's own transaction before it commits, the sessions
 * waiting for a lock the batch holds (adaptive mode only); with
 * retention.max_replica_lag set, makes the commit ask the standbys for
 * their replay position at once (synchronous_commit = remote_apply for
 * this transaction).  SPI must be connected.
 */
extern void rt_throttle_before_commit(RtThrottle *t);

/*
 * After a batch of rows (rows examined, skipped_locked of them left because
 * locked) has committed, in the next transaction: measures, adapts the next
 * batch's size and pauses through sleep(ms), which returns early for an
 * interrupt or a latch.  SPI must be connected.
 */
extern void rt_throttle_after_batch(RtThrottle *t, int64 rows, int64 skipped_locked,
									void (*sleep) (int ms));

/* Returns what the adaptive mode did and why, for the run's notes; NULL in fixed mode. */
extern char *rt_throttle_summary(const RtThrottle *t);

#endif							/* RT_THROTTLE_H */
