/*
 * scheduler.h
 *    The scheduler: a launcher background worker that starts one database
 *    worker per database holding pg_retention, the database workers that
 *    run due policies every retention.naptime, the shared registry they
 *    coordinate through, and the DDL hook that keeps them out of the way
 *    of DROP DATABASE, DROP EXTENSION and their kin.
 *
 * Everything here needs the library in shared_preload_libraries, except
 * the settings (defined in every session so that SHOW and postgresql.conf
 * work either way) and rt_sched_next_run(), which answers NULL when the
 * scheduler is not running.
 */
#ifndef RT_SCHEDULER_H
#define RT_SCHEDULER_H

#include "postgres.h"

#include "datatype/timestamp.h"

#include "policy.h"

/* Defines retention.max_workers (scheduler_launcher.c; called by _PG_init). */
extern void rt_launcher_define_gucs(void);

/* Defines retention.run_history_keep and retention.audit_anchor_interval (scheduler_worker.c; called by _PG_init). */
extern void rt_worker_define_gucs(void);

/* ---- shared registry (src/scheduler_registry.c) ---- */

/* Asks for the shared memory and the lock of the registry (postmaster, at preload). */
extern void rt_registry_request(void);

/* Installs the shmem startup hook that creates or attaches to the registry. */
extern void rt_registry_install_hooks(void);

/* Returns true when the registry exists, that is, the library was preloaded. */
extern bool rt_registry_available(void);

/*
 * Returns why no scheduler runs this database's policies now
 * ("not_preloaded", "disabled", "standby", "launcher_down", "held"), or
 * NULL when one does.
 */
extern const char *rt_registry_stopped_reason(void);

/* ---- launcher and database workers ---- */

/* Registers the launcher background worker (postmaster, at preload). */
extern void rt_launcher_register(void);

/* Entry points of the background workers, looked up by name by the postmaster. */
extern PGDLLEXPORT void rt_launcher_main(Datum main_arg);
extern PGDLLEXPORT void rt_worker_main(Datum main_arg);

/* ---- DDL hook (src/scheduler_ddl.c) ---- */

/* Installs the ProcessUtility hook and the transaction callback of every backend. */
extern void rt_sched_ddl_install(void);

/* ---- scheduling rules shared by the worker and retention.status ---- */

/*
 * Returns true when a policy has rows a run would act on now (as_of):
 * rows past the cutoff that no foreign key still needs, for a delete
 * policy.  Runs as the table owner with a safe search_path and
 * retention.lock_timeout; raises the error it meets.  SPI must be
 * connected and a snapshot active.
 */
extern bool rt_sched_policy_due(const RtPolicy *policy, TimestampTz as_of);

/*
 * SQL: the number of the policy's (policy_ref: SQL naming its id) runs in a
 * row, newest first, that failed or were incomplete: what the back-off of
 * rt_sched_retry_at() counts.  An incomplete run left rows nothing
 * explains; running it again at once would only say so again.
 */
#define RT_SQL_FAILURES_IN_A_ROW(policy_ref) \
	"(SELECT pg_catalog.count(*) FROM retention.run_history f" \
	" WHERE f.policy_id OPERATOR(pg_catalog.=) " policy_ref \
	" AND f.status OPERATOR(pg_catalog.=) ANY ('{failed,incomplete}'::pg_catalog.text[])" \
	" AND f.run_id OPERATOR(pg_catalog.>) COALESCE((SELECT pg_catalog.max(o.run_id)" \
	"   FROM retention.run_history o WHERE o.policy_id OPERATOR(pg_catalog.=) " policy_ref \
	"   AND o.status OPERATOR(pg_catalog.<>) ALL ('{failed,incomplete}'::pg_catalog.text[])), 0))"

/*
 * Returns the earliest time a worker retries a policy whose last
 * `failures` runs failed, the last of them started at last_start:
 * naptime doubled per failure, capped at one hour.  0 when failures is 0.
 */
extern TimestampTz rt_sched_retry_at(int64 failures, TimestampTz last_start);

/*
 * SQL: the start of the policy's (policy_ref) last run that ended a round
 * of runs -- one that finished, whatever its status, and was not stopped
 * between batches with work left -- from which its min_interval counts;
 * NULL if none.  A run stopped at its time budget or its window's end
 * leaves the round open (run_history.stopped_early), so the next runs
 * continue it; so does a run still recorded as running.  Needs the 0.3.0
 * objects.
 */
#define RT_SQL_ROUND_START(policy_ref) \
	"(SELECT r.started_at FROM retention.run_history r" \
	" WHERE r.policy_id OPERATOR(pg_catalog.=) " policy_ref \
	" AND r.status OPERATOR(pg_catalog.<>) 'running'" \
	" AND NOT r.stopped_early ORDER BY r.run_id DESC LIMIT 1)"

/* What the scheduling rules need to know of a policy's past runs. */
typedef struct RtSchedLast
{
	bool		stale;			/* its last run is still recorded as running */
	int64		failures;		/* failed or incomplete runs in a row (RT_SQL_FAILURES_IN_A_ROW) */
	TimestampTz last_start;		/* start of its last run, 0 if never */
	TimestampTz round_start;	/* RT_SQL_ROUND_START, 0 if none */
} RtSchedLast;

/*
 * Returns the earliest time at or after `from` at which the scheduler may
 * start a run of the policy (docs/operations.md#run-windows): after the
 * back-off of failed runs and min_interval after the start of its last
 * round (neither for a run left running, which is continued), and inside
 * its run window.
 */
extern TimestampTz rt_sched_start_at(const RtPolicy *policy, const RtSchedLast *last,
									 TimestampTz from);

/*
 * Sets *opens and *closes to the occurrence of the policy's run window
 * that contains t, or else the next one (the policy must have a window).
 * The bounds are local times in the policy's zone, read as PostgreSQL
 * reads them; a window that a daylight-saving change would leave empty
 * keeps its length (docs/reference.md#run-windows).
 */
extern void rt_sched_window_at(const RtPolicy *policy, TimestampTz t,
							   TimestampTz *opens, TimestampTz *closes);

/*
 * Returns when the scheduler runs a policy of this database next (never
 * earlier than now, and by rt_sched_start_at), and sets *isnull when the
 * scheduler does not run here: library not preloaded, retention.enabled
 * off, launcher down, hot standby, a worker role that cannot work here, or
 * the policy disabled.  SPI must be connected.
 */
extern TimestampTz rt_sched_next_run(const RtPolicy *policy, bool *isnull);

/*
 * Returns the OID of the role database workers log in as
 * (retention.worker_role; BOOTSTRAP_SUPERUSERID when it is empty), or
 * InvalidOid with *problem set when no worker can log in as it: the role
 * does not exist or may not log in.  Reads shared catalogs only (the
 * launcher calls it); needs a transaction.
 */
extern Oid	rt_sched_worker_role(char **problem);

/*
 * Returns why a worker logging in as roleid cannot work in database dboid,
 * or NULL when it can: no CONNECT privilege on it, or -- only when
 * connected to dboid, since pg_db_role_setting cannot be opened without a
 * database -- retention.key_file set for the database or the role (ALTER
 * DATABASE / ROLE ... SET) and the role may not take it (GRANT SET ON
 * PARAMETER), which sets *key_file (if not NULL).  Needs a transaction.
 */
extern char *rt_sched_worker_role_problem(Oid dboid, Oid roleid, bool connected, bool *key_file);

/*
 * Returns why no scheduler runs this database's policies now: a reason of
 * rt_registry_stopped_reason(), or "worker_role" when the role database
 * workers log in as (retention.worker_role) cannot log in or cannot work in
 * this database, or "restore_grace" while policies wait after a recognized
 * restore; NULL when one runs them (docs/operations.md#monitoring).  Needs
 * a transaction and SPI.
 */
extern const char *rt_scheduler_stopped_reason(void);

#endif							/* RT_SCHEDULER_H */
