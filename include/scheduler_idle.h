/*
 * scheduler_idle.h
 *    The worker's idle passes: a due test that, for a leaf whose expired
 *    rows were all kept (by foreign keys, or masked already) the last time
 *    it looked, reads only what changed since.
 */
#ifndef RT_SCHEDULER_IDLE_H
#define RT_SCHEDULER_IDLE_H

#include "postgres.h"

#include "datatype/timestamp.h"

#include "policy.h"

/* Defines retention.due_recheck_interval (scheduler_idle.c; called by _PG_init). */
extern void rt_idle_define_gucs(void);

/*
 * Returns true when leaf relid of policy holds a row whose anchor lies
 * before cutoff (a value of type type_oid, parameter $1) and that filter
 * admits (SQL on alias t; its parameters $2, $3, ... are the nargs text[]
 * values in args): the answer of
 *   SELECT 1 FROM ONLY relid t WHERE t.anchor < $1 AND filter LIMIT 1.
 * When the same question was answered false on an earlier pass and
 * nothing that could change the answer has happened since (docs/operations.md#idle-passes),
 * only the rows whose anchor passed the cutoff since then are read.  Runs
 * as the current user (the table owner).  SPI must be connected.
 */
extern bool rt_idle_leaf_due(const RtPolicy *policy, Oid relid, Oid type_oid, Datum cutoff,
							 const char *filter, int nargs, Datum *args);

#endif							/* RT_SCHEDULER_IDLE_H */
