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
#include "run_options.h"
#include "runlog.h"

typedef enum RtRunOutcome
{
	RT_RUN_SUCCESS,				/* every expired row handled (or left: blocked, locked) */
	RT_RUN_PARTIAL,				/* stopped at the deadline; the next run continues */
	RT_RUN_STOPPED,				/* the policy was altered or dropped during the run */
	RT_RUN_FAILED,				/* an error ended the run, or rows were refused; see the run record */
	RT_RUN_INCOMPLETE,			/* expired rows nothing explains are still there; see the run record */
	RT_RUN_BUSY					/* another session is running this policy */
} RtRunOutcome;

/*
 * Runs one policy as of a time.  Fills *stats; on failure sets *error to
 * the error that ended the run (in the current memory context), and for an
 * incomplete run to an error saying what is left and why.  A
 * cancel or shutdown request is recorded as "interrupted" and re-raised.
 * SPI must be connected (non-atomic unless next_transaction is NULL), and
 * CurrentMemoryContext must survive transaction ends.
 */
extern RtRunOutcome rt_run_policy(const RtPolicy *policy, TimestampTz as_of,
								  const RtRunOptions *options, RtRunStats *stats,
								  ErrorData **error);

/* Defines the setting retention.batch_pause (called by _PG_init). */
extern void rt_run_define_gucs(void);

#endif							/* RT_RUN_H */
