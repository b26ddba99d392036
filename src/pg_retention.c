/*
 * pg_retention.c
 *    Entry point of the pg_retention library: _PG_init, settings (GUCs)
 *    and the registration of the security-label provider.
 *
 * The SQL functions work in any session that loads the library (CREATE
 * EXTENSION and the first call of any function load it); the background
 * workers need the library in shared_preload_libraries.
 */
#include "postgres.h"

#include <sodium.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "audit.h"
#include "key.h"
#include "pg_retention.h"
#include "scheduler.h"
#include "tag.h"

PG_MODULE_MAGIC;

/* retention.batch_size: rows a batch deletes or anonymizes, one transaction each */
int			rt_batch_size = 10000;

/* retention.lock_timeout: how long a batch waits for a lock before stepping around it */
int			rt_lock_timeout_ms = 1000;

/* retention.min_keep: shortest retention period add_policy accepts */
int			rt_min_keep_seconds = 3600;

/* retention.batch_pause: pause between two batches of a run, leaving CPU and I/O to others */
int			rt_batch_pause_ms = 0;

/* retention.partition_row_count: count the rows of a partition removed whole, or estimate them */
int			rt_partition_row_count = RT_ROW_COUNT_EXACT;

static const struct config_enum_entry rt_row_count_options[] = {
	{"exact", RT_ROW_COUNT_EXACT, false},
	{"estimate", RT_ROW_COUNT_ESTIMATE, false},
	{NULL, 0, false}
};

/* retention.enabled: the scheduler starts runs at all */
bool		rt_enabled = true;

/* retention.naptime: seconds between two passes of a database worker */
int			rt_naptime_s = 60;

/* retention.max_workers: database workers running at once */
int			rt_max_workers = 2;

/* retention.max_run_time: time budget of one run started by a worker */
int			rt_max_run_time_ms = 60000;

/* retention.run_history_keep: finished run records kept per policy */
int			rt_run_history_keep = 100;

void		_PG_init(void);

/* Defines the settings any session may use. */
static void
rt_define_session_gucs(void)
{
	DefineCustomIntVariable("retention.batch_size",
							"Rows a retention batch deletes or anonymizes in one transaction.",
							"A policy's own batch_size overrides it.",
							&rt_batch_size, 10000, 1, 1000000,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("retention.lock_timeout",
							"How long a retention batch waits for a lock before it steps around locked rows.",
							"Applied as lock_timeout to each batch; locked rows are skipped and retried by a later run.",
							&rt_lock_timeout_ms, 1000, 1, 600000,
							PGC_USERSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("retention.min_keep",
							"Shortest retention period retention.add_policy() accepts.",
							"Guards against a bare number such as '10' read as 10 seconds; only a superuser may lower it.",
							&rt_min_keep_seconds, 3600, 1, INT_MAX,
							PGC_SUSET, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("retention.batch_pause",
							"Pause between two batches of a retention run.",
							"Leaves CPU and I/O to other sessions during long runs; 0 runs batches back to back. "
							"Applies between batches that commit separately.",
							&rt_batch_pause_ms, 0, 0, 60000,
							PGC_USERSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomEnumVariable("retention.partition_row_count",
							 "How the rows of a partition removed whole are counted for the run record and the audit trail.",
							 "exact counts them (a scan of the partition); estimate takes pg_class.reltuples "
							 "when the partition has been vacuumed or analyzed, and counts otherwise.",
							 &rt_partition_row_count, RT_ROW_COUNT_EXACT, rt_row_count_options,
							 PGC_USERSET, 0, NULL, NULL, NULL);
}

/* Defines the settings of the scheduler; all of them are reloaded on SIGHUP. */
static void
rt_define_scheduler_gucs(void)
{
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
	DefineCustomIntVariable("retention.max_workers",
							"Most pg_retention database workers running at once.",
							"Taken from max_worker_processes; with more databases than workers, databases take turns.",
							&rt_max_workers, 2, 1, 1024,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("retention.max_run_time",
							"Time budget of one policy run started by the scheduler.",
							"A run that exceeds it stops after its current batch and continues on the next pass; 0 means no limit.",
							&rt_max_run_time_ms, 60000, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("retention.run_history_keep",
							"Finished run records the scheduler keeps per policy in retention.runs.",
							"Older records are deleted after each pass that ran a policy.",
							&rt_run_history_keep, 100, 1, INT_MAX,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
}

/* Library initialization: settings, label provider, libsodium, and the scheduler when preloaded. */
void
_PG_init(void)
{
	if (sodium_init() < 0)
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("could not initialize libsodium")));

	rt_define_session_gucs();
	rt_key_define_gucs();
	rt_define_scheduler_gucs();
	rt_audit_define_gucs();
	rt_tag_register_label_provider();

#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("retention");
#else
	EmitWarningsOnPlaceholders("retention");
#endif

	/* the scheduler needs shared memory and workers: only with shared_preload_libraries */
	if (!process_shared_preload_libraries_in_progress)
		return;
	rt_registry_install_hooks();
	rt_sched_ddl_install();
	/* pg_upgrade's server must not run policies against a half-restored cluster */
	if (!IsBinaryUpgrade)
		rt_launcher_register();
}
