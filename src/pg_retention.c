/*
 * pg_retention.c
 *    Entry point of the pg_retention library: _PG_init, which calls each
 *    module's function that defines its settings or registers its hooks.
 *
 * The SQL functions work in any session that loads the library (CREATE
 * EXTENSION and the first call of any function load it); the background
 * workers need the library in shared_preload_libraries.  Nothing includes
 * a header of this file: it is the top of docs/architecture.md's layers.
 */
#include "postgres.h"

#include <sodium.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "cdc.h"
#include "citus_mask.h"
#include "compat.h"
#include "guc.h"
#include "horizon.h"
#include "key.h"
#include "ledger_file.h"
#include "partition.h"
#include "policy.h"
#include "policycmds.h"
#include "restore.h"
#include "run.h"
#include "scheduler.h"
#include "scheduler_idle.h"
#include "tagcmds.h"
#include "throttle.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* Library initialization: settings, label provider, libsodium, and the scheduler when preloaded. */
void
_PG_init(void)
{
	if (sodium_init() < 0)
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("could not initialize libsodium")));

	/* settings: defined in every session, so that SHOW and postgresql.conf work either way */
	rt_guc_define();
	rt_policy_define_gucs();
	rt_policycmds_define_gucs();
	rt_run_define_gucs();
	rt_partition_define_gucs();
	rt_cdc_define_gucs();
	rt_key_define_gucs();
	rt_ledger_file_define_gucs();
	rt_restore_define_gucs();
	rt_horizon_define_gucs();
	rt_launcher_define_gucs();
	rt_worker_define_gucs();
	rt_citus_mask_define_gucs();
	rt_idle_define_gucs();
	rt_throttle_define_gucs();
	rt_reserve_guc_prefix("retention");

	rt_tag_register_label_provider();

	/* the scheduler needs shared memory and workers: only with shared_preload_libraries */
	if (!process_shared_preload_libraries_in_progress)
		return;
	rt_registry_install_hooks();
	rt_sched_ddl_install();
	/* pg_upgrade's server must not run policies against a half-restored cluster */
	if (!IsBinaryUpgrade)
		rt_launcher_register();
}
