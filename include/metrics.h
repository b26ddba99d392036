/*
 * metrics.h
 *    The state of every policy as monitoring and the compliance report
 *    read it (metrics.c): rows counted as a run would count them, and the
 *    run history summed up (docs/reference.md#retentionmetrics-view).
 */
#ifndef RT_METRICS_H
#define RT_METRICS_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"

#include "policy.h"
#include "preview.h"

/* One policy, counted now, with its runs summed up. */
typedef struct RtPolicyState
{
	RtPolicy   *policy;
	char	   *table;			/* its table's qualified name */
	bool		counted;		/* counts valid: enabled and countable */
	char	   *count_error;	/* why an enabled policy could not be counted, or NULL */
	TimestampTz cutoff;
	RtCounts	counts;
	TimestampTz created_at;		/* when the policy was declared */
	bool		has_success;
	TimestampTz last_success;	/* end of the latest successful run */
	bool		has_run;		/* some run is recorded */
	int64		runs_failed;	/* failed runs since the latest success */
	int64		runs_incomplete;	/* incomplete runs since the latest success */
	int64		rows_left;		/* rows_left of the latest finished run */
} RtPolicyState;

/*
 * Returns the state (RtPolicyState *) of every policy, disabled ones
 * uncounted, ordered by policy_id.  Counts every table whatever the
 * caller may read: its callers check first that the caller may read
 * retention.metrics or run retention.report().  SPI must be connected.
 */
extern List *rt_metrics_policy_states(void);

#endif							/* RT_METRICS_H */
