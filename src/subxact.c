/*
 * subxact.c
 *    One step of a run in an internal subtransaction (see subxact.h).  The
 *    run engine and the partition strategy both take their steps this way.
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "utils/resowner.h"

#include "subxact.h"

/* Runs fn(arg) in an internal subtransaction; returns the error it raised, or NULL. */
ErrorData *
rt_in_subtransaction(void (*fn) (void *arg), void *arg, MemoryContext error_cxt)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	ErrorData  *volatile edata = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		/* a connection of its own: the step's results go with it, not with the run */
		SPI_connect();
		fn(arg);
		SPI_finish();
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(error_cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_END_TRY();
	return edata;
}
