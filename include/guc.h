/*
 * guc.h
 *    Settings (GUCs) that several files read.  A setting read by one file
 *    is defined in that file (docs/architecture.md); docs/reference.md
 *    "Settings" and "Scheduler settings" document them all.
 *
 * Ground floor: includes only PostgreSQL's headers.
 */
#ifndef RT_GUC_H
#define RT_GUC_H

#include "postgres.h"

/* retention.lock_timeout, ms: how long a batch waits for a lock before stepping around it */
extern int	rt_lock_timeout_ms;

/* retention.enabled: the scheduler starts runs at all */
extern bool rt_enabled;

/* retention.naptime, seconds: time between two passes of a database worker */
extern int	rt_naptime_s;

/* retention.max_run_time, ms: time budget of one run started by a worker (0: none) */
extern int	rt_max_run_time_ms;

/*
 * retention.erasure_deadline: how long after an erasure request is received
 * it must be carried out (an interval, '1 month' by default); each ledger
 * entry records its own due time from it (docs/reference.md#settings).
 */
extern char *rt_erasure_deadline;

/* retention.worker_role: the role database workers log in as; "" for the bootstrap superuser */
extern char *rt_worker_role;

/* Defines the settings above (called by _PG_init). */
extern void rt_guc_define(void);

#endif							/* RT_GUC_H */
