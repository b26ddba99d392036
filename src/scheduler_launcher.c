/*
 * scheduler_launcher.c
 *    The launcher background worker: finds the databases that hold
 *    pg_retention and keeps one database worker running in each, within
 *    retention.max_workers.
 *
 * Discovery.  pg_extension is per database, so the launcher (connected to
 * no database) reads pg_database and starts a short-lived worker in each
 * database it has not seen before; that worker reports whether the
 * extension is there and leaves if not.  After that a database is looked
 * at again only when it is new, or when a backend there created, altered
 * or dropped pg_retention (the DDL hook tells the launcher at commit).  So
 * no list is kept by hand and no connection stays open in a database
 * without the extension.
 *
 * Capacity.  A worker stays in its database and sleeps between passes.
 * When more databases are due than retention.max_workers allows, idle
 * workers are asked to give up their slot after their pass; the database
 * due longest gets the next free slot.
 *
 * The worker role.  Workers log in as retention.worker_role (empty: the
 * bootstrap superuser).  The launcher resolves it on every round, logs
 * which role the workers use when that changes, and starts no worker
 * while the role cannot log in, nor one in a database where the role
 * cannot work (no CONNECT, a key_file setting it may not take): a WARNING
 * says why, once, instead of workers failing at login again and again.
 *
 * The launcher starts only once recovery has finished (so a hot standby
 * runs no scheduler process at all, and promotion starts it) and is
 * restarted by the postmaster if it fails.  A failure to start a worker is
 * logged once, with a hint, until a start succeeds again; a database
 * whose worker keeps failing is retried with a growing pause.
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "guc.h"
#include "scheduler.h"
#include "scheduler_registry.h"

/* retention.max_workers: database workers running at once */
static int	rt_max_workers = 2;

/* Defines the setting retention.max_workers (called by _PG_init); reloaded on SIGHUP. */
void
rt_launcher_define_gucs(void)
{
	DefineCustomIntVariable("retention.max_workers",
							"Most pg_retention database workers running at once.",
							"Taken from max_worker_processes; with more databases than workers, databases take turns.",
							&rt_max_workers, 2, 1, 1024,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
}

/* longest pause before a database whose worker keeps failing is tried again */
#define RT_MAX_DB_BACKOFF_S 600

/* seconds the launcher waits before restarting after a failure */
#define RT_LAUNCHER_RESTART_S 5

/* What the launcher tells a worker through bgw_extra (same layout as in scheduler_worker.c). */
typedef struct RtWorkerExtra
{
	Oid			dboid;
	uint32		generation;
	Oid			roleid;			/* the role to log in as (retention.worker_role) */
} RtWorkerExtra;

/* What the launcher knows about a database. */
typedef enum RtDbState
{
	RT_DB_UNKNOWN,				/* not looked at yet: start a worker to find out */
	RT_DB_ACTIVE,				/* holds pg_retention */
	RT_DB_ABSENT				/* does not hold pg_retention */
} RtDbState;

typedef struct RtLauncherDb
{
	Oid			dboid;			/* hash key */
	NameData	datname;
	RtDbState	state;
	bool		seen;			/* found by the last scan of pg_database */
	bool		recheck;		/* pg_retention changed there: look again once its worker is gone */
	int			slot;			/* worker slot, or -1 */
	int			failures;		/* workers that ended in an error in a row */
	TimestampTz next_pass_at;	/* when its next pass is due */
	TimestampTz retry_at;		/* no worker before this, after failures */
	bool		role_refused;	/* the worker role cannot work here (logged once) */
	bool		key_file_refused;	/* its worker left: the role may not take retention.key_file (logged once) */
} RtLauncherDb;

static HTAB *rt_dbs = NULL;

/* handles of the workers this launcher started, by slot */
static BackgroundWorkerHandle **rt_handles = NULL;

/* generation of this launcher, copied into the slots it assigns */
static uint32 rt_generation = 0;

/*
 * retention.max_workers when a start failure was last logged, or -1: the
 * failure is logged once per launcher and setting, not every naptime
 */
static int	rt_start_failure_logged_for = -1;

/* the role workers log in as, resolved this round; InvalidOid when none can */
static Oid	rt_worker_roleid = InvalidOid;

/* what the launcher last logged about the worker role ("role" or the problem), in TopMemoryContext */
static char *rt_role_logged = NULL;

/* the name of rt_worker_roleid, for messages outside a transaction, in TopMemoryContext */
static char *rt_worker_rolename = NULL;

/* Returns the name of the worker role as last resolved, for messages outside a transaction. */
static const char *
rt_role_name(void)
{
	return rt_worker_rolename ? rt_worker_rolename : "?";
}

/* Registers the launcher with the postmaster. */
void
rt_launcher_register(void)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	/* on a hot standby nothing may be written: the launcher waits for promotion */
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = RT_LAUNCHER_RESTART_S;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "pg_retention");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "rt_launcher_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "pg_retention launcher");
	snprintf(worker.bgw_type, BGW_MAXLEN, "pg_retention launcher");
	RegisterBackgroundWorker(&worker);
}

/* Clears the launcher's pid on its way out, so nobody signals a dead process. */
static void
rt_launcher_detach(int code, Datum arg)
{
	(void) code;
	(void) arg;
	LWLockAcquire(rt_registry->lock, LW_EXCLUSIVE);
	if (rt_registry->launcher_pid == MyProcPid)
		rt_registry->launcher_pid = 0;
	LWLockRelease(rt_registry->lock);
}

/*
 * Takes over the registry: a new generation, and the slots of an earlier
 * launcher whose workers never attached are taken back (a worker that
 * attaches late finds the generation changed and leaves).
 */
static void
rt_launcher_attach(void)
{
	LWLockAcquire(rt_registry->lock, LW_EXCLUSIVE);
	rt_registry->launcher_pid = MyProcPid;
	rt_generation = ++rt_registry->generation;
	for (int i = 0; i < rt_registry->nslots; i++)
	{
		RtWorkerSlot *slot = &rt_registry->slots[i];

		if (slot->in_use && (slot->pid == 0 || slot->exited))
			memset(slot, 0, sizeof(*slot));
	}
	LWLockRelease(rt_registry->lock);
}

/* Returns the pause before retrying a database whose worker failed n times in a row. */
static int64
rt_db_backoff_us(int failures)
{
	int64		delay_s = rt_naptime_s;

	for (int i = 1; i < failures && delay_s < RT_MAX_DB_BACKOFF_S; i++)
		delay_s *= 2;
	return Min(delay_s, Max(RT_MAX_DB_BACKOFF_S, (int64) rt_naptime_s)) * USECS_PER_SEC;
}

/* Returns the database a slot serves, when the launcher knows it. */
static RtLauncherDb *
rt_db_of_slot(Oid dboid, int slot)
{
	RtLauncherDb *db = hash_search(rt_dbs, &dboid, HASH_FIND, NULL);

	return (db != NULL && db->slot == slot) ? db : NULL;
}

/*
 * Forgets what the launcher knew about a database whose pg_retention was
 * created, altered or dropped since, once no worker is there: what a
 * worker reported may predate the change.
 */
static void
rt_db_apply_recheck(RtLauncherDb *db, TimestampTz now)
{
	if (!db->recheck || db->slot >= 0)
		return;
	db->recheck = false;
	db->state = RT_DB_UNKNOWN;
	db->next_pass_at = now;
	db->failures = 0;
	db->retry_at = 0;
}

/* Collects the workers that have ended and records what they reported. */
static void
rt_launcher_reap(TimestampTz now)
{
	for (int i = 0; i < rt_registry->nslots; i++)
	{
		RtWorkerSlot *slot = &rt_registry->slots[i];
		RtWorkerSlot copy;
		bool		gone;
		pid_t		pid;
		RtLauncherDb *db;

		LWLockAcquire(rt_registry->lock, LW_SHARED);
		copy = *slot;
		LWLockRelease(rt_registry->lock);
		if (!copy.in_use)
			continue;

		if (rt_handles[i] != NULL)
			gone = GetBackgroundWorkerPid(rt_handles[i], &pid) == BGWH_STOPPED;
		else
			gone = copy.exited;	/* started by an earlier launcher */
		if (!gone)
			continue;

		LWLockAcquire(rt_registry->lock, LW_EXCLUSIVE);
		copy = *slot;
		memset(slot, 0, sizeof(*slot));
		LWLockRelease(rt_registry->lock);
		if (rt_handles[i] != NULL)
		{
			pfree(rt_handles[i]);
			rt_handles[i] = NULL;
		}

		db = rt_db_of_slot(copy.dboid, i);
		if (db == NULL)
			continue;
		db->slot = -1;
		if (copy.clean_exit && copy.key_file_refused)
		{
			/* the worker logged in and found a setting its role may not take: pause, growing */
			if (!db->key_file_refused)
				ereport(WARNING,
						(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						 errmsg("pg_retention runs no policy in database %s: role %s may not take the setting retention.key_file that ALTER DATABASE or ALTER ROLE ... SET gives it",
								quote_identifier(NameStr(db->datname)),
								quote_identifier(rt_role_name())),
						 errdetail("A worker that cannot take it would pseudonymize with another key than the database's sessions. The launcher tries again with growing pauses, at most %d seconds.",
								   RT_MAX_DB_BACKOFF_S),
						 errhint("GRANT SET ON PARAMETER retention.key_file TO %s;",
								 quote_identifier(rt_role_name()))));
			db->key_file_refused = true;
			db->state = RT_DB_ACTIVE;
			db->failures++;
			db->retry_at = now + rt_db_backoff_us(db->failures);
		}
		else if (copy.clean_exit)
		{
			db->failures = 0;
			db->retry_at = 0;
			db->key_file_refused = false;
			if (copy.absent)
				db->state = RT_DB_ABSENT;
			else
			{
				db->state = RT_DB_ACTIVE;
				if (copy.next_pass_at != 0)
					db->next_pass_at = copy.next_pass_at;
			}
		}
		else
		{
			/* it died of an error (logged by itself) or never started */
			db->failures++;
			db->retry_at = now + rt_db_backoff_us(db->failures);
		}
		rt_db_apply_recheck(db, now);
	}
}

/* Takes the requests of backends to look at a database again. */
static void
rt_launcher_take_rechecks(TimestampTz now)
{
	RtBackendEntry *entries = rt_registry_backends();

	LWLockAcquire(rt_registry->lock, LW_EXCLUSIVE);
	for (int i = 0; i < rt_registry->nbackends; i++)
	{
		Oid			dboid = entries[i].recheck_dboid;
		RtLauncherDb *db;

		if (!OidIsValid(dboid))
			continue;
		entries[i].recheck_dboid = InvalidOid;
		db = hash_search(rt_dbs, &dboid, HASH_FIND, NULL);
		if (db != NULL)
		{
			db->recheck = true;
			rt_db_apply_recheck(db, now);
		}
	}
	LWLockRelease(rt_registry->lock);
}

/* Returns true when the worker may connect to a database of pg_database. */
static bool
rt_database_usable(Form_pg_database pgdb)
{
#ifdef DATCONNLIMIT_INVALID_DB
	/* a database whose DROP was interrupted cannot be connected to */
	if (pgdb->datconnlimit == DATCONNLIMIT_INVALID_DB)
		return false;
#endif
	/* templates are copied, not used: keeping them free of connections keeps CREATE DATABASE working */
	return pgdb->datallowconn && !pgdb->datistemplate;
}

/* Reads pg_database: new databases become UNKNOWN, vanished ones are forgotten. */
static void
rt_launcher_scan_databases(TimestampTz now)
{
	HASH_SEQ_STATUS seq;
	RtLauncherDb *db;
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tuple;

	hash_seq_init(&seq, rt_dbs);
	while ((db = hash_seq_search(&seq)) != NULL)
		db->seen = false;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	(void) GetTransactionSnapshot();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while (HeapTupleIsValid(tuple = heap_getnext(scan, ForwardScanDirection)))
	{
		Form_pg_database pgdb = (Form_pg_database) GETSTRUCT(tuple);
		bool		found;

		if (!rt_database_usable(pgdb))
			continue;
		db = hash_search(rt_dbs, &pgdb->oid, HASH_ENTER, &found);
		if (!found)
		{
			db->recheck = false;
			db->state = RT_DB_UNKNOWN;
			db->slot = -1;
			db->failures = 0;
			db->next_pass_at = now;
			db->retry_at = 0;
			db->role_refused = false;
			db->key_file_refused = false;
		}
		db->datname = pgdb->datname;
		db->seen = true;
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();

	hash_seq_init(&seq, rt_dbs);
	while ((db = hash_seq_search(&seq)) != NULL)
	{
		if (!db->seen && db->slot < 0)
			(void) hash_search(rt_dbs, &db->dboid, HASH_REMOVE, NULL);
	}
}

/*
 * Resolves retention.worker_role for this round (docs/operations.md#the-worker-role):
 * logs which role the workers log in as whenever that changes, or a
 * WARNING when no worker can log in as it; and marks the databases where
 * the role cannot work, with a WARNING (a LOG for a database not known to
 * hold pg_retention) the first time.  Returns false when no worker may
 * start at all.
 */
static bool
rt_launcher_check_role(void)
{
	MemoryContext cxt = CurrentMemoryContext;
	HASH_SEQ_STATUS seq;
	RtLauncherDb *db;
	char	   *problem;
	char	   *said;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	rt_worker_roleid = rt_sched_worker_role(&problem);
	if (rt_worker_rolename != NULL)
		pfree(rt_worker_rolename);
	rt_worker_rolename = OidIsValid(rt_worker_roleid) ?
		MemoryContextStrdup(TopMemoryContext, GetUserNameFromId(rt_worker_roleid, false)) : NULL;
	said = problem != NULL ? problem :
		psprintf("role %s%s", quote_identifier(GetUserNameFromId(rt_worker_roleid, false)),
				 superuser_arg(rt_worker_roleid) ? " (a superuser)" : "");
	if (rt_role_logged == NULL || strcmp(rt_role_logged, said) != 0)
	{
		if (problem != NULL)
			ereport(WARNING,
					(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
					 errmsg("pg_retention starts no database worker: %s", problem),
					 errdetail("retention.worker_role names the role database workers log in as."),
					 errhint("Create the role with LOGIN (docs/operations.md, \"The worker role\"), or set retention.worker_role to '' for the bootstrap superuser; then reload.")));
		else
			ereport(LOG,
					(errmsg("pg_retention database workers log in as %s", said),
					 errdetail("Each policy runs as the owner of its table; retention.worker_role %s.",
							   rt_worker_role[0] == '\0' ? "is empty" : "names the login role")));
		if (rt_role_logged != NULL)
			pfree(rt_role_logged);
		rt_role_logged = MemoryContextStrdup(TopMemoryContext, said);
	}
	hash_seq_init(&seq, rt_dbs);
	while ((db = hash_seq_search(&seq)) != NULL)
	{
		char	   *refusal;

		if (!OidIsValid(rt_worker_roleid) || db->state == RT_DB_ABSENT || !db->seen)
			continue;
		refusal = rt_sched_worker_role_problem(db->dboid, rt_worker_roleid, false, NULL);
		if (refusal != NULL && !db->role_refused)
			/* a database not known to hold pg_retention (no worker there yet) only gets a LOG */
			ereport(db->state == RT_DB_ACTIVE || db->slot >= 0 ? WARNING : LOG,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("pg_retention runs no policy in database %s: %s",
							quote_identifier(NameStr(db->datname)), refusal),
					 errdetail("retention.worker_role names the role database workers log in as."),
					 errhint("GRANT CONNECT ON DATABASE %s TO %s; (none is needed if pg_retention is not installed there)",
							 quote_identifier(NameStr(db->datname)),
							 quote_identifier(GetUserNameFromId(rt_worker_roleid, false)))));
		else if (refusal == NULL && db->role_refused)
			ereport(LOG,
					(errmsg("pg_retention database workers can work in database %s again",
							quote_identifier(NameStr(db->datname)))));
		db->role_refused = refusal != NULL;
	}
	CommitTransactionCommand();
	MemoryContextSwitchTo(cxt);
	return OidIsValid(rt_worker_roleid);
}

/* Returns when a database wants a worker next: its next pass, or later after failures. */
static TimestampTz
rt_db_due_at(const RtLauncherDb *db)
{
	return Max(db->next_pass_at, db->retry_at);
}

/* Orders databases by the time they are due, earliest first. */
static int
rt_db_cmp(const ListCell *a, const ListCell *b)
{
	TimestampTz ta = rt_db_due_at(lfirst(a));
	TimestampTz tb = rt_db_due_at(lfirst(b));

	return ta < tb ? -1 : (ta > tb ? 1 : 0);
}

/* Returns a free slot, or -1; the caller holds the lock. */
static int
rt_free_slot(void)
{
	for (int i = 0; i < rt_registry->nslots; i++)
	{
		if (!rt_registry->slots[i].in_use)
			return i;
	}
	return -1;
}

/* Starts a worker for db; returns false when the postmaster has no slot for it. */
static bool
rt_launcher_start(RtLauncherDb *db)
{
	BackgroundWorker worker;
	RtWorkerExtra extra;
	int			index;

	LWLockAcquire(rt_registry->lock, LW_EXCLUSIVE);
	index = rt_free_slot();
	if (index >= 0)
	{
		RtWorkerSlot *slot = &rt_registry->slots[index];

		memset(slot, 0, sizeof(*slot));
		slot->in_use = true;
		slot->dboid = db->dboid;
		slot->generation = rt_generation;
		slot->next_pass_at = db->next_pass_at;
	}
	LWLockRelease(rt_registry->lock);
	if (index < 0)
		return false;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "pg_retention");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "rt_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "pg_retention worker for database %s",
			 quote_identifier(NameStr(db->datname)));
	snprintf(worker.bgw_type, BGW_MAXLEN, "pg_retention worker");
	worker.bgw_main_arg = Int32GetDatum(index);
	worker.bgw_notify_pid = MyProcPid;
	extra.dboid = db->dboid;
	extra.generation = rt_generation;
	extra.roleid = rt_worker_roleid;
	memcpy(worker.bgw_extra, &extra, sizeof(extra));

	if (!RegisterDynamicBackgroundWorker(&worker, &rt_handles[index]))
	{
		LWLockAcquire(rt_registry->lock, LW_EXCLUSIVE);
		memset(&rt_registry->slots[index], 0, sizeof(RtWorkerSlot));
		LWLockRelease(rt_registry->lock);
		rt_handles[index] = NULL;
		if (rt_start_failure_logged_for != rt_max_workers)
			ereport(WARNING,
					(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
					 errmsg("pg_retention could not start a worker for database %s",
							quote_identifier(NameStr(db->datname))),
					 errdetail("All background worker slots (max_worker_processes = %d) are in use.",
							   max_worker_processes),
					 errhint("Raise max_worker_processes (a restart is needed) or lower retention.max_workers (now %d). "
							 "Meanwhile databases take turns in the slots there are; this is not logged again until retention.max_workers changes.",
							 rt_max_workers)));
		rt_start_failure_logged_for = rt_max_workers;
		return false;
	}
	db->slot = index;
	return true;
}

/* Asks workers to give up their slot after their pass, until n have been asked. */
static void
rt_launcher_ask_to_yield(int n)
{
	LWLockAcquire(rt_registry->lock, LW_EXCLUSIVE);
	/* those asked before and not gone yet count */
	for (int i = 0; i < rt_registry->nslots; i++)
	{
		if (rt_registry->slots[i].in_use && !rt_registry->slots[i].exited &&
			rt_registry->slots[i].yield)
			n--;
	}
	for (int i = 0; i < rt_registry->nslots && n > 0; i++)
	{
		RtWorkerSlot *slot = &rt_registry->slots[i];

		if (slot->in_use && !slot->exited && slot->pid != 0 && !slot->yield)
		{
			n--;
			slot->yield = true;
			if (slot->idle)
				kill(slot->pid, SIGUSR1);
		}
	}
	LWLockRelease(rt_registry->lock);
}

/* Returns true when a worker slot (maybe of an earlier launcher) serves dboid. */
static bool
rt_db_served(Oid dboid)
{
	bool		served = false;

	LWLockAcquire(rt_registry->lock, LW_SHARED);
	for (int i = 0; i < rt_registry->nslots; i++)
		served |= rt_registry->slots[i].in_use && rt_registry->slots[i].dboid == dboid;
	LWLockRelease(rt_registry->lock);
	return served;
}

/* Returns the number of slots in use. */
static int
rt_slots_in_use(void)
{
	int			n = 0;

	LWLockAcquire(rt_registry->lock, LW_SHARED);
	for (int i = 0; i < rt_registry->nslots; i++)
		n += rt_registry->slots[i].in_use ? 1 : 0;
	LWLockRelease(rt_registry->lock);
	return n;
}

/*
 * Starts workers for the databases that are due, earliest first, within
 * retention.max_workers.  Returns the time the next database falls due
 * (0 when none waits for time rather than for a slot).
 */
static TimestampTz
rt_launcher_start_due(TimestampTz now)
{
	HASH_SEQ_STATUS seq;
	RtLauncherDb *db;
	List	   *due = NIL;
	ListCell   *lc;
	TimestampTz next = 0;
	int			running = rt_slots_in_use();
	int			cap = Min(rt_max_workers, rt_registry->nslots);
	int			waiting = 0;
	bool		blocked = false;

	hash_seq_init(&seq, rt_dbs);
	while ((db = hash_seq_search(&seq)) != NULL)
	{
		bool		held;

		if (db->state == RT_DB_ABSENT || db->slot >= 0 || !db->seen || rt_db_served(db->dboid) ||
			db->role_refused)
			continue;
		LWLockAcquire(rt_registry->lock, LW_SHARED);
		held = rt_registry_database_held(db->dboid);
		LWLockRelease(rt_registry->lock);
		if (held)
			continue;			/* DDL in progress; its commit wakes us */
		if (rt_db_due_at(db) > now)
		{
			if (next == 0 || rt_db_due_at(db) < next)
				next = rt_db_due_at(db);
			continue;
		}
		due = lappend(due, db);
	}
	list_sort(due, rt_db_cmp);

	foreach(lc, due)
	{
		db = lfirst(lc);
		if (running >= cap || blocked)
		{
			waiting++;
			continue;
		}
		if (rt_launcher_start(db))
			running++;
		else
		{
			blocked = true;
			waiting++;
			/* no slot from the postmaster: try again after a naptime */
			next = now + (TimestampTz) rt_naptime_s * USECS_PER_SEC;
		}
	}
	/* short of slots (ours or the postmaster's): databases take turns */
	if (waiting > 0)
		rt_launcher_ask_to_yield(waiting);
	/* retention.max_workers was lowered: the extra workers leave after their pass */
	else if (running > cap)
		rt_launcher_ask_to_yield(running - cap);
	list_free(due);
	return next;
}

/* Main function of the launcher. */
void
rt_launcher_main(Datum main_arg)
{
	HASHCTL		ctl;
	MemoryContext loop_cxt;

	(void) main_arg;
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);

	rt_launcher_attach();
	before_shmem_exit(rt_launcher_detach, (Datum) 0);

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(RtLauncherDb);
	rt_dbs = hash_create("pg_retention databases", 64, &ctl, HASH_ELEM | HASH_BLOBS);
	rt_handles = MemoryContextAllocZero(TopMemoryContext,
										sizeof(BackgroundWorkerHandle *) * rt_registry->nslots);
	loop_cxt = AllocSetContextCreate(TopMemoryContext, "pg_retention launcher loop",
									 ALLOCSET_DEFAULT_SIZES);

	for (;;)
	{
		TimestampTz now;
		TimestampTz next;
		long		ms;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		MemoryContextReset(loop_cxt);
		MemoryContextSwitchTo(loop_cxt);

		now = GetCurrentTimestamp();
		rt_launcher_reap(now);
		rt_launcher_take_rechecks(now);
		rt_launcher_scan_databases(now);
		next = rt_enabled && rt_launcher_check_role() ? rt_launcher_start_due(now) : 0;
		MemoryContextSwitchTo(TopMemoryContext);

		/* look at pg_database at least every naptime, to notice new databases */
		ms = (long) rt_naptime_s * 1000L;
		if (next != 0)
			ms = Min(ms, Max(1L, (long) ((next - GetCurrentTimestamp()) / 1000)));
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
