/*
 * srf.c
 *    Materialize-mode set-returning function helper.
 *
 * PostgreSQL 15 added InitMaterializedSRF(); older releases need the
 * tuplestore set up by hand.  Both paths are kept here so the callers
 * read the same everywhere.
 */
#include "postgres.h"

#include "funcapi.h"
#include "miscadmin.h"
#include "utils/tuplestore.h"

#include "compat.h"
#include "srf.h"

/* Prepares fcinfo's result set to receive rows in materialize mode. */
void
rt_srf_begin(FunctionCallInfo fcinfo, RtSrf *srf)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

#if RT_HAS_INIT_MATERIALIZED_SRF
	InitMaterializedSRF(fcinfo, 0);
	srf->store = rsinfo->setResult;
	srf->desc = rsinfo->setDesc;
#else
	MemoryContext old;
	TupleDesc	desc;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		(rsinfo->allowedModes & SFRM_Materialize) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	srf->desc = CreateTupleDescCopy(desc);
	srf->store = tuplestore_begin_heap(true, false, work_mem);
	MemoryContextSwitchTo(old);
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = srf->store;
	rsinfo->setDesc = srf->desc;
#endif
}

/* Appends one row to the result set. */
void
rt_srf_put(RtSrf *srf, Datum *values, bool *nulls)
{
	tuplestore_putvalues(srf->store, srf->desc, values, nulls);
}
