/*
 * run.h
 *    Running policies: one transaction per batch, the run record kept up
 *    to date, lock and foreign-key trouble handled batch by batch.  The
 *    procedure retention.run() and the background worker both go through
 *    rt_run_policy().
 */
#ifndef RT_RUN_H
#define RT_RUN_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/elog.h"

#include "policy.h"
#include "runlog.h"

/* How a run is driven. */
typedef struct RtRunOptions
{
	/*
	 * Ends the current transaction and starts the next one; NULL when the
	 * run happens inside the caller's transaction (CALL in a transaction
	 * block), where every batch shares that transaction.
	 */
	void		(*next_transaction) (void);
	TimestampTz deadline;		/* stop after the batch that passes it; 0 = none */
	const char *trigger;		/* "manual" or "worker", recorded with the run */

	/*
	 * When another session runs the same policy: wait for it to finish and
	 * then run (a manual CALL, which promises the policy applied when it
	 * returns), or skip it (the worker, which has other policies to serve).
	 */
	bool		wait_if_busy;

	/*
	 * Runs fn(arg) where a statement may end the transaction by itself
	 * (ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY): at the top level,
	 * in no transaction block, subtransaction or SPI connection of the
	 * caller's, which is reopened afterwards.  fn must not raise errors: it
	 * catches them and leaves a transaction open.  NULL when the run cannot
	 * leave its transaction (CALL in a transaction block).
	 */
	void		(*at_top_level) (void (*fn) (void *), void *arg);
} RtRunOptions;

typedef enum RtRunOutcome
{
	RT_RUN_SUCCESS,				/* every expired row handled (or left: blocked, locked) */
	RT_RUN_PARTIAL,				/* stopped at the deadline; the next run continues */
	RT_RUN_STOPPED,				/* the policy was altered or dropped during the run */
	RT_RUN_FAILED,				/* an error ended the run; see the run record */
	RT_RUN_BUSY					/* another session is running this policy */
} RtRunOutcome;

/*
 * Runs one policy as of a time.  Fills *stats; on failure sets *error to
 * the error that ended the run (in the current memory context).  A
 * cancel or shutdown request is recorded as "interrupted" and re-raised.
 * SPI must be connected (non-atomic unless next_transaction is NULL), and
 * CurrentMemoryContext must survive transaction ends.
 */
extern RtRunOutcome rt_run_policy(const RtPolicy *policy, TimestampTz as_of,
								  const RtRunOptions *options, RtRunStats *stats,
								  ErrorData **error);

#endif							/* RT_RUN_H */
