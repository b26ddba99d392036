/*
 * srf.h
 *    A small helper for set-returning functions in materialize mode, the
 *    same whatever the server version (the difference is in compat.h).
 */
#ifndef RT_SRF_H
#define RT_SRF_H

#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/tuplestore.h"

typedef struct RtSrf
{
	Tuplestorestate *store;
	TupleDesc	desc;
} RtSrf;

/* Prepares fcinfo's result set to receive rows in materialize mode. */
extern void rt_srf_begin(FunctionCallInfo fcinfo, RtSrf *srf);

/* Appends one row to the result set. */
extern void rt_srf_put(RtSrf *srf, Datum *values, bool *nulls);

#endif							/* RT_SRF_H */
