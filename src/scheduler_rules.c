/*
 * scheduler_rules.c
 *    When the scheduler runs a policy: the "due" test a database worker
 *    applies before starting a run, the back-off after failed runs, the
 *    run window and minimum interval of a policy, the next_run column of
 *    retention.status, which follows the same rules, and whether the role
 *    the workers log in as (retention.worker_role) can work in a database.
 *
 * Run windows (docs/operations.md#run-windows).  A window is a pair of
 * local times in the policy's time zone, read the way PostgreSQL reads a
 * local time (as the cutoff is, cutoff.c): a time the clock skips on the
 * day daylight-saving time starts is read with the offset before the jump
 * (02:30 becomes 03:30), a time the clock passes twice is the later one.
 * A window those readings leave empty or reversed (02:00 to 03:00 on the
 * day clocks go from 02:00 to 03:00) keeps its length from where it
 * opens, so no day loses its window.
 *
 * A worker visits every enabled policy of its database on every pass, but
 * starts a run only when the policy has work: a run writes a record and
 * an audit entry, and a thousand idle policies must not write a thousand
 * of each every naptime.  The test is one LIMIT 1 query per leaf table, as
 * the table owner, under retention.lock_timeout.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/xlog.h"
#include "catalog/indexing.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "catalog/pg_db_role_setting.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "anonymize.h"
#include "compat.h"
#include "cutoff.h"
#include "diagnose.h"
#include "extension.h"
#include "fk_guard.h"
#include "guc.h"
#include "hold.h"
#include "policy.h"
#include "privilege.h"
#include "quote.h"
#include "restore.h"
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

/* Reads a local time (a timestamp without time zone) in zone tz as PostgreSQL does. */
static TimestampTz
rt_local_to_absolute(Timestamp local, const char *tz)
{
	return DatumGetTimestampTz(DirectFunctionCall2(timestamp_zone, CStringGetTextDatum(tz),
												   TimestampGetDatum(local)));
}

/* Returns the local midnight (a timestamp without time zone) that begins the day of t in zone tz. */
static Timestamp
rt_local_midnight(TimestampTz t, const char *tz)
{
	Timestamp	local = DatumGetTimestamp(DirectFunctionCall2(timestamptz_zone, CStringGetTextDatum(tz),
															  TimestampTzGetDatum(t)));
	Timestamp	midnight = local - local % USECS_PER_DAY;

	return local % USECS_PER_DAY < 0 ? midnight - USECS_PER_DAY : midnight;
}

/* Sets *opens and *closes to the occurrence of a policy's window that opens on the local day of midnight. */
static void
rt_window_on(const RtPolicy *policy, Timestamp midnight, TimestampTz *opens, TimestampTz *closes)
{
	int64		length = policy->window_end - policy->window_start;

	if (length <= 0)
		length += USECS_PER_DAY;	/* it crosses midnight */
	*opens = rt_local_to_absolute(midnight + policy->window_start, policy->time_zone);
	*closes = rt_local_to_absolute(midnight + policy->window_start + length, policy->time_zone);
	/* the skipped hour of a daylight-saving change swallowed it: it keeps its length */
	if (*closes <= *opens)
		*closes = *opens + length;
}

/* Finds the occurrence of a policy's window containing t, or else the next; see scheduler.h. */
void
rt_sched_window_at(const RtPolicy *policy, TimestampTz t, TimestampTz *opens, TimestampTz *closes)
{
	Timestamp	midnight = rt_local_midnight(t, policy->time_zone);

	Assert(policy->has_window);
	/* the day before holds the occurrence of a window across midnight; local days may be skipped */
	for (int day = -1; day <= 3; day++)
	{
		rt_window_on(policy, midnight + day * USECS_PER_DAY, opens, closes);
		if (*closes > t)
			return;
	}
	elog(ERROR, "no run window found after " INT64_FORMAT " for policy " INT64_FORMAT,
		 (int64) t, policy->policy_id);
}

/* Returns t plus an interval, the interval added on the wall clock of zone tz (as the cutoff subtracts). */
static TimestampTz
rt_plus_interval_local(TimestampTz t, const Interval *interval, const char *tz)
{
	Datum		zone = CStringGetTextDatum(tz);
	Datum		local = DirectFunctionCall2(timestamptz_zone, zone, TimestampTzGetDatum(t));

	local = DirectFunctionCall2(timestamp_pl_interval, local, IntervalPGetDatum(interval));
	return DatumGetTimestampTz(DirectFunctionCall2(timestamp_zone, zone, local));
}

/* Returns the earliest time from `from` on at which a run of the policy may start; see scheduler.h. */
TimestampTz
rt_sched_start_at(const RtPolicy *policy, const RtSchedLast *last, TimestampTz from)
{
	TimestampTz at = from;

	/* a run left running is continued: no back-off, no minimum interval */
	if (!last->stale)
	{
		if (last->failures > 0)
			at = Max(at, rt_sched_retry_at(last->failures, last->last_start));
		if (rt_policy_has_min_interval(policy) && last->round_start != 0)
			at = Max(at, rt_plus_interval_local(last->round_start, &policy->min_interval,
												policy->time_zone));
	}
	if (policy->has_window)
	{
		TimestampTz opens;
		TimestampTz closes;

		rt_sched_window_at(policy, at, &opens, &closes);
		at = Max(at, opens);
	}
	return at;
}

/* Returns the role the database workers log in as, or InvalidOid and why not; see scheduler.h. */
Oid
rt_sched_worker_role(char **problem)
{
	HeapTuple	tuple;
	Form_pg_authid role;
	Oid			roleid;

	*problem = NULL;
	if (rt_worker_role == NULL || rt_worker_role[0] == '\0')
		return BOOTSTRAP_SUPERUSERID;
	tuple = SearchSysCache1(AUTHNAME, CStringGetDatum(rt_worker_role));
	if (!HeapTupleIsValid(tuple))
	{
		*problem = psprintf("role %s does not exist", quote_identifier(rt_worker_role));
		return InvalidOid;
	}
	role = (Form_pg_authid) GETSTRUCT(tuple);
	roleid = role->oid;
	if (!role->rolcanlogin)
		*problem = psprintf("role %s may not log in (NOLOGIN)", quote_identifier(rt_worker_role));
	ReleaseSysCache(tuple);
	return *problem != NULL ? InvalidOid : roleid;
}

/* Returns true when pg_db_role_setting gives setting `name` for (dboid, roleid). */
static bool
rt_setting_given(Relation rel, Oid dboid, Oid roleid, const char *name)
{
	ScanKeyData keys[2];
	SysScanDesc scan;
	HeapTuple	tuple;
	size_t		len = strlen(name);
	bool		found = false;

	ScanKeyInit(&keys[0], Anum_pg_db_role_setting_setdatabase, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(dboid));
	ScanKeyInit(&keys[1], Anum_pg_db_role_setting_setrole, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(roleid));
	scan = systable_beginscan(rel, DbRoleSettingDatidRolidIndexId, true, NULL, 2, keys);
	while (!found && HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		d = heap_getattr(tuple, Anum_pg_db_role_setting_setconfig,
									 RelationGetDescr(rel), &isnull);
		Datum	   *elems;
		bool	   *nulls;
		int			n;

		if (isnull)
			continue;
		deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false, TYPALIGN_INT,
						  &elems, &nulls, &n);
		for (int i = 0; i < n && !found; i++)
		{
			char	   *item = nulls[i] ? NULL : TextDatumGetCString(elems[i]);

			found = item != NULL && strncmp(item, name, len) == 0 && item[len] == '=';
		}
	}
	systable_endscan(scan);
	return found;
}

/* Returns why a worker logging in as roleid cannot work in database dboid, or NULL; see scheduler.h. */
char *
rt_sched_worker_role_problem(Oid dboid, Oid roleid, bool connected, bool *key_file_refused)
{
	const char *key_file = "retention.key_file";
	Relation	rel;
	bool		given;

	if (key_file_refused != NULL)
		*key_file_refused = false;
	if (superuser_arg(roleid))
		return NULL;
	if (rt_database_aclcheck(dboid, roleid, ACL_CONNECT) != ACLCHECK_OK)
		return psprintf("role %s has no CONNECT privilege on the database",
						quote_identifier(GetUserNameFromId(roleid, false)));

	/*
	 * A superuser-only setting that ALTER DATABASE or ALTER ROLE gives is
	 * not applied to a role that may not set it (PostgreSQL warns and goes
	 * on): the worker would pseudonymize with another key than the
	 * database's sessions.
	 */
	if (!connected)
		return NULL;
	rel = table_open(DbRoleSettingRelationId, AccessShareLock);
	given = rt_setting_given(rel, dboid, InvalidOid, key_file) ||
		rt_setting_given(rel, dboid, roleid, key_file) ||
		rt_setting_given(rel, InvalidOid, roleid, key_file);
	table_close(rel, AccessShareLock);
	if (given && rt_parameter_aclcheck(key_file, roleid, ACL_SET) != ACLCHECK_OK)
	{
		if (key_file_refused != NULL)
			*key_file_refused = true;
		return psprintf("role %s may not take the setting %s that ALTER DATABASE or ALTER ROLE ... SET gives it",
						quote_identifier(GetUserNameFromId(roleid, false)), key_file);
	}
	return NULL;
}

/* Returns why no scheduler runs this database's policies now, or NULL; see scheduler.h. */
const char *
rt_scheduler_stopped_reason(void)
{
	const char *reason = rt_registry_stopped_reason();
	char	   *problem;
	Oid			roleid;

	if (reason != NULL)
		return reason;
	/* a worker that cannot log in, or cannot work here, runs nothing here */
	roleid = rt_sched_worker_role(&problem);
	if (!OidIsValid(roleid) || rt_sched_worker_role_problem(MyDatabaseId, roleid, true, NULL) != NULL)
		return "worker_role";
	/* after a recognized restore, policies wait (docs/operations.md#backups-and-restores) */
	if (rt_restore_grace_until() > GetCurrentTimestamp())
		return "restore_grace";
	return NULL;
}

/*
 * Returns true when the scheduler works in this database at all: a held
 * database gets its turn back, and policies waiting after a restore run
 * when the grace period ends.
 */
static bool
rt_scheduler_active_here(void)
{
	const char *reason = rt_scheduler_stopped_reason();

	return reason == NULL || strcmp(reason, "held") == 0 || strcmp(reason, "restore_grace") == 0;
}

/* Returns when the scheduler runs a policy of this database next; see scheduler.h. */
TimestampTz
rt_sched_next_run(const RtPolicy *policy, bool *isnull)
{
	TimestampTz now = GetCurrentTimestamp();
	Oid			argtypes[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(policy->policy_id)};
	RtSchedLast last;
	HeapTuple	tuple;
	TupleDesc	desc;
	bool		isnull_col;
	Datum		d;

	*isnull = true;
	if (!policy->enabled || !rt_scheduler_active_here())
		return 0;
	*isnull = false;

	rt_catalog_exec(psprintf("SELECT last.started_at, last.status OPERATOR(pg_catalog.=) 'running',"
							 " " RT_SQL_FAILURES_IN_A_ROW("$1") ", %s"
							 " FROM (SELECT 1) one LEFT JOIN LATERAL"
							 " (SELECT h.started_at, h.status FROM retention.run_history h"
							 "   WHERE h.policy_id OPERATOR(pg_catalog.=) $1 ORDER BY h.run_id DESC LIMIT 1) last ON true",
							 rt_sql_objects_at_least("0.3.0") ? RT_SQL_ROUND_START("$1") :
							 "NULL::pg_catalog.timestamptz"),
					1, argtypes, args, NULL, true, SPI_OK_SELECT);
	tuple = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	d = SPI_getbinval(tuple, desc, 1, &isnull_col);
	last.last_start = isnull_col ? 0 : DatumGetTimestampTz(d);
	d = SPI_getbinval(tuple, desc, 2, &isnull_col);
	last.stale = !isnull_col && DatumGetBool(d);
	d = SPI_getbinval(tuple, desc, 3, &isnull_col);
	last.failures = isnull_col ? 0 : DatumGetInt64(d);
	d = SPI_getbinval(tuple, desc, 4, &isnull_col);
	last.round_start = isnull_col ? 0 : DatumGetTimestampTz(d);

	/*
	 * No worker connected right now: the launcher starts one as soon as it
	 * can; after a restore, policies wait for the grace period
	 * (docs/operations.md#backups-and-restores).
	 */
	return rt_sched_start_at(policy, &last,
							 Max(Max(rt_next_pass_here(), now), rt_restore_grace_until()));
}

PG_FUNCTION_INFO_V1(retention_next_window);

/*
 * SQL: retention.next_window(policy_id, at) returns (opens, closes), the
 * occurrence of the policy's run window that contains at, or else the next
 * one, as the scheduler computes it; NULLs for a policy without a window.
 */
Datum
retention_next_window(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		values[2] = {0, 0};
	bool		nulls[2] = {true, true};
	RtPolicy   *policy;
	int64		policy_id;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("policy_id must not be null")));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("at must not be null")));
	policy_id = PG_GETARG_INT64(0);
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "retention.next_window must return a record");
	desc = BlessTupleDesc(desc);

	SPI_connect();
	policy = rt_policy_get_existing(policy_id, false);
	if (policy->has_window)
	{
		TimestampTz opens;
		TimestampTz closes;

		rt_sched_window_at(policy, PG_GETARG_TIMESTAMPTZ(1), &opens, &closes);
		values[0] = TimestampTzGetDatum(opens);
		values[1] = TimestampTzGetDatum(closes);
		nulls[0] = nulls[1] = false;
	}
	SPI_finish();
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
