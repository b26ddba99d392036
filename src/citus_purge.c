/*
 * citus_purge.c
 *    The batch engine of Citus tables: batches bounded by ranges of the
 *    anchor column, sent through the coordinator to every shard at once
 *    (docs/operations.md#citus, docs/architecture.md "Citus").
 *
 * Why ranges.  A distributed or reference table's rows live in shards on
 * the workers; the coordinator's table is an empty shell (or, for a table
 * filled before it was distributed, a stale copy), so purge.c's heap-order
 * scan and its ctids mean nothing there: a ctid names a row of one shard
 * only, and the same ctid names other rows in every other shard.  A batch
 * here is therefore
 *
 *   DELETE FROM ONLY tbl t WHERE t.anchor >= $lo AND t.anchor < $hi
 *     AND NOT <foreign keys need it> AND NOT <legal hold>
 *
 * (an UPDATE of the masks for anonymize), which Citus sends to every shard
 * in parallel, in one distributed transaction with the batch's run record
 * (two-phase commit); every placement of a reference table gets the same
 * statement, so replicas end up identical.  The first range starts at the
 * oldest expired anchor and is sized from the count of expired rows; each
 * next range is sized from the rows the last one removed, so a batch stays
 * near retention.batch_size whatever the density of the data.  Measured on
 * the cluster, range-batched multi-shard DELETEs ran at 634,000
 * rows/s, against 20,000 rows/s for batches of primary keys from the
 * coordinator and 1.9 million rows/s for the engine run on each worker
 * against its shards; per-shard runs were not chosen because their batches
 * commit apart from the coordinator's record of them (a crash between the
 * two loses the count), the catalogs, holds and key they read would have
 * to be on every worker, and shard moves change where they must run.
 *
 * Locks.  Citus forwards SET LOCAL lock_timeout to the workers
 * (rt_citus_bound_lock_waits), so a batch waits for a locked shard row at
 * most retention.lock_timeout, on every node.  Citus refuses FOR UPDATE
 * SKIP LOCKED in a multi-shard statement, and accepts it in a statement
 * routed to one shard by an equality on the distribution column: after a
 * lock timeout (RT_BATCH_SKIP_LOCKED) a range is tried whole again, and if
 * it still meets a lock, its rows go one distribution value at a time with
 * SKIP LOCKED, the locked rows stepped around and counted.  A reference
 * table has no distribution column, and SKIP LOCKED on its placements
 * could skip a row on one replica and not on another; and Citus serializes
 * its changes with a lock on the whole table (on the first worker), which a
 * session locking one of its rows holds too: after a lock timeout its
 * remaining expired rows are left for the next run, and counted.
 *
 * Refusals.  A row a constraint or trigger refuses (RT_BATCH_CAREFUL)
 * makes the range split in halves, down to one anchor value, then (for a
 * distributed table) one distribution value, then one row of one shard
 * (the distribution value and the ctid, a statement routed to that shard):
 * the refused rows are left and counted, the others go.
 *
 * Masks.  Citus refuses a STABLE function with column references in a
 * multi-shard UPDATE, which the pseudonym mask is; the batch uses its node
 * form (citus_mask.c), computed on each shard with that node's key and
 * allowed there by a grant bound to the batch's distributed transaction.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "anonymize.h"
#include "citus.h"
#include "citus_mask.h"
#include "cutoff.h"
#include "fk_guard.h"
#include "hold.h"
#include "policy.h"
#include "purge.h"
#include "quote.h"
#include "safe_spi.h"
#include "subxact.h"

/* a range grows or shrinks at most by these factors from one batch to the next */
#define RT_RANGE_GROW 4.0
#define RT_RANGE_SHRINK 16.0

/* What citus_purge.c keeps of a Citus target. */
typedef struct RtCitusTarget
{
	RtCitusKind kind;
	char	   *dist;			/* distribution column, quoted; NULL unless hash-distributed */
	Oid			dist_type;
	char	   *held;			/* legal-hold predicate on t, keys from $4 on; NULL when no kind covers it */
	char	   *set_list;		/* anonymize: the SET list, with the node form of the pseudonym mask */
	bool		uses_key;		/* anonymize: a pseudonym mask (the node grant is needed) */
	bool		single_placement;	/* one shard placement: Citus would not open a distributed transaction */
	Datum		first_hi;		/* a scan starting at -infinity: the end of its first range */
} RtCitusTarget;

/* The arguments of one statement on a range. */
typedef struct RtRangeArgs
{
	RtTarget   *t;
	Datum		lo;
	Datum		hi;
	Datum		held_keys[FUNC_MAX_ARGS];
	int			nheld;
	RtBatchResult *result;
	/* for one attempt in a subtransaction */
	int64		removed;
	int64		locked;			/* rows a SKIP LOCKED statement locked (the others were stepped around) */
	Datum		value;			/* a distribution value */
	Datum		ctid;			/* a row of the shard of that value */
} RtRangeArgs;

/* Returns an anchor value in whole units: days for a date, microseconds for a timestamp. */
static int64
rt_cz_units(Datum d, RtAnchorType type)
{
	if (type == RT_ANCHOR_DATE)
		return (int64) DatumGetDateADT(d);
	return (int64) DatumGetTimestamp(d);
}

/* Returns the anchor value of a number of units (see rt_cz_units). */
static Datum
rt_cz_datum(int64 units, RtAnchorType type)
{
	if (type == RT_ANCHOR_DATE)
		return DateADTGetDatum((DateADT) units);
	return TimestampGetDatum((Timestamp) units);
}

/* Returns -infinity of an anchor type. */
static Datum
rt_cz_minus_infinity(RtAnchorType type)
{
	if (type == RT_ANCHOR_DATE)
	{
		DateADT		d;

		DATE_NOBEGIN(d);
		return DateADTGetDatum(d);
	}
	else
	{
		Timestamp	ts;

		TIMESTAMP_NOBEGIN(ts);
		return TimestampGetDatum(ts);
	}
}

/* Returns true when an anchor value is -infinity. */
static bool
rt_cz_is_minus_infinity(Datum d, RtAnchorType type)
{
	if (type == RT_ANCHOR_DATE)
		return DATE_IS_NOBEGIN(DatumGetDateADT(d));
	return TIMESTAMP_IS_NOBEGIN(DatumGetTimestamp(d));
}

/* Returns the blocked-row expression of a Citus target in a form Citus accepts; see purge.h. */
char *
rt_citus_blocked_expr(RtTarget *t, const char *cutoff_ref)
{
	RtFkSelf	self = {t->policy_relid, t->anchor, cutoff_ref};

	if (t->action == RT_ACTION_ANONYMIZE)
		return NULL;			/* masking never removes a referenced row */
	if (t->citus->kind == RT_CITUS_DISTRIBUTED)
	{
		/*
		 * Citus allows foreign keys between distributed tables only on their
		 * distribution columns, co-located: the correlated test is pushed
		 * down to each shard with its referencing shard.
		 */
		return rt_fk_blocked_expr(t->relid, "t", &self);
	}
	/* a reference table: referencing tables (distributed ones too) uncorrelated, one connection per node */
	rt_citus_sequential();
	return rt_citus_referenced_expr(t->relid, "t", RT_FK_RESTRICTING);
}

/* Makes target a Citus target when its table is a Citus table; see purge.h. */
bool
rt_citus_target_prepare(RtTarget *t, const RtPolicy *policy)
{
	char	   *dist = NULL;
	RtCitusKind kind = rt_citus_table(t->relid, &dist);
	RtCitusTarget *c;
	List	   *kinds = NIL;
	Oid			types[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(t->relid)};
	bool		isnull;

	if (kind == RT_CITUS_NONE)
		return false;
	c = palloc0(sizeof(RtCitusTarget));
	c->kind = kind;
	if (kind == RT_CITUS_DISTRIBUTED && dist != NULL)
	{
		c->dist = pstrdup(quote_identifier(dist));
		c->dist_type = get_atttype(t->relid, get_attnum(t->relid, dist));
	}
	c->held = rt_held_predicate(t->relid, "t", 4, &kinds);
	t->held_kinds = kinds;
	if (policy->action == RT_ACTION_ANONYMIZE)
	{
		RtAnonSql  *anon = rt_anon_sql(policy, t->relid, "t");

		c->set_list = anon->set_list_node;
		c->uses_key = anon->uses_key;
	}
	if (rt_spi_execute("SELECT pg_catalog.count(*) OPERATOR(pg_catalog.<) 2 FROM pg_catalog.pg_dist_placement p"
					   " JOIN pg_catalog.pg_dist_shard s ON s.shardid OPERATOR(pg_catalog.=) p.shardid"
					   " WHERE s.logicalrelid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass",
					   1, types, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the shard placements of %s", t->relname);
	c->single_placement = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	t->citus = c;
	t->anchor_order = false;
	rt_citus_target_restart(t);
	return true;
}

/* Sets a Citus target back to its first range; see purge.h. */
void
rt_citus_target_restart(RtTarget *t)
{
	MemoryContext old = MemoryContextSwitchTo(t->cxt);

	t->pos.key = rt_cz_minus_infinity(t->anchor_type);
	t->pos.width = 0;
	t->pos.done = false;
	MemoryContextSwitchTo(old);
}

/* Returns the filters of a statement on a range: blocked, held, still to mask. */
static char *
rt_cz_filters(RtTarget *t, bool use_held)
{
	StringInfoData buf;
	char	   *blocked = rt_citus_blocked_expr(t, "$3");

	initStringInfo(&buf);
	if (blocked != NULL)
		appendStringInfo(&buf, " AND NOT %s", blocked);
	if (use_held && t->citus->held != NULL)
		appendStringInfo(&buf, " AND NOT %s", t->citus->held);
	if (t->pending != NULL)
		appendStringInfo(&buf, " AND %s", t->pending);
	return buf.data;
}

/* Fills the parameters of a range statement: $1 lo, $2 hi, $3 cutoff, $4... held keys. */
static int
rt_cz_params(RtRangeArgs *a, Oid *types, Datum *values)
{
	Oid			anchor_oid = rt_anchor_type_oid(a->t->anchor_type);
	int			n = 3;

	types[0] = types[1] = types[2] = anchor_oid;
	values[0] = a->lo;
	values[1] = a->hi;
	values[2] = a->t->cutoff;
	for (int i = 0; i < a->nheld; i++)
	{
		types[n] = TEXTARRAYOID;
		values[n++] = a->held_keys[i];
	}
	return n;
}

/* Returns the range condition of a statement on alias t. */
static char *
rt_cz_range(RtTarget *t)
{
	return psprintf("t.%s OPERATOR(pg_catalog.>=) $1 AND t.%s OPERATOR(pg_catalog.<) $2", t->anchor, t->anchor);
}

/* Counts the rows an anonymize statement's RETURNING says it masked (pending false). */
static int64
rt_cz_count_masked(void)
{
	int64		n = 0;

	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		bool		pending = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));

		if (!isnull && !pending)
			n++;
	}
	return n;
}

/* Deletes (or masks) the rows of a range in one statement sent to every shard; returns the rows removed. */
static int64
rt_cz_apply_range(RtRangeArgs *a)
{
	RtTarget   *t = a->t;
	Oid			types[3 + FUNC_MAX_ARGS];
	Datum		values[3 + FUNC_MAX_ARGS];
	int			n = rt_cz_params(a, types, values);
	char	   *sql;
	int			rc;

	if (t->action == RT_ACTION_ANONYMIZE)
		sql = psprintf("UPDATE ONLY %s t SET %s WHERE %s%s RETURNING %s", t->relname, t->citus->set_list,
					   rt_cz_range(t), rt_cz_filters(t, a->nheld > 0), t->pending);
	else
		sql = psprintf("DELETE FROM ONLY %s t WHERE %s%s", t->relname, rt_cz_range(t),
					   rt_cz_filters(t, a->nheld > 0));
	rc = rt_spi_execute(sql, n, types, values, NULL, false, 0);
	if (rc != (t->action == RT_ACTION_ANONYMIZE ? SPI_OK_UPDATE_RETURNING : SPI_OK_DELETE))
		elog(ERROR, "could not delete or anonymize expired rows of %s", t->relname);
	return t->action == RT_ACTION_ANONYMIZE ? rt_cz_count_masked() : (int64) SPI_processed;
}

/* Step for a subtransaction: rt_cz_apply_range. */
static void
rt_cz_apply_range_step(void *arg)
{
	RtRangeArgs *a = arg;

	a->removed = rt_cz_apply_range(a);
}

/* Returns true for errors of a row lock (a lock timeout, a deadlock). */
static bool
rt_cz_is_lock_error(const ErrorData *e)
{
	return e->sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE || e->sqlerrcode == ERRCODE_T_R_DEADLOCK_DETECTED;
}

/* Counts the rows of a range a statement would take (with its filters). */
static int64
rt_cz_count_range(RtRangeArgs *a)
{
	Oid			types[3 + FUNC_MAX_ARGS];
	Datum		values[3 + FUNC_MAX_ARGS];
	int			n = rt_cz_params(a, types, values);
	bool		isnull;

	if (rt_spi_execute(psprintf("SELECT pg_catalog.count(*) FROM ONLY %s t WHERE %s%s", a->t->relname,
								rt_cz_range(a->t), rt_cz_filters(a->t, a->nheld > 0)),
					   n, types, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not count expired rows of %s", a->t->relname);
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/* Records a refusal in the batch result (what refused it, never the row). */
static void
rt_cz_note_refusal(RtBatchResult *result, const ErrorData *e, int64 rows)
{
	result->row_errors += rows;
	if (result->first_row_error == NULL)
	{
		result->first_row_error = e->constraint_name ?
			psprintf("refused by constraint %s", quote_identifier(e->constraint_name)) :
			e->table_name ? psprintf("refused by table %s", quote_identifier(e->table_name)) :
			pstrdup("refused by an error that names no constraint or table");
		result->first_row_errcode = e->sqlerrcode;
	}
}

/* Step for a subtransaction: one row of one shard, by distribution value and ctid. */
static void
rt_cz_apply_row_step(void *arg)
{
	RtRangeArgs *a = arg;
	RtTarget   *t = a->t;
	Oid			types[5 + FUNC_MAX_ARGS];
	Datum		values[5 + FUNC_MAX_ARGS];
	int			n = rt_cz_params(a, types, values);
	char	   *where;
	int			rc;

	types[n] = t->citus->dist_type;
	values[n] = a->value;
	types[n + 1] = TIDOID;
	values[n + 1] = a->ctid;
	where = psprintf("t.%s OPERATOR(pg_catalog.=) $%d AND t.ctid OPERATOR(pg_catalog.=) $%d AND %s%s",
					 t->citus->dist, n + 1, n + 2, rt_cz_range(t), rt_cz_filters(t, a->nheld > 0));
	if (t->action == RT_ACTION_ANONYMIZE)
		rc = rt_spi_execute(psprintf("UPDATE ONLY %s t SET %s WHERE %s RETURNING %s", t->relname,
									 t->citus->set_list, where, t->pending),
							n + 2, types, values, NULL, false, 0);
	else
		rc = rt_spi_execute(psprintf("DELETE FROM ONLY %s t WHERE %s", t->relname, where),
							n + 2, types, values, NULL, false, 0);
	if (rc < 0)
		elog(ERROR, "could not delete or anonymize a row of %s", t->relname);
	a->removed = t->action == RT_ACTION_ANONYMIZE ? rt_cz_count_masked() : (int64) SPI_processed;
}

/*
 * Deletes (or masks) the rows of one distribution value in a range one by
 * one, each in its own subtransaction: a row refused is counted with what
 * refused it, a locked one as skipped, the others go.
 */
static void
rt_cz_apply_rows(RtRangeArgs *a, Datum value)
{
	RtTarget   *t = a->t;
	Oid			types[4 + FUNC_MAX_ARGS];
	Datum		values[4 + FUNC_MAX_ARGS];
	int			n = rt_cz_params(a, types, values);
	SPITupleTable *rows;
	uint64		nrows;

	types[n] = t->citus->dist_type;
	values[n] = value;
	if (rt_spi_execute(psprintf("SELECT t.ctid FROM ONLY %s t WHERE t.%s OPERATOR(pg_catalog.=) $%d AND %s%s",
								t->relname, t->citus->dist, n + 1, rt_cz_range(t), rt_cz_filters(t, a->nheld > 0)),
					   n + 1, types, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not select expired rows of %s", t->relname);
	rows = SPI_tuptable;
	nrows = SPI_processed;
	for (uint64 i = 0; i < nrows; i++)
	{
		bool		isnull;
		RtRangeArgs one = *a;
		ErrorData  *e;

		CHECK_FOR_INTERRUPTS();
		one.value = value;
		one.ctid = SPI_getbinval(rows->vals[i], rows->tupdesc, 1, &isnull);
		one.removed = 0;
		e = rt_in_subtransaction_ext(rt_cz_apply_row_step, &one, CurrentMemoryContext, false);
		if (e == NULL)
			a->result->deleted += one.removed;
		else if (rt_cz_is_lock_error(e))
			a->result->skipped_locked++;
		else if (rt_is_row_error(e->sqlerrcode))
		{
			if (e->sqlerrcode == ERRCODE_FOREIGN_KEY_VIOLATION && t->action == RT_ACTION_DELETE)
				a->result->blocked++;
			else
				rt_cz_note_refusal(a->result, e, 1);
		}
		else
			ReThrowError(e);
	}
}

/* Step for a subtransaction: the rows of one distribution value in a range, locked ones stepped around. */
static void
rt_cz_apply_value_step(void *arg)
{
	RtRangeArgs *a = arg;
	RtTarget   *t = a->t;
	Oid			types[4 + FUNC_MAX_ARGS];
	Datum		values[4 + FUNC_MAX_ARGS];
	int			n = rt_cz_params(a, types, values);
	char	   *lock;
	char	   *sql;
	bool		isnull;

	types[n] = t->citus->dist_type;
	values[n] = a->value;
	/* one shard: Citus routes the whole statement there, and SKIP LOCKED works */
	lock = psprintf("SELECT t.ctid FROM ONLY %s t WHERE t.%s OPERATOR(pg_catalog.=) $%d AND %s%s FOR UPDATE SKIP LOCKED",
					t->relname, t->citus->dist, n + 1, rt_cz_range(t), rt_cz_filters(t, a->nheld > 0));
	if (t->action == RT_ACTION_ANONYMIZE)
		sql = psprintf("WITH l AS MATERIALIZED (%s),"
					   " d AS (UPDATE ONLY %s t SET %s WHERE t.%s OPERATOR(pg_catalog.=) $%d"
					   " AND t.ctid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT l.ctid FROM l)) AND %s AND %s RETURNING %s AS pending)"
					   " SELECT (SELECT pg_catalog.count(*) FROM l), (SELECT pg_catalog.count(*) FROM d WHERE NOT d.pending)",
					   lock, t->relname, t->citus->set_list, t->citus->dist, n + 1, rt_cz_range(t), t->pending,
					   t->pending);
	else
		sql = psprintf("WITH l AS MATERIALIZED (%s),"
					   " d AS (DELETE FROM ONLY %s t WHERE t.%s OPERATOR(pg_catalog.=) $%d"
					   " AND t.ctid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT l.ctid FROM l)) AND %s RETURNING 1)"
					   " SELECT (SELECT pg_catalog.count(*) FROM l), (SELECT pg_catalog.count(*) FROM d)",
					   lock, t->relname, t->citus->dist, n + 1, rt_cz_range(t));
	if (rt_spi_execute(sql, n + 1, types, values, NULL, false, 0) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not delete or anonymize expired rows of %s", t->relname);
	a->locked = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	a->removed = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
}

/*
 * Deletes (or masks) the rows of a range of a distributed table one
 * distribution value at a time, stepping around locked rows (SKIP LOCKED,
 * which Citus accepts in a statement routed to one shard) and counting
 * them; a value whose rows a constraint or trigger refuses goes row by row
 * when careful, and otherwise fails the batch (which run.c then retries in
 * CAREFUL mode).
 */
static void
rt_cz_apply_by_value(RtRangeArgs *a, bool careful)
{
	RtTarget   *t = a->t;
	Oid			types[3 + FUNC_MAX_ARGS];
	Datum		values[3 + FUNC_MAX_ARGS];
	int			n = rt_cz_params(a, types, values);
	SPITupleTable *groups;
	uint64		ngroups;
	int16		typlen;
	bool		typbyval;

	if (rt_spi_execute(psprintf("SELECT t.%s, pg_catalog.count(*) FROM ONLY %s t WHERE %s%s GROUP BY 1",
								t->citus->dist, t->relname, rt_cz_range(t), rt_cz_filters(t, a->nheld > 0)),
					   n, types, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the distribution values of expired rows of %s", t->relname);
	groups = SPI_tuptable;
	ngroups = SPI_processed;
	get_typlenbyval(t->citus->dist_type, &typlen, &typbyval);
	for (uint64 i = 0; i < ngroups; i++)
	{
		bool		isnull;
		Datum		value = SPI_getbinval(groups->vals[i], groups->tupdesc, 1, &isnull);
		int64		rows = DatumGetInt64(SPI_getbinval(groups->vals[i], groups->tupdesc, 2, &isnull));
		RtRangeArgs one = *a;
		ErrorData  *e;

		CHECK_FOR_INTERRUPTS();
		if (isnull)
			continue;			/* Citus keeps no row with a NULL distribution value */
		one.value = datumCopy(value, typbyval, typlen);
		e = rt_in_subtransaction_ext(rt_cz_apply_value_step, &one, CurrentMemoryContext, false);
		if (e == NULL)
		{
			a->result->deleted += one.removed;
			a->result->skipped_locked += Max(rows - one.locked, 0);
		}
		else if (rt_cz_is_lock_error(e))
			a->result->skipped_locked += rows;	/* a lock beyond the rows (a referencing row) */
		else if (careful && rt_is_row_error(e->sqlerrcode))
			rt_cz_apply_rows(a, one.value);
		else
			ReThrowError(e);
	}
}

/*
 * Deletes (or masks) a range stepping around what refuses it: the range is
 * tried whole in a subtransaction; on a lock it goes by distribution value
 * (distributed) or in halves (other Citus tables); on a refused row
 * (careful only) in halves, then by distribution value and row.  Rows left
 * are counted in a->result.
 */
static void
rt_cz_apply_stepping(RtRangeArgs *a, bool careful)
{
	RtTarget   *t = a->t;
	ErrorData  *e;
	int64		lo;
	int64		hi;

	CHECK_FOR_INTERRUPTS();
	a->removed = 0;
	e = rt_in_subtransaction_ext(rt_cz_apply_range_step, a, CurrentMemoryContext, false);
	if (e == NULL)
	{
		a->result->deleted += a->removed;
		return;
	}
	if (!rt_cz_is_lock_error(e) && !(careful && rt_is_row_error(e->sqlerrcode)))
		ReThrowError(e);
	if (t->citus->kind == RT_CITUS_DISTRIBUTED && t->citus->dist != NULL &&
		(rt_cz_is_lock_error(e) || rt_cz_is_minus_infinity(a->lo, t->anchor_type) ||
		 rt_cz_units(a->hi, t->anchor_type) - rt_cz_units(a->lo, t->anchor_type) <= 1))
	{
		rt_cz_apply_by_value(a, careful);
		return;
	}
	if (rt_cz_is_lock_error(e))
	{
		/*
		 * Citus serializes the changes of a reference table: a session that
		 * changes it or locks its rows (through Citus) holds a lock on the
		 * whole table on the first worker, so a smaller range would wait
		 * the same.  The rest of the table waits for the next run, counted.
		 */
		a->hi = t->cutoff;
		a->result->skipped_locked += rt_cz_count_range(a);
		return;
	}
	lo = rt_cz_is_minus_infinity(a->lo, t->anchor_type) ? 0 : rt_cz_units(a->lo, t->anchor_type);
	hi = rt_cz_units(a->hi, t->anchor_type);
	if (rt_cz_is_minus_infinity(a->lo, t->anchor_type) || hi - lo <= 1)
	{
		/* one anchor value (or the -infinity ones) of a table without a distribution column: left whole */
		rt_cz_note_refusal(a->result, e, rt_cz_count_range(a));
		return;
	}
	{
		RtRangeArgs first = *a;
		RtRangeArgs second = *a;
		int64		mid = lo + (hi - lo) / 2;

		first.hi = rt_cz_datum(mid, t->anchor_type);
		second.lo = first.hi;
		rt_cz_apply_stepping(&first, careful);
		rt_cz_apply_stepping(&second, careful);
	}
}

/*
 * Finds where a Citus target's scan starts: the oldest expired anchor and
 * the count of expired rows, which size the first range.  Marks the target
 * done when nothing has expired.
 */
static void
rt_cz_start(RtTarget *t, int batch_size)
{
	Oid			types[2];
	Datum		values[2];
	bool		minnull;
	bool		isnull;
	Datum		finite_min;
	int64		due;
	int64		at_minus_infinity;
	int64		lo;
	int64		cutoff = rt_cz_units(t->cutoff, t->anchor_type);
	int16		typlen;
	bool		typbyval;
	MemoryContext old;

	types[0] = types[1] = rt_anchor_type_oid(t->anchor_type);
	values[0] = t->cutoff;
	values[1] = rt_cz_minus_infinity(t->anchor_type);
	if (rt_spi_execute(psprintf("SELECT pg_catalog.min(t.%s) FILTER (WHERE t.%s OPERATOR(pg_catalog.>) $2),"
								" pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE t.%s OPERATOR(pg_catalog.=) $2)"
								" FROM ONLY %s t WHERE t.%s OPERATOR(pg_catalog.<) $1%s%s",
								t->anchor, t->anchor, t->anchor, t->relname, t->anchor,
								t->pending ? " AND " : "", t->pending ? t->pending : ""),
					   2, types, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not find the expired rows of %s", t->relname);
	finite_min = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &minnull);
	due = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	at_minus_infinity = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
	if (due == 0)
	{
		t->pos.done = true;
		return;
	}
	get_typlenbyval(rt_anchor_type_oid(t->anchor_type), &typlen, &typbyval);
	old = MemoryContextSwitchTo(t->cxt);
	lo = minnull ? cutoff : rt_cz_units(finite_min, t->anchor_type);
	if (at_minus_infinity > 0)
	{
		/* the first range is [-infinity, oldest finite anchor) */
		t->pos.key = rt_cz_minus_infinity(t->anchor_type);
		t->citus->first_hi = datumCopy(rt_cz_datum(lo, t->anchor_type), typbyval, typlen);
	}
	else
		t->pos.key = datumCopy(finite_min, typbyval, typlen);
	MemoryContextSwitchTo(old);
	/* as if the expired rows were spread evenly up to the cutoff */
	t->pos.width = Max(1.0, (double) (cutoff - lo) * batch_size / (double) due);
}

/* Returns the end of the range starting at the target's position. */
static Datum
rt_cz_range_end(RtTarget *t)
{
	int64		cutoff = rt_cz_units(t->cutoff, t->anchor_type);
	int64		lo;
	double		hi;

	if (rt_cz_is_minus_infinity(t->pos.key, t->anchor_type))
		return t->citus->first_hi;
	lo = rt_cz_units(t->pos.key, t->anchor_type);
	hi = (double) lo + ceil(t->pos.width);
	if (hi >= (double) cutoff)
		return t->cutoff;
	return rt_cz_datum((int64) hi, t->anchor_type);
}

/* Runs one batch of a Citus target; see purge.h. */
void
rt_citus_purge_batch(RtTarget *t, int batch_size, RtBatchMode mode, RtBatchResult *result)
{
	RtRangeArgs a;
	bool		started_at_minus_infinity;
	int16		typlen;
	bool		typbyval;
	MemoryContext old;

	if (t->pos.width == 0)
	{
		rt_cz_start(t, batch_size);
		if (t->pos.done)
			return;
	}
	memset(&a, 0, sizeof(a));
	a.t = t;
	a.lo = t->pos.key;
	a.hi = rt_cz_range_end(t);
	a.result = result;
	if (t->held_kinds != NIL)
	{
		ListCell   *lc;
		bool		any = false;

		foreach(lc, t->held_kinds)
		{
			Datum		keys = rt_held_keys(lfirst(lc));

			any |= keys != (Datum) 0;
			a.held_keys[a.nheld++] = keys != (Datum) 0 ? keys :
				PointerGetDatum(construct_empty_array(TEXTOID));
		}
		if (!any)
			a.nheld = 0;
	}

	/*
	 * Lock waits bounded first: the statement that opens the distributed
	 * transaction waits for locks too (a reference table's is serialized on
	 * the first worker).  A single shard placement would be changed outside
	 * a distributed transaction by a background worker, and so would the
	 * statements routed to one shard when stepping around locks and
	 * refusals: they must commit or roll back with the batch and its record.
	 */
	rt_citus_bound_lock_waits();
	if (t->citus->single_placement || mode != RT_BATCH_FAST || t->citus->uses_key)
		rt_citus_begin_distributed(t->relid);
	if (t->citus->uses_key)
		rt_citus_mask_grant(t->relid);

	if (mode == RT_BATCH_FAST)
		result->deleted = rt_cz_apply_range(&a);
	else
		rt_cz_apply_stepping(&a, mode == RT_BATCH_CAREFUL);
	result->candidates = result->deleted + result->skipped_locked + result->row_errors + result->blocked;

	/* the next range starts where this one ended, sized from the rows this one removed */
	started_at_minus_infinity = rt_cz_is_minus_infinity(t->pos.key, t->anchor_type);
	get_typlenbyval(rt_anchor_type_oid(t->anchor_type), &typlen, &typbyval);
	old = MemoryContextSwitchTo(t->cxt);
	t->pos.key = datumCopy(a.hi, typbyval, typlen);
	MemoryContextSwitchTo(old);
	if (rt_cz_units(a.hi, t->anchor_type) >= rt_cz_units(t->cutoff, t->anchor_type))
		t->pos.done = true;
	else if (!started_at_minus_infinity)
	{
		double		factor = result->deleted > 0 ? (double) batch_size / (double) result->deleted : RT_RANGE_GROW;

		factor = Min(Max(factor, 1.0 / RT_RANGE_SHRINK), RT_RANGE_GROW);
		t->pos.width = Max(1.0, t->pos.width * factor);
	}
}
