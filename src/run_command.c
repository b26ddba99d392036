/*
 * run_command.c
 *    The procedure retention.run(tbl, as_of).
 *
 * Called with CALL outside a transaction block, it commits after every
 * batch (as the background worker does); inside a transaction block every
 * batch shares the caller's transaction and nothing is committed early.
 * A caller runs only the policies of tables it owns: as_of lets a run
 * delete rows before their time, which only the owner could do anyway.
 *
 * The transactions the procedure starts itself are read committed and
 * read-write whatever the session's defaults (a serialization failure per
 * batch, or a read-only transaction half-way, would end every run); inside
 * a read-only transaction block it refuses at once (25006).  See
 * docs/operations.md "Session settings the engine pins".
 */
#include "postgres.h"

#include "executor/spi.h"
#include "miscadmin.h"
#include "catalog/pg_class.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/portal.h"
#include "utils/timestamp.h"
#include "access/xact.h"

#include "compat.h"
#include "policy.h"
#include "privilege.h"
#include "quote.h"
#include "restore.h"
#include "run.h"
#include "run_options.h"
#include "runlog.h"
#include "safe_spi.h"

/*
 * Ends the procedure's transaction and starts the next one, read committed
 * and read-write whatever default_transaction_isolation and
 * default_transaction_read_only say (docs/operations.md "Session settings
 * the engine pins").
 */
static void
rt_procedure_next_transaction(void)
{
	rt_spi_commit_and_start();
	rt_pin_transaction();
}

/*
 * Runs fn(arg) at the top level of the procedure, outside its SPI
 * connection, so that a statement in it may commit by itself (see
 * RtRunOptions.at_top_level); the connection is opened again afterwards.
 */
static void
rt_procedure_at_top_level(void (*fn) (void *), void *arg)
{
	MemoryContext cxt = CurrentMemoryContext;
	MemoryContext connected_from;
	char	   *isolation = pstrdup(GetConfigOption("default_transaction_isolation", false, false));
	char	   *read_only = pstrdup(GetConfigOption("default_transaction_read_only", false, false));

	/*
	 * A statement that commits by itself (DETACH ... CONCURRENTLY) starts its
	 * next transaction with the session's defaults: pinned for as long as fn
	 * runs, as rt_procedure_next_transaction pins the others.  fn catches its
	 * own errors (RtRunOptions.at_top_level), so the values are put back.
	 */
	(void) set_config_option("default_transaction_isolation", "read committed", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SET, true, 0, false);
	(void) set_config_option("default_transaction_read_only", "off", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SET, true, 0, false);
	SPI_finish();
	/* SPI_finish returns to where the connection was opened: open the new one from there */
	connected_from = CurrentMemoryContext;
	MemoryContextSwitchTo(cxt);
#if RT_HAS_FORGET_PORTAL_SNAPSHOTS
	/* the snapshot SPI took for the procedure's portal must not outlive a commit in fn */
	ForgetPortalSnapshots();
#endif
	fn(arg);
	(void) set_config_option("default_transaction_isolation", isolation, PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SET, true, 0, false);
	(void) set_config_option("default_transaction_read_only", read_only, PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SET, true, 0, false);
	MemoryContextSwitchTo(connected_from);
	SPI_connect_ext(SPI_OPT_NONATOMIC);
	MemoryContextSwitchTo(cxt);
}

/* Reports what a run did, as a NOTICE. */
static void
rt_report_run(const RtPolicy *policy, RtRunOutcome outcome, const RtRunStats *stats)
{
	const char *verb = policy->action == RT_ACTION_DELETE ? "deleted" : "anonymized";

	if (outcome == RT_RUN_BUSY)
	{
		ereport(NOTICE,
				(errmsg("retention policy " INT64_FORMAT " on %s is already running in another session; skipped",
						policy->policy_id, rt_relation_name(policy->relid))));
		return;
	}
	ereport(NOTICE,
			(errmsg("retention policy " INT64_FORMAT " on %s: " INT64_FORMAT " row%s %s%s in " INT64_FORMAT
					" batch%s; " INT64_FORMAT " blocked by foreign keys, " INT64_FORMAT
					" skipped (locked), %s%s" INT64_FORMAT " undated%s",
					policy->policy_id, rt_relation_name(policy->relid), stats->rows,
					stats->rows == 1 ? "" : "s", verb,
					stats->partitions > 0 ?
					psprintf(" (" INT64_FORMAT " partition%s removed whole)", stats->partitions,
							 stats->partitions == 1 ? "" : "s") : "",
					stats->batches, stats->batches == 1 ? "" : "es",
					stats->blocked, stats->skipped_locked,
					stats->held > 0 ? psprintf(INT64_FORMAT " on legal hold, ", stats->held) : "",
					stats->refused > 0 ? psprintf(INT64_FORMAT " refused, ", stats->refused) : "",
					stats->undated,
					outcome == RT_RUN_FAILED ? "; FAILED" :
					outcome == RT_RUN_INCOMPLETE ? psprintf("; INCOMPLETE: " INT64_FORMAT " expired row%s left",
															 stats->left, stats->left == 1 ? "" : "s") :
					outcome == RT_RUN_STOPPED ? "; STOPPED: the policy was altered or dropped during the run" : "")));
}

/*
 * Before any policy: recognizes a restore and replays the erasures this
 * database lacks, as the worker does (restore.c); an erasure that cannot
 * be replayed stops the call.  The grace period after a restore holds the
 * scheduler, not an explicit call, which is told.
 */
static void
rt_run_after_restore(void)
{
	RtRestoreOutcome outcome;

	rt_restore_check(&outcome);
	if (outcome.replay_error != NULL)
		ereport(ERROR,
				(errcode(outcome.replay_error->sqlerrcode),
				 errmsg("erasures recorded in the ledger could not be replayed: %s", outcome.replay_error->message),
				 errdetail("No policy runs before the erasures this database lacks are replayed."),
				 outcome.replay_error->hint ? errhint("%s", outcome.replay_error->hint) : 0));
	if (outcome.grace_until != 0)
		ereport(NOTICE,
				(errmsg("this database was restored: the scheduler runs no policy here until %s, but this call does",
						timestamptz_to_str(outcome.grace_until)),
				 errhint("See retention.restores; retention.resume() ends the scheduler's wait.")));
}

/* What a retention.run() call did, for its final report. */
typedef struct RtRunSummary
{
	ErrorData  *first_error;	/* error of the first policy that failed */
	const RtPolicy *first_failed;
	bool		first_incomplete;	/* the first was incomplete, not failed */
	int			failed;
	int			ran;
} RtRunSummary;

/* Runs the policies retention.run() was asked for; fills *summary. */
static void
rt_run_requested(Oid relid, TimestampTz as_of, const RtRunOptions *options,
				 MemoryContext cxt, RtRunSummary *summary)
{
	List	   *policies;
	ListCell   *lc;

	MemoryContextSwitchTo(cxt);
	if (OidIsValid(relid))
	{
		char		relkind = get_rel_relkind(relid);

		if (relkind == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("relation with OID %u does not exist", relid)));
		if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("%s is not a table", rt_relation_name(relid)),
					 errhint("Policies apply to ordinary and partitioned tables; run the policy of the table the view reads.")));
		rt_require_table_owner(relid, "run its retention policies");
	}
	policies = rt_policy_list(relid, false);
	if (OidIsValid(relid) && policies == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("table %s has no enabled retention policy", rt_relation_name(relid)),
				 errhint("Declare one with retention.add_policy(); see retention.policies.")));

	foreach(lc, policies)
	{
		RtPolicy   *policy = lfirst(lc);
		RtRunStats	stats;
		ErrorData  *error;
		RtRunOutcome outcome;

		if (!OidIsValid(relid) && !rt_has_owner_rights(policy->relid, GetUserId()))
			continue;			/* someone else's table: theirs to run */
		if (get_rel_name(policy->relid) == NULL)
			continue;			/* dropped since the list was read */
		outcome = rt_run_policy(policy, as_of, options, &stats, &error);
		summary->ran++;
		rt_report_run(policy, outcome, &stats);
		if (outcome == RT_RUN_FAILED || outcome == RT_RUN_INCOMPLETE)
		{
			summary->failed++;
			if (summary->first_error == NULL)
			{
				summary->first_error = error;
				summary->first_failed = policy;
				summary->first_incomplete = outcome == RT_RUN_INCOMPLETE;
			}
		}
	}
	if (summary->ran == 0 && !OidIsValid(relid))
		ereport(NOTICE,
				(errmsg("no retention policy to run"),
				 errhint("retention.run() runs the enabled policies of tables you own; see retention.policies.")));
}

PG_FUNCTION_INFO_V1(retention_run);

/* SQL: CALL retention.run(tbl regclass DEFAULT NULL, as_of timestamptz DEFAULT now()). */
Datum
retention_run(PG_FUNCTION_ARGS)
{
	bool		nonatomic = fcinfo->context && IsA(fcinfo->context, CallContext) &&
		!((CallContext *) fcinfo->context)->atomic;
	Oid			relid = PG_ARGISNULL(0) ? InvalidOid : PG_GETARG_OID(0);
	TimestampTz as_of;
	MemoryContext cxt;
	RtRunOptions options;
	RtRunSummary summary;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("as_of must not be null"),
				 errhint("Leave it out to run as of now().")));
	as_of = PG_GETARG_TIMESTAMPTZ(1);
	if (TIMESTAMP_NOT_FINITE(as_of))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("as_of must be a finite time")));
	if (!PG_ARGISNULL(0) && !OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID 0 does not exist"),
				 errhint("Pass NULL (or leave tbl out) to run the policies of every table you own.")));
	/* a future as_of deletes rows before their time: only for a table named on purpose */
	if (!OidIsValid(relid) && as_of > GetCurrentTransactionStartTimestamp())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("as_of %s is in the future", timestamptz_to_str(as_of)),
				 errdetail("A future as_of applies retention periods early, removing rows before their time."),
				 errhint("Name the table whose policies should run early, as in CALL retention.run('t', as_of => ...).")));

	options.next_transaction = nonatomic ? rt_procedure_next_transaction : NULL;
	options.at_top_level = nonatomic ? rt_procedure_at_top_level : NULL;
	options.deadline = 0;		/* and no run window: the DBA's CALL runs now (docs/operations.md#run-windows) */
	options.deadline_note = NULL;
	options.trigger = "manual";
	options.wait_if_busy = true;
	memset(&summary, 0, sizeof(summary));

	cxt = AllocSetContextCreate(TopMemoryContext, "pg_retention run command",
								ALLOCSET_DEFAULT_SIZES);
	PG_TRY();
	{
		SPI_connect_ext(nonatomic ? SPI_OPT_NONATOMIC : 0);
		/* the CALL's own transaction took the session's defaults: start a pinned one */
		if (nonatomic && rt_transaction_needs_pinning())
			rt_procedure_next_transaction();
		/* inside a read-only transaction block (or on a standby) nothing can be done: say so before anything is */
		rt_require_read_write("run retention policies",
							  "Call it in a read-write transaction, or outside a transaction block, where it starts read-write transactions of its own.");
		rt_run_after_restore();
		rt_run_requested(relid, as_of, &options, cxt, &summary);
		SPI_finish();
	}
	PG_CATCH();
	{
		MemoryContextDelete(cxt);
		PG_RE_THROW();
	}
	PG_END_TRY();

	if (summary.first_error != NULL)
	{
		int			code = summary.first_error->sqlerrcode;
		char	   *message = pstrdup(summary.first_error->message);
		char	   *detail = summary.first_error->detail ? pstrdup(summary.first_error->detail) : NULL;
		int64		policy_id = summary.first_failed->policy_id;
		char	   *relname = rt_relation_name(summary.first_failed->relid);

		MemoryContextDelete(cxt);
		/* an incomplete run's message names its policy and says what is left itself */
		ereport(ERROR,
				(errcode(code),
				 summary.first_incomplete ? errmsg("%s", message) :
				 errmsg("retention policy " INT64_FORMAT " on %s failed: %s",
						policy_id, relname, message),
				 detail ? errdetail("%s", detail) : 0,
				 errhint("%d of %d policies failed; batches committed before the failure stay done. See retention.runs for the run records.",
						 summary.failed, summary.ran)));
	}
	MemoryContextDelete(cxt);
	PG_RETURN_VOID();
}
