/*
 * scheduler_idle.c
 *    The worker's idle passes (docs/operations.md#idle-passes): a due test
 *    whose cost does not grow with the expired rows that are kept.
 *
 * A leaf whose expired rows are all kept -- referenced through a foreign
 * key, masked already, under a legal hold -- is not due, and the test that
 * says so reads every one of them: two million rows that orders still
 * reference are two million index probes on every pass.  Whether such a
 * row is due can change only when
 *  - a row of a referencing table is deleted or updated, or the table is
 *    truncated or rewritten (its statistics counters, its relfilenode);
 *  - a row of the leaf itself is inserted or updated (a backfilled
 *    expired row, a masked value changed back), or the leaf is rewritten;
 *  - the question changes: another foreign key, tag, mask, anchor, owner or
 *    set of held subjects (the test's text and parameters), or a function
 *    it may call is replaced (a mask's own function: CREATE OR REPLACE
 *    FUNCTION changes what "masked already" means without changing the
 *    text; any change of pg_proc counts);
 *  - time passes, which moves the cutoff: rows whose anchor passed it since
 *    are new candidates, and where the policy's own rows reference each
 *    other, an expired reply no longer keeps the row it answers.
 * So after a full test found nothing, the worker remembers the cutoff, the
 * question and those counters; on the next pass, when none of them moved,
 * it reads only the rows whose anchor lies between the remembered cutoff
 * and the new one (through the anchor's index, a range scan), and where the
 * table references itself, looks for any such row before trusting the rest.
 * Anything else -- a counter moved, the statistics were reset, track_counts
 * is off, row-level security could hide rows differently, a Citus table
 * (its rows change in shards on other nodes) -- means a full test, as does
 * the age of the last one: statistics reach the shared counters only when
 * a session reports them (at the end of its transaction's statement, and
 * only once it is idle), so every
 * retention.due_recheck_interval the whole test runs again.
 *
 * The memory is the worker's own (a hash table in its TopMemoryContext); a
 * run's check of its own work (run.c) and retention.status count in full.
 */
#include "postgres.h"

#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "citus.h"
#include "quote.h"
#include "safe_spi.h"
#include "scheduler_idle.h"

/* retention.due_recheck_interval: the longest a remembered "nothing due" is trusted, in seconds */
static int	rt_due_recheck_interval_s = 3600;

/* Defines the setting retention.due_recheck_interval (called by _PG_init). */
void
rt_idle_define_gucs(void)
{
	DefineCustomIntVariable("retention.due_recheck_interval",
							"Longest time the worker trusts that a policy whose expired rows are all kept still has nothing to do.",
							"Between full due tests the worker reads only rows that expired since the last pass and watches "
							"the statistics of the table and of the tables whose foreign keys keep its rows; "
							"0 reads every kept row on every pass.",
							&rt_due_recheck_interval_s, 3600, 0, INT_MAX / 1000,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
}

/* What could make a kept row due: one relation's counters as the statistics system has them. */
typedef struct RtWatched
{
	Oid			relid;
	Oid			relfilenode;	/* InvalidOid: the relation is gone */
	int64		inserted;		/* of the leaf itself: a backfilled expired row */
	int64		updated;
	int64		deleted;		/* of a referencing table: a reference gone */
} RtWatched;

/* The key of a remembered test: a leaf of a policy. */
typedef struct RtIdleKey
{
	int64		policy_id;
	Oid			relid;
	Oid			pad;			/* zeroed: the key is hashed as bytes */
} RtIdleKey;

/* What the last full test of a leaf found nothing for. */
typedef struct RtIdleEntry
{
	RtIdleKey	key;
	bool		valid;
	char	   *question;		/* anchor, its type, the filter and its parameters, as text */
	Oid			user;			/* who asked (the table owner) */
	int64		cutoff;			/* no row before it was due (rt_idle_value) */
	TimestampTz checked_at;		/* when the full test ran */
	uint64		functions;		/* rt_idle_functions then */
	bool		self;			/* rows of the policy's own table reference the leaf */
	List	   *referencing;	/* the tables whose foreign keys reference the leaf (roots) */
	int			nwatched;
	RtWatched  *watched;		/* sorted by relid */
} RtIdleEntry;

static HTAB *rt_idle_memo = NULL;
static MemoryContext rt_idle_cxt = NULL;

/* changes of pg_proc this process has heard of (invalidation messages) */
static uint64 rt_idle_functions = 0;

/* Counts a change of a function, which a mask may call (a syscache invalidation callback). */
static void
rt_idle_function_changed(Datum arg, int cacheid, uint32 hashvalue)
{
	(void) arg;
	(void) cacheid;
	(void) hashvalue;
	rt_idle_functions++;
}

/* Returns the remembered test of a leaf of a policy, creating an invalid one. */
static RtIdleEntry *
rt_idle_entry(int64 policy_id, Oid relid)
{
	RtIdleKey	key;
	RtIdleEntry *e;
	bool		found;

	if (rt_idle_memo == NULL)
	{
		HASHCTL		ctl;

		rt_idle_cxt = AllocSetContextCreate(TopMemoryContext, "pg_retention idle passes",
											ALLOCSET_SMALL_SIZES);
		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(RtIdleKey);
		ctl.entrysize = sizeof(RtIdleEntry);
		ctl.hcxt = rt_idle_cxt;
		rt_idle_memo = hash_create("pg_retention idle passes", 64, &ctl,
								   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		CacheRegisterSyscacheCallback(PROCOID, rt_idle_function_changed, (Datum) 0);
	}
	memset(&key, 0, sizeof(key));
	key.policy_id = policy_id;
	key.relid = relid;
	e = hash_search(rt_idle_memo, &key, HASH_ENTER, &found);
	if (!found)
	{
		e->valid = false;
		e->question = NULL;
		e->referencing = NIL;
		e->watched = NULL;
		e->nwatched = 0;
	}
	return e;
}

/* Forgets what an entry remembered. */
static void
rt_idle_forget(RtIdleEntry *e)
{
	e->valid = false;
	if (e->question)
		pfree(e->question);
	if (e->watched)
		pfree(e->watched);
	list_free(e->referencing);
	e->question = NULL;
	e->watched = NULL;
	e->referencing = NIL;
	e->nwatched = 0;
}

/* Returns an anchor value of type type_oid (a date, or a timestamp with or without time zone) as an integer that orders alike. */
static int64
rt_idle_value(Datum v, Oid type_oid)
{
	return type_oid == DATEOID ? (int64) DatumGetDateADT(v) : (int64) DatumGetTimestamp(v);
}

/* Returns an anchor value kept by rt_idle_value as a Datum of type type_oid. */
static Datum
rt_idle_datum(int64 v, Oid type_oid)
{
	return type_oid == DATEOID ? DateADTGetDatum((DateADT) v) : TimestampGetDatum((Timestamp) v);
}

/* Returns the tables that reference relid through a foreign key, each named by the root of its partition tree. */
static List *
rt_idle_referencing(Oid relid)
{
	Oid			types[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(relid)};
	List	   *roots = NIL;

	if (rt_spi_execute("SELECT DISTINCT c.conrelid FROM pg_catalog.pg_constraint c"
					   " WHERE c.contype OPERATOR(pg_catalog.=) 'f' AND c.confrelid OPERATOR(pg_catalog.=) $1",
					   1, types, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the foreign keys that reference relation %u", relid);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Oid			conrelid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));

		/* a key declared on a partition guards its whole tree (fk_guard.c) */
		if (get_rel_relispartition(conrelid))
			conrelid = llast_oid(get_partition_ancestors(conrelid));
		roots = list_append_unique_oid(roots, conrelid);
	}
	return roots;
}

/* Orders RtWatched by relid. */
static int
rt_watched_cmp(const void *a, const void *b)
{
	Oid			x = ((const RtWatched *) a)->relid;
	Oid			y = ((const RtWatched *) b)->relid;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/*
 * Reads the counters that tell whether a kept row of leaf may have become
 * due: the leaf's inserts and updates, the deletes and updates of every
 * leaf of the referencing tables (and of the leaf itself, when it is one of
 * them), each relation's relfilenode.  Returns them sorted by relid in
 * *watched; false when the answer could change unseen (row-level security
 * on one of them: its policies decide what the test sees).
 */
static bool
rt_idle_watch(Oid leaf, List *referencing, RtWatched **watched, int *nwatched)
{
	List	   *referencing_rels = NIL;
	List	   *rels;
	ListCell   *lc;
	int			n = 0;
	RtWatched  *w;

	foreach(lc, referencing)
		referencing_rels = list_concat_unique_oid(referencing_rels,
												  find_all_inheritors(lfirst_oid(lc), NoLock, NULL));
	rels = list_append_unique_oid(list_copy(referencing_rels), leaf);
	w = palloc0(sizeof(RtWatched) * list_length(rels));
	foreach(lc, rels)
	{
		Oid			relid = lfirst_oid(lc);
		HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
		PgStat_StatTabEntry *stats;
		bool		is_leaf = relid == leaf;
		bool		is_referencing = list_member_oid(referencing_rels, relid);

		w[n].relid = relid;
		if (HeapTupleIsValid(tuple))
		{
			Form_pg_class form = (Form_pg_class) GETSTRUCT(tuple);
			bool		rls = form->relrowsecurity;

			w[n].relfilenode = form->relkind == RELKIND_RELATION ? form->relfilenode : InvalidOid;
			ReleaseSysCache(tuple);
			if (rls)
				return false;
		}
		/* a Citus table changes in its shards, on other nodes: no counter here moves */
		if (rt_citus_table(relid, NULL) != RT_CITUS_NONE)
			return false;
		stats = pgstat_fetch_stat_tabentry(relid);
		if (stats != NULL)
		{
			w[n].inserted = is_leaf ? stats->tuples_inserted : 0;
			w[n].updated = stats->tuples_updated;
			w[n].deleted = is_referencing ? stats->tuples_deleted : 0;
		}
		n++;
	}
	qsort(w, n, sizeof(RtWatched), rt_watched_cmp);
	*watched = w;
	*nwatched = n;
	return true;
}

/* Returns true when rows of the policy's own table (any leaf of it) reference the leaf. */
static bool
rt_idle_self(const RtPolicy *policy, List *referencing)
{
	List	   *tree = find_all_inheritors(policy->relid, NoLock, NULL);
	ListCell   *lc;

	foreach(lc, referencing)
	{
		ListCell   *rc;

		foreach(rc, find_all_inheritors(lfirst_oid(lc), NoLock, NULL))
			if (list_member_oid(tree, lfirst_oid(rc)))
				return true;
	}
	return false;
}

/*
 * Runs SELECT 1 FROM rel t WHERE t.anchor < $1 [AND t.anchor >= since]
 * [AND filter] LIMIT 1 and returns whether it found a row; ONLY the leaf
 * with only_leaf, else the table with its partitions.
 */
static bool
rt_idle_query(Oid relid, bool only_leaf, const char *anchor, Oid type_oid, Datum cutoff,
			  const char *filter, int nargs, Datum *args, bool windowed, Datum since)
{
	Oid		   *types = palloc(sizeof(Oid) * (2 + nargs));
	Datum	   *values = palloc(sizeof(Datum) * (2 + nargs));
	const char *a = quote_identifier(anchor);
	StringInfoData sql;

	types[0] = type_oid;
	values[0] = cutoff;
	for (int i = 0; i < nargs; i++)
	{
		types[1 + i] = TEXTARRAYOID;
		values[1 + i] = args[i];
	}
	types[1 + nargs] = type_oid;
	values[1 + nargs] = since;
	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT 1 FROM %s%s t WHERE t.%s OPERATOR(pg_catalog.<) $1",
					 only_leaf ? "ONLY " : "", rt_relation_name(relid), a);
	if (windowed)
		appendStringInfo(&sql, " AND t.%s OPERATOR(pg_catalog.>=) $%d", a, 2 + nargs);
	if (filter)
		appendStringInfo(&sql, " AND %s", filter);
	appendStringInfoString(&sql, " LIMIT 1");
	if (rt_spi_execute(sql.data, windowed ? 2 + nargs : 1 + nargs, types, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look for expired rows of %s", rt_relation_name(relid));
	return SPI_processed > 0;
}

/* Returns the question a due test asks of a leaf, as text: equal texts, equal questions. */
static char *
rt_idle_question(const RtPolicy *policy, Oid type_oid, const char *filter, int nargs, Datum *args)
{
	StringInfoData q;

	initStringInfo(&q);
	appendStringInfo(&q, "%s|%u|%s", policy->anchor, type_oid, filter ? filter : "");
	for (int i = 0; i < nargs; i++)
		appendStringInfo(&q, "|%s", OidOutputFunctionCall(F_ARRAY_OUT, args[i]));
	return q.data;
}

/* Returns whether a leaf of a policy has a row a run would act on; see scheduler_idle.h. */
bool
rt_idle_leaf_due(const RtPolicy *policy, Oid relid, Oid type_oid, Datum cutoff,
				 const char *filter, int nargs, Datum *args)
{
	RtIdleEntry *e;
	char	   *question;
	List	   *referencing;
	RtWatched  *watched;
	int			nwatched;
	bool		watchable;
	bool		due;
	bool		self;
	TimestampTz now = GetCurrentTimestamp();
	uint64		functions;
	MemoryContext old;

	/* without counters nothing tells what changed: the whole test, every pass */
	if (!pgstat_track_counts || rt_due_recheck_interval_s == 0)
		return rt_idle_query(relid, true, policy->anchor, type_oid, cutoff, filter, nargs, args,
							 false, (Datum) 0);

	e = rt_idle_entry(policy->policy_id, relid);
	question = rt_idle_question(policy, type_oid, filter, nargs, args);
	if (e->valid && strcmp(e->question, question) == 0 && e->user == GetUserId() &&
		e->functions == rt_idle_functions &&
		!TimestampDifferenceExceeds(e->checked_at, now, rt_due_recheck_interval_s * 1000) &&
		rt_idle_watch(relid, e->referencing, &watched, &nwatched) &&
		nwatched == e->nwatched && memcmp(watched, e->watched, sizeof(RtWatched) * nwatched) == 0)
	{
		/* nothing changed but time: the rows that expired since the last pass */
		Datum		since = rt_idle_datum(e->cutoff, type_oid);

		if (rt_idle_value(cutoff, type_oid) <= e->cutoff)
			return false;
		/* an own row that expired since may have released the rows it referenced */
		if (!e->self || !rt_idle_query(policy->relid, false, policy->anchor, type_oid, cutoff,
									   NULL, 0, NULL, true, since))
		{
			due = rt_idle_query(relid, true, policy->anchor, type_oid, cutoff, filter, nargs, args,
								true, since);
			if (due)
				rt_idle_forget(e);
			else
				e->cutoff = rt_idle_value(cutoff, type_oid);
			return due;
		}
	}

	/* the whole test; the counters are read first, so that a change after them shows next time */
	rt_idle_forget(e);
	functions = rt_idle_functions;
	referencing = rt_idle_referencing(relid);
	watchable = rt_idle_watch(relid, referencing, &watched, &nwatched);
	due = rt_idle_query(relid, true, policy->anchor, type_oid, cutoff, filter, nargs, args,
						false, (Datum) 0);
	if (due || !watchable)
		return due;
	self = rt_idle_self(policy, referencing);
	old = MemoryContextSwitchTo(rt_idle_cxt);
	e->question = pstrdup(question);
	e->user = GetUserId();
	e->cutoff = rt_idle_value(cutoff, type_oid);
	e->checked_at = now;
	e->functions = functions;
	e->referencing = list_copy(referencing);
	e->self = self;
	e->nwatched = nwatched;
	e->watched = palloc(sizeof(RtWatched) * Max(nwatched, 1));
	memcpy(e->watched, watched, sizeof(RtWatched) * nwatched);
	e->valid = true;
	MemoryContextSwitchTo(old);
	return false;
}
