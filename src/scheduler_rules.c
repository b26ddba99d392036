/*
 * scheduler_rules.c
 *    When the scheduler runs a policy: the "due" test a database worker
 *    applies before starting a run, the back-off after failed runs, and
 *    the next_run column of retention.status, which follows the same
 *    rules.
 *
 * A worker visits every enabled policy of its database on every pass, but
 * starts a run only when the policy has work: a run writes a record and
 * an audit entry, and a thousand idle policies must not write a thousand
 * of each every naptime.  The test is one LIMIT 1 query per leaf table, as
 * the table owner, under retention.lock_timeout.
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/xlog.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "anonymize.h"
#include "cutoff.h"
#include "diagnose.h"
#include "fk_guard.h"
#include "guc.h"
#include "hold.h"
#include "policy.h"
#include "privilege.h"
#include "quote.h"
#include "safe_spi.h"
#include "scheduler.h"
#include "scheduler_idle.h"
#include "scheduler_registry.h"
#include "subject.h"

/* longest pause between retries of a policy whose runs keep failing */
#define RT_MAX_BACKOFF_S 3600

/*
 * Returns true when a leaf table has an expired row that also satisfies
 * filter (SQL on alias t, or NULL), whose parameters $2, $3, ... are the
 * nargs text[] values in args.
 */
static bool
rt_leaf_has_expired(Oid relid, const char *anchor, Oid anchor_type_oid, Datum cutoff,
					const char *filter, int nargs, Datum *args)
{
	Oid		   *argtypes = palloc(sizeof(Oid) * (1 + nargs));
	Datum	   *values = palloc(sizeof(Datum) * (1 + nargs));
	char	   *sql;

	argtypes[0] = anchor_type_oid;
	values[0] = cutoff;
	for (int i = 0; i < nargs; i++)
	{
		argtypes[1 + i] = TEXTARRAYOID;
		values[1 + i] = args[i];
	}
	sql = psprintf("SELECT 1 FROM ONLY %s t WHERE t.%s OPERATOR(pg_catalog.<) $1%s%s LIMIT 1",
				   rt_relation_name(relid), quote_identifier(anchor),
				   filter ? " AND " : "", filter ? filter : "");
	if (rt_spi_execute(sql, 1 + nargs, argtypes, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look for expired rows of %s", rt_relation_name(relid));
	return SPI_processed > 0;
}

/*
 * Returns true when one leaf table holds a row the policy would act on at
 * cutoff: expired, not needed by a foreign key (delete), not masked yet
 * (anonymize), and not under a legal hold.
 */
static bool
rt_leaf_due(const RtPolicy *policy, Oid relid, TimestampTz cutoff)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	RtAnchorType anchor_type = rt_policy_anchor_type(policy, rel);
	Oid			type_oid = rt_anchor_type_oid(anchor_type);
	Datum		value = rt_cutoff_for_anchor(cutoff, policy->time_zone, anchor_type);
	StringInfoData filter;
	List	   *kinds = NIL;
	Datum	   *keys;
	int			nkeys = 0;
	char	   *held;
	ListCell   *lc;

	relation_close(rel, NoLock);
	/* the common idle case, nothing expired, costs one query */
	if (!rt_leaf_has_expired(relid, policy->anchor, type_oid, value, NULL, 0, NULL))
	{
		/* rows row-level security hides from the owner: a run must say they are there */
		return rt_rows_hidden_from_owner(relid, quote_identifier(policy->anchor), type_oid, value) > 0;
	}
	if (rt_table_on_hold(relid))
		return false;

	initStringInfo(&filter);
	appendStringInfoString(&filter, "true");
	if (policy->action == RT_ACTION_ANONYMIZE)
		appendStringInfo(&filter, " AND %s", rt_anon_sql(policy, relid, "t")->pending);
	else
	{
		/* rows a foreign key still needs would only be counted as blocked again */
		RtFkSelf	self = {policy->relid, quote_identifier(policy->anchor), "$1"};
		char	   *blocked = rt_fk_blocked_expr(relid, "t", &self);

		if (blocked)
			appendStringInfo(&filter, " AND NOT %s", blocked);
	}
	held = rt_subject_kind_names() == NIL ? NULL : rt_held_predicate(relid, "t", 2, &kinds);
	keys = palloc(sizeof(Datum) * Max(1, list_length(kinds)));
	foreach(lc, kinds)
	{
		Datum		k = rt_held_keys(lfirst(lc));

		keys[nkeys++] = k != (Datum) 0 ? k : PointerGetDatum(construct_empty_array(TEXTOID));
	}
	if (held)
		appendStringInfo(&filter, " AND NOT %s", held);
	/* kept rows are read again only when something could have freed them (scheduler_idle.c) */
	return rt_idle_leaf_due(policy, relid, type_oid, value, filter.data, nkeys, keys);
}

/* Returns true when a policy has rows a run would act on now; see scheduler.h. */
bool
rt_sched_policy_due(const RtPolicy *policy, TimestampTz as_of)
{
	TimestampTz cutoff = rt_cutoff(as_of, &policy->keep, policy->time_zone);
	int			nest;
	List	   *relids;
	ListCell   *lc;
	RtSavedUser saved;
	bool		due = false;

	/* a vanished table is the run's business: it records the error */
	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(policy->relid)))
		return true;

	nest = rt_safe_settings_begin(RT_SAFE_LOCK_TIMEOUT);
	relids = find_all_inheritors(policy->relid, AccessShareLock, NULL);
	rt_become_table_owner(policy->relid, &saved);
	foreach(lc, relids)
	{
		if (get_rel_relkind(lfirst_oid(lc)) != RELKIND_RELATION)
			continue;			/* partitioned parents hold no rows */
		if (rt_leaf_due(policy, lfirst_oid(lc), cutoff))
		{
			due = true;
			break;
		}
	}
	rt_restore_user(&saved);
	/* false: a SET made by the owner's code (row security, a function) must not stay */
	rt_safe_settings_end(nest);
	return due;
}

/* Returns when a policy whose last runs failed is tried again; see scheduler.h. */
TimestampTz
rt_sched_retry_at(int64 failures, TimestampTz last_start)
{
	int64		delay_s = rt_naptime_s;

	if (failures <= 0)
		return 0;
	for (int64 i = 1; i < failures && delay_s < RT_MAX_BACKOFF_S; i++)
		delay_s *= 2;
	delay_s = Min(delay_s, Max(RT_MAX_BACKOFF_S, (int64) rt_naptime_s));
	return last_start + delay_s * USECS_PER_SEC;
}

/* Returns the start of the next pass of this database's worker, or 0 when it has none now. */
static TimestampTz
rt_next_pass_here(void)
{
	TimestampTz next = 0;

	LWLockAcquire(rt_registry->lock, LW_SHARED);
	for (int i = 0; i < rt_registry->nslots; i++)
	{
		RtWorkerSlot *slot = &rt_registry->slots[i];

		if (slot->in_use && !slot->exited && slot->dboid == MyDatabaseId)
			next = slot->next_pass_at;
	}
	LWLockRelease(rt_registry->lock);
	return next;
}

/* Returns true when the scheduler works in this database at all. */
static bool
rt_scheduler_active_here(void)
{
	pid_t		launcher;

	if (!rt_registry_available() || !rt_enabled || RecoveryInProgress())
		return false;
	LWLockAcquire(rt_registry->lock, LW_SHARED);
	launcher = rt_registry->launcher_pid;
	LWLockRelease(rt_registry->lock);
	return launcher != 0;
}

/* Returns when the scheduler runs a policy of this database next; see scheduler.h. */
TimestampTz
rt_sched_next_run(int64 policy_id, bool policy_enabled, bool *isnull)
{
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz next;
	Oid			argtypes[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(policy_id)};
	bool		null_start,
				null_failures;
	Datum		start,
				failures;

	*isnull = true;
	if (!policy_enabled || !rt_scheduler_active_here())
		return 0;
	*isnull = false;

	/* no worker connected right now: the launcher starts one as soon as it can */
	next = Max(rt_next_pass_here(), now);

	rt_catalog_exec("SELECT (SELECT h.started_at FROM retention.run_history h"
					"   WHERE h.policy_id OPERATOR(pg_catalog.=) $1 ORDER BY h.run_id DESC LIMIT 1),"
					" " RT_SQL_FAILURES_IN_A_ROW("$1"),
					1, argtypes, args, NULL, true, SPI_OK_SELECT);
	start = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &null_start);
	failures = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &null_failures);
	if (!null_start && !null_failures)
		next = Max(next, rt_sched_retry_at(DatumGetInt64(failures), DatumGetTimestampTz(start)));
	return next;
}
