/*
 * preview.h
 *    What the policies would do now, counted the way a run sees the table
 *    (preview.c): retention.preview(), the retention.status view, and the
 *    counts retention.metrics and retention.report() show
 *    (docs/reference.md#running).
 */
#ifndef RT_PREVIEW_H
#define RT_PREVIEW_H

#include "postgres.h"

#include "datatype/timestamp.h"

#include "policy.h"

/* Counts of one policy at one cutoff. */
typedef struct RtCounts
{
	int64		due;			/* past the cutoff (anonymize: not masked yet) */
	int64		undated;		/* NULL anchor: never expire */
	int64		blocked;		/* due, needed by a foreign key, not held */
	int64		held;			/* due, kept by a legal hold */
	int64		hidden;			/* past the cutoff, hidden from the owner by row-level security */
	bool		have_oldest;
	TimestampTz oldest;			/* oldest expired anchor of a row nothing keeps */
} RtCounts;

/* The rows a run would remove now: due, neither needed by a foreign key nor held. */
#define RT_COUNTS_OVERDUE(c) ((c)->due - (c)->blocked - (c)->held)

/*
 * Computes a policy's cutoff as of as_of into *cutoff and counts its rows
 * into *counts, as the table owner, in a subtransaction.  With for_caller,
 * nothing is counted for a table the caller may not read (as the status
 * view does); without, every table is counted (for the roles that may
 * read retention.metrics and the report).  Returns false when nothing was
 * counted; *error is then the error that stopped the count, or NULL when
 * the table is gone or hidden from the caller.  SPI must be connected.
 */
extern bool rt_policy_count(const RtPolicy *policy, TimestampTz as_of, bool for_caller,
							TimestampTz *cutoff, RtCounts *counts, char **error);

#endif							/* RT_PREVIEW_H */
