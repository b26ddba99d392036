/*
 * metrics.c
 *    What retention.metrics is made of that SQL cannot read: each policy's
 *    rows counted as a run would count them, with its run history summed
 *    up, and whether a scheduler runs this database's policies at all
 *    (docs/reference.md#retentionmetrics-view, docs/operations.md#monitoring).
 *
 * The view turns these rows into Prometheus-style series, one branch per
 * metric name, so that a query for some names (as the exporter's queries
 * in contrib/prometheus/queries.yaml make) plans away the branches of the
 * others, and the per-policy counts, the only costly part, are taken only
 * when a policy series is asked for.
 *
 * The counts are taken for every policy, whatever tables the caller may
 * read, for roles that may read retention.metrics: the functions behind it
 * check that privilege themselves, so that one GRANT SELECT on the view
 * (to retention_auditor and retention_officer by default, roles that see
 * the runs of every table already, or to a monitoring role) is all it
 * takes, and nothing else opens the counts.  A stopped
 * scheduler is reported as such, never as nothing overdue: the counts come
 * from the tables themselves, not from the scheduler's view of them.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "extension.h"
#include "metrics.h"
#include "policy.h"
#include "preview.h"
#include "privilege.h"
#include "quote.h"
#include "scheduler.h"
#include "srf.h"

/* Raises 42501 unless the caller may read the view retention.metrics. */
static void
rt_metrics_require_access(void)
{
	Oid			view = get_relname_relid("metrics", get_namespace_oid(RT_SCHEMA_NAME, false));

	if (!OidIsValid(view) || pg_class_aclcheck(view, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for view retention.metrics"),
				 errdetail("The metrics count the rows of every table with a policy."),
				 errhint("Grant SELECT on retention.metrics to the role, or make it a member of retention_auditor.")));
}

/* Reads the run history of one policy into *state; SPI must be connected. */
static void
rt_metrics_runs(RtPolicyState *state)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(state->policy->policy_id)};
	bool		isnull;
	Datum		d;

	/* failed and incomplete runs are counted since the latest success: what still needs a look */
	rt_catalog_exec("WITH s AS (SELECT pg_catalog.max(h.run_id) AS run_id, pg_catalog.max(h.finished_at) AS at"
					"   FROM retention.run_history h WHERE h.policy_id OPERATOR(pg_catalog.=) $1"
					"   AND h.status OPERATOR(pg_catalog.=) 'success')"
					" SELECT s.at,"
					" (SELECT p.created_at FROM retention.policy_catalog p WHERE p.policy_id OPERATOR(pg_catalog.=) $1),"
					" (SELECT pg_catalog.count(*) FROM retention.run_history f WHERE f.policy_id OPERATOR(pg_catalog.=) $1"
					"   AND f.status OPERATOR(pg_catalog.=) 'failed' AND f.run_id OPERATOR(pg_catalog.>) COALESCE(s.run_id, 0)),"
					" (SELECT pg_catalog.count(*) FROM retention.run_history f WHERE f.policy_id OPERATOR(pg_catalog.=) $1"
					"   AND f.status OPERATOR(pg_catalog.=) 'incomplete' AND f.run_id OPERATOR(pg_catalog.>) COALESCE(s.run_id, 0)),"
					" (SELECT l.rows_left FROM retention.run_history l WHERE l.policy_id OPERATOR(pg_catalog.=) $1"
					"   AND l.status OPERATOR(pg_catalog.<>) 'running' ORDER BY l.run_id DESC LIMIT 1),"
					" (SELECT l.run_id FROM retention.run_history l WHERE l.policy_id OPERATOR(pg_catalog.=) $1"
					"   ORDER BY l.run_id DESC LIMIT 1)"
					" FROM s",
					1, argtypes, args, NULL, true, SPI_OK_SELECT);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	state->has_success = !isnull;
	state->last_success = isnull ? 0 : DatumGetTimestampTz(d);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	state->created_at = isnull ? 0 : DatumGetTimestampTz(d);
	state->runs_failed = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
	state->runs_incomplete = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4, &isnull));
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 5, &isnull);
	state->rows_left = isnull ? 0 : DatumGetInt64(d);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 6, &isnull);
	state->has_run = !isnull;
}

/* Returns the state of every policy, counted as of now; see metrics.h. */
List *
rt_metrics_policy_states(void)
{
	List	   *states = NIL;
	ListCell   *lc;
	TimestampTz now = GetCurrentTransactionStartTimestamp();

	foreach(lc, rt_policy_list(InvalidOid, true))
	{
		RtPolicyState *state = palloc0(sizeof(RtPolicyState));

		state->policy = lfirst(lc);
		state->table = rt_relation_name(state->policy->relid);
		/* a disabled policy is not counted, as in retention.status */
		if (state->policy->enabled)
			state->counted = rt_policy_count(state->policy, now, false, &state->cutoff,
											 &state->counts, &state->count_error);
		rt_metrics_runs(state);
		states = lappend(states, state);
	}
	return states;
}

/* Returns the seconds from a to b as a double. */
static double
rt_seconds_between(TimestampTz a, TimestampTz b)
{
	return (double) (b - a) / (double) USECS_PER_SEC;
}

PG_FUNCTION_INFO_V1(retention_policy_metrics);

/* SQL: retention.policy_metrics() gives one row per policy for the retention.metrics view. */
Datum
retention_policy_metrics(PG_FUNCTION_ARGS)
{
	RtSrf		srf;
	ListCell   *lc;
	TimestampTz now = GetCurrentTransactionStartTimestamp();

	rt_metrics_require_access();
	rt_srf_begin(fcinfo, &srf);
	SPI_connect();
	foreach(lc, rt_metrics_policy_states())
	{
		RtPolicyState *s = lfirst(lc);
		Datum		values[17];
		bool		nulls[17];
		bool		uncounted = !s->counted;

		memset(nulls, 0, sizeof(nulls));
		values[0] = Int64GetDatum(s->policy->policy_id);
		values[1] = CStringGetTextDatum(s->table);
		values[2] = CStringGetTextDatum(rt_action_name(s->policy->action));
		values[3] = BoolGetDatum(s->policy->enabled);
		values[4] = BoolGetDatum(s->counted);
		values[5] = s->count_error ? CStringGetTextDatum(s->count_error) : (Datum) 0;
		nulls[5] = s->count_error == NULL;
		values[6] = Int64GetDatum(s->counts.due);
		values[7] = Int64GetDatum(RT_COUNTS_OVERDUE(&s->counts));
		values[8] = Int64GetDatum(s->counts.blocked);
		values[9] = Int64GetDatum(s->counts.held);
		values[10] = Int64GetDatum(s->counts.hidden);
		values[11] = Int64GetDatum(s->counts.undated);
		/* how long the oldest overdue row has been past its cutoff; 0 when none is */
		values[12] = Float8GetDatum(s->counts.have_oldest ?
									rt_seconds_between(s->counts.oldest, s->cutoff) : 0.0);
		for (int i = 6; i <= 12; i++)
			nulls[i] = uncounted;
		/* since the last success, or since the policy was declared when none ever succeeded */
		values[13] = Float8GetDatum(rt_seconds_between(s->has_success ? s->last_success : s->created_at, now));
		values[14] = Int64GetDatum(s->runs_failed);
		values[15] = Int64GetDatum(s->runs_incomplete);
		values[16] = Int64GetDatum(s->rows_left);
		rt_srf_put(&srf, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(retention_scheduler_state);

/* SQL: retention.scheduler_state() says whether a scheduler runs this database's policies, and why not. */
Datum
retention_scheduler_state(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		values[2];
	bool		nulls[2] = {false, false};
	const char *reason;

	rt_metrics_require_access();
	SPI_connect();
	reason = rt_scheduler_stopped_reason();
	SPI_finish();
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	values[0] = BoolGetDatum(reason == NULL);
	values[1] = CStringGetTextDatum(reason ? reason : "running");
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}
