/*
 * run.c
 *    Running policies, and the procedure retention.run().
 *
 * A run of a policy:
 *  1. takes the policy's run lock (a session advisory lock, so two runs of
 *     one policy never overlap: the worker skips a policy another session
 *     runs, a manual run waits without holding what that run may wait
 *     for), marks runs a crash left "running" as interrupted, and records
 *     the new run as running in its own transaction;
 *  2. runs batches, one transaction each.  Each batch re-reads its policy
 *     FOR SHARE (alter_policy and drop_policy wait for the batch, and a
 *     changed policy ends the run), sets lock_timeout and a safe
 *     search_path, switches to the table owner, deletes, and stores the
 *     run's counters in the same transaction;
 *  3. handles trouble per batch: a lock timeout or deadlock switches the
 *     rest of the run to SKIP LOCKED; a row that refuses to go or to be
 *     masked (a foreign key the SELECT did not foresee, a unique collision,
 *     a CHECK, a trigger) makes the batch retry row group by row group, so
 *     the refused rows stay and are counted while the others go; anything
 *     else ends the run as failed with its error, after the batches
 *     already committed; a cancel ends it as interrupted.
 *
 * Refused rows come back on every run until someone deals with them (a
 * pseudonym that collides with a value masked before stays refused while
 * that value exists).  Once a run met refusals, the rest of it, and the
 * next run of the policy, work in CAREFUL mode from the first batch:
 * each refused row then costs its own small subtransaction instead of a
 * whole batch rolled back and redone.  The run is recorded as failed with
 * the count, so the scheduler also spaces out its runs (scheduler_rules.c).
 *
 * After its batches, the run checks itself against the table as it is then
 * (rt_step_verify; docs/operations.md "What pg_retention checks after each
 * run and erasure"): every expired row still there is held, blocked,
 * locked or refused, or the run is incomplete, with the rows left and why.
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/xact.h"
#include "catalog/partition.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "cdc.h"
#include "compat.h"
#include "cutoff.h"
#include "diagnose.h"
#include "guc.h"
#include "hold.h"
#include "partition.h"
#include "policy.h"
#include "privilege.h"
#include "publication.h"
#include "purge.h"
#include "quote.h"
#include "run.h"
#include "run_options.h"
#include "runlog.h"
#include "safe_spi.h"
#include "subxact.h"
#include "tag.h"
#include "throttle.h"

/* retention.batch_pause: pause between two batches of a run, leaving CPU and I/O to others */
static int	rt_batch_pause_ms = 0;

/* Defines the setting retention.batch_pause (called by _PG_init). */
void
rt_run_define_gucs(void)
{
	DefineCustomIntVariable("retention.batch_pause",
							"Pause between two batches of a retention run.",
							"Leaves CPU and I/O to other sessions during long runs; 0 runs batches back to back. "
							"Applies between batches that commit separately.",
							&rt_batch_pause_ms, 0, 0, 60000,
							PGC_USERSET, GUC_UNIT_MS, NULL, NULL, NULL);
}

/* the advisory lock space of pg_retention: field4 of the lock tag ("RT") */
#define RT_LOCK_FIELD4 0x5254

/* Fills the lock tag of a policy's run lock. */
static void
rt_run_locktag(LOCKTAG *tag, int64 policy_id)
{
	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, (uint32) (policy_id >> 32),
						 (uint32) policy_id, RT_LOCK_FIELD4);
}

/* State of one run, shared by the protected steps. */
typedef struct RtRunState
{
	const RtPolicy *policy;
	TimestampTz cutoff;
	int64		run_id;
	bool		atomic;
	List	   *targets;		/* NIL until prepared */
	bool		prepared;
	ListCell   *current;		/* target being worked on */
	RtBatchMode mode;
	bool		careful_once;	/* retry the next batch in CAREFUL mode */
	bool		careful;		/* rows were refused: every batch in CAREFUL mode */
	bool		policy_changed;
	RtRunStats	stats;
	TimestampTz as_of;
	const char *trigger;
	List	   *unreachable;	/* partitions the table owner may not change */
	char	   *first_row_error;	/* the first refusal (no row data); stats.refused counts them */
	int			first_row_errcode;	/* its SQLSTATE */
	int			passes;			/* passes over the targets so far (see rt_run_locked) */
	int64		rows_before_pass;	/* stats.rows when the current pass began */
	bool		self_referencing;	/* the table's foreign keys reference the table itself */
	bool		again;			/* the check asks for another pass */
	bool		new_leaves;		/* the check found partitions attached during the run */
	char	   *cause;			/* why stats.left rows are still there */
	List	   *unpublished;	/* tables noted as published without their removals */
	RtThrottle	throttle;		/* batch sizes and pauses (throttle.c) */
	int64		last_candidates;	/* rows the last batch examined */
	int64		last_skipped_locked;	/* of those, left because locked */
	MemoryContext run_cxt;		/* survives transaction ends */
	MemoryContext error_cxt;	/* the caller's: errors are copied there */
	MemoryContext batch_cxt;	/* reset after every batch */
} RtRunState;

/* Runs one step of a run in an internal subtransaction; returns the error it raised, or NULL. */
static ErrorData *
rt_protected(void (*fn) (void *), RtRunState *state)
{
	return rt_in_subtransaction(fn, state, state->error_cxt);
}

/* Returns true when relid (or a partition of it) has a foreign key to itself or one of its partitions. */
static bool
rt_self_referencing(Oid relid)
{
	Oid			types[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(relid)};

	if (rt_spi_execute("WITH tree AS (SELECT $1 AS relid"
					   "   UNION SELECT p.relid FROM pg_catalog.pg_partition_tree($1::pg_catalog.regclass) p)"
					   " SELECT 1 FROM pg_catalog.pg_constraint c"
					   " WHERE c.contype OPERATOR(pg_catalog.=) 'f'"
					   " AND c.conrelid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT relid FROM tree))"
					   " AND c.confrelid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT relid FROM tree)) LIMIT 1",
					   1, types, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the foreign keys of relation %u", relid);
	return SPI_processed > 0;
}

/* Step: computes the cutoff, marks runs a crash left behind, records the new run. */
static void
rt_step_start(void *arg)
{
	RtRunState *s = (RtRunState *) arg;
	s->cutoff = rt_cutoff(s->as_of, &s->policy->keep, s->policy->time_zone);
	rt_runlog_mark_stale(s->policy->policy_id);
	/* the rows the last run refused are candidates again: isolate them from the start */
	s->careful = rt_runlog_last_refused(s->policy->policy_id) > 0;
	s->run_id = rt_runlog_start(s->policy, s->as_of, s->cutoff, s->trigger);
}

/* Step: prepares the run's targets as the table owner and counts undated rows. */
static void
rt_step_prepare(void *arg)
{
	RtRunState *s = (RtRunState *) arg;
	RtSavedUser saved;
	int			nest = rt_safe_settings_begin(RT_SAFE_LOCK_TIMEOUT);
	MemoryContext old;
	ListCell   *lc;

	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(s->policy->relid)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table of retention policy " INT64_FORMAT " no longer exists",
						s->policy->policy_id)));
	rt_become_table_owner(s->policy->relid, &saved);
	old = MemoryContextSwitchTo(s->run_cxt);
	s->targets = rt_targets_prepare(s->policy, s->cutoff, &s->unreachable);
	MemoryContextSwitchTo(old);
	s->stats.undated = 0;
	foreach(lc, s->targets)
		s->stats.undated += rt_target_count_undated(lfirst(lc));
	rt_restore_user(&saved);
	rt_safe_settings_end(nest);
	s->self_referencing = rt_self_referencing(s->policy->relid);
	s->prepared = true;
	s->current = list_head(s->targets);
	rt_runlog_progress(s->run_id, &s->stats);
}

/*
 * Writes the logical decoding message of a batch that deleted or masked
 * rows, in the batch's transaction, after its statement
 * (docs/reference.md#logical-decoding-messages).
 */
static void
rt_batch_cdc(RtRunState *s, RtTarget *t, const RtBatchResult *result)
{
	RtCdcPurge	m;

	memset(&m, 0, sizeof(m));
	m.action = rt_action_name(s->policy->action);
	m.policy_id = s->policy->policy_id;
	m.run_id = s->run_id;
	m.table = rt_relation_name(s->policy->relid);
	m.relation = t->relname;
	m.cutoff = s->cutoff;
	m.batch = s->stats.batches;
	m.rows = result->deleted;
	m.blocked = result->blocked;
	m.skipped_locked = result->skipped_locked;
	m.held = result->held;
	m.refused = result->row_errors;
	rt_cdc_purge(&m);
}

/* Step: one batch on the current target, with the run record updated. */
static void
rt_step_batch(void *arg)
{
	RtRunState *s = (RtRunState *) arg;
	RtPolicy   *now;
	RtTarget   *t;
	RtSavedUser saved;
	RtBatchResult result;
	int			nest;
	int			rewrites;
	RtBatchMode mode = (s->careful_once || s->careful) ? RT_BATCH_CAREFUL : s->mode;
	RtRunStats	before = s->stats;

	/*
	 * The table before the policy row: DROP TABLE and RENAME COLUMN lock the
	 * table and then change the policy row from their event trigger, so the
	 * other order could deadlock with them.  lock_timeout bounds the wait.
	 */
	nest = rt_safe_settings_begin(RT_SAFE_LOCK_TIMEOUT);
	LockRelationOid(s->policy->relid, AccessShareLock);
	rt_safe_settings_end(nest);

	now = rt_policy_get(s->policy->policy_id, true);
	if (now == NULL || !rt_policy_same(now, s->policy))
	{
		s->policy_changed = true;
		return;
	}
	while (s->current != NULL && ((RtTarget *) lfirst(s->current))->pos.done)
		s->current = lnext(s->targets, s->current);
	if (s->current == NULL)
		return;
	t = lfirst(s->current);

	rewrites = t->rewrites;
	nest = rt_safe_settings_begin(RT_SAFE_LOCK_TIMEOUT);
	rt_become_table_owner(s->policy->relid, &saved);
	rt_purge_batch(t, rt_throttle_batch_rows(&s->throttle), mode, &result);
	rt_restore_user(&saved);
	rt_safe_settings_end(nest);
	s->last_candidates = result.candidates;
	s->last_skipped_locked = result.skipped_locked;
	if (t->rewrites > rewrites)
		rt_runlog_note(s->run_id, psprintf("%s was rewritten during the run (CLUSTER, VACUUM FULL or a rewriting ALTER TABLE): its scan started over",
										   t->relname));

	s->stats.rows += result.deleted;
	s->stats.blocked += result.blocked;
	s->stats.skipped_locked += result.skipped_locked;
	s->stats.held += result.held;
	t->pass_blocked += result.blocked;
	t->pass_held += result.held;
	t->pass_locked += result.skipped_locked;
	t->pass_refused += result.row_errors;
	t->pass_rls_refused += result.rls_refused;
	if (result.row_errors > 0)
	{
		MemoryContext old = MemoryContextSwitchTo(s->run_cxt);

		if (s->first_row_error == NULL)
		{
			s->first_row_error = pstrdup(result.first_row_error);
			s->first_row_errcode = result.first_row_errcode;
		}
		s->stats.refused += result.row_errors;
		MemoryContextSwitchTo(old);
	}
	if (result.candidates > 0)
		s->stats.batches++;
	if (result.deleted > 0)
		rt_batch_cdc(s, t, &result);
	/* a batch that found nothing changed no counter: its transaction need not write (nor wait for a flush) */
	if (memcmp(&before, &s->stats, sizeof(before)) != 0)
		rt_runlog_progress(s->run_id, &s->stats);
	/* who waits for this batch's locks, while it still holds them */
	rt_throttle_before_commit(&s->throttle);
}

/* Returns true for errors that mean "stop now" rather than "this run failed". */
static bool
rt_is_interrupt(const ErrorData *edata)
{
	return edata->sqlerrcode == ERRCODE_QUERY_CANCELED ||
		edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN;
}

/*
 * Returns message with every double-quoted part replaced by "...": the
 * message of a data exception quotes the value that failed
 * (invalid input syntax for type integer: "jane@example.com").
 */
static char *
rt_redact_quoted(const char *message)
{
	StringInfoData buf;
	bool		quoted = false;

	initStringInfo(&buf);
	for (const char *c = message; *c; c++)
	{
		if (*c == '"')
		{
			appendStringInfoString(&buf, quoted ? "...\"" : "\"");
			quoted = !quoted;
		}
		else if (!quoted)
			appendStringInfoChar(&buf, *c);
	}
	if (quoted)
		appendStringInfoString(&buf, "...");
	return buf.data;
}

/*
 * Formats an error for the run record and the audit trail: the message, its
 * SQLSTATE, and the DETAIL unless the error is a data exception or an
 * integrity constraint violation, whose DETAIL quotes the failing row
 * ("Failing row contains ...", "Key (email)=(...)") and would outlive it.
 * A data exception's message quotes the failing value too: its quoted
 * parts are left out.
 */
static char *
rt_error_text(const ErrorData *edata)
{
	int			category = ERRCODE_TO_CATEGORY(edata->sqlerrcode);

	if (category == ERRCODE_DATA_EXCEPTION)
		return psprintf("%s (SQLSTATE %s)", rt_redact_quoted(edata->message),
						unpack_sql_state(edata->sqlerrcode));
	if (edata->detail && category != ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION)
		return psprintf("%s (%s) (SQLSTATE %s)", edata->message, edata->detail,
						unpack_sql_state(edata->sqlerrcode));
	return psprintf("%s (SQLSTATE %s)", edata->message, unpack_sql_state(edata->sqlerrcode));
}

/* Adds what the adaptive throttle did and why to the run's notes (nothing in fixed mode). */
static void
rt_throttle_note(RtRunState *s)
{
	char	   *summary = rt_throttle_summary(&s->throttle);

	if (summary != NULL)
		rt_runlog_note(s->run_id, summary);
}

/* Begins the next transaction of a run (no-op inside the caller's transaction). */
static void
rt_next(const RtRunOptions *options, RtRunState *s)
{
	MemoryContext old = MemoryContextSwitchTo(s->run_cxt);

	if (options->next_transaction)
	{
		options->next_transaction();
		/* checked constraints must fail the batch, not the commit */
		if (rt_spi_execute("SET CONSTRAINTS ALL IMMEDIATE", 0, NULL, NULL, NULL, false, 0) != SPI_OK_UTILITY)
			elog(ERROR, "could not set constraints immediate");
	}
	MemoryContextSwitchTo(old);
}

/*
 * Begins the next transaction of a run like rt_next, without waiting for
 * the one it ends to reach the disk: for transactions that only record a
 * run's start or its counters so far.  Any later transaction that waits
 * for its commit (a batch, a partition's removal with its audit entry, the
 * run's end) flushes this one's too, so a crash can lose only such
 * records after the last of those: a run that seems not to have begun, or
 * counters a little behind the rows, which the run's end writes again.
 */
static void
rt_next_lazily(const RtRunOptions *options, RtRunState *s)
{
	if (options->next_transaction)
		(void) set_config_option("synchronous_commit", "off", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_LOCAL, true, 0, false);
	rt_next(options, s);
}

/*
 * Sleeps between two batches for retention.batch_pause, waking early when
 * the process latch is set (a worker asked to stop or reload) and for
 * interrupts.
 */
static void
rt_batch_pause(int ms)
{
	TimestampTz end = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ms);

	for (;;)
	{
		long		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), end);
		int			rc;

		if (left <= 0)
			break;
		rc = WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, left,
					   PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (rc & WL_LATCH_SET)
			break;
	}
}

/* the passes a run makes over its targets at most: more than one only while each frees rows */
#define RT_MAX_PASSES 8

/* Appends a sentence to the cause of the rows a run leaves. */
static void
rt_add_cause(RtRunState *s, const char *sentence)
{
	MemoryContext old = MemoryContextSwitchTo(s->run_cxt);

	s->cause = s->cause ? psprintf("%s; %s", s->cause, sentence) : pstrdup(sentence);
	MemoryContextSwitchTo(old);
}

/* Counts rows that a table's own definition refused (a trigger returning NULL, a DO INSTEAD rule). */
static void
rt_add_refusal(RtRunState *s, int64 n, const char *why, int sqlerrcode)
{
	MemoryContext old = MemoryContextSwitchTo(s->run_cxt);

	s->stats.refused += n;
	if (s->first_row_error == NULL)
	{
		s->first_row_error = pstrdup(why);
		s->first_row_errcode = sqlerrcode;
	}
	MemoryContextSwitchTo(old);
}

/* Returns true when an enabled policy covers relid (on it or on a table it is a partition of). */
static bool
rt_covered_by_policy(Oid relid)
{
	List	   *tables = list_make1_oid(relid);
	ListCell   *lc;

	if (get_rel_relispartition(relid))
		tables = list_concat(tables, get_partition_ancestors(relid));
	foreach(lc, tables)
		if (rt_policy_list(lfirst_oid(lc), false) != NIL)
			return true;
	return false;
}

/* the rows a check afterwards gives to the statement once more, at most (more: another pass) */
#define RT_PROBE_CAP 100000

/*
 * Returns the columns of dest that hold personal data copied from target t:
 * tagged, json, or named like a tagged column of t or (for a delete) of a
 * table the delete cascades into, whose triggers may be the ones copying.
 */
static List *
rt_copied_personal_columns(RtTarget *t, Oid dest, CmdType cmd)
{
	List	   *personal = rt_tag_personal_columns_like(t->relid, dest);
	ListCell   *lc;

	if (cmd != CMD_DELETE)
		return personal;
	foreach(lc, rt_cascade_tables(t->relid))
	{
		ListCell   *nc;

		foreach(nc, rt_tag_personal_columns_like(lfirst_oid(lc), dest))
		{
			ListCell   *pc;
			bool		known = false;

			foreach(pc, personal)
				known = known || strcmp(lfirst(pc), lfirst(nc)) == 0;
			if (!known)
				personal = lappend(personal, lfirst(nc));
		}
	}
	return personal;
}

/* Notes where a target's triggers or rules copied the rows it removed, or counts them as left. */
static void
rt_explain_copies(RtRunState *s, RtTarget *t, CmdType cmd)
{
	ListCell   *lc;

	foreach(lc, t->copies)
	{
		RtInsertCount *c = lfirst(lc);
		List	   *by = rt_user_triggers(t->relid, cmd);
		char	   *who = by != NIL ? rt_describe_named("trigger", by, t->relid) :
			psprintf("a trigger or rule reached by the %s on %s", cmd == CMD_DELETE ? "DELETE" : "UPDATE", t->relname);
		List	   *personal = rt_copied_personal_columns(t, c->relid, cmd);
		char	   *what = psprintf("%s copied " INT64_FORMAT " row%s into %s", who, c->inserted,
									c->inserted == 1 ? "" : "s", rt_relation_name(c->relid));

		if (personal == NIL)
			rt_runlog_note(s->run_id, psprintf("%s, which has no personal column (none tagged, none named like a tagged column of %s, no json)",
											   what, t->relname));
		else if (rt_covered_by_policy(c->relid))
			rt_runlog_note(s->run_id, psprintf("%s, whose own retention policy applies there", what));
		else
		{
			s->stats.left += c->inserted;
			rt_add_cause(s, psprintf("%s, which no retention policy covers (its column%s %s hold%s personal data)",
									 what, list_length(personal) == 1 ? "" : "s",
									 rt_name_list(personal), list_length(personal) == 1 ? "s" : ""));
		}
	}
}

/*
 * Notes, once a run, the publications of a target that publish its rows
 * but not the DELETE (UPDATE, for anonymize) the run removes them with:
 * their subscribers keep what the run removed
 * (docs/operations.md#what-a-subscriber-receives).
 */
static void
rt_explain_publications(RtRunState *s, RtTarget *t, CmdType cmd)
{
	ListCell   *lc;

	if (s->stats.rows == 0 || list_member_oid(s->unpublished, t->relid))
		return;
	foreach(lc, rt_publishers(t->relid))
	{
		RtPublisher *p = lfirst(lc);
		MemoryContext old;

		if (cmd == CMD_DELETE ? p->deletes : p->updates)
			continue;
		rt_runlog_note(s->run_id,
					   psprintf("publication %s publishes %s but not its %s: its subscribers keep the rows this run %s there",
								p->name, t->relname, cmd == CMD_DELETE ? "deletes" : "updates",
								cmd == CMD_DELETE ? "deleted" : "anonymized"));
		old = MemoryContextSwitchTo(s->run_cxt);
		s->unpublished = lappend_oid(s->unpublished, t->relid);
		MemoryContextSwitchTo(old);
		return;
	}
}

/*
 * Explains the expired rows still in one target after a pass.  When every
 * row the pass gave its statement was acted on and the rows still due are
 * exactly those it left for reasons it knows (held, blocked, locked,
 * refused), they are its explanation: a count, no more.  Otherwise
 * each row is accounted for again: held and blocked ones are counted, and
 * the others are given to the statement once more (rt_target_probe), which
 * removes what can go now and tells apart rows locked or refused now, rows
 * the table's own triggers or rules keep (refused, named), and rows
 * another session changed meanwhile (noted: the next run takes them).
 * Rows row-level security hides and rows triggers copied where no policy
 * reaches are counted in stats.left.
 */
static void
rt_explain_target(RtRunState *s, RtTarget *t)
{
	CmdType		cmd = t->action == RT_ACTION_ANONYMIZE ? CMD_UPDATE : CMD_DELETE;
	RtLeftover	left;
	RtProbe		probe;
	int64		due;
	int64		rls_refused = 0;

	memset(&left, 0, sizeof(left));
	left.hidden = rt_rows_hidden_from_owner(t->relid, t->anchor, rt_anchor_type_oid(t->anchor_type), t->cutoff);
	due = t->refused_by ? -1 : rt_target_count_due(t);
	if (t->shortfall == 0 &&
		due == t->pass_blocked + t->pass_held + t->pass_locked + t->pass_refused + t->pass_rls_refused)
	{
		/* the pass saw every row still due, and knows why each stayed */
		s->stats.blocked += t->pass_blocked;
		s->stats.held += t->pass_held;
		s->stats.skipped_locked += t->pass_locked;
		s->stats.refused += t->pass_refused;
		rls_refused = t->pass_rls_refused;
	}
	else
	{
		rt_target_leftover(t, &left);
		s->stats.blocked += left.blocked;
		s->stats.held += left.held;
		if (t->refused_by != NULL)
		{
			int64		rest = left.due - left.held - left.blocked;

			if (rest > 0)
				rt_add_refusal(s, rest, t->refused_by, ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE);
		}
		else if (left.due > left.held + left.blocked)
		{
			rt_target_probe(t, RT_PROBE_CAP, &probe);
			if (probe.too_many)
			{
				int64		rest = left.due - left.held - left.blocked;

				/* more than a probe takes: another pass, or rows left when passes are spent */
				s->again = true;
				s->stats.left += rest;
				rt_add_cause(s, psprintf(INT64_FORMAT " expired row%s of %s %s still there that the run did not act on",
										 rest, rest == 1 ? "" : "s", t->relname, rest == 1 ? "is" : "are"));
			}
			else
			{
				if (probe.deleted > 0)
				{
					RtBatchResult r;

					/* the probe's deletes are a batch of their own to a CDC consumer */
					memset(&r, 0, sizeof(r));
					r.deleted = probe.deleted;
					r.blocked = probe.blocked;
					r.skipped_locked = probe.skipped_locked;
					r.row_errors = probe.row_errors;
					rt_batch_cdc(s, t, &r);
				}
				s->stats.rows += probe.deleted;
				s->stats.blocked += probe.blocked;
				s->stats.skipped_locked += probe.skipped_locked;
				s->stats.refused += probe.row_errors;
				rls_refused = probe.rls_refused;
				if (probe.row_errors > 0 && s->first_row_error == NULL)
					rt_add_refusal(s, 0, probe.first_row_error, probe.first_row_errcode);
				if (probe.by_trigger > 0 && rt_row_security_binds_owner(t->relid) &&
					rt_before_row_triggers(t->relid, cmd) == NIL && rt_instead_rules(t->relid, cmd) == NIL)
				{
					/* given, locked and untouched, and no trigger or rule of the table: a policy FOR DELETE (UPDATE) left it out */
					rls_refused += probe.by_trigger;
				}
				else if (probe.by_trigger > 0)
				{
					List	   *triggers = rt_before_row_triggers(t->relid, cmd);
					char	   *why;

					why = triggers != NIL ?
						psprintf("refused by %s, which returned NULL instead of the row%s (a BEFORE %s ROW trigger)",
								 rt_describe_named("trigger", triggers, t->relid),
								 cmd == CMD_DELETE ? "" : " or gave it back unmasked",
								 cmd == CMD_DELETE ? "DELETE" : "UPDATE") :
						psprintf("refused by a trigger or rule reached by the %s on %s, which kept the row or put it back",
								 cmd == CMD_DELETE ? "DELETE" : "UPDATE", t->relname);
					/* a policy FOR DELETE (UPDATE) leaves a row out as silently as a trigger that returns NULL */
					if (rt_row_security_binds_owner(t->relid))
						why = psprintf("%s, or left out by a row-level security policy FOR %s of %s (policies: %s)",
									   why, cmd == CMD_DELETE ? "DELETE" : "UPDATE", t->relname,
									   rt_name_list(rt_row_security_policies(t->relid)));
					rt_add_refusal(s, probe.by_trigger, why, ERRCODE_TRIGGERED_ACTION_EXCEPTION);
				}
				if (probe.by_others > 0)
					rt_runlog_note(s->run_id,
								   psprintf(INT64_FORMAT " expired row%s of %s changed or arrived in other sessions each of the %d times the run gave %s to its statement: counted as skipped because locked; the next run takes %s",
											probe.by_others, probe.by_others == 1 ? "" : "s", t->relname, RT_PROBE_ROUNDS,
											probe.by_others == 1 ? "it" : "them", probe.by_others == 1 ? "it" : "them"));
				if (t->rewrites > 0 && probe.deleted > 0)
					rt_runlog_note(s->run_id,
								   psprintf("after the rewrite of %s the check afterwards removed " INT64_FORMAT " more row%s",
											t->relname, probe.deleted, probe.deleted == 1 ? "" : "s"));
			}
		}
	}
	if (left.hidden > 0)
	{
		s->stats.left += left.hidden;
		rt_add_cause(s, rt_diagnose_left(t->relid, cmd, left.hidden));
	}
	if (rls_refused > 0)
	{
		/* no later run removes them either: incomplete, like rows hidden from the owner */
		s->stats.left += rls_refused;
		rt_add_cause(s, rt_diagnose_rls_refused(t->relid, cmd, rls_refused));
	}
	rt_explain_copies(s, t, cmd);
	rt_explain_publications(s, t, cmd);
	if ((left.blocked > 0 || t->pass_blocked > 0) && s->self_referencing && s->stats.rows > s->rows_before_pass)
		s->again = true;		/* replies removed in this pass may have freed what they referenced */
}

/*
 * Counts the expired rows of partitions of the policy's table left detach
 * pending (a DETACH ... CONCURRENTLY that did not finish, and whose
 * FINALIZE failed): batches do not see such a partition, but its rows are
 * still in the database.  Returns the partitions it explained.
 */
static List *
rt_explain_detach_pending(RtRunState *s)
{
	Oid			types[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(s->policy->relid)};
	SPITupleTable *pending;
	uint64		n;
	List	   *explained = NIL;

	if (s->policy->action != RT_ACTION_DELETE || !RT_HAS_DETACH_CONCURRENTLY)
		return NIL;
	if (rt_spi_execute("WITH RECURSIVE tree(relid, pending) AS ("
					   " SELECT $1, false"
					   " UNION ALL SELECT i.inhrelid, tree.pending OR " RT_SQL_INHDETACHPENDING("i")
					   " FROM pg_catalog.pg_inherits i JOIN tree ON i.inhparent OPERATOR(pg_catalog.=) tree.relid)"
					   " SELECT tree.relid FROM tree JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) tree.relid"
					   " WHERE tree.pending AND c.relkind OPERATOR(pg_catalog.=) 'r'",
					   1, types, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the partitions of relation %u", s->policy->relid);
	pending = SPI_tuptable;
	n = SPI_processed;
	for (uint64 i = 0; i < n; i++)
	{
		bool		isnull;
		Oid			relid = DatumGetObjectId(SPI_getbinval(pending->vals[i], pending->tupdesc, 1, &isnull));
		Relation	rel = relation_open(relid, AccessShareLock);
		RtAnchorType anchor_type = rt_policy_anchor_type(s->policy, rel);
		Oid			type = rt_anchor_type_oid(anchor_type);
		Datum		cutoff = rt_cutoff_for_anchor(s->cutoff, s->policy->time_zone, anchor_type);
		char	   *sql = psprintf("SELECT pg_catalog.count(*) FROM ONLY %s t WHERE t.%s OPERATOR(pg_catalog.<) $1",
								   rt_relation_name(relid), quote_identifier(s->policy->anchor));
		int64		rows;

		relation_close(rel, NoLock);
		explained = lappend_oid(explained, relid);
		if (rt_spi_execute(sql, 1, &type, &cutoff, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not count the expired rows of %s", rt_relation_name(relid));
		rows = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		if (rows == 0)
			continue;
		s->stats.left += rows;
		rt_add_cause(s, psprintf("partition %s is left detach pending (its DETACH PARTITION ... CONCURRENTLY did not finish)"
								 " and still holds " INT64_FORMAT " expired row%s; finish it with ALTER TABLE ... DETACH PARTITION ... FINALIZE",
								 rt_relation_name(relid), rows, rows == 1 ? "" : "s"));
	}
	return explained;
}

/*
 * Step: checks a pass against the table as it is now (the postcondition of
 * docs/operations.md "What pg_retention checks after each run and erasure"):
 * counts what is still due in every target as its owner sees it, and what
 * row-level security hides, and explains each row or counts it as left.
 * The counters of blocked and held rows become those of the table now.
 */
static void
rt_step_verify(void *arg)
{
	RtRunState *s = (RtRunState *) arg;
	RtSavedUser saved;
	int			nest = rt_safe_settings_begin(RT_SAFE_LOCK_TIMEOUT);
	List	   *leaves = find_all_inheritors(s->policy->relid, AccessShareLock, NULL);
	List	   *pending;
	List	   *seen = NIL;
	ListCell   *lc;

	rt_become_table_owner(s->policy->relid, &saved);
	s->again = false;
	s->cause = NULL;
	s->stats.left = 0;
	s->stats.blocked = 0;
	s->stats.held = 0;
	s->stats.skipped_locked = 0;
	s->stats.refused = 0;
	rt_holds_lock_shared();
	pending = rt_explain_detach_pending(s);
	foreach(lc, s->targets)
	{
		RtTarget   *t = lfirst(lc);

		/* a partition detached or dropped since the run began is no longer the policy's */
		if (list_member_oid(leaves, t->relid) && !list_member_oid(pending, t->relid))
			rt_explain_target(s, t);
		seen = lappend_oid(seen, t->relid);
	}
	foreach(lc, leaves)
	{
		Oid			relid = lfirst_oid(lc);

		/* a partition attached during the run: another pass takes it */
		if (!list_member_oid(seen, relid) && !list_member_oid(pending, relid) &&
			get_rel_relkind(relid) == RELKIND_RELATION)
			s->new_leaves = true;
	}
	rt_restore_user(&saved);
	rt_safe_settings_end(nest);
	rt_runlog_progress(s->run_id, &s->stats);
}

/* Prepares the targets anew (partitions attached or detached meanwhile) and zeroes the per-pass counters, for another pass. */
static void
rt_start_pass(RtRunState *s)
{
	rt_targets_free(s->targets);
	s->targets = NIL;
	s->passes++;
	s->rows_before_pass = s->stats.rows;
	s->new_leaves = false;
	s->stats.blocked = 0;
	s->stats.held = 0;
	s->stats.skipped_locked = 0;
	s->stats.refused = 0;
	s->stats.left = 0;
	s->first_row_error = NULL;
}

/* Returns the error an incomplete run reports: what is left and why. */
static ErrorData *
rt_incomplete_error(RtRunState *s)
{
	MemoryContext old = MemoryContextSwitchTo(s->error_cxt);
	ErrorData  *e = palloc0(sizeof(ErrorData));

	e->sqlerrcode = ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE;
	e->message = psprintf("retention policy " INT64_FORMAT " on %s is incomplete: " INT64_FORMAT
						  " expired row%s left: %s", s->policy->policy_id, rt_relation_name(s->policy->relid),
						  s->stats.left, s->stats.left == 1 ? "" : "s",
						  s->cause ? s->cause : "nothing the run knows of explains them");
	MemoryContextSwitchTo(old);
	return e;
}

/* Returns true when the run's deadline (RtRunOptions.deadline) has passed. */
static bool
rt_deadline_passed(const RtRunOptions *options)
{
	return options->deadline != 0 && GetCurrentTimestamp() >= options->deadline;
}

/* Runs the batches of a policy whose run lock is held; see rt_run_policy. */
static RtRunOutcome
rt_run_locked(const RtPolicy *policy, TimestampTz as_of, const RtRunOptions *options,
			  RtRunState *s, ErrorData **error)
{
	RtBatchMode saved_mode;
	RtPosition	saved_pos;
	ErrorData  *edata;

	s->as_of = as_of;
	s->trigger = options->trigger;
	edata = rt_protected(rt_step_start, s);
	if (edata != NULL)
	{
		/* not even a cutoff: record the failed run all the same */
		if (rt_is_interrupt(edata))
			ReThrowError(edata);
		rt_runlog_start_failed(policy, as_of, options->trigger, rt_error_text(edata));
		rt_next(options, s);
		*error = edata;
		return RT_RUN_FAILED;
	}
	rt_next_lazily(options, s);
	/* partitions wholly past the cutoff go whole, before the batches look at the rest */
	edata = rt_partitions_remove(policy, s->cutoff, s->run_id, options, &s->stats, s->error_cxt);
	if (edata == NULL)
		edata = rt_protected(rt_step_prepare, s);
	rt_throttle_init(&s->throttle, policy, options->next_transaction != NULL, rt_batch_pause_ms,
					 options->deadline);
	s->passes = 1;
	s->rows_before_pass = s->stats.rows;
	for (;;)
	{
		while (edata == NULL && !s->policy_changed)
		{
			RtTarget   *t;

			/*
			 * The batch goes to the first target not done yet, so that is the one
			 * whose position a retry must restore: saving the position of a
			 * finished partition and retrying the next one from where the failed
			 * attempt left it skipped that partition's rows without a count.
			 */
			while (s->current != NULL && ((RtTarget *) lfirst(s->current))->pos.done)
				s->current = lnext(s->targets, s->current);
			if (s->current == NULL)
				break;
			t = lfirst(s->current);
			saved_pos = t->pos;
			saved_mode = s->mode;
			MemoryContextReset(s->batch_cxt);
			MemoryContextSwitchTo(s->batch_cxt);
			rt_throttle_batch_begins(&s->throttle);
			edata = rt_protected(rt_step_batch, s);
			MemoryContextSwitchTo(s->run_cxt);
			if (edata != NULL && !rt_is_interrupt(edata) &&
				(edata->sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE ||
				 edata->sqlerrcode == ERRCODE_T_R_DEADLOCK_DETECTED) &&
				saved_mode == RT_BATCH_FAST)
			{
				/* someone holds rows we wanted: from now on, step around them */
				t->pos = saved_pos;
				s->mode = RT_BATCH_SKIP_LOCKED;
				FreeErrorData(edata);
				edata = rt_protected(rt_step_batch, s);
			}
			if (edata != NULL && rt_is_row_error(edata->sqlerrcode) && !s->careful_once && !s->careful)
			{
				/* a row refused to go or to be masked (a deeper foreign key, a constraint, a trigger): isolate it */
				int64		refused_before = s->stats.refused;

				t->pos = saved_pos;
				s->careful_once = true;
				FreeErrorData(edata);
				edata = rt_protected(rt_step_batch, s);
				s->careful_once = false;
				/* refusals tend to come back: no more whole batches rolled back in this run */
				if (s->stats.refused > refused_before)
					s->careful = true;
			}
			if (edata != NULL)
				break;
			rt_next(options, s);
			/* between batches that commit apart, leave the machine to others: as the throttle says */
			if (options->next_transaction != NULL && s->current != NULL && !rt_deadline_passed(options))
				rt_throttle_after_batch(&s->throttle, s->last_candidates, s->last_skipped_locked,
										rt_batch_pause);
			/* no batch starts past the deadline (a time budget, a run window's end) */
			if (rt_deadline_passed(options) && s->current != NULL)
			{
				/* a run that left refused rows is a failure, also when it stops early */
				if (s->stats.refused > 0)
					break;
				rt_runlog_stopped_early(s->run_id, options->deadline_note ? options->deadline_note :
										"stopped at its time budget (retention.max_run_time); the next run goes on");
				rt_throttle_note(s);
				rt_runlog_finish(s->run_id, policy, "success", &s->stats, NULL, NULL);
				rt_next(options, s);
				return RT_RUN_PARTIAL;
			}
		}
		if (edata != NULL || s->policy_changed || s->unreachable != NIL ||
			(s->stats.refused > 0 && s->current != NULL))
			break;

		/* the pass is over: check it against the table as it is now */
		edata = rt_protected(rt_step_verify, s);
		if (edata != NULL)
			break;
		/* not lazily: the check afterwards may have removed rows (rt_target_probe) */
		rt_next(options, s);
		if (s->passes >= RT_MAX_PASSES ||
			!(s->new_leaves || (s->again && s->stats.rows > s->rows_before_pass)))
			break;
		rt_start_pass(s);
		edata = rt_protected(rt_step_prepare, s);
	}

	rt_throttle_note(s);
	if (edata != NULL)
	{
		rt_runlog_finish(s->run_id, policy, rt_is_interrupt(edata) ? "interrupted" : "failed",
						 &s->stats, rt_error_text(edata), NULL);
		rt_next(options, s);
		if (rt_is_interrupt(edata))
			ReThrowError(edata);
		*error = edata;
		return RT_RUN_FAILED;
	}
	if (s->policy_changed)
	{
		rt_runlog_finish(s->run_id, policy, "interrupted", &s->stats,
						 "the policy was altered or dropped during the run", NULL);
		rt_next(options, s);
		return RT_RUN_STOPPED;
	}
	if (s->stats.refused > 0 || s->unreachable != NIL)
	{
		/* the rest went; what could not is a failure to report, not to hide */
		ErrorData  *e;
		MemoryContext old = MemoryContextSwitchTo(s->error_cxt);

		e = palloc0(sizeof(ErrorData));
		if (s->unreachable != NIL)
		{
			e->sqlerrcode = ERRCODE_INSUFFICIENT_PRIVILEGE;
			e->message = psprintf("permission denied for partition %s of %s: the owner of %s may not change it; the other partitions were purged",
								  (char *) linitial(s->unreachable), rt_relation_name(policy->relid),
								  rt_relation_name(policy->relid));
		}
		else
		{
			/* the first refusal's own SQLSTATE: 23514 for a CHECK, 23505 for a unique index ... */
			e->sqlerrcode = s->first_row_errcode != 0 ? s->first_row_errcode :
				ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION;
			e->message = psprintf(INT64_FORMAT " expired row%s could not be %s and %s left; %s %s",
								  s->stats.refused, s->stats.refused == 1 ? "" : "s",
								  policy->action == RT_ACTION_ANONYMIZE ? "anonymized" : "deleted",
								  s->stats.refused == 1 ? "was" : "were",
								  s->stats.refused == 1 ? "it was" : "the first was",
								  s->first_row_error);
		}
		MemoryContextSwitchTo(old);
		rt_runlog_finish(s->run_id, policy, "failed", &s->stats,
						 psprintf("%s (SQLSTATE %s)", e->message, unpack_sql_state(e->sqlerrcode)),
						 s->stats.left > 0 ? s->cause : NULL);
		rt_next(options, s);
		*error = e;
		return RT_RUN_FAILED;
	}
	if (s->stats.left > 0)
	{
		*error = rt_incomplete_error(s);
		rt_runlog_finish(s->run_id, policy, "incomplete", &s->stats, NULL, s->cause);
		rt_next(options, s);
		return RT_RUN_INCOMPLETE;
	}
	rt_runlog_finish(s->run_id, policy, "success", &s->stats, NULL, NULL);
	rt_next(options, s);
	return RT_RUN_SUCCESS;
}

/*
 * Returns true when the session holding the run lock of tag waits for this
 * session (for its snapshot, a lock it holds on the table, a row it
 * locked), as pg_blocking_pids() tells.
 */
static bool
rt_run_lock_holder_waits_for_us(const LOCKTAG *tag)
{
	Oid			types[4] = {OIDOID, OIDOID, OIDOID, INT2OID};
	Datum		values[4];
	bool		isnull;

	/* pg_locks shows the fields of an advisory lock as database, classid, objid, objsubid */
	values[0] = ObjectIdGetDatum(tag->locktag_field1);
	values[1] = ObjectIdGetDatum(tag->locktag_field2);
	values[2] = ObjectIdGetDatum(tag->locktag_field3);
	values[3] = Int16GetDatum((int16) tag->locktag_field4);

	if (rt_spi_execute("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_locks l"
					   " WHERE l.locktype OPERATOR(pg_catalog.=) 'advisory' AND l.granted"
					   " AND l.database OPERATOR(pg_catalog.=) $1 AND l.classid OPERATOR(pg_catalog.=) $2"
					   " AND l.objid OPERATOR(pg_catalog.=) $3 AND l.objsubid OPERATOR(pg_catalog.=) $4"
					   " AND pg_catalog.pg_backend_pid() OPERATOR(pg_catalog.=)"
					   "     ANY (pg_catalog.pg_blocking_pids(l.pid)))",
					   4, types, values, NULL, true, 0) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not read the waits of the session holding a run lock");
	return DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * Waits for the run lock of a policy that another session is running, for
 * a manual run, without holding what that run may come to wait for
 * (docs/operations.md#what-a-concurrent-detach-waits-for): its DETACH ...
 * CONCURRENTLY waits for every transaction that has locked the partitioned
 * table, its DETACH ... FINALIZE for every snapshot older than its own.
 * Queued for the lock while holding either, the manual run closed a cycle
 * the deadlock detector broke by killing one of the two.
 *
 * Where the run may end its transaction (CALL outside a transaction block),
 * it commits first: the new transaction holds no snapshot and no lock on
 * the table while it queues for the lock, as lock_timeout allows.  Inside
 * the caller's transaction it cannot let go of them: it polls for the lock
 * without queueing, for at most retention.lock_timeout, and gives up at
 * once when the other run waits for this transaction; then it raises
 * 55P03 (docs/operations.md#a-manual-run-meets-the-worker).
 */
static void
rt_wait_for_run_lock(const RtPolicy *policy, const LOCKTAG *tag, const RtRunOptions *options)
{
	char	   *relname = rt_relation_name(policy->relid);
	TimestampTz end;
	long		pause = 1;
	bool		waited_for = false;

	if (options->next_transaction != NULL)
	{
		ereport(NOTICE,
				(errmsg("retention policy " INT64_FORMAT " on %s is running in another session; waiting for that run to finish",
						policy->policy_id, relname)));
		/* nothing may read the catalogs between the commit and the lock: that would take a snapshot */
		options->next_transaction();
		(void) LockAcquire(tag, ExclusiveLock, true, false);
		return;
	}

	ereport(NOTICE,
			(errmsg("retention policy " INT64_FORMAT " on %s is running in another session; waiting at most %d ms (retention.lock_timeout) for that run to finish",
					policy->policy_id, relname, rt_lock_timeout_ms)));
	end = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), rt_lock_timeout_ms);
	for (;;)
	{
		if (LockAcquire(tag, ExclusiveLock, true, true) != LOCKACQUIRE_NOT_AVAIL)
			return;
		if (rt_run_lock_holder_waits_for_us(tag))
		{
			waited_for = true;
			break;
		}
		if (GetCurrentTimestamp() >= end)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 Min(pause, TimestampDifferenceMilliseconds(GetCurrentTimestamp(), end) + 1),
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		pause = Min(pause * 2, 100);
	}
	ereport(ERROR,
			(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
			 errmsg("retention policy " INT64_FORMAT " on %s is running in another session",
					policy->policy_id, relname),
			 waited_for ?
			 errdetail("That run waits for this transaction (a partition detach waits for older snapshots and for transactions that locked the table), "
					   "and inside a transaction block this call cannot let go of them: waiting would be a deadlock.") :
			 errdetail("Inside a transaction block this call waits at most retention.lock_timeout (%d ms) for another run: "
					   "that run may come to wait for this transaction's snapshot or locks.", rt_lock_timeout_ms),
			 errhint("Call retention.run() outside a transaction block, where it commits and then waits for the other run, "
					 "or try again once retention.runs shows that run finished.")));
}

/* Runs one policy as of a time; see run.h. */
RtRunOutcome
rt_run_policy(const RtPolicy *policy, TimestampTz as_of, const RtRunOptions *options,
			  RtRunStats *stats, ErrorData **error)
{
	LOCKTAG		tag;
	RtRunState	s;
	volatile RtRunOutcome outcome = RT_RUN_FAILED;
	MemoryContext caller_cxt = CurrentMemoryContext;

	*error = NULL;
	memset(stats, 0, sizeof(*stats));
	rt_run_locktag(&tag, policy->policy_id);
	if (LockAcquire(&tag, ExclusiveLock, true, true) == LOCKACQUIRE_NOT_AVAIL)
	{
		if (!options->wait_if_busy)
			return RT_RUN_BUSY;
		/* the worker (say, the pass a new policy gets at commit) is at it */
		rt_wait_for_run_lock(policy, &tag, options);
	}

	memset(&s, 0, sizeof(s));
	s.policy = policy;
	s.atomic = options->next_transaction == NULL;
	s.mode = RT_BATCH_FAST;
	s.error_cxt = caller_cxt;
	s.run_cxt = AllocSetContextCreate(caller_cxt, "pg_retention policy run",
									  ALLOCSET_DEFAULT_SIZES);
	s.batch_cxt = AllocSetContextCreate(s.run_cxt, "pg_retention batch",
										ALLOCSET_DEFAULT_SIZES);
	PG_TRY();
	{
		MemoryContextSwitchTo(s.run_cxt);
		outcome = rt_run_locked(policy, as_of, options, &s, error);
		MemoryContextSwitchTo(caller_cxt);
		*stats = s.stats;
	}
	PG_FINALLY();
	{
		MemoryContextSwitchTo(caller_cxt);
		rt_targets_free(s.targets);
		LockRelease(&tag, ExclusiveLock, true);
		MemoryContextDelete(s.run_cxt);
	}
	PG_END_TRY();
	return outcome;
}
