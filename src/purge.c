/*
 * purge.c
 *    The batch engine of the delete and anonymize actions.
 *
 * Batch shape.  Candidates are selected by a keyset scan that starts where
 * the previous batch stopped, so the cost of a run grows with the rows it
 * examines, not with the square of the batches (a plain "DELETE ... WHERE
 * ctid IN (SELECT ... LIMIT n)" loop re-reads the dead rows of earlier
 * batches every time).  In heap order the scan reads a window of blocks
 * with a TID range scan; the window is sized from the density of expired
 * rows seen so far and capped so that one SELECT never sorts more than a
 * few batches' worth of rows.  In anchor order the scan walks the anchor
 * index from the last (anchor, ctid) handled.  The DELETE (or UPDATE) that
 * takes a batch's TIDs gets a generic plan: planned for each batch's array
 * of 10,000 TIDs, the planner prices a TID scan as 10,000 random reads and
 * prefers the anchor index, which reads every expired row again each batch
 * (that made the 1 %-expired case slower than a hand-written loop).
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
 *
 * Anonymize.  The same scan, with the "still to mask" condition of
 * anonymize.c added to the SELECT and an UPDATE in place of the DELETE.
 * Masking never removes a referenced row, so nothing is flagged as
 * blocked.  A batch that a row refuses (a pseudonym equal to a value
 * masked before, a CHECK, a trigger) is split in CAREFUL mode like a
 * delete: the refusing rows stay unmasked and are counted, the others are
 * masked, so that one returning customer cannot stall a policy.
 *
 * Refusals are recorded without their message: an error's text may quote
 * the row (a data exception quotes the value, a trigger's message is
 * whatever its author wrote), and run records and the audit trail outlive
 * the row.  What is kept is the SQLSTATE and the constraint, column or
 * table the error names.
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
#include "storage/lmgr.h"
#include "utils/acl.h"
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

#include "anonymize.h"
#include "cutoff.h"
#include "diagnose.h"
#include "fk_guard.h"
#include "hold.h"
#include "partition.h"
#include "policy.h"
#include "publication.h"
#include "purge.h"
#include "quote.h"
#include "safe_spi.h"
#include "subxact.h"

/* the window never holds more than this many batches' worth of rows */
#define RT_WINDOW_BATCHES 4

/* expired rows below this share of the table are read in anchor order */
#define RT_ANCHOR_ORDER_SHARE 0.10

/*
 * Asks the planner how it would fetch the expired rows of a target (their
 * ctid, as a batch does, so that an index-only scan of the anchor cannot
 * stand in for reading the rows).  Walking the anchor index pays off when
 * the planner itself would take a plain index scan (few rows, or rows laid
 * out in anchor order), or when it estimates that under a tenth of the
 * table has expired; otherwise reading the heap in order reads each page
 * once.  The plan type alone misleads: a table that fits in memory gets a
 * bitmap scan for half its rows, which in anchor order would cost a random
 * fetch per row.
 */
static bool
rt_planner_prefers_index(RtTarget *t)
{
	Oid			argtypes[1] = {rt_anchor_type_oid(t->anchor_type)};
	Datum		values[1] = {t->cutoff};
	char	   *sql = psprintf("EXPLAIN SELECT t.ctid FROM ONLY %s t WHERE t.%s OPERATOR(pg_catalog.<) $1%s%s",
							   t->relname, t->anchor,
							   t->pending ? " AND " : "", t->pending ? t->pending : "");
	bool		isnull;
	char	   *line;
	char	   *rows;
	double		expired;
	double		total = t->rows_per_block * t->nblocks;

	if (rt_spi_execute(sql, 1, argtypes, values, NULL, false, 0) != SPI_OK_UTILITY ||
		SPI_processed == 0)
		return false;
	line = TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	if (strncmp(line, "Index Scan", 10) == 0)
		return true;
	if (strncmp(line, "Seq Scan", 8) == 0 && strstr(line, "Filter") != NULL)
		return false;
	rows = strstr(line, "rows=");
	if (rows == NULL || total <= 0 || sscanf(rows, "rows=%lf", &expired) != 1)
		return false;
	return expired < RT_ANCHOR_ORDER_SHARE * total;
}

/*
 * Prepares a statement and keeps it beyond the current transaction.  With
 * generic set, the plan is built once for unknown parameter values.
 */
static SPIPlanPtr
rt_prepare_kept(const char *sql, int nargs, Oid *argtypes, bool generic)
{
	SPIPlanPtr	plan = rt_spi_prepare_cursor(sql, nargs, argtypes,
											 generic ? CURSOR_OPT_GENERIC_PLAN : 0);

	if (plan == NULL)
		elog(ERROR, "could not prepare statement (%s): %s",
			 SPI_result_code_string(SPI_result), sql);
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "could not keep prepared statement: %s", sql);
	return plan;
}

/*
 * Prepares a target's SELECT, DELETE (or UPDATE) and SKIP LOCKED statements.
 * With held_select / held_apply (the legal-hold predicate with its key
 * arrays numbered from $6 and from $3), the statements step around rows of
 * held subjects; nheld is the number of those arrays.
 */
static void
rt_build_statements(RtTarget *t, const char *held_select, const char *held_apply, int nheld,
					SPIPlanPtr *select_plan, SPIPlanPtr *apply_plan, SPIPlanPtr *skip_locked_plan)
{
	Oid			anchor_oid = rt_anchor_type_oid(t->anchor_type);
	Oid		   *select_types = palloc(sizeof(Oid) * (5 + nheld));
	Oid		   *apply_types = palloc(sizeof(Oid) * (2 + nheld));
	RtFkSelf	self = {t->policy_relid, t->anchor, "$3"};
	char	   *blocked = t->pending ? NULL : rt_fk_blocked_expr(t->relid, "t", &self);
	char	   *filter = t->pending ? psprintf(" AND %s", t->pending) : "";
	char	   *not_held = held_apply ? psprintf(" AND NOT %s", held_apply) : "";
	const char *held = held_select ? held_select : "false";
	StringInfoData sql;

	select_types[0] = TIDOID;
	select_types[1] = TIDOID;
	select_types[2] = anchor_oid;
	select_types[3] = INT8OID;
	select_types[4] = anchor_oid;
	apply_types[0] = TIDARRAYOID;
	apply_types[1] = anchor_oid;
	for (int i = 0; i < nheld; i++)
		select_types[5 + i] = apply_types[2 + i] = TEXTARRAYOID;
	if (blocked == NULL)
		blocked = "false";

	initStringInfo(&sql);
	if (t->anchor_order)
		appendStringInfo(&sql,
						 "SELECT t.ctid, %s, %s, t.%s FROM ONLY %s t"
						 " WHERE t.%s OPERATOR(pg_catalog.<) $3"
						 " AND t.%s OPERATOR(pg_catalog.>=) $5"
						 " AND (t.%s OPERATOR(pg_catalog.>) $5 OR t.ctid OPERATOR(pg_catalog.>) $1)%s"
						 " ORDER BY t.%s, t.ctid LIMIT $4",
						 blocked, held, t->anchor, t->relname,
						 t->anchor, t->anchor, t->anchor, filter, t->anchor);
	else
		appendStringInfo(&sql,
						 "SELECT t.ctid, %s, %s FROM ONLY %s t"
						 " WHERE t.ctid OPERATOR(pg_catalog.>) $1 AND t.ctid OPERATOR(pg_catalog.<) $2"
						 " AND t.%s OPERATOR(pg_catalog.<) $3%s"
						 " ORDER BY t.ctid LIMIT $4",
						 blocked, held, t->relname, t->anchor, filter);
	*select_plan = rt_prepare_kept(sql.data, 5 + nheld, select_types, false);

	if (t->action == RT_ACTION_ANONYMIZE)
	{
		/* the expiry and the need to mask are checked again on the row's current version */
		resetStringInfo(&sql);
		/* the count of rows masked is read off the new versions: a trigger may give a row back unmasked */
		appendStringInfo(&sql,
						 "WITH d AS (UPDATE ONLY %s t SET %s WHERE t.ctid OPERATOR(pg_catalog.=) ANY ($1)"
						 " AND t.%s OPERATOR(pg_catalog.<) $2%s%s RETURNING %s AS pending)"
						 " SELECT pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE NOT d.pending) FROM d",
						 t->relname, t->set_list, t->anchor, filter, not_held, t->pending);
		*apply_plan = rt_prepare_kept(sql.data, 2 + nheld, apply_types, true);

		resetStringInfo(&sql);
		appendStringInfo(&sql,
						 "WITH l AS MATERIALIZED (SELECT t.ctid FROM ONLY %s t"
						 " WHERE t.ctid OPERATOR(pg_catalog.=) ANY ($1) AND t.%s OPERATOR(pg_catalog.<) $2%s%s"
						 " FOR UPDATE SKIP LOCKED),"
						 " d AS (UPDATE ONLY %s t SET %s"
						 " WHERE t.ctid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT l.ctid FROM l))"
						 " AND t.%s OPERATOR(pg_catalog.<) $2%s RETURNING %s AS pending)"
						 " SELECT (SELECT pg_catalog.count(*) FROM l),"
						 " (SELECT pg_catalog.count(*) FROM d WHERE NOT d.pending)",
						 t->relname, t->anchor, filter, not_held, t->relname, t->set_list, t->anchor, filter,
						 t->pending);
		*skip_locked_plan = rt_prepare_kept(sql.data, 2 + nheld, apply_types, true);
		return;
	}

	resetStringInfo(&sql);
	appendStringInfo(&sql,
					 "DELETE FROM ONLY %s t WHERE t.ctid OPERATOR(pg_catalog.=) ANY ($1)"
					 " AND t.%s OPERATOR(pg_catalog.<) $2%s",
					 t->relname, t->anchor, not_held);
	*apply_plan = rt_prepare_kept(sql.data, 2 + nheld, apply_types, true);

	resetStringInfo(&sql);
	appendStringInfo(&sql,
					 "WITH l AS MATERIALIZED (SELECT t.ctid FROM ONLY %s t"
					 " WHERE t.ctid OPERATOR(pg_catalog.=) ANY ($1) AND t.%s OPERATOR(pg_catalog.<) $2%s"
					 " FOR UPDATE SKIP LOCKED),"
					 " d AS (DELETE FROM ONLY %s t"
					 " WHERE t.ctid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT l.ctid FROM l))"
					 " AND t.%s OPERATOR(pg_catalog.<) $2 RETURNING 1)"
					 " SELECT (SELECT pg_catalog.count(*) FROM l), (SELECT pg_catalog.count(*) FROM d)",
					 t->relname, t->anchor, not_held, t->relname, t->anchor);
	*skip_locked_plan = rt_prepare_kept(sql.data, 2 + nheld, apply_types, true);
}

/* Prepares the statements of one target: plain ones, and ones that step around held subjects. */
static void
rt_target_prepare_statements(RtTarget *t)
{
	List	   *kinds;
	char	   *held_select = rt_held_predicate(t->relid, "t", 6, &kinds);
	char	   *held_apply = rt_held_predicate(t->relid, "t", 3, &kinds);

	rt_build_statements(t, NULL, NULL, 0, &t->select_plan, &t->delete_plan,
						&t->delete_skip_locked_plan);
	t->held_kinds = kinds;
	if (held_select != NULL)
	{
		t->held_keys = palloc0(sizeof(Datum) * list_length(kinds));
		rt_build_statements(t, held_select, held_apply, list_length(kinds), &t->select_held_plan,
							&t->delete_held_plan, &t->delete_skip_locked_held_plan);
	}
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

/* Returns the command a target's statement is: DELETE, or UPDATE for anonymize. */
static CmdType
rt_target_cmd(const RtTarget *t)
{
	return t->action == RT_ACTION_ANONYMIZE ? CMD_UPDATE : CMD_DELETE;
}

/*
 * Reads what of a target's own definition can keep its statement from
 * doing what it says: a DO INSTEAD rule (the statement is then not run at
 * all: the rule would do something else with the rows), a publication that
 * publishes its deletes (or updates) while it has no replica identity
 * (PostgreSQL refuses the statement: docs/operations.md#logical-replication-and-cdc),
 * and triggers or ALSO rules that fire on it (the run then watches where
 * rows go).
 */
static void
rt_target_watch(RtTarget *t)
{
	CmdType		cmd = rt_target_cmd(t);
	List	   *rules = rt_instead_rules(t->relid, cmd);
	char	   *table;
	char	   *publication = rt_publication_refusing(t->relid, cmd, &table);

	t->refused_by = rules == NIL ? NULL :
		psprintf("refused by %s, which turns the %s into other statements (DO INSTEAD)",
				 rt_describe_named("rule", rules, t->relid), cmd == CMD_DELETE ? "DELETE" : "UPDATE");
	/* PostgreSQL refuses every row (55000): say which publication, rather than fail on its error */
	if (publication != NULL)
		t->refused_by = psprintf("refused by PostgreSQL: publication %s publishes the %s of %s, which has no replica identity"
								 " (no primary key, and no REPLICA IDENTITY USING INDEX or FULL)",
								 publication, cmd == CMD_DELETE ? "deletes" : "updates", table);
	t->watch_copies = rt_user_triggers(t->relid, cmd) != NIL ||
		rt_table_has_rules(t->relid) ||
		(cmd == CMD_DELETE && rt_cascade_reaches_user_code(t->relid));
}

/*
 * Returns true when the bounds of a partition put all its rows at or after
 * the cutoff (partition.c rt_partition_after_cutoff): a target there would
 * cost its statements, a batch and a count after the run, and find nothing.
 */
static bool
rt_leaf_after_cutoff(const RtPolicy *policy, Oid relid, TimestampTz cutoff)
{
	Relation	rel;
	RtAnchorType anchor_type;

	if (!get_rel_relispartition(relid))
		return false;
	rel = relation_open(relid, AccessShareLock);
	anchor_type = rt_policy_anchor_type(policy, rel);
	relation_close(rel, NoLock);
	return rt_partition_after_cutoff(relid, policy->anchor, anchor_type,
									 rt_cutoff_for_anchor(cutoff, policy->time_zone, anchor_type));
}

/* Returns the leaf relations of a policy's table, statements prepared. */
List *
rt_targets_prepare(const RtPolicy *policy, TimestampTz cutoff, List **unreachable)
{
	List	   *relids = find_all_inheritors(policy->relid, AccessShareLock, NULL);
	List	   *targets = NIL;
	ListCell   *lc;
	AclMode		needed = ACL_SELECT | (policy->action == RT_ACTION_DELETE ? ACL_DELETE : ACL_UPDATE);

	foreach(lc, relids)
	{
		Oid			relid = lfirst_oid(lc);
		Relation	rel;
		RtTarget   *t;
		AttrNumber	attnum;
		int16		typlen;
		bool		typbyval;

		if (get_rel_relkind(relid) == RELKIND_FOREIGN_TABLE)
		{
			ereport(WARNING,
					(errmsg("foreign partition %s of %s is not purged by retention policy " INT64_FORMAT,
							rt_relation_name(relid), rt_relation_name(policy->relid), policy->policy_id),
					 errhint("Apply the retention period on the server that holds its rows.")));
			continue;
		}
		if (get_rel_relkind(relid) != RELKIND_RELATION)
			continue;			/* partitioned parents hold no rows */
		if (rt_leaf_after_cutoff(policy, relid, cutoff))
			continue;			/* nothing in it has expired, nor can it have */
		if (pg_class_aclcheck(relid, GetUserId(), needed) != ACLCHECK_OK)
		{
			/* the table's owner may not change this partition: the other partitions go on */
			*unreachable = lappend(*unreachable, rt_relation_name(relid));
			continue;
		}
		rel = relation_open(relid, AccessShareLock);
		t = palloc0(sizeof(RtTarget));
		t->relid = relid;
		t->policy_relid = policy->relid;
		t->cxt = CurrentMemoryContext;
		t->relname = rt_relation_name(relid);
		t->anchor = pstrdup(quote_identifier(policy->anchor));
		t->anchor_type = rt_policy_anchor_type(policy, rel);
		t->anchor_not_null =
			TupleDescAttr(RelationGetDescr(rel), get_attnum(relid, policy->anchor) - 1)->attnotnull;
		get_typlenbyval(rt_anchor_type_oid(t->anchor_type), &typlen, &typbyval);
		t->cutoff = datumCopy(rt_cutoff_for_anchor(cutoff, policy->time_zone, t->anchor_type),
							  typbyval, typlen);
		t->nblocks = RelationGetNumberOfBlocks(rel);
		t->rows_per_block = (rel->rd_rel->relpages > 0 && rel->rd_rel->reltuples > 0) ?
			rel->rd_rel->reltuples / rel->rd_rel->relpages : 0;
		t->action = policy->action;
		if (policy->action == RT_ACTION_ANONYMIZE)
		{
			RtAnonSql  *anon = rt_anon_sql(policy, relid, "t");

			t->pending = anon->pending;
			t->set_list = anon->set_list;
		}
		t->relfilenode = rel->rd_rel->relfilenode;
		if (rt_citus_target_prepare(t, policy))
		{
			/* a Citus table: its rows are in the shards, taken by anchor ranges (citus_purge.c) */
			relation_close(rel, NoLock);
			rt_target_watch(t);
			targets = lappend(targets, t);
			continue;
		}
		attnum = get_attnum(relid, policy->anchor);
		/* an anonymize run may walk a partial index holding only the rows still to mask */
		t->anchor_order = rt_anchor_index_exists(rel, attnum,
												 policy->action == RT_ACTION_ANONYMIZE ?
												 RT_INDEX_ANY : RT_INDEX_FULL) &&
			rt_planner_prefers_index(t);
		ItemPointerSet(&t->pos.tid, 0, 0);
		t->pos.window_end = 0;
		t->pos.key = datumCopy(rt_anchor_minus_infinity(t->anchor_type), typbyval, typlen);
		t->pos.done = !t->anchor_order && t->nblocks == 0;
		relation_close(rel, NoLock);
		rt_target_watch(t);

		/* a DO INSTEAD rule would even refuse the statements' preparation (0A000 for RETURNING) */
		if (t->refused_by == NULL)
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

		SPIPlanPtr *plans[6] = {&t->select_plan, &t->delete_plan, &t->delete_skip_locked_plan,
		&t->select_held_plan, &t->delete_held_plan, &t->delete_skip_locked_held_plan};

		for (int i = 0; i < 6; i++)
		{
			if (*plans[i])
				SPI_freeplan(*plans[i]);
			*plans[i] = NULL;
		}
	}
}

/* Returns the number of rows of a target whose anchor is NULL. */
int64
rt_target_count_undated(RtTarget *t)
{
	char	   *sql = psprintf("SELECT pg_catalog.count(*) FROM ONLY %s t WHERE t.%s IS NULL",
							   t->relname, t->anchor);
	bool		isnull;

	/* a NOT NULL anchor has none, and counting them would read the whole table */
	if (t->anchor_not_null)
		return 0;
	if (rt_spi_execute(sql, 0, NULL, NULL, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not count undated rows of %s", t->relname);
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/* Candidates gathered for one batch. */
typedef struct RtCandidates
{
	ItemPointerData *tids;		/* rows to delete */
	int			nfree;
	int			nblocked;
	int			nheld;
	int			total;
	bool		use_held;		/* the held statements are in use this batch */
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
		bool		held = DatumGetBool(SPI_getbinval(tuple, SPI_tuptable->tupdesc, 3, &isnull));

		if (held)
			c->nheld++;
		else if (blocked)
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

				MemoryContext old = MemoryContextSwitchTo(t->cxt);

				get_typlenbyval(rt_anchor_type_oid(t->anchor_type), &typlen, &typbyval);
				/* by-value for every anchor type on 64-bit builds; copy to be safe */
				t->pos.key = datumCopy(SPI_getbinval(tuple, SPI_tuptable->tupdesc, 4, &isnull),
									   typbyval, typlen);
				MemoryContextSwitchTo(old);
			}
		}
	}
	return (int) SPI_processed;
}

/* Runs the candidate SELECT once with the given bounds and limit. */
static void
rt_run_select(RtTarget *t, BlockNumber window_end, int64 limit, bool use_held)
{
	ItemPointerData end;
	int			nheld = use_held ? list_length(t->held_kinds) : 0;
	Datum	   *values = palloc(sizeof(Datum) * (5 + nheld));

	ItemPointerSet(&end, window_end, 0);
	values[0] = PointerGetDatum(&t->pos.tid);
	values[1] = PointerGetDatum(&end);
	values[2] = t->cutoff;
	values[3] = Int64GetDatum(limit);
	values[4] = t->pos.key;
	for (int i = 0; i < nheld; i++)
		values[5 + i] = t->held_keys[i];
	if (rt_spi_execute_plan(use_held ? t->select_held_plan : t->select_plan, values, NULL, false, 0) !=
		SPI_OK_SELECT)
		elog(ERROR, "could not select expired rows of %s", t->relname);
}

/* Returns the parameters of the apply statements: tids, cutoff, and the held keys when in use. */
static Datum *
rt_apply_args(RtTarget *t, Datum tids, bool use_held)
{
	int			nheld = use_held ? list_length(t->held_kinds) : 0;
	Datum	   *values = palloc(sizeof(Datum) * (2 + nheld));

	values[0] = tids;
	values[1] = t->cutoff;
	for (int i = 0; i < nheld; i++)
		values[2 + i] = t->held_keys[i];
	return values;
}

/*
 * Reads the held keys of the kinds covering the target for this batch;
 * returns true when some subject is held, so that the held statements are
 * needed.
 */
static bool
rt_load_held_keys(RtTarget *t)
{
	bool		any = false;
	int			i = 0;
	ListCell   *lc;

	foreach(lc, t->held_kinds)
	{
		Datum		keys = rt_held_keys(lfirst(lc));

		if (keys != (Datum) 0)
			any = true;
		else
			keys = PointerGetDatum(construct_empty_array(TEXTOID));
		t->held_keys[i++] = keys;
	}
	return any;
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

		rt_run_select(t, t->pos.window_end, want, c->use_held);
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
rt_delete_skip_locked(RtTarget *t, Datum tids, int n, bool use_held, RtBatchResult *result)
{
	bool		isnull;
	int64		locked;
	int64		done;

	if (rt_spi_execute_plan(use_held ? t->delete_skip_locked_held_plan : t->delete_skip_locked_plan,
						 rt_apply_args(t, tids, use_held), NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not delete expired rows of %s", t->relname);
	locked = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	done = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	result->deleted += done;
	if (locked < n && rt_row_security_binds_owner(t->relid))
	{
		/*
		 * FOR UPDATE leaves out the rows row-level security does not let
		 * the owner lock, as it does rows another session locks: count the
		 * former apart.
		 */
		int64		rls = Min(rt_rows_owner_cannot_lock(t->relid, t->anchor, rt_anchor_type_oid(t->anchor_type),
														t->cutoff, tids), n - locked);

		result->rls_refused += rls;
		n -= rls;
	}
	result->skipped_locked += n - locked;
	/* locked for us, and still not deleted or masked: a trigger returned NULL, or the row changed */
	t->shortfall += locked - done;
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
 * Returns true for errors that one row can cause: constraints, data,
 * trigger exceptions, and a serialization failure (a row changed since the
 * snapshot of a caller's REPEATABLE READ or SERIALIZABLE transaction, which
 * is stepped around like a locked row).
 */
bool
rt_is_row_error(int sqlerrcode)
{
	int			category = ERRCODE_TO_CATEGORY(sqlerrcode);

	return category == ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION ||
		category == ERRCODE_DATA_EXCEPTION ||
		category == ERRCODE_TO_CATEGORY(ERRCODE_RAISE_EXCEPTION) ||
		sqlerrcode == ERRCODE_T_R_SERIALIZATION_FAILURE;
}

/*
 * Describes why a row was refused without quoting it: the constraint,
 * column or table the error names, never its message (the caller keeps
 * the SQLSTATE).
 */
static char *
rt_refusal_text(const ErrorData *edata)
{
	char	   *table = NULL;

	if (edata->table_name)
		table = edata->schema_name ?
			quote_qualified_identifier(edata->schema_name, edata->table_name) :
			pstrdup(quote_identifier(edata->table_name));
	if (edata->constraint_name && table)
		return psprintf("refused by constraint %s of table %s",
						quote_identifier(edata->constraint_name), table);
	if (edata->constraint_name)
		return psprintf("refused by constraint %s",
						quote_identifier(edata->constraint_name));
	if (edata->column_name && table)
		return psprintf("refused by column %s of table %s",
						quote_identifier(edata->column_name), table);
	if (table)
		return psprintf("refused by table %s", table);
	if (ERRCODE_TO_CATEGORY(edata->sqlerrcode) == ERRCODE_TO_CATEGORY(ERRCODE_RAISE_EXCEPTION))
		return pstrdup("refused by an exception a trigger or function raised");
	return pstrdup("refused by an error that names no constraint or table");
}

/* A group of rows rt_delete_careful tries in one subtransaction. */
typedef struct RtCarefulGroup
{
	RtTarget   *t;
	ItemPointerData *tids;
	int			n;
	bool		use_held;
	RtBatchResult *result;
} RtCarefulGroup;

/* Deletes (or masks) the rows of an RtCarefulGroup, stepping around locked ones. */
static void
rt_delete_group(void *arg)
{
	RtCarefulGroup *g = arg;

	rt_delete_skip_locked(g->t, rt_tid_array(g->tids, g->n), g->n, g->use_held, g->result);
}

/*
 * Deletes (or masks) rows one subtransaction per group, splitting a group
 * in halves when a foreign key, another constraint or a trigger refuses
 * it, until the refused rows are found one by one: counted as blocked (a
 * foreign key refusing a delete) or as row errors (anything else), while
 * the other rows go.
 */
static void
rt_delete_careful(RtTarget *t, ItemPointerData *tids, int n, bool use_held, RtBatchResult *result)
{
	RtCarefulGroup group = {t, tids, n, use_held, result};
	ErrorData  *edata;

	if (n == 0)
		return;
	edata = rt_in_subtransaction_ext(rt_delete_group, &group, CurrentMemoryContext, false);

	if (edata == NULL)
		return;
	if (!rt_is_row_error(edata->sqlerrcode))
		ReThrowError(edata);
	if (n == 1)
	{
		if (edata->sqlerrcode == ERRCODE_FOREIGN_KEY_VIOLATION && t->action == RT_ACTION_DELETE)
			result->blocked++;
		else if (edata->sqlerrcode == ERRCODE_T_R_SERIALIZATION_FAILURE)
			result->skipped_locked++;	/* changed since the caller's snapshot: a later run takes it */
		else
		{
			/* a row a constraint or trigger will not let go: left, and reported */
			result->row_errors++;
			if (result->first_row_error == NULL)
			{
				result->first_row_error = rt_refusal_text(edata);
				result->first_row_errcode = edata->sqlerrcode;
			}
		}
		FreeErrorData(edata);
		return;
	}
	FreeErrorData(edata);
	rt_delete_careful(t, tids, n / 2, use_held, result);
	rt_delete_careful(t, tids + n / 2, n - n / 2, use_held, result);
}

/* Returns the relfilenode of a relation as the catalog has it now. */
static Oid
rt_relfilenode_of(Oid relid)
{
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			filenode = InvalidOid;

	if (HeapTupleIsValid(tuple))
	{
		filenode = ((Form_pg_class) GETSTRUCT(tuple))->relfilenode;
		ReleaseSysCache(tuple);
	}
	return filenode;
}

/* Sets a target back to its first row; see purge.h. */
void
rt_target_restart(RtTarget *t)
{
	Relation	rel = relation_open(t->relid, AccessShareLock);
	int16		typlen;
	bool		typbyval;
	MemoryContext old = MemoryContextSwitchTo(t->cxt);

	if (t->citus != NULL)
	{
		MemoryContextSwitchTo(old);
		relation_close(rel, AccessShareLock);
		rt_citus_target_restart(t);
		return;
	}
	get_typlenbyval(rt_anchor_type_oid(t->anchor_type), &typlen, &typbyval);
	t->nblocks = RelationGetNumberOfBlocks(rel);
	ItemPointerSet(&t->pos.tid, 0, 0);
	t->pos.window_end = 0;
	t->pos.key = datumCopy(rt_anchor_minus_infinity(t->anchor_type), typbyval, typlen);
	t->pos.done = !t->anchor_order && t->nblocks == 0;
	t->pass_blocked = t->pass_held = t->pass_locked = t->pass_refused = t->pass_rls_refused = 0;
	t->shortfall = 0;
	MemoryContextSwitchTo(old);
	relation_close(rel, AccessShareLock);
}

/*
 * Locks a target for the batch and checks that it is still the table (or a
 * partition of the table) the policy is on: the statements name it by text,
 * so a rename makes them prepared again, and a table detached or dropped
 * since the run began is left alone.  Returns false when the target is done.
 */
static bool
rt_target_still_ours(RtTarget *t)
{
	LockRelationOid(t->relid, RowExclusiveLock);
	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(t->relid)) ||
		(t->relid != t->policy_relid &&
		 !list_member_oid(find_all_inheritors(t->policy_relid, NoLock, NULL), t->relid)))
	{
		t->pos.done = true;
		return false;
	}
	if (strcmp(rt_relation_name(t->relid), t->relname) != 0)
	{
		MemoryContext old = MemoryContextSwitchTo(t->cxt);

		rt_targets_free(list_make1(t));
		t->relname = rt_relation_name(t->relid);
		if (t->refused_by == NULL && t->citus == NULL)
			rt_target_prepare_statements(t);
		MemoryContextSwitchTo(old);
	}
	if (rt_relfilenode_of(t->relid) != t->relfilenode)
	{
		/*
		 * CLUSTER, VACUUM FULL or a rewriting ALTER TABLE moved every row:
		 * the position (a ctid, or an anchor and a ctid) means nothing in
		 * the new heap, and going on from it would silently leave the rows
		 * that moved before it.  The scan starts over.
		 */
		t->relfilenode = rt_relfilenode_of(t->relid);
		t->rewrites++;
		rt_target_restart(t);
	}
	return true;
}

/* Counts the rows of a target still due now; see purge.h. */
int64
rt_target_count_due(RtTarget *t)
{
	Oid			types[1] = {rt_anchor_type_oid(t->anchor_type)};
	Datum		values[1] = {t->cutoff};
	bool		isnull;
	char	   *sql = psprintf("SELECT pg_catalog.count(*) FROM ONLY %s t WHERE t.%s OPERATOR(pg_catalog.<) $1%s",
							   t->relname, t->anchor, t->pending ? psprintf(" AND %s", t->pending) : "");

	/* not read-only: a fresh snapshot that sees what this transaction's batches did (CALL in a block) */
	if (rt_spi_execute(sql, 1, types, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not count expired rows of %s", t->relname);
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/* Adds the rows a batch's triggers or rules inserted into other tables to the target's account. */
static void
rt_target_note_copies(RtTarget *t, List *grown)
{
	MemoryContext old = MemoryContextSwitchTo(t->cxt);
	ListCell   *lc;

	foreach(lc, grown)
	{
		RtInsertCount *g = lfirst(lc);
		RtInsertCount *known = NULL;
		ListCell   *kc;

		if (g->relid == t->relid)
			continue;			/* rows put back into the table itself: the leftover count sees them */
		foreach(kc, t->copies)
			if (((RtInsertCount *) lfirst(kc))->relid == g->relid)
				known = lfirst(kc);
		if (known == NULL)
		{
			known = palloc0(sizeof(RtInsertCount));
			known->relid = g->relid;
			t->copies = lappend(t->copies, known);
		}
		known->inserted += g->inserted;
	}
	MemoryContextSwitchTo(old);
}

/* Runs one batch on a target in the current transaction. */
void
rt_purge_batch(RtTarget *t, int batch_size, RtBatchMode mode, RtBatchResult *result)
{
	RtCandidates c;
	List	   *inserts_before;

	memset(result, 0, sizeof(*result));
	if (t->pos.done || !rt_target_still_ours(t))
		return;
	if (t->refused_by != NULL)
	{
		/* a DO INSTEAD rule would do something else with the rows: the run counts them as refused */
		t->pos.done = true;
		return;
	}
	rt_holds_lock_shared();
	if (rt_table_on_hold(t->relid))
	{
		/* the whole table is held: nothing of it goes in this run */
		result->held = rt_target_count_due(t);
		t->pos.done = true;
		return;
	}
	if (t->citus != NULL)
	{
		rt_citus_purge_batch(t, batch_size, mode, result);
		return;
	}

	c.tids = palloc(sizeof(ItemPointerData) * batch_size);
	c.nfree = c.nblocked = c.nheld = c.total = 0;
	c.use_held = t->held_kinds != NIL && rt_load_held_keys(t);
	if (t->anchor_order)
	{
		rt_run_select(t, 0, batch_size, c.use_held);
		if (rt_take_candidates(t, &c) < batch_size)
			t->pos.done = true;
	}
	else
		rt_collect_heap_order(t, batch_size, &c);

	result->candidates = c.total;
	result->blocked = c.nblocked;
	result->held = c.nheld;
	if (c.nfree == 0)
		return;

	inserts_before = t->watch_copies ? rt_inserts_now() : NIL;
	switch (mode)
	{
		case RT_BATCH_FAST:
			if (rt_spi_execute_plan(c.use_held ? t->delete_held_plan : t->delete_plan,
								 rt_apply_args(t, rt_tid_array(c.tids, c.nfree), c.use_held),
								 NULL, false, 0) !=
				(t->action == RT_ACTION_ANONYMIZE ? SPI_OK_SELECT : SPI_OK_DELETE))
				elog(ERROR, "could not delete or anonymize expired rows of %s", t->relname);
			if (t->action == RT_ACTION_ANONYMIZE)
			{
				bool		isnull;

				/* rows the UPDATE left still to mask were not anonymized */
				result->deleted = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
			}
			else
				result->deleted = SPI_processed;
			/* given, and not acted on: a trigger returned NULL, or the row changed meanwhile */
			t->shortfall += c.nfree - result->deleted;
			break;
		case RT_BATCH_SKIP_LOCKED:
			rt_delete_skip_locked(t, rt_tid_array(c.tids, c.nfree), c.nfree, c.use_held, result);
			break;
		case RT_BATCH_CAREFUL:
			rt_delete_careful(t, c.tids, c.nfree, c.use_held, result);
			break;
	}
	if (t->watch_copies)
		rt_target_note_copies(t, rt_inserts_between(inserts_before, rt_inserts_now()));
}

/* Counts what is still due in a target, and what row-level security hides; see purge.h. */
void
rt_target_leftover(RtTarget *t, RtLeftover *out)
{
	RtFkSelf	self = {t->policy_relid, t->anchor, "$1"};
	char	   *blocked = t->pending ? NULL :
		t->citus != NULL ? rt_citus_blocked_expr(t, "$1") : rt_fk_blocked_expr(t->relid, "t", &self);
	const char *held = "false";
	List	   *kinds = NIL;
	int			nargs = 1;
	Oid		   *types;
	Datum	   *values;
	ListCell   *lc;
	bool		isnull;
	char	   *sql;

	memset(out, 0, sizeof(*out));
	if (rt_table_on_hold(t->relid))
		held = "true";
	else if (t->held_kinds != NIL)
	{
		char	   *pred = rt_held_predicate(t->relid, "t", 2, &kinds);

		if (pred != NULL)
			held = pred;
	}
	types = palloc(sizeof(Oid) * (1 + list_length(kinds)));
	values = palloc(sizeof(Datum) * (1 + list_length(kinds)));
	types[0] = rt_anchor_type_oid(t->anchor_type);
	values[0] = t->cutoff;
	foreach(lc, kinds)
	{
		Datum		keys = rt_held_keys(lfirst(lc));

		types[nargs] = TEXTARRAYOID;
		values[nargs++] = keys != (Datum) 0 ? keys : PointerGetDatum(construct_empty_array(TEXTOID));
	}
	sql = psprintf("SELECT pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE %s),"
				   " pg_catalog.count(*) FILTER (WHERE NOT %s AND %s)"
				   " FROM ONLY %s t WHERE t.%s OPERATOR(pg_catalog.<) $1%s",
				   held, held, blocked ? blocked : "false", t->relname, t->anchor,
				   t->pending ? psprintf(" AND %s", t->pending) : "");
	/* not read-only: a fresh snapshot that sees what this transaction's batches did (CALL in a block) */
	if (rt_spi_execute(sql, nargs, types, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not count the expired rows left in %s", t->relname);
	out->due = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	out->held = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	out->blocked = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));

	out->hidden = rt_rows_hidden_from_owner(t->relid, t->anchor, types[0], values[0]);
}

/* Returns the SQL of the rows of a target still due that neither a hold nor a foreign key keeps, with the held keys from $2 on. */
static char *
rt_unexplained_sql(RtTarget *t, const char *columns, List **kinds)
{
	RtFkSelf	self = {t->policy_relid, t->anchor, "$1"};
	char	   *blocked = t->pending ? NULL : rt_fk_blocked_expr(t->relid, "t", &self);
	char	   *held = NULL;

	*kinds = NIL;
	if (t->held_kinds != NIL)
		held = rt_held_predicate(t->relid, "t", 2, kinds);
	return psprintf("SELECT %s FROM ONLY %s t WHERE t.%s OPERATOR(pg_catalog.<) $1%s%s%s",
					columns, t->relname, t->anchor,
					t->pending ? psprintf(" AND %s", t->pending) : "",
					held ? psprintf(" AND NOT %s", held) : "",
					blocked ? psprintf(" AND NOT %s", blocked) : "");
}

/* Runs the SQL of rt_unexplained_sql with the cutoff and the held keys of kinds. */
static void
rt_run_unexplained(RtTarget *t, const char *sql, List *kinds, long limit)
{
	int			nargs = 1 + list_length(kinds);
	Oid		   *types = palloc(sizeof(Oid) * nargs);
	Datum	   *values = palloc(sizeof(Datum) * nargs);
	int			i = 1;
	ListCell   *lc;

	types[0] = rt_anchor_type_oid(t->anchor_type);
	values[0] = t->cutoff;
	foreach(lc, kinds)
	{
		Datum		keys = rt_held_keys(lfirst(lc));

		types[i] = TEXTARRAYOID;
		values[i++] = keys != (Datum) 0 ? keys : PointerGetDatum(construct_empty_array(TEXTOID));
	}
	if (rt_spi_execute(sql, nargs, types, values, NULL, false, limit) != SPI_OK_SELECT)
		elog(ERROR, "could not read the expired rows left in %s", t->relname);
}

/* Orders row identifiers, for bsearch. */
static int
rt_tid_cmp(const void *a, const void *b)
{
	return ItemPointerCompare((ItemPointer) a, (ItemPointer) b);
}

/* Reads the row identifiers of the first n rows of SPI_tuptable (column 1). */
static ItemPointerData *
rt_probe_tids(int64 n)
{
	ItemPointerData *tids = palloc(sizeof(ItemPointerData) * Max(n, 1));

	for (int64 i = 0; i < n; i++)
	{
		bool		isnull;

		tids[i] = *(ItemPointer) DatumGetPointer(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
	}
	return tids;
}

/*
 * Probes the rows of a target a pass left unexplained; see purge.h.  Rows
 * another session changes while they are given to the statement (an
 * application's UPDATE gives them a new row identifier) are given again,
 * up to RT_PROBE_ROUNDS times; rows still changing after that count as
 * skipped because locked, which is what they were.
 */
void
rt_target_probe(RtTarget *t, int64 cap, RtProbe *out)
{
	List	   *kinds;
	char	   *sql;
	ItemPointerData *tids;
	ItemPointerData *given;
	int64		n;
	int64		ngiven;
	int64		untouched = 0;
	int64		by_us = 0;
	int64		skipped = 0;

	memset(out, 0, sizeof(*out));
	if (t->refused_by != NULL)
		return;
	/* a ctid names a row of one shard only: rows a Citus table keeps are left, counted, not probed */
	if (t->citus != NULL)
	{
		out->too_many = true;
		return;
	}
	sql = rt_unexplained_sql(t, "t.ctid", &kinds);
	rt_run_unexplained(t, sql, kinds, cap + 1);
	n = (int64) SPI_processed;
	if (n > cap)
	{
		out->too_many = true;
		return;
	}
	if (n == 0)
		return;
	tids = rt_probe_tids(n);
	given = palloc(sizeof(ItemPointerData) * n);
	ngiven = 0;

	for (int round = 1;; round++)
	{
		RtBatchResult result;
		List	   *inserts_before;
		ItemPointerData *others;
		int64		nothers = 0;

		/* once more, careful: locked rows stepped around, refusals isolated and named */
		memset(&result, 0, sizeof(result));
		inserts_before = t->watch_copies ? rt_inserts_now() : NIL;
		rt_delete_careful(t, tids, (int) n, t->held_kinds != NIL && rt_load_held_keys(t), &result);
		if (t->watch_copies)
			rt_target_note_copies(t, rt_inserts_between(inserts_before, rt_inserts_now()));
		out->given += n;
		out->deleted += result.deleted;
		out->blocked += result.blocked;
		skipped += result.skipped_locked;
		out->rls_refused += result.rls_refused;
		out->row_errors += result.row_errors;
		if (out->first_row_error == NULL && result.first_row_error != NULL)
		{
			out->first_row_error = result.first_row_error;
			out->first_row_errcode = result.first_row_errcode;
		}
		given = repalloc(given, sizeof(ItemPointerData) * (ngiven + n));
		memcpy(given + ngiven, tids, sizeof(ItemPointerData) * n);
		ngiven += n;
		qsort(given, ngiven, sizeof(ItemPointerData), rt_tid_cmp);

		/* what is still due: written by us (a trigger kept or put it back), given and untouched, or someone else's */
		sql = rt_unexplained_sql(t, "t.ctid, t.xmin", &kinds);
		rt_run_unexplained(t, sql, kinds, 0);
		by_us = 0;
		untouched = 0;
		others = palloc(sizeof(ItemPointerData) * Max(SPI_processed, 1));
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			bool		isnull;
			ItemPointer tid = (ItemPointer) DatumGetPointer(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
			TransactionId xmin = DatumGetTransactionId(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));

			if (TransactionIdIsCurrentTransactionId(xmin))
				by_us++;
			else if (bsearch(tid, given, ngiven, sizeof(ItemPointerData), rt_tid_cmp) != NULL)
				untouched++;
			else
				others[nothers++] = *tid;
		}
		if (nothers == 0 || round == RT_PROBE_ROUNDS)
		{
			out->by_others = nothers;
			break;
		}
		/* changed or arrived meanwhile: given again, as they are now */
		tids = others;
		n = nothers;
	}
	/* a row stepped around in one round and changed before the next was given again: counted once, where it ended */
	out->skipped_locked = Min(skipped, untouched) + out->by_others;
	/* given and untouched: locked, refused, blocked, or suppressed by a trigger or rule that returned NULL */
	out->by_trigger = by_us + Max(untouched - Min(skipped, untouched) - out->rls_refused - out->row_errors - out->blocked, 0);
}
