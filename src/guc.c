/*
 * guc.c
 *    Settings (GUCs) that several files read; each file defines the
 *    settings only it reads (docs/architecture.md).
 *
 * Ground floor: includes only PostgreSQL's headers and guc.h.
 */
#include "postgres.h"

#include <limits.h>

#include "utils/guc.h"

#include "guc.h"

/* retention.lock_timeout: how long a batch waits for a lock before stepping around it */
int			rt_lock_timeout_ms = 1000;

/* retention.enabled: the scheduler starts runs at all */
bool		rt_enabled = true;

/* retention.naptime: seconds between two passes of a database worker */
int			rt_naptime_s = 60;

/* retention.max_run_time: time budget of one run started by a worker */
int			rt_max_run_time_ms = 60000;

/* retention.worker_role: the role database workers log in as; "" for the bootstrap superuser */
char	   *rt_worker_role = NULL;

/* Defines the settings several files read; the scheduler's are reloaded on SIGHUP. */
void
rt_guc_define(void)
{
	DefineCustomIntVariable("retention.lock_timeout",
							"How long a retention batch waits for a lock before it steps around locked rows.",
							"Applied as lock_timeout to each batch; locked rows are skipped and retried by a later run.",
							&rt_lock_timeout_ms, 1000, 1, 600000,
							PGC_USERSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomBoolVariable("retention.enabled",
							 "Lets the pg_retention scheduler start policy runs.",
							 "Off pauses every background run in every database; runs in progress stop after their current batch.",
							 &rt_enabled, true,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("retention.naptime",
							"Time between two passes of a pg_retention database worker.",
							"Each pass runs every enabled policy that has expired rows.",
							&rt_naptime_s, 60, 1, 86400,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("retention.max_run_time",
							"Time budget of one policy run started by the scheduler.",
							"A run that exceeds it stops after its current batch and continues on the next pass; 0 means no limit.",
							&rt_max_run_time_ms, 60000, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomStringVariable("retention.worker_role",
							   "Role the pg_retention database workers log in as.",
							   "Empty: the bootstrap superuser. Each policy still runs as the owner of its table; "
							   "a change applies from each database worker's next pass.",
							   &rt_worker_role, "",
							   PGC_SIGHUP, 0, NULL, NULL, NULL);
}
