/*
 * purge.c
 *    The batch engine of the delete action.
 *
 * Batch shape.  Candidates are selected by a keyset scan that starts where
 * the previous batch stopped, so the cost of a run grows with the rows it
 * examines, not with the square of the batches (a plain "DELETE ... WHERE
 * ctid IN (SELECT ... LIMIT n)" loop re-reads the dead rows of earlier
 * batches every time).  In heap order the scan reads a window of blocks
 * with a TID range scan; the window is sized from the density of expired
 * rows seen so far and capped so that one SELECT never sorts more than a
 * few batches' worth of rows.  In anchor order the scan walks the anchor
 * index from the last (anchor, ctid) handled.
 *
 * Locks.  The fast DELETE takes no row locks ahead of time (a
 * SELECT ... FOR UPDATE would write a WAL record for every row); if it
 * runs into a row another session holds, lock_timeout ends the batch and
 * the caller retries it in SKIP LOCKED mode, which leaves such rows for a
 * later run and counts them.
 *
 * Foreign keys.  Rows referenced through RESTRICT / NO ACTION keys are
 * flagged by the SELECT (see fk_guard.c) and not deleted.  If a deeper
 * chain still makes the DELETE fail, CAREFUL mode splits the batch in
 * halves inside subtransactions until the refused rows are isolated.
 */
#include "postgres.h"

#include <math.h>

#include "access/relation.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/syscache.h"

#include "fk_guard.h"
#include "purge.h"

/* the window never holds more than this many batches' worth of rows */
#define RT_WINDOW_BATCHES 4

/*
 * Asks the planner how it would find the expired rows of a target: an
 * index scan means few have expired, so walking the anchor index is
 * cheapest; anything else (a sequential or bitmap scan) means the heap
 * should be read in order.
 */
static bool
rt_planner_prefers_index(RtTarget *t)
{
	Oid			argtypes[1] = {rt_anchor_type_oid(t->anchor_type)};
	Datum		values[1] = {t->cutoff};
	char	   *sql = psprintf("EXPLAIN (COSTS OFF) SELECT 1 FROM ONLY %s t WHERE t.%s OPERATOR(pg_catalog.<) $1",
							   t->relname, t->anchor);
	bool		isnull;
	char	   *line;

	if (SPI_execute_with_args(sql, 1, argtypes, values, NULL, false, 0) != SPI_OK_UTILITY ||
		SPI_processed == 0)
		return false;
	line = TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	return strncmp(line, "Index Scan", 10) == 0 || strncmp(line, "Index Only Scan", 15) == 0;
}

/* Prepares a statement and keeps it beyond the current transaction. */
static SPIPlanPtr
rt_prepare_kept(const char *sql, int nargs, Oid *argtypes)
{
	SPIPlanPtr	plan = SPI_prepare(sql, nargs, argtypes);

	if (plan == NULL)
		elog(ERROR, "could not prepare statement (%s): %s",
			 SPI_result_code_string(SPI_result), sql);
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "could not keep prepared statement: %s", sql);
	return plan;
}

/* Prepares the SELECT and DELETE statements of one target. */
static void
rt_target_prepare_statements(RtTarget *t)
{
	Oid			anchor_oid = rt_anchor_type_oid(t->anchor_type);
	Oid			select_types[5] = {TIDOID, TIDOID, anchor_oid, INT8OID, anchor_oid};
	Oid			delete_types[2] = {TIDARRAYOID, anchor_oid};
	char	   *blocked = rt_fk_blocked_expr(t->relid, "t");
	StringInfoData sql;

	if (blocked == NULL)
		blocked = "false";

	initStringInfo(&sql);
	if (t->anchor_order)
		appendStringInfo(&sql,
						 "SELECT t.ctid, %s, t.%s FROM ONLY %s t"
						 " WHERE t.%s OPERATOR(pg_catalog.<) $3"
						 " AND t.%s OPERATOR(pg_catalog.>=) $5"
						 " AND (t.%s OPERATOR(pg_catalog.>) $5 OR t.ctid OPERATOR(pg_catalog.>) $1)"
						 " ORDER BY t.%s, t.ctid LIMIT $4",
						 blocked, t->anchor, t->relname,
						 t->anchor, t->anchor, t->anchor, t->anchor);
	else
		appendStringInfo(&sql,
						 "SELECT t.ctid, %s FROM ONLY %s t"
						 " WHERE t.ctid OPERATOR(pg_catalog.>) $1 AND t.ctid OPERATOR(pg_catalog.<) $2"
						 " AND t.%s OPERATOR(pg_catalog.<) $3"
						 " ORDER BY t.ctid LIMIT $4",
						 blocked, t->relname, t->anchor);
	t->select_plan = rt_prepare_kept(sql.data, 5, select_types);

	resetStringInfo(&sql);
	appendStringInfo(&sql,
					 "DELETE FROM ONLY %s t WHERE t.ctid OPERATOR(pg_catalog.=) ANY ($1)"
					 " AND t.%s OPERATOR(pg_catalog.<) $2",
					 t->relname, t->anchor);
	t->delete_plan = rt_prepare_kept(sql.data, 2, delete_types);

	resetStringInfo(&sql);
	appendStringInfo(&sql,
					 "WITH l AS MATERIALIZED (SELECT t.ctid FROM ONLY %s t"
					 " WHERE t.ctid OPERATOR(pg_catalog.=) ANY ($1) AND t.%s OPERATOR(pg_catalog.<) $2"
					 " FOR UPDATE SKIP LOCKED),"
					 " d AS (DELETE FROM ONLY %s t"
					 " WHERE t.ctid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT l.ctid FROM l))"
					 " AND t.%s OPERATOR(pg_catalog.<) $2 RETURNING 1)"
					 " SELECT (SELECT pg_catalog.count(*) FROM l), (SELECT pg_catalog.count(*) FROM d)",
					 t->relname, t->anchor, t->relname, t->anchor);
	t->delete_skip_locked_plan = rt_prepare_kept(sql.data, 2, delete_types);
}

/* Returns the lowest possible value of an anchor type (-infinity). */
static Datum
rt_anchor_minus_infinity(RtAnchorType anchor_type)
{
	if (anchor_type == RT_ANCHOR_DATE)
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

/* Returns the leaf relations of a policy's table, statements prepared. */
List *
rt_targets_prepare(const RtPolicy *policy, TimestampTz cutoff)
{
	List	   *relids = find_all_inheritors(policy->relid, AccessShareLock, NULL);
	List	   *targets = NIL;
	ListCell   *lc;

	foreach(lc, relids)
	{
		Oid			relid = lfirst_oid(lc);
		Relation	rel;
		RtTarget   *t;
		AttrNumber	attnum;
		int16		typlen;
		bool		typbyval;

		if (get_rel_relkind(relid) != RELKIND_RELATION)
			continue;			/* partitioned parents hold no rows */
		rel = relation_open(relid, AccessShareLock);
		t = palloc0(sizeof(RtTarget));
		t->relid = relid;
		t->relname = rt_relation_name(relid);
		t->anchor = pstrdup(quote_identifier(policy->anchor));
		t->anchor_type = rt_policy_anchor_type(policy, rel);
		get_typlenbyval(rt_anchor_type_oid(t->anchor_type), &typlen, &typbyval);
		t->cutoff = datumCopy(rt_cutoff_for_anchor(cutoff, policy->time_zone, t->anchor_type),
							  typbyval, typlen);
		t->nblocks = RelationGetNumberOfBlocks(rel);
		t->rows_per_block = (rel->rd_rel->relpages > 0 && rel->rd_rel->reltuples > 0) ?
			rel->rd_rel->reltuples / rel->rd_rel->relpages : 0;
		attnum = get_attnum(relid, policy->anchor);
		t->anchor_order = rt_has_anchor_index(rel, attnum) && rt_planner_prefers_index(t);
		ItemPointerSet(&t->pos.tid, 0, 0);
		t->pos.window_end = 0;
		t->pos.key = datumCopy(rt_anchor_minus_infinity(t->anchor_type), typbyval, typlen);
		t->pos.done = !t->anchor_order && t->nblocks == 0;
		relation_close(rel, NoLock);

		rt_target_prepare_statements(t);
		targets = lappend(targets, t);
	}
	return targets;
}

/* Frees the statements of targets prepared by rt_targets_prepare. */
void
rt_targets_free(List *targets)
{
	ListCell   *lc;

	foreach(lc, targets)
	{
		RtTarget   *t = lfirst(lc);

		if (t->select_plan)
			SPI_freeplan(t->select_plan);
		if (t->delete_plan)
			SPI_freeplan(t->delete_plan);
		if (t->delete_skip_locked_plan)
			SPI_freeplan(t->delete_skip_locked_plan);
		t->select_plan = t->delete_plan = t->delete_skip_locked_plan = NULL;
	}
}

/* Returns the number of rows of a target whose anchor is NULL. */
int64
rt_target_count_undated(RtTarget *t)
{
	char	   *sql = psprintf("SELECT pg_catalog.count(*) FROM ONLY %s t WHERE t.%s IS NULL",
							   t->relname, t->anchor);
	bool		isnull;

	if (SPI_execute(sql, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not count undated rows of %s", t->relname);
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/* Candidates gathered for one batch. */
typedef struct RtCandidates
{
	ItemPointerData *tids;		/* rows to delete */
	int			nfree;
	int			nblocked;
	int			total;
} RtCandidates;

/* Adds the rows of the last SELECT to the candidates; returns how many it had. */
static int
rt_take_candidates(RtTarget *t, RtCandidates *c)
{
	bool		isnull;

	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		ItemPointer tid = (ItemPointer) DatumGetPointer(SPI_getbinval(tuple, SPI_tuptable->tupdesc, 1, &isnull));
		bool		blocked = DatumGetBool(SPI_getbinval(tuple, SPI_tuptable->tupdesc, 2, &isnull));

		if (blocked)
			c->nblocked++;
		else
			c->tids[c->nfree++] = *tid;
		c->total++;
		if (i == SPI_processed - 1)
		{
			t->pos.tid = *tid;
			if (t->anchor_order)
			{
				int16		typlen;
				bool		typbyval;

				get_typlenbyval(rt_anchor_type_oid(t->anchor_type), &typlen, &typbyval);
				/* by-value for every anchor type on 64-bit builds; copy to be safe */
				t->pos.key = datumCopy(SPI_getbinval(tuple, SPI_tuptable->tupdesc, 3, &isnull),
									   typbyval, typlen);
			}
		}
	}
	return (int) SPI_processed;
}

/* Runs the candidate SELECT once with the given bounds and limit. */
static void
rt_run_select(RtTarget *t, BlockNumber window_end, int64 limit)
{
	ItemPointerData end;
	Datum		values[5];

	ItemPointerSet(&end, window_end, 0);
	values[0] = PointerGetDatum(&t->pos.tid);
	values[1] = PointerGetDatum(&end);
	values[2] = t->cutoff;
	values[3] = Int64GetDatum(limit);
	values[4] = t->pos.key;
	if (SPI_execute_plan(t->select_plan, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not select expired rows of %s", t->relname);
}

/* Gathers up to batch_size candidates in heap order, one block window at a time. */
static void
rt_collect_heap_order(RtTarget *t, int batch_size, RtCandidates *c)
{
	double		physical = t->rows_per_block > 0 ? t->rows_per_block : 50;
	double		due_density = physical;		/* optimistic until measured */
	BlockNumber max_window = (BlockNumber) Max(1.0, RT_WINDOW_BATCHES * batch_size / physical);

	while (c->total < batch_size && !t->pos.done)
	{
		int64		want = batch_size - c->total;
		BlockNumber start;
		int			got;

		CHECK_FOR_INTERRUPTS();
		if (t->pos.window_end == 0 ||
			ItemPointerGetBlockNumberNoCheck(&t->pos.tid) >= t->pos.window_end)
		{
			/* open the next window where the last one ended */
			double		blocks = ceil(want / Max(due_density, 0.01));

			start = t->pos.window_end;
			t->pos.window_end = start + (BlockNumber) Min(Max(blocks, 1.0), (double) max_window);
			if (t->pos.window_end > t->nblocks)
				t->pos.window_end = t->nblocks;
		}
		start = ItemPointerGetBlockNumberNoCheck(&t->pos.tid);

		rt_run_select(t, t->pos.window_end, want);
		got = rt_take_candidates(t, c);
		if (got == want)
			break;				/* batch full; the window may hold more */

		/* window exhausted: measure its density, move past it */
		if (t->pos.window_end > start)
			due_density = (double) got / (t->pos.window_end - start);
		ItemPointerSet(&t->pos.tid, t->pos.window_end, 0);
		if (t->pos.window_end >= t->nblocks)
			t->pos.done = true;
	}
}

/* Deletes rows in SKIP LOCKED mode; adds what it did to result. */
static void
rt_delete_skip_locked(RtTarget *t, Datum tids, int n, RtBatchResult *result)
{
	Datum		values[2] = {tids, t->cutoff};
	bool		isnull;
	int64		locked;

	if (SPI_execute_plan(t->delete_skip_locked_plan, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not delete expired rows of %s", t->relname);
	locked = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	result->deleted += DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	result->skipped_locked += n - locked;
}

/* Builds a tid[] datum of n row identifiers. */
static Datum
rt_tid_array(ItemPointerData *tids, int n)
{
	Datum	   *elems = palloc(sizeof(Datum) * n);

	for (int i = 0; i < n; i++)
		elems[i] = PointerGetDatum(&tids[i]);
	return PointerGetDatum(construct_array(elems, n, TIDOID, sizeof(ItemPointerData),
										   false, TYPALIGN_SHORT));
}

/*
 * Deletes rows one subtransaction per group, splitting a group in halves
 * when a foreign key refuses it, until the refused rows are found one by
 * one and counted as blocked.
 */
static void
rt_delete_careful(RtTarget *t, ItemPointerData *tids, int n, RtBatchResult *result)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	ErrorData  *volatile edata = NULL;

	if (n == 0)
		return;
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		rt_delete_skip_locked(t, rt_tid_array(tids, n), n, result);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_END_TRY();

	if (edata == NULL)
		return;
	if (edata->sqlerrcode != ERRCODE_FOREIGN_KEY_VIOLATION)
		ReThrowError(edata);
	FreeErrorData(edata);
	if (n == 1)
	{
		result->blocked++;
		return;
	}
	rt_delete_careful(t, tids, n / 2, result);
	rt_delete_careful(t, tids + n / 2, n - n / 2, result);
}

/* Runs one batch on a target in the current transaction. */
void
rt_purge_batch(RtTarget *t, int batch_size, RtBatchMode mode, RtBatchResult *result)
{
	RtCandidates c;

	memset(result, 0, sizeof(*result));
	if (t->pos.done)
		return;

	c.tids = palloc(sizeof(ItemPointerData) * batch_size);
	c.nfree = c.nblocked = c.total = 0;
	if (t->anchor_order)
	{
		rt_run_select(t, 0, batch_size);
		if (rt_take_candidates(t, &c) < batch_size)
			t->pos.done = true;
	}
	else
		rt_collect_heap_order(t, batch_size, &c);

	result->candidates = c.total;
	result->blocked = c.nblocked;
	if (c.nfree == 0)
		return;

	switch (mode)
	{
		case RT_BATCH_FAST:
			{
				Datum		values[2] = {rt_tid_array(c.tids, c.nfree), t->cutoff};

				if (SPI_execute_plan(t->delete_plan, values, NULL, false, 0) != SPI_OK_DELETE)
					elog(ERROR, "could not delete expired rows of %s", t->relname);
				result->deleted = SPI_processed;
				break;
			}
		case RT_BATCH_SKIP_LOCKED:
			rt_delete_skip_locked(t, rt_tid_array(c.tids, c.nfree), c.nfree, result);
			break;
		case RT_BATCH_CAREFUL:
			rt_delete_careful(t, c.tids, c.nfree, result);
			break;
	}
}
