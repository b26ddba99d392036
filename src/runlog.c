/*
 * runlog.c
 *    Run records in retention.run_history.
 *
 * A run is inserted as "running" and committed before its first batch;
 * each batch updates the counters in its own transaction, so the record
 * and the data never disagree by more than the batch in flight.  A run
 * that a crash or a killed session left "running" is marked
 * "interrupted" by the next run of the same policy (which holds the
 * policy's run lock, so no live run can be mistaken for a dead one).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/timestamp.h"

#include "audit.h"
#include "extension.h"
#include "horizon.h"
#include "key.h"
#include "policy.h"
#include "privilege.h"
#include "quote.h"
#include "runlog.h"

/* Appends the audit entry of a run that ended: its counts, status, error, cause and key fingerprint (anonymize). */
static void
rt_runlog_audit(int64 run_id, int64 policy_id, const char *tbl, const char *action,
				const char *status, const RtRunStats *stats, const char *error,
				const char *cause, const char *key_fingerprint)
{
	StringInfoData details;

	initStringInfo(&details);
	appendStringInfo(&details,
					 "{\"run_id\": " INT64_FORMAT ", \"policy_id\": " INT64_FORMAT
					 ", \"action\": \"%s\", \"status\": \"%s\", \"batches\": " INT64_FORMAT
					 ", \"blocked\": " INT64_FORMAT ", \"skipped_locked\": " INT64_FORMAT
					 ", \"undated\": " INT64_FORMAT ", \"held\": " INT64_FORMAT
					 ", \"refused\": " INT64_FORMAT ", \"partitions\": " INT64_FORMAT ", \"error\": ",
					 run_id, policy_id, action, status,
					 stats->batches, stats->blocked, stats->skipped_locked, stats->undated, stats->held,
					 stats->refused, stats->partitions);
	if (error)
		escape_json(&details, error);
	else
		appendStringInfoString(&details, "null");
	if (stats->left > 0 || cause != NULL)
	{
		appendStringInfo(&details, ", \"rows_left\": " INT64_FORMAT ", \"cause\": ", stats->left);
		if (cause)
			escape_json(&details, cause);
		else
			appendStringInfoString(&details, "null");
	}
	/* which key made the pseudonyms of an anonymize run (never the key itself) */
	if (key_fingerprint != NULL)
	{
		appendStringInfoString(&details, ", \"key_fingerprint\": ");
		escape_json(&details, key_fingerprint);
	}
	appendStringInfoChar(&details, '}');
	rt_audit_append_named("run", tbl, stats->rows, details.data);
}

/*
 * Returns true when run_history has the columns 0.2.0 added (refused,
 * partitions, notes); a database still at 0.1.0 runs with this library
 * until it is updated.
 */
static bool
rt_runlog_has_v2_columns(void)
{
	return rt_sql_objects_at_least("0.2.0");
}

/*
 * Marks the runs of a policy still recorded as running as interrupted, as
 * of their last committed batch, and appends their audit entries: the
 * batches they committed are in the table, so they must be in the trail.
 */
void
rt_runlog_mark_stale(int64 policy_id)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(policy_id)};
	SPITupleTable *tuptable;
	uint64		n;

	rt_catalog_exec(psprintf("UPDATE retention.run_history SET status = 'interrupted',"
							 " finished_at = COALESCE(last_progress_at, started_at),"
							 " error = 'the session or server running it stopped before the run finished'"
							 " WHERE policy_id OPERATOR(pg_catalog.=) $1 AND status OPERATOR(pg_catalog.=) 'running'"
							 " RETURNING run_id, tbl, action, rows, batches, blocked, skipped_locked, undated, error, held, %s",
							 rt_runlog_has_v2_columns() ? "refused, partitions" : "0::pg_catalog.int8, 0::pg_catalog.int8"),
					1, types, values, NULL, false, SPI_OK_UPDATE_RETURNING);
	tuptable = SPI_tuptable;
	n = SPI_processed;
	for (uint64 i = 0; i < n; i++)
	{
		HeapTuple	t = tuptable->vals[i];
		TupleDesc	d = tuptable->tupdesc;
		bool		isnull;
		RtRunStats	stats;

		stats.rows = DatumGetInt64(SPI_getbinval(t, d, 4, &isnull));
		stats.batches = DatumGetInt64(SPI_getbinval(t, d, 5, &isnull));
		stats.blocked = DatumGetInt64(SPI_getbinval(t, d, 6, &isnull));
		stats.skipped_locked = DatumGetInt64(SPI_getbinval(t, d, 7, &isnull));
		stats.undated = DatumGetInt64(SPI_getbinval(t, d, 8, &isnull));
		stats.held = DatumGetInt64(SPI_getbinval(t, d, 10, &isnull));
		stats.refused = DatumGetInt64(SPI_getbinval(t, d, 11, &isnull));
		stats.partitions = DatumGetInt64(SPI_getbinval(t, d, 12, &isnull));
		rt_runlog_audit(DatumGetInt64(SPI_getbinval(t, d, 1, &isnull)), policy_id,
						TextDatumGetCString(SPI_getbinval(t, d, 2, &isnull)),
						TextDatumGetCString(SPI_getbinval(t, d, 3, &isnull)),
						"interrupted", &stats, TextDatumGetCString(SPI_getbinval(t, d, 9, &isnull)), NULL, NULL);
	}
}

/* Inserts the record of a starting run and returns its run_id. */
int64
rt_runlog_start(const RtPolicy *policy, TimestampTz as_of, TimestampTz cutoff,
				const char *trigger)
{
	Oid			types[8] = {INT8OID, OIDOID, TEXTOID, TEXTOID, TIMESTAMPTZOID,
	TIMESTAMPTZOID, NAMEOID, TEXTOID};
	Datum		values[8];
	NameData	run_by;
	bool		isnull;

	namestrcpy(&run_by, GetUserNameFromId(GetUserId(), false));
	values[0] = Int64GetDatum(policy->policy_id);
	values[1] = ObjectIdGetDatum(policy->relid);
	values[2] = CStringGetTextDatum(rt_relation_name(policy->relid));
	values[3] = CStringGetTextDatum(rt_action_name(policy->action));
	values[4] = TimestampTzGetDatum(as_of);
	values[5] = TimestampTzGetDatum(cutoff);
	values[6] = NameGetDatum(&run_by);
	values[7] = CStringGetTextDatum(trigger);
	rt_catalog_exec("INSERT INTO retention.run_history (policy_id, relid, tbl, action, as_of, cutoff,"
					" started_at, status, run_by, trigger, backend_pid)"
					" VALUES ($1, $2, $3, $4, $5, $6, pg_catalog.clock_timestamp(), 'running', $7, $8,"
					" pg_catalog.pg_backend_pid()) RETURNING run_id",
					8, types, values, NULL, false, SPI_OK_INSERT_RETURNING);
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/* Records a run that failed before it could start (say its cutoff cannot be computed). */
void
rt_runlog_start_failed(const RtPolicy *policy, TimestampTz as_of, const char *trigger, const char *error)
{
	Oid			types[8] = {INT8OID, OIDOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, NAMEOID, TEXTOID, TEXTOID};
	Datum		values[8];
	NameData	run_by;
	RtRunStats	none;

	memset(&none, 0, sizeof(none));
	namestrcpy(&run_by, GetUserNameFromId(GetUserId(), false));
	values[0] = Int64GetDatum(policy->policy_id);
	values[1] = ObjectIdGetDatum(policy->relid);
	values[2] = CStringGetTextDatum(rt_relation_name(policy->relid));
	values[3] = CStringGetTextDatum(rt_action_name(policy->action));
	values[4] = TimestampTzGetDatum(as_of);
	values[5] = NameGetDatum(&run_by);
	values[6] = CStringGetTextDatum(trigger);
	values[7] = CStringGetTextDatum(error);
	rt_catalog_exec("INSERT INTO retention.run_history (policy_id, relid, tbl, action, as_of, started_at,"
					" finished_at, status, error, run_by, trigger, backend_pid)"
					" VALUES ($1, $2, $3, $4, $5, pg_catalog.clock_timestamp(), pg_catalog.clock_timestamp(),"
					" 'failed', $8, $6, $7, pg_catalog.pg_backend_pid()) RETURNING run_id",
					8, types, values, NULL, false, SPI_OK_INSERT_RETURNING);
	{
		bool		isnull;
		int64		run_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));

		rt_runlog_audit(run_id, policy->policy_id, rt_relation_name(policy->relid),
						rt_action_name(policy->action), "failed", &none, error, NULL, NULL);
	}
}

/* Fills the parameters shared by the progress and finish updates. */
static void
rt_runlog_counters(Datum *values, int64 run_id, const RtRunStats *stats)
{
	values[0] = Int64GetDatum(run_id);
	values[1] = Int64GetDatum(stats->rows);
	values[2] = Int64GetDatum(stats->batches);
	values[3] = Int64GetDatum(stats->blocked);
	values[4] = Int64GetDatum(stats->skipped_locked);
	values[5] = Int64GetDatum(stats->undated);
	values[6] = Int64GetDatum(stats->held);
	values[7] = Int64GetDatum(stats->refused);
	values[8] = Int64GetDatum(stats->partitions);
}

/* Stores the counters of a run so far. */
void
rt_runlog_progress(int64 run_id, const RtRunStats *stats)
{
	Oid			types[9] = {INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID};
	Datum		values[9];

	rt_runlog_counters(values, run_id, stats);
	rt_catalog_exec(psprintf("UPDATE retention.run_history SET rows = $2, batches = $3, blocked = $4,"
							 " skipped_locked = $5, undated = $6, held = $7%s,"
							 " last_progress_at = pg_catalog.clock_timestamp()"
							 " WHERE run_id OPERATOR(pg_catalog.=) $1",
							 rt_runlog_has_v2_columns() ? ", refused = $8, partitions = $9" : ""),
					9, types, values, NULL, false, SPI_OK_UPDATE);
}

/* Records the end of a run and appends it to the audit trail; see runlog.h. */
void
rt_runlog_finish(int64 run_id, const RtPolicy *policy, const char *status,
				 const RtRunStats *stats, const char *error, const char *cause)
{
	Oid			types[13] = {INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID,
	INT8OID, TEXTOID, TEXTOID, INT8OID, TEXTOID};
	Datum		values[13];
	char		nulls[13] = "             ";
	bool		v3 = rt_sql_objects_at_least("0.3.0");

	if (!v3 && strcmp(status, "incomplete") == 0)
	{
		/* the 0.2.0 objects know no incomplete run: the next best truth is a failure with its cause */
		status = "failed";
		error = cause;
	}
	rt_runlog_counters(values, run_id, stats);
	values[9] = CStringGetTextDatum(status);
	values[10] = error ? CStringGetTextDatum(error) : (Datum) 0;
	if (error == NULL)
		nulls[10] = 'n';
	values[11] = Int64GetDatum(stats->left);
	values[12] = cause ? CStringGetTextDatum(cause) : (Datum) 0;
	if (cause == NULL)
		nulls[12] = 'n';
	rt_catalog_exec(psprintf("UPDATE retention.run_history SET rows = $2, batches = $3, blocked = $4,"
							 " skipped_locked = $5, undated = $6, held = $7%s%s, status = $10, error = $11,"
							 " finished_at = pg_catalog.clock_timestamp()"
							 " WHERE run_id OPERATOR(pg_catalog.=) $1",
							 rt_runlog_has_v2_columns() ? ", refused = $8, partitions = $9" : "",
							 v3 ? ", rows_left = $12, cause = $13" : ""),
					13, types, values, nulls, false, SPI_OK_UPDATE);

	/* where its change is in the WAL and which table keeps its dead tuples (docs/operations.md#the-erasure-horizon) */
	if (stats->rows > 0 || stats->partitions > 0)
		rt_horizon_mark("run", psprintf(INT64_FORMAT, run_id), list_make1_oid(policy->relid));
	rt_runlog_audit(run_id, policy->policy_id, rt_relation_name(policy->relid),
					rt_action_name(policy->action), status, stats, error, cause,
					policy->action == RT_ACTION_ANONYMIZE ? rt_key_loaded_fingerprint() : NULL);
}

/* Returns the rows the last finished run of a policy left because they were refused. */
int64
rt_runlog_last_refused(int64 policy_id)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(policy_id)};
	bool		isnull;

	if (!rt_runlog_has_v2_columns())
		return 0;
	rt_catalog_exec("SELECT refused FROM retention.run_history"
					" WHERE policy_id OPERATOR(pg_catalog.=) $1 AND status OPERATOR(pg_catalog.<>) 'running'"
					" ORDER BY run_id DESC LIMIT 1",
					1, types, values, NULL, true, SPI_OK_SELECT);
	if (SPI_processed == 0)
		return 0;
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/* Appends a line to the notes of a run (why a partition went by rows, say). */
void
rt_runlog_note(int64 run_id, const char *note)
{
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		values[2] = {Int64GetDatum(run_id), CStringGetTextDatum(note)};

	if (!rt_runlog_has_v2_columns())
		return;
	rt_catalog_exec("UPDATE retention.run_history SET notes ="
					" CASE WHEN notes IS NULL THEN $2 ELSE notes OPERATOR(pg_catalog.||) E'\\n' OPERATOR(pg_catalog.||) $2 END"
					" WHERE run_id OPERATOR(pg_catalog.=) $1",
					2, types, values, NULL, false, SPI_OK_UPDATE);
}

/*
 * Records that a run stopped between batches, before its work was done,
 * with a note saying why: the run leaves its round open, so the next run
 * continues it without waiting for the policy's min_interval
 * (docs/operations.md#run-windows).
 */
void
rt_runlog_stopped_early(int64 run_id, const char *note)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(run_id)};

	rt_runlog_note(run_id, note);
	if (!rt_sql_objects_at_least("0.3.0"))
		return;
	rt_catalog_exec("UPDATE retention.run_history SET stopped_early = true"
					" WHERE run_id OPERATOR(pg_catalog.=) $1",
					1, types, values, NULL, false, SPI_OK_UPDATE);
}

/*
 * Ends the open round of a policy whose last run stopped between batches,
 * when the next pass finds nothing left to continue: that run becomes the
 * one its min_interval counts from, with a note saying so.
 */
void
rt_runlog_round_over(int64 policy_id)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(policy_id)};

	if (!rt_sql_objects_at_least("0.3.0"))
		return;
	rt_catalog_exec("UPDATE retention.run_history SET stopped_early = false, notes ="
					" notes OPERATOR(pg_catalog.||) E'\\nthe next pass found nothing left: the round of runs ended with this one'"
					" WHERE run_id OPERATOR(pg_catalog.=) (SELECT pg_catalog.max(l.run_id) FROM retention.run_history l"
					"   WHERE l.policy_id OPERATOR(pg_catalog.=) $1) AND stopped_early",
					1, types, values, NULL, false, SPI_OK_UPDATE);
}

/* Deletes the oldest finished run records beyond keep per policy; returns how many. */
int64
rt_runlog_trim(int keep)
{
	Oid			types[1] = {INT4OID};
	Datum		values[1] = {Int32GetDatum(keep)};

	rt_catalog_exec("DELETE FROM retention.run_history h USING ("
					" SELECT run_id, pg_catalog.row_number() OVER (PARTITION BY policy_id ORDER BY run_id DESC) AS n"
					" FROM retention.run_history WHERE status OPERATOR(pg_catalog.<>) 'running') old"
					" WHERE h.run_id OPERATOR(pg_catalog.=) old.run_id AND old.n OPERATOR(pg_catalog.>) $1",
					1, types, values, NULL, false, SPI_OK_DELETE);
	return (int64) SPI_processed;
}
