/*
 * preview.c
 *    What the policies would do now: retention.preview(as_of) and the
 *    retention.status view.
 *
 * Counts are taken the way a run would see the table: as the table's
 * owner, over every leaf relation of a partitioned table, with the same
 * expiry predicate and the same foreign-key test (for an anonymize
 * policy: the rows not anonymized yet).  A caller sees the
 * policies of tables it may SELECT from.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/resowner.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "anonymize.h"
#include "citus.h"
#include "compat.h"
#include "cutoff.h"
#include "diagnose.h"
#include "fk_guard.h"
#include "hold.h"
#include "policy.h"
#include "preview.h"
#include "privilege.h"
#include "quote.h"
#include "safe_spi.h"
#include "scheduler.h"
#include "srf.h"
#include "subject.h"
#include "subxact.h"

/* Adds the counts of one leaf relation of a policy to *counts. */
static void
rt_count_leaf(const RtPolicy *policy, Oid relid, TimestampTz cutoff, RtCounts *counts)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	RtAnchorType anchor_type = rt_policy_anchor_type(policy, rel);
	char	   *relname = rt_relation_name(relid);
	const char *anchor = quote_identifier(policy->anchor);
	char	   *blocked = NULL;
	const char *pending = "true";
	const char *held = "false";
	List	   *kinds = NIL;
	Oid		   *argtypes;
	Datum	   *values;
	int			nargs = 1;
	ListCell   *lc;
	char	   *sql;
	bool		isnull;
	Datum		oldest;

	relation_close(rel, NoLock);
	/* an anonymize policy is due only for rows not anonymized yet, and never blocked */
	if (policy->action == RT_ACTION_ANONYMIZE)
		pending = rt_anon_sql(policy, relid, "t")->pending;
	else
	{
		RtFkSelf	self = {policy->relid, anchor, "$1"};

		/* Citus refuses the correlated test on a reference table (docs/operations.md#citus) */
		blocked = rt_citus_table(relid, NULL) == RT_CITUS_REFERENCE ?
			rt_citus_referenced_expr(relid, "t", RT_FK_RESTRICTING) :
			rt_fk_blocked_expr(relid, "t", &self);
	}
	/* rows of held subjects, or every row of a held table */
	if (rt_table_on_hold(relid))
		held = "true";
	else if (rt_subject_kind_names() != NIL)
	{
		char	   *pred = rt_held_predicate(relid, "t", 2, &kinds);

		if (pred)
			held = pred;
	}
	argtypes = palloc(sizeof(Oid) * (1 + list_length(kinds)));
	values = palloc(sizeof(Datum) * (1 + list_length(kinds)));
	argtypes[0] = rt_anchor_type_oid(anchor_type);
	values[0] = rt_cutoff_for_anchor(cutoff, policy->time_zone, anchor_type);
	foreach(lc, kinds)
	{
		Datum		keys = rt_held_keys(lfirst(lc));

		argtypes[nargs] = TEXTARRAYOID;
		values[nargs++] = keys != (Datum) 0 ? keys : PointerGetDatum(construct_empty_array(TEXTOID));
	}
	sql = psprintf("SELECT (SELECT pg_catalog.count(*) FROM ONLY %s t WHERE t.%s OPERATOR(pg_catalog.<) $1 AND %s),"
				   " (SELECT pg_catalog.count(*) FROM ONLY %s t WHERE t.%s IS NULL),"
				   " (SELECT pg_catalog.count(*) FROM ONLY %s t WHERE t.%s OPERATOR(pg_catalog.<) $1 AND %s AND NOT %s),"
				   " (SELECT pg_catalog.count(*) FROM ONLY %s t WHERE t.%s OPERATOR(pg_catalog.<) $1 AND %s AND %s),"
				   " (SELECT pg_catalog.min(t.%s) FROM ONLY %s t WHERE t.%s OPERATOR(pg_catalog.<) $1 AND %s"
				   "  AND NOT %s AND NOT %s)",
				   relname, anchor, pending,
				   relname, anchor,
				   relname, anchor, blocked ? blocked : "false", held,
				   relname, anchor, pending, held,
				   anchor, relname, anchor, pending, blocked ? blocked : "false", held);
	if (rt_spi_execute(sql, nargs, argtypes, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not count the rows of %s", relname);
	counts->due += DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	counts->undated += DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	counts->blocked += DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
	counts->held += DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4, &isnull));
	oldest = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 5, &isnull);
	counts->hidden += rt_rows_hidden_from_owner(relid, anchor, argtypes[0], values[0]);
	if (!isnull)
	{
		TimestampTz ts = rt_anchor_to_timestamptz(oldest, anchor_type, policy->time_zone);

		if (!counts->have_oldest || ts < counts->oldest)
			counts->oldest = ts;
		counts->have_oldest = true;
	}
}

/* Returns true when row-level security is enabled on a relation. */
static bool
rt_row_security_enabled(Oid relid)
{
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	bool		enabled = false;

	if (HeapTupleIsValid(tuple))
	{
		enabled = ((Form_pg_class) GETSTRUCT(tuple))->relrowsecurity;
		ReleaseSysCache(tuple);
	}
	return enabled;
}

/*
 * Counts what a policy would handle at cutoff, as the table owner with the
 * search_path a run uses.  Returns false (counting nothing) when the table
 * is gone, or, with for_caller, when the caller may not read it.
 */
static bool
rt_count_policy(const RtPolicy *policy, TimestampTz cutoff, bool for_caller, RtCounts *counts)
{
	List	   *relids;
	ListCell   *lc;
	RtSavedUser saved;

	memset(counts, 0, sizeof(*counts));
	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(policy->relid)))
		return false;
	if (for_caller && rt_class_aclcheck(policy->relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		return false;
	/* counted as the owner, the rows would be those row security hides from the caller */
	if (for_caller && !rt_has_owner_rights(policy->relid, GetUserId()) &&
		rt_row_security_enabled(policy->relid))
		return false;

	relids = find_all_inheritors(policy->relid, AccessShareLock, NULL);
	rt_become_table_owner(policy->relid, &saved);
	foreach(lc, relids)
	{
		if (get_rel_relkind(lfirst_oid(lc)) == RELKIND_RELATION)
			rt_count_leaf(policy, lfirst_oid(lc), cutoff, counts);
	}
	rt_restore_user(&saved);
	return true;
}

/* The arguments and results of one policy's count (for rt_in_subtransaction). */
typedef struct RtCountStep
{
	const RtPolicy *policy;
	TimestampTz as_of;
	bool		for_caller;
	TimestampTz cutoff;
	RtCounts   *counts;
	bool		counted;
} RtCountStep;

/* Computes a policy's cutoff and counts it (a step for rt_in_subtransaction). */
static void
rt_count_step(void *arg)
{
	RtCountStep *step = arg;

	step->cutoff = rt_cutoff(step->as_of, &step->policy->keep, step->policy->time_zone);
	step->counted = rt_count_policy(step->policy, step->cutoff, step->for_caller, step->counts);
}

/* Counts a policy in a subtransaction, its error returned as text; see preview.h. */
bool
rt_policy_count(const RtPolicy *policy, TimestampTz as_of, bool for_caller,
				TimestampTz *cutoff, RtCounts *counts, char **error)
{
	RtCountStep step = {policy, as_of, for_caller, 0, counts, false};
	ErrorData  *edata = rt_in_subtransaction(rt_count_step, &step, CurrentMemoryContext);

	*cutoff = step.cutoff;
	*error = NULL;
	if (edata == NULL)
		return step.counted;
	*error = pstrdup(edata->message);
	FreeErrorData(edata);
	memset(counts, 0, sizeof(*counts));
	return false;
}

/*
 * Computes the cutoff of a policy and counts it for the caller: a policy
 * that cannot be counted (its table's owner lost a privilege, a trigger or
 * row-security policy raises) is reported with a WARNING and left out,
 * instead of failing the view for every policy.  Returns false when
 * nothing was counted.
 */
static bool
rt_count_policy_safely(const RtPolicy *policy, TimestampTz as_of, TimestampTz *cutoff,
					   RtCounts *counts)
{
	char	   *error;

	if (rt_policy_count(policy, as_of, true, cutoff, counts, &error))
		return true;
	if (error != NULL)
		ereport(WARNING,
				(errmsg("retention policy " INT64_FORMAT " on %s cannot be counted: %s",
						policy->policy_id, rt_relation_name(policy->relid), error),
				 errhint("A run of this policy would fail the same way; see retention.runs.")));
	return false;
}

PG_FUNCTION_INFO_V1(retention_preview);

/* SQL: retention.preview(as_of) lists what each enabled policy would do; changes nothing. */
Datum
retention_preview(PG_FUNCTION_ARGS)
{
	RtSrf		srf;
	TimestampTz as_of;
	List	   *policies;
	ListCell   *lc;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("as_of must not be null"),
				 errhint("Leave it out to preview as of now().")));
	as_of = PG_GETARG_TIMESTAMPTZ(0);
	if (TIMESTAMP_NOT_FINITE(as_of))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("as_of must be a finite time")));
	rt_srf_begin(fcinfo, &srf);
	SPI_connect();
	policies = rt_policy_list(InvalidOid, false);
	foreach(lc, policies)
	{
		RtPolicy   *p = lfirst(lc);
		TimestampTz cutoff = 0;
		RtCounts	counts;
		Datum		values[9];
		bool		nulls[9] = {false, false, false, false, false, false, false, false, false};

		if (!rt_count_policy_safely(p, as_of, &cutoff, &counts))
			continue;
		values[0] = Int64GetDatum(p->policy_id);
		values[1] = ObjectIdGetDatum(p->relid);
		values[2] = CStringGetTextDatum(rt_action_name(p->action));
		values[3] = TimestampTzGetDatum(cutoff);
		values[4] = Int64GetDatum(counts.due);
		values[5] = Int64GetDatum(counts.held);
		values[6] = Int64GetDatum(counts.undated);
		values[7] = Int64GetDatum(counts.blocked);
		/* rows_hidden came with the 0.3.0 objects: the 0.2.0 function has eight columns */
		values[8] = Int64GetDatum(counts.hidden);
		rt_srf_put(&srf, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(retention_policy_status);

/* SQL: retention.policy_status() backs the retention.status view. */
Datum
retention_policy_status(PG_FUNCTION_ARGS)
{
	RtSrf		srf;
	List	   *policies;
	ListCell   *lc;
	TimestampTz now = GetCurrentTransactionStartTimestamp();

	rt_srf_begin(fcinfo, &srf);
	SPI_connect();
	policies = rt_policy_list(InvalidOid, true);
	foreach(lc, policies)
	{
		RtPolicy   *p = lfirst(lc);
		TimestampTz cutoff = 0;
		RtCounts	counts;
		Datum		values[16];
		bool		nulls[16];
		Oid			argtypes[1] = {INT8OID};
		Datum		args[1] = {Int64GetDatum(p->policy_id)};
		bool		counted;

		memset(nulls, 0, sizeof(nulls));
		counted = p->enabled && rt_count_policy_safely(p, now, &cutoff, &counts);
		values[0] = Int64GetDatum(p->policy_id);
		values[1] = ObjectIdGetDatum(p->relid);
		values[2] = CStringGetTextDatum(rt_action_name(p->action));
		values[3] = IntervalPGetDatum(&p->keep);
		values[4] = BoolGetDatum(p->enabled);
		values[5] = TimestampTzGetDatum(cutoff);
		nulls[5] = !counted;
		/* overdue: past the cutoff, not kept by a foreign key nor by a legal hold */
		values[6] = Int64GetDatum(counted ? RT_COUNTS_OVERDUE(&counts) : 0);
		values[7] = Int64GetDatum(counted ? counts.blocked : 0);
		values[8] = Int64GetDatum(counted ? counts.held : 0);
		values[9] = Int64GetDatum(counted ? counts.undated : 0);
		nulls[6] = nulls[7] = nulls[8] = nulls[9] = !counted;
		values[10] = TimestampTzGetDatum(counted && counts.have_oldest ? counts.oldest : 0);
		nulls[10] = !(counted && counts.have_oldest);

		rt_catalog_exec("SELECT (SELECT started_at FROM retention.run_history h"
						"   WHERE h.policy_id OPERATOR(pg_catalog.=) $1 ORDER BY run_id DESC LIMIT 1),"
						" (SELECT status FROM retention.run_history h"
						"   WHERE h.policy_id OPERATOR(pg_catalog.=) $1 ORDER BY run_id DESC LIMIT 1),"
						" (SELECT finished_at FROM retention.run_history h"
						"   WHERE h.policy_id OPERATOR(pg_catalog.=) $1 AND h.status OPERATOR(pg_catalog.=) 'success'"
						"   ORDER BY run_id DESC LIMIT 1)",
						1, argtypes, args, NULL, false, SPI_OK_SELECT);
		for (int i = 0; i < 3; i++)
		{
			values[11 + i] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1, &nulls[11 + i]);
			if (!nulls[11 + i] && i == 1)
				values[11 + i] = PointerGetDatum(DatumGetTextPCopy(values[11 + i]));
		}
		/* the time of the next scheduled run: NULL without the scheduler */
		values[14] = TimestampTzGetDatum(rt_sched_next_run(p, &nulls[14]));
		/* rows_hidden, from 0.3.0 on (the 0.2.0 function has 15 columns) */
		values[15] = Int64GetDatum(counted ? counts.hidden : 0);
		nulls[15] = !counted;
		rt_srf_put(&srf, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}
