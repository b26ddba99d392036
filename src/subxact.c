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

/* Runs fn(arg) in an internal subtransaction, with an SPI connection of its own or not; returns its error or NULL. */
ErrorData *
rt_in_subtransaction_ext(void (*fn) (void *arg), void *arg, MemoryContext error_cxt, bool own_spi)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	ErrorData  *volatile edata = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		/* a connection of its own: the step's results go with it, not with the run */
		if (own_spi)
			SPI_connect();
		fn(arg);
		if (own_spi)
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

/* Runs fn(arg) in an internal subtransaction that is always rolled back; see subxact.h. */
void
rt_in_subtransaction_undone(void (*fn) (void *arg), void *arg)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		fn(arg);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		ReThrowError(edata);
	}
	PG_END_TRY();
	RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(oldcxt);
	CurrentResourceOwner = oldowner;
}

/* Runs fn(arg) in an internal subtransaction with an SPI connection of its own; see subxact.h. */
ErrorData *
rt_in_subtransaction(void (*fn) (void *arg), void *arg, MemoryContext error_cxt)
{
	return rt_in_subtransaction_ext(fn, arg, error_cxt, true);
}
