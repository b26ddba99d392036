/*
 * run_options.h
 *    How a run is driven: by CALL retention.run() (run_command.c) or by the
 *    database worker (scheduler_worker.c), read by the engines a run calls
 *    (run.c, partition.c).  A header of its own so that the engines below
 *    run.c need not include it.
 */
#ifndef RT_RUN_OPTIONS_H
#define RT_RUN_OPTIONS_H

#include "postgres.h"

#include "datatype/timestamp.h"

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
	const char *deadline_note;	/* why, for the run's notes; NULL: its time budget */
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

#endif							/* RT_RUN_OPTIONS_H */
