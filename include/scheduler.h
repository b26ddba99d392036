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
 * Returns when the scheduler runs a policy of this database next (never
 * earlier than now), and sets *isnull when the scheduler does not run
 * here: library not preloaded, retention.enabled off, launcher down, hot
 * standby, or the policy disabled.  SPI must be connected.
 */
extern TimestampTz rt_sched_next_run(int64 policy_id, bool policy_enabled, bool *isnull);

#endif							/* RT_SCHEDULER_H */
