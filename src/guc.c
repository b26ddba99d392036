/*
 * guc.c
 *    Settings (GUCs) that several files read; each file defines the
 *    settings only it reads (docs/architecture.md).
 *
 * Ground floor: includes only PostgreSQL's headers and guc.h.
 */
#include "postgres.h"

#include <limits.h>

#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "guc.h"

/* retention.lock_timeout: how long a batch waits for a lock before stepping around it */
int			rt_lock_timeout_ms = 1000;

/* retention.enabled: the scheduler starts runs at all */
bool		rt_enabled = true;

/* retention.naptime: seconds between two passes of a database worker */
int			rt_naptime_s = 60;

/* retention.max_run_time: time budget of one run started by a worker */
int			rt_max_run_time_ms = 60000;

/* retention.erasure_deadline: time from an erasure request to its due time */
char	   *rt_erasure_deadline = NULL;

/* the shortest and longest erasure deadline accepted: a bare number is seconds */
#define RT_DEADLINE_MIN_S	SECS_PER_DAY
#define RT_DEADLINE_MAX_DAYS 366

/*
 * Check hook of retention.erasure_deadline: an interval of at least a day
 * and at most a year, with no negative part.  interval_in raises on bad
 * input; the error is caught here and turned into the setting's message,
 * since a check hook must not throw (it also runs in the postmaster).
 */
static bool
rt_check_erasure_deadline(char **newval, void **extra, GucSource source)
{
	MemoryContext cxt = CurrentMemoryContext;
	Interval   *span = NULL;
	double		seconds;

	(void) extra;
	(void) source;
	PG_TRY();
	{
		span = DatumGetIntervalP(DirectFunctionCall3(interval_in, CStringGetDatum(*newval),
													 ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		FlushErrorState();
		span = NULL;
	}
	PG_END_TRY();
	if (span == NULL)
	{
		GUC_check_errdetail("\"%s\" is not an interval.", *newval);
		GUC_check_errhint("Write it with its unit, as in '1 month' or '30 days'.");
		return false;
	}
	/* a month counts 30 days here only to bound the value; due times add the real months */
	seconds = (double) span->month * DAYS_PER_MONTH * SECS_PER_DAY +
		(double) span->day * SECS_PER_DAY + (double) span->time / USECS_PER_SEC;
	if (span->month < 0 || span->day < 0 || span->time < 0 ||
		seconds < RT_DEADLINE_MIN_S || seconds > (double) RT_DEADLINE_MAX_DAYS * SECS_PER_DAY)
	{
		GUC_check_errdetail("An erasure deadline must lie between 1 day and 1 year, without negative parts.");
		GUC_check_errhint("A bare number is read as seconds; write the unit, as in '1 month'.");
		return false;
	}
	return true;
}

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
	/* a compliance control: officers must not lengthen their own deadlines (superuser) */
	DefineCustomStringVariable("retention.erasure_deadline",
							   "Time within which an erasure request must be carried out.",
							   "Each erasure records its due time, its request time plus this interval, when it is received; retention.metrics and retention.report() show those past it.",
							   &rt_erasure_deadline, "1 month",
							   PGC_SUSET, 0, rt_check_erasure_deadline, NULL, NULL);

	DefineCustomStringVariable("retention.worker_role",
							   "Role the pg_retention database workers log in as.",
							   "Empty: the bootstrap superuser. Each policy still runs as the owner of its table; "
							   "a change applies from each database worker's next pass.",
							   &rt_worker_role, "",
							   PGC_SIGHUP, 0, NULL, NULL, NULL);
}
