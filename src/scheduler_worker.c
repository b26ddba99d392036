/*
 * scheduler_worker.c
 *    The database worker: connected to one database, it wakes every
 *    retention.naptime and runs the due policies of that database through
 *    the same engine as CALL retention.run(), one transaction per batch.
 *
 * A pass visits every enabled policy, least recently run first, so that
 * with a time budget per run (retention.max_run_time) no policy waits
 * behind a long one for more than one pass.  A policy whose last run
 * failed is retried with a growing back-off (scheduler_rules.c), and one
 * whose last run was left "running" by a crash is run at once, which
 * marks that run interrupted and redoes its work.
 *
 * The worker logs in as retention.worker_role (the launcher resolves it
 * and passes its OID), by default the bootstrap superuser, the one role
 * sure to exist and to be allowed to log in; it runs nothing as that role
 * that a user could influence.  The engine writes the extension's tables
 * as the extension owner and runs every batch, and this file runs every
 * due test, as the owner of the policy's table inside a restricted
 * security context with search_path pg_catalog, pg_temp; so the role needs
 * no privilege but to log in (docs/operations.md#the-worker-role).  When
 * the setting changes, or the role can no longer work here, the worker
 * leaves before its next pass and the launcher starts it again.
 *
 * Run windows.  A policy outside its window, or within its min_interval,
 * is not visited; the worker sleeps until the earliest time such a policy
 * may start (bounded by naptime), and a run it starts inside a window
 * stops between batches at the window's end (scheduler_rules.c).
 *
 * Restores.  A pg_restore session holds its database like DDL does (see
 * scheduler_ddl.c), so the worker leaves (its batch in flight cancelled)
 * and no other starts until the restore has disconnected.
 *
 * Stopping.  DDL that wants the database (registry "leave"), the
 * launcher wanting the slot ("yield"), retention.enabled off and a
 * configuration reload are noticed between batches: the run in progress
 * ends at that batch boundary as a run that used up its time budget, and
 * the next pass continues it.  SIGINT (pg_cancel_backend, or DDL in a
 * hurry) cancels the statement in flight: a batch rolls back whole and is
 * recorded as interrupted.  SIGTERM (pg_terminate_backend, DROP DATABASE
 * WITH (FORCE), a fast shutdown) must stop the worker within moments, and
 * the worker may be deep in the table owner's code (a slow mask function
 * in a due test, a trigger of a pending erasure): inside a transaction it
 * acts as die() does, so the statement in flight is interrupted, the
 * transaction rolls back and the worker exits (a run left "running" is
 * marked interrupted by the next run, which redoes its batch); between
 * transactions it only asks the worker to leave.
 *
 * Anchors.  At the end of a pass the worker writes the head of the audit
 * chain to the server log when it moved, at most every
 * retention.audit_anchor_interval, so that a copy of the chain head exists
 * outside the database (see audit.c).
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "commands/dbcommands.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "audit.h"
#include "compat.h"
#include "erasure_ledger.h"
#include "extension.h"
#include "guc.h"
#include "horizon.h"
#include "policy.h"
#include "privilege.h"
#include "quote.h"
#include "restore.h"
#include "run.h"
#include "run_options.h"
#include "runlog.h"
#include "scheduler.h"
#include "scheduler_registry.h"
#include "subxact.h"

/* retention.run_history_keep: finished run records kept per policy */
static int	rt_run_history_keep = 100;

/* retention.audit_anchor_interval: least time between two anchors the worker logs */
static int	rt_audit_anchor_interval_s = 600;

/* Defines the settings only the database worker reads (called by _PG_init); reloaded on SIGHUP. */
void
rt_worker_define_gucs(void)
{
	DefineCustomIntVariable("retention.run_history_keep",
							"Finished run records the scheduler keeps per policy in retention.runs.",
							"Older records are deleted after each pass that ran a policy.",
							&rt_run_history_keep, 100, 1, INT_MAX,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("retention.audit_anchor_interval",
							"Least time between two audit anchors a pg_retention worker writes to the server log.",
							"An anchor is the seq and hash of the newest audit entry, logged when the trail has grown; 0 turns the log lines off.",
							&rt_audit_anchor_interval_s, 600, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
}

/* What the launcher tells a worker through bgw_extra. */
typedef struct RtWorkerExtra
{
	Oid			dboid;
	uint32		generation;
	Oid			roleid;			/* the role to log in as (retention.worker_role) */
} RtWorkerExtra;

/* One policy as a pass sees it. */
typedef struct RtScheduled
{
	int64		policy_id;
	RtPolicy   *policy;			/* as read at the start of the pass */
	bool		stale;			/* its last run is still recorded as running */
	int64		failures;		/* failed runs since the last that did not fail */
	TimestampTz last_start;		/* start of its last run, 0 if never */
	TimestampTz round_start;	/* RT_SQL_ROUND_START: min_interval counts from it, 0 if none */
} RtScheduled;

/* set by SIGTERM: stop (at once inside a transaction, see rt_worker_sigterm) */
static volatile sig_atomic_t rt_got_sigterm = false;

/* the worker is inside a transaction, where a SIGTERM interrupts the statement in flight */
static volatile sig_atomic_t rt_in_xact = false;

/* the last audit anchor this worker logged, and when */
static int64 rt_logged_anchor_seq = -1;
static TimestampTz rt_logged_anchor_at = 0;

/* this worker's slot in the registry */
static RtWorkerSlot *rt_my_slot = NULL;

/* options of the run in progress; the transaction callback moves its deadline */
static RtRunOptions rt_run_options;

/* the earliest time a policy the last pass left waiting may start (run windows); 0: none */
static TimestampTz rt_wake_at = 0;

/*
 * SIGTERM handler: inside a transaction, die(): the next
 * CHECK_FOR_INTERRUPTS ends the worker, even in the middle of the table
 * owner's code; between transactions, asks the worker to leave.
 */
static void
rt_worker_sigterm(SIGNAL_ARGS)
{
	int			save_errno = errno;

	rt_got_sigterm = true;
	if (rt_in_xact)
		die(postgres_signal_arg);
	SetLatch(MyLatch);
	errno = save_errno;
}

/* Marks the slot as left; runs on the way out, after the transaction was aborted. */
static void
rt_worker_detach(int code, Datum arg)
{
	(void) code;
	(void) arg;
	if (rt_my_slot == NULL)
		return;
	LWLockAcquire(rt_registry->lock, LW_EXCLUSIVE);
	rt_my_slot->exited = true;
	rt_my_slot->in_xact = false;
	rt_my_slot->idle = false;
	/* told to stop: the launcher must not take that for a failure */
	if (rt_got_sigterm)
		rt_my_slot->clean_exit = true;
	LWLockRelease(rt_registry->lock);
}

/* Leaves on purpose: the launcher will not count this as a failure. */
static void
rt_worker_exit(bool absent)
{
	if (rt_my_slot != NULL)
	{
		LWLockAcquire(rt_registry->lock, LW_EXCLUSIVE);
		rt_my_slot->clean_exit = true;
		rt_my_slot->absent = absent;
		LWLockRelease(rt_registry->lock);
	}
	proc_exit(0);
}

/* Returns true when something asks the worker to stop working in this database. */
static bool
rt_worker_must_stop(void)
{
	bool		leave;

	LWLockAcquire(rt_registry->lock, LW_SHARED);
	leave = rt_my_slot->leave || rt_registry_database_held(rt_my_slot->dboid);
	LWLockRelease(rt_registry->lock);
	return leave || rt_got_sigterm || !rt_enabled;
}

/* Sets one setting of the worker's session, above what postgresql.conf, the database and the role say. */
static void
rt_worker_set(const char *name, const char *value)
{
	(void) set_config_option(name, value, PGC_SUSET, PGC_S_SESSION,
							 GUC_ACTION_SET, true, 0, false);
}

/*
 * Applies the session settings the worker needs, again after each reload
 * (docs/operations.md "Session settings the engine pins"); the settings
 * of each statement are pinned besides by safe_spi.c.
 */
static void
rt_worker_session_settings(void)
{
	char		buf[32];

	/* the worker never waits longer than a batch would for any lock */
	snprintf(buf, sizeof(buf), "%d", rt_lock_timeout_ms);
	rt_worker_set("lock_timeout", buf);
	/* batches are bounded by size; a cluster-wide statement_timeout must not cut them */
	rt_worker_set("statement_timeout", "0");
	/* PostgreSQL arms these only in client sessions; 0 says so should that change */
	rt_worker_set("idle_in_transaction_session_timeout", "0");
	rt_worker_set("idle_session_timeout", "0");
	rt_worker_set("search_path", "pg_catalog, pg_temp");
	/*
	 * Every transaction the worker starts reads committed and may write: a
	 * batch steps around rows others changed meanwhile instead of failing
	 * with a serialization error, and default_transaction_read_only cannot
	 * make every run fail half-way.
	 */
	rt_worker_set("default_transaction_isolation", "read committed");
	rt_worker_set("default_transaction_read_only", "off");
	rt_worker_set("default_transaction_deferrable", "off");
	/* safe_spi.c pins it per statement too; set here once, the plan cache is not emptied twice a statement */
	rt_worker_set("session_replication_role", "origin");
	rt_worker_set("application_name", "pg_retention worker");
}

/* Handles what signals left pending outside of runs: reload, stray cancels, barriers. */
static void
rt_worker_absorb_interrupts(void)
{
	/* a cancel meant for a transaction that has already ended has nothing left to cancel */
	if (QueryCancelPending)
	{
		LWLockAcquire(rt_registry->lock, LW_SHARED);
		if (!rt_my_slot->in_xact)
			QueryCancelPending = false;
		LWLockRelease(rt_registry->lock);
	}
	CHECK_FOR_INTERRUPTS();
	if (ConfigReloadPending)
	{
		ConfigReloadPending = false;
		ProcessConfigFile(PGC_SIGHUP);
		rt_worker_session_settings();
	}
}

/*
 * The engine's next_transaction: commits the batch, starts the next
 * transaction, and ends the run at this boundary when the worker must
 * stop or reload its settings.
 */
static void
rt_worker_next_transaction(void)
{
	/* SPI_commit refuses to commit with snapshots no portal accounts for */
	while (ActiveSnapshotSet())
		PopActiveSnapshot();
	rt_spi_commit_and_start();
	PushActiveSnapshot(GetTransactionSnapshot());
	CHECK_FOR_INTERRUPTS();
	if (rt_worker_must_stop() || ConfigReloadPending)
	{
		rt_run_options.deadline = 1;	/* long past: the run stops after this batch */
		rt_run_options.deadline_note = "stopped between batches: the worker was asked to leave or to reload its settings; the next run goes on";
	}
}

/*
 * The engine's at_top_level: runs fn(arg) outside the worker's SPI
 * connection and snapshot, so that a statement in it may commit by itself
 * (DETACH PARTITION ... CONCURRENTLY), then opens them again.
 */
static void
rt_worker_at_top_level(void (*fn) (void *), void *arg)
{
	MemoryContext cxt = CurrentMemoryContext;
	MemoryContext connected_from;

	while (ActiveSnapshotSet())
		PopActiveSnapshot();
	SPI_finish();
	/* SPI_finish returns to where the connection was opened: open the new one from there */
	connected_from = CurrentMemoryContext;
	MemoryContextSwitchTo(cxt);
	fn(arg);
	MemoryContextSwitchTo(connected_from);
	SPI_connect_ext(SPI_OPT_NONATOMIC);
	MemoryContextSwitchTo(cxt);
	PushActiveSnapshot(GetTransactionSnapshot());
}

/* Returns a copy of a policy in the current memory context. */
static RtPolicy *
rt_policy_copy(const RtPolicy *p)
{
	RtPolicy   *copy = palloc(sizeof(RtPolicy));
	ListCell   *lc;

	*copy = *p;
	copy->anchor = pstrdup(p->anchor);
	copy->basis = p->basis ? pstrdup(p->basis) : NULL;
	copy->time_zone = pstrdup(p->time_zone);
	copy->detach_schema = p->detach_schema ? pstrdup(p->detach_schema) : NULL;
	copy->columns = NIL;
	foreach(lc, p->columns)
		copy->columns = lappend(copy->columns, pstrdup(lfirst(lc)));
	return copy;
}

/* Orders policies by id, for bsearch. */
static int
rt_policy_ptr_cmp(const void *a, const void *b)
{
	int64		x = (*(RtPolicy *const *) a)->policy_id;
	int64		y = (*(RtPolicy *const *) b)->policy_id;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/*
 * Reads the enabled policies, least recently run first, into cxt.  The
 * policies themselves are read in one query, so that a policy with nothing
 * due costs its due test and nothing else; a due one is read again before
 * it runs.
 */
static List *
rt_worker_read_schedule(MemoryContext cxt)
{
	List	   *result = NIL;
	MemoryContext old;
	List	   *policies;
	RtPolicy  **by_id;
	int			npolicies;
	ListCell   *lc;
	int			n = 0;

	/* SPI leaves the list in its procedure context, which ends with this transaction */
	policies = rt_policy_list(InvalidOid, false);
	old = MemoryContextSwitchTo(cxt);
	npolicies = list_length(policies);
	by_id = palloc(sizeof(RtPolicy *) * Max(npolicies, 1));
	foreach(lc, policies)
		by_id[n++] = rt_policy_copy(lfirst(lc));
	qsort(by_id, npolicies, sizeof(RtPolicy *), rt_policy_ptr_cmp);
	MemoryContextSwitchTo(old);

	rt_catalog_exec(psprintf("SELECT p.policy_id, last.status OPERATOR(pg_catalog.=) 'running',"
							 " " RT_SQL_FAILURES_IN_A_ROW("p.policy_id") ","
							 " last.started_at, %s"
							 " FROM retention.policy_catalog p"
							 " LEFT JOIN LATERAL (SELECT h.status, h.started_at FROM retention.run_history h"
							 "   WHERE h.policy_id OPERATOR(pg_catalog.=) p.policy_id"
							 "   ORDER BY h.run_id DESC LIMIT 1) last ON true"
							 " WHERE p.enabled"
							 " ORDER BY last.started_at NULLS FIRST, p.policy_id",
							 rt_sql_objects_at_least("0.3.0") ? RT_SQL_ROUND_START("p.policy_id") :
							 "NULL::pg_catalog.timestamptz"),
					0, NULL, NULL, NULL, true, SPI_OK_SELECT);

	old = MemoryContextSwitchTo(cxt);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		RtScheduled *s = palloc0(sizeof(RtScheduled));
		RtPolicy	key;
		RtPolicy   *keyp = &key;
		RtPolicy  **found;
		bool		isnull;
		Datum		d;

		s->policy_id = DatumGetInt64(SPI_getbinval(tuple, desc, 1, &isnull));
		key.policy_id = s->policy_id;
		found = npolicies > 0 ?
			bsearch(&keyp, by_id, npolicies, sizeof(RtPolicy *), rt_policy_ptr_cmp) : NULL;
		if (found == NULL)
			continue;			/* enabled after the list was read: next pass */
		s->policy = *found;
		d = SPI_getbinval(tuple, desc, 2, &isnull);
		s->stale = !isnull && DatumGetBool(d);
		s->failures = DatumGetInt64(SPI_getbinval(tuple, desc, 3, &isnull));
		d = SPI_getbinval(tuple, desc, 4, &isnull);
		s->last_start = isnull ? 0 : DatumGetTimestampTz(d);
		d = SPI_getbinval(tuple, desc, 5, &isnull);
		s->round_start = isnull ? 0 : DatumGetTimestampTz(d);
		result = lappend(result, s);
	}
	MemoryContextSwitchTo(old);
	return result;
}

/*
 * Publishes whether the worker is inside a transaction, where DDL cancels
 * it and SIGTERM interrupts it; a SIGTERM that came just before a
 * transaction starts ends the worker at that transaction's first
 * interrupt check.
 */
static void
rt_worker_set_in_xact(bool in_xact)
{
	LWLockAcquire(rt_registry->lock, LW_EXCLUSIVE);
	rt_my_slot->in_xact = in_xact;
	LWLockRelease(rt_registry->lock);
	rt_in_xact = in_xact;
	if (in_xact && rt_got_sigterm)
	{
		InterruptPending = true;
		ProcDiePending = true;
	}
}

/*
 * Starts a transaction with SPI connected (non-atomic) and a snapshot
 * pushed.  A non-atomic SPI connection keeps its memory under
 * PortalContext, which a background worker has none of: the pass context
 * stands in, so that what an error leaves behind goes with the pass.
 */
static void
rt_worker_begin(MemoryContext cxt)
{
	rt_worker_set_in_xact(true);
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PortalContext = cxt;
	SPI_connect_ext(SPI_OPT_NONATOMIC);
	PushActiveSnapshot(GetTransactionSnapshot());
}

/* Commits the transaction begun by rt_worker_begin (or the one the engine left open). */
static void
rt_worker_commit(void)
{
	while (ActiveSnapshotSet())
		PopActiveSnapshot();
	SPI_finish();
	CommitTransactionCommand();
	rt_worker_set_in_xact(false);
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
}

/* Aborts the transaction an error interrupted. */
static void
rt_worker_abort(void)
{
	AbortCurrentTransaction();
	rt_worker_set_in_xact(false);
}

/* The policy and answer of one due test (for rt_in_subtransaction). */
typedef struct RtDueStep
{
	const RtPolicy *policy;
	TimestampTz now;
	bool		due;
} RtDueStep;

/* Asks whether a policy is due (a step for rt_in_subtransaction). */
static void
rt_worker_due_step(void *arg)
{
	RtDueStep  *step = arg;

	step->due = rt_sched_policy_due(step->policy, step->now);
}

/* Runs the due test in a subtransaction; a lock timeout means "not now", other errors "let the run see". */
static bool
rt_worker_due(const RtPolicy *policy, TimestampTz now)
{
	RtDueStep	step = {policy, now, false};
	ErrorData  *edata = rt_in_subtransaction(rt_worker_due_step, &step, CurrentMemoryContext);
	bool		due;

	if (edata == NULL)
		return step.due;
	/* DDL holds the table: try again next pass; anything else, the run records */
	due = edata->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE &&
		edata->sqlerrcode != ERRCODE_QUERY_CANCELED;
	FreeErrorData(edata);
	return due;
}

/* Returns true when now lies in the policy's run window. */
static bool
rt_worker_window_open(const RtPolicy *policy, TimestampTz now)
{
	TimestampTz opens;
	TimestampTz closes;

	rt_sched_window_at(policy, now, &opens, &closes);
	return opens <= now;
}

/*
 * Sets the deadline of a run starting now: the earlier of its time budget
 * (retention.max_run_time) and the end of the policy's run window, with the
 * note the run records when it stops there.
 */
static void
rt_worker_set_deadline(const RtPolicy *policy, TimestampTz now)
{
	rt_run_options.deadline = rt_max_run_time_ms > 0 ?
		TimestampTzPlusMilliseconds(now, rt_max_run_time_ms) : 0;
	rt_run_options.deadline_note = NULL;
	if (policy->has_window)
	{
		TimestampTz opens;
		TimestampTz closes;

		rt_sched_window_at(policy, now, &opens, &closes);
		if (rt_run_options.deadline == 0 || closes < rt_run_options.deadline)
		{
			rt_run_options.deadline = closes;
			rt_run_options.deadline_note =
				psprintf("stopped at the end of its run window (%s to %s, %s); the next run goes on when it opens again",
						 rt_time_of_day_text(policy->window_start),
						 rt_time_of_day_text(policy->window_end), policy->time_zone);
		}
	}
}

/* Visits one policy: runs it if it is due; returns true when a run was recorded. */
static bool
rt_worker_visit(const RtScheduled *entry, MemoryContext cxt)
{
	volatile bool ran = false;
	MemoryContext visit_cxt = AllocSetContextCreate(cxt, "pg_retention policy visit",
													ALLOCSET_SMALL_SIZES);

	rt_worker_begin(cxt);
	/* the run outlives the SPI connection, which at_top_level closes and opens again */
	MemoryContextSwitchTo(visit_cxt);
	PG_TRY();
	{
		TimestampTz now = GetCurrentTimestamp();
		RtPolicy   *policy = NULL;

		/* the due test uses the pass's copy; a due policy is read afresh */
		if (entry->stale || rt_worker_due(entry->policy, now))
			policy = rt_policy_get(entry->policy_id, false);
		else if (entry->last_start != 0 && entry->last_start != entry->round_start)
			rt_runlog_round_over(entry->policy_id);	/* its stopped run left nothing: min_interval counts */
		/* read afresh, it may have been altered; and the pass may have come late to it */
		if (policy != NULL && policy->has_window && !rt_worker_window_open(policy, now))
			policy = NULL;
		if (policy != NULL && policy->enabled)
		{
			RtRunStats	stats;
			ErrorData  *error;
			RtRunOutcome outcome;
			char	   *relname = rt_relation_name(policy->relid);

			pgstat_report_activity(STATE_RUNNING,
								   psprintf("retention policy " INT64_FORMAT " on %s",
											policy->policy_id, relname));
			rt_run_options.next_transaction = rt_worker_next_transaction;
			rt_run_options.at_top_level = rt_worker_at_top_level;
			rt_run_options.trigger = "worker";
			rt_worker_set_deadline(policy, now);
			outcome = rt_run_policy(policy, now, &rt_run_options, &stats, &error);
			ran = outcome != RT_RUN_BUSY;
			if (outcome == RT_RUN_FAILED)
				ereport(LOG,
						(errmsg("retention policy " INT64_FORMAT " on %s failed: %s",
								policy->policy_id, relname, error->message),
						 errhint("The run is recorded in retention.runs; the worker retries it with a growing pause.")));
			else if (outcome == RT_RUN_INCOMPLETE)
				ereport(LOG,
						(errmsg("%s", error->message),
						 errhint("The run is recorded in retention.runs as incomplete; the worker retries it with a growing pause.")));
		}
		rt_worker_commit();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		rt_worker_abort();
		pgstat_report_activity(STATE_IDLE, NULL);
		/* a cancel sent to make the worker leave is expected, not news */
		if (!(edata->sqlerrcode == ERRCODE_QUERY_CANCELED && rt_worker_must_stop()))
			ereport(LOG,
					(errmsg("retention policy " INT64_FORMAT " was not run to its end: %s",
							entry->policy_id, edata->message),
					 errhint("The worker tries it again on a later pass.")));
		FreeErrorData(edata);
		ran = true;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	MemoryContextDelete(visit_cxt);
	return ran;
}

/*
 * In a PG_CATCH block: aborts the worker's transaction and logs the error
 * as "what: message" (with hint), except a cancel sent to make the worker
 * leave, which is expected.
 */
static void
rt_worker_failed(MemoryContext cxt, const char *what, const char *hint)
{
	ErrorData  *edata;

	MemoryContextSwitchTo(cxt);
	edata = CopyErrorData();
	FlushErrorState();
	rt_worker_abort();
	if (!(edata->sqlerrcode == ERRCODE_QUERY_CANCELED && rt_worker_must_stop()))
		ereport(LOG,
				(errmsg("%s: %s", what, edata->message),
				 hint ? errhint("%s", hint) : 0));
	FreeErrorData(edata);
}

/*
 * Runs fn(arg) in a transaction of its own; returns true when it committed.
 * An error is logged as "what: message" (with hint) and the transaction
 * aborted, except a cancel sent to make the worker leave, which is expected.
 */
static bool
rt_worker_transaction(MemoryContext cxt, void (*fn) (void *arg), void *arg,
					  const char *what, const char *hint)
{
	volatile bool ok = false;

	rt_worker_begin(cxt);
	PG_TRY();
	{
		fn(arg);
		rt_worker_commit();
		ok = true;
	}
	PG_CATCH();
	{
		rt_worker_failed(cxt, what, hint);
	}
	PG_END_TRY();
	return ok;
}

/* Carries out the pending erasures whose holds ended (a step for rt_worker_transaction). */
static void
rt_worker_pending_step(void *arg)
{
	int			done = rt_erasure_complete_pending();

	(void) arg;
	if (done > 0)
		ereport(LOG,
				(errmsg("pg_retention: looked at %d pending erasures whose legal holds ended", done)));
}

/* The head of the audit chain as read by rt_worker_anchor_step, kept in cxt. */
typedef struct RtAnchorStep
{
	MemoryContext cxt;
	bool		found;
	bool		logged_before;	/* a worker process of this database logged this anchor already */
	int64		seq;
	bytea	   *hash;
	char	   *dbname;
} RtAnchorStep;

/* Reads the head of the audit chain and the database's name (a step for rt_worker_transaction). */
static void
rt_worker_anchor_step(void *arg)
{
	RtAnchorStep *step = arg;
	MemoryContext old = MemoryContextSwitchTo(step->cxt);

	step->found = rt_audit_head(&step->seq, &step->hash) && step->hash != NULL;
	/* the anchor about to be logged, noted for retention.metrics (docs/operations.md#monitoring) */
	if (step->found && step->seq != rt_logged_anchor_seq)
		step->logged_before = !rt_audit_note_anchor(step->seq, step->hash, "log");
	step->dbname = get_database_name(MyDatabaseId);
	MemoryContextSwitchTo(old);
}

/*
 * Carries out the erasures that waited for legal holds that have expired
 * since (release() carries out the others at once).  An error is logged
 * and the next pass tries again.
 */
static void
rt_worker_pending_erasures(MemoryContext cxt)
{
	(void) rt_worker_transaction(cxt, rt_worker_pending_step, NULL,
								 "pending erasures could not be carried out",
								 "The worker tries again on its next pass; see retention.erasures.");
}

/*
 * Writes the head of the audit chain to the server log when it moved since
 * the last line this worker wrote, at most every
 * retention.audit_anchor_interval: a copy outside the database that a
 * rewrite of the trail cannot change (see audit.c).
 */
static void
rt_worker_log_anchor(MemoryContext cxt)
{
	TimestampTz now = GetCurrentTimestamp();
	RtAnchorStep step = {cxt, false, false, 0, NULL, NULL};

	if (rt_audit_anchor_interval_s <= 0 ||
		(rt_logged_anchor_at != 0 &&
		 now < rt_logged_anchor_at + (TimestampTz) rt_audit_anchor_interval_s * USECS_PER_SEC))
		return;
	if (!rt_worker_transaction(cxt, rt_worker_anchor_step, &step, "the audit anchor could not be read", NULL))
		return;
	if (!step.found || step.seq == rt_logged_anchor_seq)
		return;
	/* workers taking turns over more databases than retention.max_workers start afresh: once is enough */
	if (!step.logged_before)
		ereport(LOG,
				(errmsg("pg_retention audit anchor: database \"%s\", seq " INT64_FORMAT ", hash %s",
						step.dbname, step.seq, rt_audit_hash_text(step.hash)),
				 errhidestmt(true)));
	rt_logged_anchor_seq = step.seq;
	rt_logged_anchor_at = now;
}

/* The restore check of a pass, as rt_worker_restore_step found it (kept in cxt). */
typedef struct RtRestoreStep
{
	MemoryContext cxt;
	TimestampTz grace_until;
	char	   *replay_error;
} RtRestoreStep;

/* the last replay failure this worker logged, to log each once */
static char *rt_logged_replay_error = NULL;

/* Recognizes a restore and replays erasures (a step for rt_worker_transaction). */
static void
rt_worker_restore_step(void *arg)
{
	RtRestoreStep *step = arg;
	RtRestoreOutcome outcome;

	rt_restore_check(&outcome);
	step->grace_until = outcome.grace_until;
	if (outcome.replay_error != NULL)
		step->replay_error = MemoryContextStrdup(step->cxt, outcome.replay_error->message);
}

/*
 * Before any policy of the pass: recognizes a restore and replays the
 * erasures this database lacks (restore.c).  Returns false while policies
 * must wait: the grace period after a restore, or erasures that could not
 * be replayed (logged once each), or a check that failed.
 */
static bool
rt_worker_restore(MemoryContext cxt)
{
	RtRestoreStep step = {cxt, 0, NULL};

	if (!rt_worker_transaction(cxt, rt_worker_restore_step, &step,
							   "pg_retention could not check whether this database was restored",
							   "No policy runs before the check succeeds; the worker tries again on its next pass."))
		return false;
	if (step.replay_error != NULL)
	{
		if (rt_logged_replay_error == NULL || strcmp(rt_logged_replay_error, step.replay_error) != 0)
		{
			ereport(LOG,
					(errmsg("pg_retention could not replay erasures: %s", step.replay_error),
					 errhint("No policy runs here before they are replayed; the worker tries again on every pass.")));
			if (rt_logged_replay_error)
				pfree(rt_logged_replay_error);
			rt_logged_replay_error = MemoryContextStrdup(TopMemoryContext, step.replay_error);
		}
		return false;
	}
	return step.grace_until == 0 || GetCurrentTimestamp() >= step.grace_until;
}

/* Writes the audit head to the ledger file (a step for rt_worker_transaction). */
static void
rt_worker_ledger_anchor_step(void *arg)
{
	rt_restore_write_anchor(*(int *) arg);
}

/* What rt_worker_horizon_step leaves for the pass: tables to vacuum (in cxt). */
typedef struct RtHorizonStep
{
	MemoryContext cxt;
	List	   *to_vacuum;
} RtHorizonStep;

/* Updates the erasure horizon (a step for rt_worker_transaction). */
static void
rt_worker_horizon_step(void *arg)
{
	RtHorizonStep *step = arg;
	List	   *relids = rt_horizon_settle();
	MemoryContext old = MemoryContextSwitchTo(step->cxt);

	step->to_vacuum = list_copy(relids);
	MemoryContextSwitchTo(old);
}

/*
 * After the pass: the audit head to the ledger file, the erasure horizon
 * brought up to date, and (retention.vacuum_after_erasure) the tables
 * erasures left dead tuples in vacuumed, each VACUUM a command of its own
 * that DDL may cancel like a batch.
 */
static void
rt_worker_after_pass(MemoryContext cxt)
{
	RtHorizonStep step = {cxt, NIL};
	ListCell   *lc;

	(void) rt_worker_transaction(cxt, rt_worker_ledger_anchor_step, &rt_audit_anchor_interval_s,
								 "the audit anchor could not be written to the ledger file",
								 "The worker tries again on its next pass; see retention.ledger_file.");
	if (rt_worker_must_stop() ||
		!rt_worker_transaction(cxt, rt_worker_horizon_step, &step,
							   "the erasure horizon could not be brought up to date", NULL))
		return;
	foreach(lc, step.to_vacuum)
	{
		Oid			relid = lfirst_oid(lc);
		char	   *what = MemoryContextStrdup(cxt, psprintf("VACUUM of relation %u after an erasure failed", relid));

		if (rt_worker_must_stop())
			break;
		rt_worker_set_in_xact(true);
		PG_TRY();
		{
			pgstat_report_activity(STATE_RUNNING, psprintf("VACUUM after an erasure: relation %u", relid));
			rt_horizon_vacuum(relid);
		}
		PG_CATCH();
		{
			rt_worker_failed(cxt, what, NULL);
		}
		PG_END_TRY();
		rt_worker_set_in_xact(false);
		pgstat_report_activity(STATE_IDLE, NULL);
	}
}

/* Trims the run history to retention.run_history_keep records per policy. */
static void
rt_worker_trim(MemoryContext cxt)
{
	rt_worker_begin(cxt);
	(void) rt_runlog_trim(rt_run_history_keep);
	rt_worker_commit();
}

/*
 * One pass over the policies of the database.  Returns false when the
 * database does not (or no longer does) hold pg_retention.
 */
static bool
rt_worker_pass(MemoryContext cxt)
{
	List	   *schedule;
	ListCell   *lc;
	bool		any_run = false;
	TimestampTz now;

	rt_worker_begin(cxt);
	if (!OidIsValid(get_extension_oid(RT_EXTENSION_NAME, true)))
	{
		rt_worker_commit();
		return false;
	}
	schedule = rt_worker_read_schedule(cxt);
	rt_worker_commit();
	/* a restore: erasures are replayed first, and policies wait for the grace period */
	if (!rt_worker_restore(cxt))
		schedule = NIL;

	rt_wake_at = 0;
	foreach(lc, schedule)
	{
		RtScheduled *entry = lfirst(lc);
		RtSchedLast last = {entry->stale, entry->failures, entry->last_start, entry->round_start};
		TimestampTz start_at;

		rt_worker_absorb_interrupts();
		if (rt_worker_must_stop())
			break;
		now = GetCurrentTimestamp();
		/* backing off after failures, outside its window, within its min_interval: sleep until then */
		start_at = rt_sched_start_at(entry->policy, &last, now);
		if (start_at > now)
		{
			if (rt_wake_at == 0 || start_at < rt_wake_at)
				rt_wake_at = start_at;
			continue;
		}
		if (rt_worker_visit(entry, cxt))
			any_run = true;
	}
	if (any_run)
		rt_worker_trim(cxt);
	if (!rt_worker_must_stop())
		rt_worker_pending_erasures(cxt);
	if (!rt_worker_must_stop())
		rt_worker_log_anchor(cxt);
	if (!rt_worker_must_stop())
		rt_worker_after_pass(cxt);
	return true;
}

/* Sleeps until the next pass is due (naptime after pass_start), or until asked to stop. */
static void
rt_worker_sleep(TimestampTz pass_start)
{
	for (;;)
	{
		TimestampTz next;
		long		ms;
		bool		yield;

		rt_worker_absorb_interrupts();
		/* recomputed each time, so that a reloaded naptime applies at once */
		next = pass_start + (TimestampTz) rt_naptime_s * USECS_PER_SEC;
		/* a policy waiting for its window or min_interval is considered when it may start */
		if (rt_wake_at > pass_start && rt_wake_at < next)
			next = rt_wake_at;
		LWLockAcquire(rt_registry->lock, LW_EXCLUSIVE);
		rt_my_slot->next_pass_at = next;
		rt_my_slot->idle = true;
		yield = rt_my_slot->yield;
		LWLockRelease(rt_registry->lock);
		if (yield || rt_worker_must_stop())
			break;
		/* rounded up, so that the pass never comes a moment before the time it waits for */
		ms = (long) ((next - GetCurrentTimestamp() + 999) / 1000);
		if (ms <= 0)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
	LWLockAcquire(rt_registry->lock, LW_EXCLUSIVE);
	rt_my_slot->idle = false;
	LWLockRelease(rt_registry->lock);
}

/* What rt_worker_role_step found: why the worker should leave, or NULL. */
typedef struct RtRoleStep
{
	MemoryContext cxt;
	char	   *leave_because;
	bool		key_file_refused;	/* because of a retention.key_file the role may not take */
} RtRoleStep;

/*
 * Checks that the worker's login role is still the one retention.worker_role
 * names and can still work in this database (a step for
 * rt_worker_transaction).
 */
static void
rt_worker_role_step(void *arg)
{
	RtRoleStep *step = arg;
	char	   *problem;
	Oid			roleid = rt_sched_worker_role(&problem);
	char	   *why = NULL;

	if (!OidIsValid(roleid))
		why = problem;
	else if (roleid != GetSessionUserId())
		why = psprintf("retention.worker_role now names role %s",
					   quote_identifier(GetUserNameFromId(roleid, false)));
	else
		why = rt_sched_worker_role_problem(MyDatabaseId, roleid, true, &step->key_file_refused);
	if (why != NULL)
	{
		/* the role may have been dropped under the worker */
		char	   *me = GetUserNameFromId(GetSessionUserId(), true);

		step->leave_because =
			MemoryContextStrdup(step->cxt,
								psprintf("pg_retention worker leaves database %s, where it runs as role %s: %s",
										 quote_identifier(get_database_name(MyDatabaseId)),
										 me ? quote_identifier(me) : psprintf("with OID %u", GetSessionUserId()),
										 why));
	}
}

/*
 * Returns true when the worker may make its pass as the role it logged in
 * as; otherwise logs why it leaves (the launcher starts a worker again with
 * the role the setting names, once that role can work here).
 */
static bool
rt_worker_role_current(MemoryContext cxt)
{
	RtRoleStep	step = {cxt, NULL, false};

	if (!rt_worker_transaction(cxt, rt_worker_role_step, &step,
							   "the worker's role could not be checked", NULL))
		return true;			/* logged; the pass says more if something is wrong */
	if (step.leave_because == NULL)
		return true;
	/* the launcher cannot see that setting: it learns it from us, and waits before trying again */
	LWLockAcquire(rt_registry->lock, LW_EXCLUSIVE);
	rt_my_slot->key_file_refused = step.key_file_refused;
	LWLockRelease(rt_registry->lock);
	ereport(LOG,
			(errmsg("%s", step.leave_because),
			 errhint("The launcher starts a worker again as the role retention.worker_role names, once that role can work here (docs/operations.md, \"The worker role\").")));
	return false;
}

/* Takes the slot the launcher prepared; false when it is no longer meant for us. */
static bool
rt_worker_attach(int index, const RtWorkerExtra *extra)
{
	bool		ok;

	if (rt_registry == NULL || index < 0 || index >= rt_registry->nslots)
		return false;
	LWLockAcquire(rt_registry->lock, LW_EXCLUSIVE);
	rt_my_slot = &rt_registry->slots[index];
	ok = rt_my_slot->in_use && !rt_my_slot->exited && rt_my_slot->pid == 0 &&
		rt_my_slot->dboid == extra->dboid && rt_my_slot->generation == extra->generation;
	if (ok)
		rt_my_slot->pid = MyProcPid;
	else
		rt_my_slot = NULL;
	LWLockRelease(rt_registry->lock);
	return ok;
}

/* Main function of a database worker. */
void
rt_worker_main(Datum main_arg)
{
	RtWorkerExtra extra;
	MemoryContext pass_cxt;

	memcpy(&extra, MyBgworkerEntry->bgw_extra, sizeof(extra));
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, rt_worker_sigterm);
	pqsignal(SIGINT, StatementCancelHandler);
	BackgroundWorkerUnblockSignals();

	if (!rt_worker_attach(DatumGetInt32(main_arg), &extra))
		proc_exit(0);
	before_shmem_exit(rt_worker_detach, (Datum) 0);
	if (rt_worker_must_stop())
		rt_worker_exit(false);

	BackgroundWorkerInitializeConnectionByOid(extra.dboid, extra.roleid, 0);
	rt_worker_session_settings();
	pass_cxt = AllocSetContextCreate(TopMemoryContext, "pg_retention worker pass",
									 ALLOCSET_DEFAULT_SIZES);

	for (;;)
	{
		TimestampTz pass_start;
		volatile bool present = true;

		rt_worker_absorb_interrupts();
		if (rt_worker_must_stop())
			break;
		pass_start = GetCurrentTimestamp();
		LWLockAcquire(rt_registry->lock, LW_EXCLUSIVE);
		rt_my_slot->next_pass_at = pass_start + (TimestampTz) rt_naptime_s * USECS_PER_SEC;
		LWLockRelease(rt_registry->lock);

		MemoryContextReset(pass_cxt);
		if (!rt_worker_role_current(pass_cxt))
			break;
		PG_TRY();
		{
			present = rt_worker_pass(pass_cxt);
		}
		PG_CATCH();
		{
			/* a pass that fails before its policies (say, mid DROP EXTENSION) is logged and retried */
			ErrorData  *edata;

			MemoryContextSwitchTo(pass_cxt);
			edata = CopyErrorData();
			/* a cancel sent to make the worker leave is expected, not news */
			if (!(edata->sqlerrcode == ERRCODE_QUERY_CANCELED && rt_worker_must_stop()))
				EmitErrorReport();
			FlushErrorState();
			rt_worker_abort();
		}
		PG_END_TRY();
		if (!present)
			rt_worker_exit(true);
		rt_worker_sleep(pass_start);
		if (rt_my_slot->yield)
			break;
	}
	rt_worker_exit(false);
}
