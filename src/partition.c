/*
 * partition.c
 *    The partition strategy of delete policies: a partition that lies wholly
 *    before the cutoff is detached and dropped (or kept detached) instead of
 *    having its rows deleted batch by batch.
 *
 * Which partitions qualify.  A leaf partition qualifies when
 *  - some level of partitioning above it is RANGE on the policy's anchor
 *    column (the first key column, with the type's default btree ordering),
 *    and the bound that level gives it ends at or before the cutoff: the
 *    bounds are read from pg_class.relpartbound, never guessed from names
 *    or intervals, and the tightest bound of all levels counts, so
 *    multi-level partitioning works and a DEFAULT partition of the range
 *    level (which has no upper bound) never qualifies: its rows go by
 *    batches;
 *  - it holds no row whose anchor is NULL or not before the cutoff (read
 *    from the data: a bound is a promise of the catalog, this is a check);
 *  - no legal hold covers it or a data subject with rows in it;
 *  - no other table references it through a foreign key while it holds
 *    rows (an empty partition can go: no row can reference it), and, to
 *    be dropped, nothing else depends on it (a view, say): DROP ... CASCADE
 *    is never used;
 *  - the owner of the policy's table owns it and its parent.
 * A partition that lies wholly before the cutoff but fails another test
 * goes by batches, and the run's notes say why.
 *
 * How it is removed.  Where the run may commit on its own (the worker, or
 * CALL outside a transaction block) and PostgreSQL allows it (14 or later,
 * no DEFAULT partition beside it), with ALTER TABLE ... DETACH PARTITION
 * ... CONCURRENTLY, which never locks the partitioned table against
 * queries; it waits for the queries that started before it, at most
 * retention.max_run_time (a longer wait leaves the partition "detach
 * pending", finished by a later run).  Otherwise
 * (CALL in a transaction block, a DEFAULT partition beside it) with a
 * plain DETACH, which takes an ACCESS EXCLUSIVE lock on the partitioned
 * table for the rest of the transaction, waiting at most
 * retention.lock_timeout for it.  The detached table is then checked
 * again under an ACCESS EXCLUSIVE lock, its rows counted, and dropped
 * (RESTRICT) or moved to the policy's detach_schema, with an audit entry,
 * in one transaction with the run record.  If that last step fails after
 * a concurrent detach, the partition is attached back (its detach left a
 * CHECK constraint that spares the attach a scan) and its rows go by
 * batches.  A concurrent detach interrupted in its second transaction
 * leaves the partition "detach pending"; the next run finishes it
 * (DETACH ... FINALIZE) if it still qualifies.
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_opclass.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/partcache.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "audit.h"
#include "cache.h"
#include "cdc.h"
#include "citus.h"
#include "compat.h"
#include "cutoff.h"
#include "guc.h"
#include "heap_count.h"
#include "hold.h"
#include "partition.h"
#include "policy.h"
#include "privilege.h"
#include "publication.h"
#include "quote.h"
#include "run_options.h"
#include "runlog.h"
#include "safe_spi.h"
#include "subxact.h"

/* Values of retention.partition_row_count. */
typedef enum RtRowCount
{
	RT_ROW_COUNT_EXACT,			/* the rows of the detached partition, counted */
	RT_ROW_COUNT_ESTIMATE,		/* pg_class.reltuples, when the partition has been analyzed */
	RT_ROW_COUNT_AUTO			/* counted up to RT_ROW_COUNT_EXACT_PAGES, estimated beyond */
} RtRowCount;

static const struct config_enum_entry rt_row_count_options[] = {
	{"exact", RT_ROW_COUNT_EXACT, false},
	{"estimate", RT_ROW_COUNT_ESTIMATE, false},
	{"auto", RT_ROW_COUNT_AUTO, false},
	{NULL, 0, false}
};

/*
 * The largest partition (in 8 kB pages: 8 MB) whose rows auto counts: a
 * millisecond when its pages are in memory.  A larger one is estimated when
 * it has been vacuumed or analyzed: counting it would read it whole, for
 * cold data from disk, only to know how much is dropped.
 */
#define RT_ROW_COUNT_EXACT_PAGES 1000

/* retention.partition_row_count: count the rows of a partition removed whole, or estimate them */
static int	rt_partition_row_count = RT_ROW_COUNT_AUTO;

/* Defines the setting retention.partition_row_count (called by _PG_init). */
void
rt_partition_define_gucs(void)
{
	DefineCustomEnumVariable("retention.partition_row_count",
							 "How the rows of a partition removed whole are counted for the run record and the audit trail.",
							 "exact counts them (a read of every page of the partition); estimate takes pg_class.reltuples "
							 "when the partition has been vacuumed or analyzed, and counts otherwise; auto counts "
							 "partitions of up to 1000 pages and estimates larger ones.",
							 &rt_partition_row_count, RT_ROW_COUNT_AUTO, rt_row_count_options,
							 PGC_USERSET, 0, NULL, NULL, NULL);
}

/* A leaf partition that lies wholly before the cutoff. */
typedef struct RtPartCandidate
{
	Oid			relid;
	Oid			parent;			/* the partitioned table it is a partition of */
	char	   *name;			/* quoted, qualified */
	char	   *parent_name;
	char	   *relname;		/* unquoted, for the detach schema */
	char	   *bound;			/* FOR VALUES ..., as pg_get_expr prints it */
	bool		detach_pending; /* a concurrent detach of it was interrupted */
	bool		concurrent;		/* may be detached CONCURRENTLY */
	bool		truncate_first; /* published: emptied by TRUNCATE, which subscribers receive, before the detach */
	int64		truncated;		/* rows it held when it was truncated; -1 until then */
	bool		truncated_estimated;	/* that count is pg_class.reltuples */
} RtPartCandidate;

/* State of the partition step of one run. */
typedef struct RtPartRun
{
	const RtPolicy *policy;
	const RtRunOptions *options;
	int64		run_id;
	MemoryContext cxt;			/* the run's: survives transaction ends */
	MemoryContext error_cxt;
	RtAnchorType anchor_type;
	Datum		cutoff;			/* anchor < cutoff is expired */
	TimestampTz cutoff_tz;		/* the same cutoff, as the run computed it */
	List	   *candidates;		/* RtPartCandidate * */
	RtPartCandidate *current;
	RtRunStats	stats;			/* the run's counters with the current partition removed */
	bool		detached;		/* current was detached in an earlier transaction */
	bool		held;			/* a legal hold covers current (rt_step_prepare_concurrent) */
	ErrorData  *detach_error;	/* what the concurrent detach ran into */
} RtPartRun;

static char *rt_foreign_key_into(Oid leaf, bool own_only);

/* Compares two anchor values of one type. */
static int
rt_anchor_cmp(Datum a, Datum b, RtAnchorType anchor_type)
{
	if (anchor_type == RT_ANCHOR_DATE)
	{
		DateADT		x = DatumGetDateADT(a);
		DateADT		y = DatumGetDateADT(b);

		return x < y ? -1 : (x > y ? 1 : 0);
	}
	else
	{
		Timestamp	x = DatumGetTimestamp(a);
		Timestamp	y = DatumGetTimestamp(b);

		return x < y ? -1 : (x > y ? 1 : 0);
	}
}

/* Returns the partition bound of a partition as stored in pg_class. */
static PartitionBoundSpec *
rt_partition_bound(Oid relid)
{
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	PartitionBoundSpec *spec = NULL;
	bool		isnull;
	Datum		d;

	if (!HeapTupleIsValid(tuple))
		return NULL;
	d = SysCacheGetAttr(RELOID, tuple, Anum_pg_class_relpartbound, &isnull);
	if (!isnull)
		spec = castNode(PartitionBoundSpec, stringToNode(TextDatumGetCString(d)));
	ReleaseSysCache(tuple);
	return spec;
}

/*
 * Returns the partition bound of child within parent when parent is
 * partitioned by RANGE with the anchor as its first column (in the default
 * B-tree operator family, the order rt_anchor_cmp compares in); NULL when
 * this level does not bound the anchor, or child is its DEFAULT partition.
 */
static PartitionBoundSpec *
rt_anchor_level_bound(Oid child, Oid parent, const char *anchor)
{
	Relation	prel = relation_open(parent, AccessShareLock);
	PartitionKey key = RelationGetPartitionKey(prel);
	PartitionBoundSpec *spec = NULL;

	if (key != NULL && key->strategy == PARTITION_STRATEGY_RANGE && key->partattrs[0] != 0 &&
		strcmp(get_attname(parent, key->partattrs[0], false), anchor) == 0 &&
		key->partopfamily[0] ==
		get_opclass_family(GetDefaultOpClass(key->parttypid[0], BTREE_AM_OID)))
		spec = rt_partition_bound(child);
	relation_close(prel, AccessShareLock);
	return spec != NULL && !spec->is_default ? spec : NULL;
}

/*
 * Finds the upper bound that the RANGE levels of partitioning on the
 * anchor give a leaf: every row of it has anchor < *upper (*strict) or
 * anchor <= *upper.  Returns false when no level bounds the anchor.
 */
static bool
rt_anchor_upper_bound(Oid leaf, const char *anchor, RtAnchorType anchor_type,
					  Datum *upper, bool *strict)
{
	Oid			child = leaf;
	bool		found = false;

	while (get_rel_relispartition(child))
	{
		Oid			parent = rt_partition_parent(child);
		PartitionBoundSpec *spec = rt_anchor_level_bound(child, parent, anchor);

		if (spec != NULL && spec->upperdatums != NIL)
		{
			PartitionRangeDatum *first = linitial_node(PartitionRangeDatum, spec->upperdatums);

			if (first->kind == PARTITION_RANGE_DATUM_VALUE)
			{
				Const	   *c = castNode(Const, first->value);
				bool		s = true;
				ListCell   *lc;

				/* (x, v2, ...) admits anchor = x unless every later column is MINVALUE */
				for_each_from(lc, spec->upperdatums, 1)
					if (lfirst_node(PartitionRangeDatum, lc)->kind != PARTITION_RANGE_DATUM_MINVALUE)
						s = false;
				if (!c->constisnull &&
					(!found || rt_anchor_cmp(c->constvalue, *upper, anchor_type) < 0 ||
					 (rt_anchor_cmp(c->constvalue, *upper, anchor_type) == 0 && s)))
				{
					*upper = c->constvalue;
					*strict = s;
					found = true;
				}
			}
		}
		child = parent;
	}
	return found;
}

/*
 * Finds the lower bound that the RANGE levels of partitioning on the
 * anchor give a leaf: every row of it has anchor >= *lower (and none a
 * NULL anchor).  Returns false when no level bounds the anchor from below.
 */
static bool
rt_anchor_lower_bound(Oid leaf, const char *anchor, RtAnchorType anchor_type, Datum *lower)
{
	Oid			child = leaf;
	bool		found = false;

	while (get_rel_relispartition(child))
	{
		Oid			parent = rt_partition_parent(child);
		PartitionBoundSpec *spec = rt_anchor_level_bound(child, parent, anchor);

		if (spec != NULL && spec->lowerdatums != NIL)
		{
			PartitionRangeDatum *first = linitial_node(PartitionRangeDatum, spec->lowerdatums);

			/* (x, v2, ...) admits no anchor below x, whatever the later columns */
			if (first->kind == PARTITION_RANGE_DATUM_VALUE)
			{
				Const	   *c = castNode(Const, first->value);

				if (!c->constisnull &&
					(!found || rt_anchor_cmp(c->constvalue, *lower, anchor_type) > 0))
				{
					*lower = c->constvalue;
					found = true;
				}
			}
		}
		child = parent;
	}
	return found;
}

/* Returns true when a leaf's catalog bounds put all its rows at or after the cutoff; see partition.h. */
bool
rt_partition_after_cutoff(Oid leaf, const char *anchor, RtAnchorType anchor_type, Datum cutoff)
{
	Datum		lower = (Datum) 0;

	if (!get_rel_relispartition(leaf) || !rt_anchor_lower_bound(leaf, anchor, anchor_type, &lower))
		return false;
	return rt_anchor_cmp(lower, cutoff, anchor_type) >= 0;
}

/* Returns true when the catalog bounds of a leaf lie wholly before the cutoff. */
static bool
rt_wholly_expired(RtPartRun *r, Oid leaf)
{
	Datum		upper = (Datum) 0;
	bool		strict = true;
	int			c;

	if (!rt_anchor_upper_bound(leaf, r->policy->anchor, r->anchor_type, &upper, &strict))
		return false;
	c = rt_anchor_cmp(upper, r->cutoff, r->anchor_type);
	return strict ? c <= 0 : c < 0;
}

/* Runs a query of one boolean column and returns its value. */
static bool
rt_query_bool(const char *sql, int nargs, Oid *types, Datum *values)
{
	bool		isnull;

	if (rt_spi_execute(sql, nargs, types, values, NULL, true, 0) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not run: %s", sql);
	return DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)) && !isnull;
}

/*
 * Returns why a leaf whose bounds lie before the cutoff must go by rows
 * after all, reading its data: rows with a NULL or later anchor, rows of
 * held data subjects.  NULL when there is no reason.
 */
static char *
rt_data_obstacle(RtPartRun *r, Oid leaf, const char *name)
{
	char	   *anchor = pstrdup(quote_identifier(r->policy->anchor));
	Oid			types[1] = {rt_anchor_type_oid(r->anchor_type)};
	Datum		values[1] = {r->cutoff};
	List	   *kinds;
	char	   *held;

	if (rt_query_bool(psprintf("SELECT EXISTS (SELECT 1 FROM ONLY %s t WHERE t.%s IS NULL"
							   " OR t.%s OPERATOR(pg_catalog.>=) $1)", name, anchor, anchor),
					  1, types, values))
		return pstrdup("it holds rows whose anchor is NULL or not before the cutoff");

	held = rt_held_predicate(leaf, "t", 1, &kinds);
	if (held != NULL)
	{
		int			n = list_length(kinds);
		Oid		   *ktypes = palloc(sizeof(Oid) * n);
		Datum	   *kvalues = palloc(sizeof(Datum) * n);
		bool		any = false;
		int			i = 0;
		ListCell   *lc;

		foreach(lc, kinds)
		{
			Datum		keys = rt_held_keys(lfirst(lc));

			any |= keys != (Datum) 0;
			ktypes[i] = TEXTARRAYOID;
			kvalues[i++] = keys != (Datum) 0 ? keys :
				PointerGetDatum(construct_empty_array(TEXTOID));
		}
		if (any && rt_query_bool(psprintf("SELECT EXISTS (SELECT 1 FROM ONLY %s t WHERE %s)", name, held),
								 n, ktypes, kvalues))
			return pstrdup("it holds rows of data subjects under a legal hold");
	}
	return NULL;
}

/*
 * Returns why a leaf whose bounds lie before the cutoff cannot be removed
 * whole, from the catalog and the data; NULL when it can.  *held is set
 * for a table under a legal hold, which the batches report themselves.
 */
static char *
rt_obstacle(RtPartRun *r, Oid leaf, Oid parent, const char *name, bool *held)
{
	Oid			types[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(leaf)};

	*held = false;
	rt_holds_lock_shared();
	if (rt_table_on_hold(leaf))
	{
		*held = true;
		return pstrdup("a legal hold covers it");
	}
	if (!rt_has_owner_rights(leaf, GetUserId()) || !rt_has_owner_rights(parent, GetUserId()))
		return psprintf("the owner of %s does not own it and its partitioned table",
						rt_relation_name(r->policy->relid));

	/*
	 * A foreign key declared on the partition itself cannot survive a DROP
	 * RESTRICT.  One inherited from a foreign key on the partitioned table
	 * is DETACH's business: it refuses while rows of the partition are
	 * still referenced, and the partition then goes by rows.
	 */
	if (r->policy->partition_action == RT_PARTITION_DROP)
	{
		char	   *fk = rt_foreign_key_into(leaf, true);

		if (fk != NULL)
			return psprintf("%s references it", fk);
	}

	/* what DROP ... RESTRICT would refuse to drop it for (no CASCADE, ever) */
	if (r->policy->partition_action == RT_PARTITION_DROP)
	{
		if (rt_spi_execute_kept("SELECT pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid)"
						   " FROM pg_catalog.pg_depend d"
						   " WHERE d.deptype OPERATOR(pg_catalog.=) 'n'"
						   " AND ((d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
						   "       AND d.refobjid OPERATOR(pg_catalog.=) $1)"
						   "   OR (d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_type'::pg_catalog.regclass"
						   "       AND d.refobjid OPERATOR(pg_catalog.=) (SELECT c.reltype FROM pg_catalog.pg_class c"
						   "                          WHERE c.oid OPERATOR(pg_catalog.=) $1)))"
						   " AND NOT (d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
						   "          AND d.objid OPERATOR(pg_catalog.=) $1)"
						   /* its own constraints, indexes, triggers ... go with it */
						   " AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend o"
						   "  WHERE o.classid OPERATOR(pg_catalog.=) d.classid AND o.objid OPERATOR(pg_catalog.=) d.objid"
						   "    AND o.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
						   "    AND o.refobjid OPERATOR(pg_catalog.=) $1"
						   "    AND o.deptype OPERATOR(pg_catalog.=) ANY ('{a,i}'::pg_catalog.\"char\"[]))"
						   " AND NOT (d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_constraint'::pg_catalog.regclass"
						   "          AND EXISTS (SELECT 1 FROM pg_catalog.pg_constraint c"
						   "                       WHERE c.oid OPERATOR(pg_catalog.=) d.objid"
						   "                         AND c.contype OPERATOR(pg_catalog.=) 'f'))"
						   " UNION ALL"
						   " SELECT 'extension ' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(e.extname)"
						   " FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_extension e"
						   "   ON e.oid OPERATOR(pg_catalog.=) d.refobjid"
						   " WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
						   " AND d.objid OPERATOR(pg_catalog.=) $1 AND d.deptype OPERATOR(pg_catalog.=) 'e'"
						   " LIMIT 1",
						   1, types, values, NULL, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not read the dependencies of %s", name);
		if (SPI_processed > 0)
			return psprintf("%s depends on it", SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
	}
	else if (r->policy->partition_action == RT_PARTITION_DETACH && r->policy->detach_schema != NULL)
	{
		Oid			nsp = get_namespace_oid(r->policy->detach_schema, true);

		if (!OidIsValid(nsp))
			return psprintf("schema %s, where the policy keeps detached partitions, does not exist",
							quote_identifier(r->policy->detach_schema));
		if (nsp != get_rel_namespace(leaf) &&
			OidIsValid(get_relname_relid(get_rel_name(leaf), nsp)))
			return psprintf("schema %s already holds a relation named %s",
							quote_identifier(r->policy->detach_schema),
							quote_identifier(get_rel_name(leaf)));
	}
	return rt_data_obstacle(r, leaf, name);
}

/*
 * Returns why a partition of a published table must go by rows after all,
 * or NULL; sets *truncate_first when it is to be emptied by TRUNCATE
 * before its detach (docs/operations.md#logical-replication-and-cdc).
 * Logical replication sends no DDL: a partition detached and dropped keeps
 * its rows on every subscriber.  It sends a TRUNCATE of the partition to
 * the subscribers of a publication that publishes truncates and publishes
 * the partition as itself, and DELETEs to those of one that publishes
 * deletes, also through the partitioned table (publish_via_partition_root,
 * which sends no TRUNCATE of a partition at all).  A publication that
 * publishes neither removes nothing on its subscribers, whatever the run
 * does.  A policy that keeps detached partitions cannot keep their rows
 * from the subscribers: the run fails before it changes anything.
 */
static char *
rt_replication_obstacle(RtPartRun *r, Oid leaf, const char *name, bool *truncate_first)
{
	RtPublisher *removing = NULL;
	RtPublisher *by_rows = NULL;
	ListCell   *lc;

	*truncate_first = false;
	foreach(lc, rt_publishers(leaf))
	{
		RtPublisher *p = lfirst(lc);

		/* through its root, only deletes reach a subscriber; as itself, deletes or a truncate */
		if (!p->deletes && (p->via_root || !p->truncates))
		{
			char	   *note = psprintf("publication %s sends no removal of partition %s (it publishes %s): its subscribers keep the rows this run removes there",
										p->name, name, p->via_root ? "no deletes, through its partitioned table" : "neither deletes nor truncates");

			rt_runlog_note(r->run_id, note);
			if (strcmp(r->options->trigger, "manual") == 0)
				ereport(NOTICE, (errmsg("%s", note)));
			continue;
		}
		if (removing == NULL)
			removing = p;
		if (by_rows == NULL && (p->via_root || !p->truncates))
			by_rows = p;
	}
	if (removing == NULL)
		return NULL;
	if (r->policy->partition_action == RT_PARTITION_DETACH)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("retention policy " INT64_FORMAT " on %s keeps the partitions it removes detached, but publication %s publishes partition %s",
						r->policy->policy_id, rt_relation_name(r->policy->relid), removing->name, name),
				 errdetail("Logical replication sends no DETACH: the subscribers of the publication would keep the rows of the partition for ever. Nothing was removed."),
				 errhint("Let the policy drop such partitions, retention.alter_policy(" INT64_FORMAT ", partition_action => 'drop'), which empties a published partition with TRUNCATE or deletes its rows first; or take the table out of the publication.",
						 r->policy->policy_id)));
	if (by_rows == NULL)
	{
		*truncate_first = true;
		return NULL;
	}
	if (by_rows->via_root)
		return psprintf("publication %s publishes it through its partitioned table (publish_via_partition_root), which sends no TRUNCATE of a partition and no DROP; deleted rows reach its subscribers",
						by_rows->name);
	return psprintf("publication %s publishes its deletes but not its truncates, and sends no DROP; deleted rows reach its subscribers",
					by_rows->name);
}

/*
 * Describes a foreign key that references a partition ("foreign key F of
 * table T"), naming the key as declared (on the partitioned table, for one
 * that PostgreSQL copied to each partition); only keys declared on the
 * partition itself with own_only.  Returns NULL when there is none.
 */
static char *
rt_foreign_key_into(Oid leaf, bool own_only)
{
	Oid			types[2] = {OIDOID, BOOLOID};
	Datum		values[2] = {ObjectIdGetDatum(leaf), BoolGetDatum(own_only)};
	bool		isnull;

	/* found through pg_depend, which is indexed on the referenced table (pg_constraint is not) */
	if (rt_spi_execute_kept("WITH RECURSIVE up AS ("
					   " SELECT c.oid, c.conname, c.conrelid, c.conparentid FROM pg_catalog.pg_depend d"
					   "   JOIN pg_catalog.pg_constraint c ON c.oid OPERATOR(pg_catalog.=) d.objid"
					   "  WHERE d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
					   "    AND d.refobjid OPERATOR(pg_catalog.=) $1"
					   "    AND d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_constraint'::pg_catalog.regclass"
					   "    AND c.contype OPERATOR(pg_catalog.=) 'f' AND c.confrelid OPERATOR(pg_catalog.=) $1"
					   "    AND c.conrelid OPERATOR(pg_catalog.<>) $1"
					   "    AND (NOT $2 OR c.conparentid OPERATOR(pg_catalog.=) 0)"
					   " UNION ALL"
					   " SELECT p.oid, p.conname, p.conrelid, p.conparentid FROM pg_catalog.pg_constraint p"
					   "   JOIN up ON p.oid OPERATOR(pg_catalog.=) up.conparentid)"
					   " SELECT up.conname, up.conrelid FROM up"
					   "  WHERE up.conparentid OPERATOR(pg_catalog.=) 0 ORDER BY up.oid LIMIT 1",
					   2, types, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the foreign keys that reference relation %u", leaf);
	if (SPI_processed == 0)
		return NULL;
	return psprintf("foreign key %s of table %s",
					quote_identifier(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1)),
					rt_relation_name(DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
																	SPI_tuptable->tupdesc, 2, &isnull))));
}

/* Records in the run's notes (and tells a manual caller) that a partition went by rows, and why. */
static void
rt_note_rows(RtPartRun *r, const char *name, const char *why)
{
	char	   *note = psprintf("partition %s lies wholly before the cutoff but went by rows: %s",
								name, why);

	rt_runlog_note(r->run_id, note);
	if (strcmp(r->options->trigger, "manual") == 0)
		ereport(NOTICE, (errmsg("%s", note)));
}

/*
 * Returns what to note when removing the current partition failed with
 * edata: for a foreign key violation (DETACH found referenced rows), the
 * key, without the DETAIL that quotes them; else the error's message.
 */
static char *
rt_why(RtPartRun *r, const ErrorData *edata)
{
	if (edata->sqlerrcode == ERRCODE_FOREIGN_KEY_VIOLATION)
	{
		char	   *fk = rt_foreign_key_into(r->current->relid, false);

		if (fk != NULL)
			return psprintf("rows of it are still referenced through %s", fk);
	}
	return edata->message;
}

/* Runs one step on a partition in an internal subtransaction; returns its error or NULL. */
static ErrorData *
rt_part_protected(void (*fn) (void *), RtPartRun *r)
{
	return rt_in_subtransaction(fn, r, r->error_cxt);
}

/* Returns true for errors that stop a run rather than one partition. */
static bool
rt_part_is_interrupt(const ErrorData *edata)
{
	return edata->sqlerrcode == ERRCODE_QUERY_CANCELED ||
		edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN;
}

/* Runs a utility statement through SPI, raising an error if it fails. */
static void
rt_part_utility_spi(const char *sql)
{
	if (rt_spi_execute(sql, 0, NULL, NULL, NULL, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not run: %s", sql);
}

/*
 * Step: finds the leaf partitions of the policy's table that lie wholly
 * before the cutoff and can be removed whole, noting those that cannot.
 */
static void
rt_step_find(void *arg)
{
	RtPartRun *r = (RtPartRun *) arg;
	RtSavedUser saved;
	int			nest = rt_safe_settings_begin(RT_SAFE_LOCK_TIMEOUT | RT_SAFE_ISO_DATES);
	Oid			types[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(r->policy->relid)};
	SPITupleTable *tuptable;
	uint64		n;

	rt_become_table_owner(r->policy->relid, &saved);
	/* the leaves, detach-pending ones too (find_all_inheritors omits those) */
	if (rt_spi_execute_kept("WITH RECURSIVE tree(relid) AS ("
					   " SELECT $1 UNION ALL"
					   " SELECT i.inhrelid FROM pg_catalog.pg_inherits i JOIN tree"
					   "   ON i.inhparent OPERATOR(pg_catalog.=) tree.relid)"
					   " SELECT i.inhrelid, i.inhparent, " RT_SQL_INHDETACHPENDING("i") ","
					   " pg_catalog.pg_get_expr(c.relpartbound, c.oid)"
					   " FROM pg_catalog.pg_inherits i JOIN tree ON i.inhrelid OPERATOR(pg_catalog.=) tree.relid"
					   " JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) i.inhrelid"
					   " WHERE c.relkind OPERATOR(pg_catalog.=) 'r' AND c.relispartition"
					   " ORDER BY pg_catalog.pg_get_expr(c.relpartbound, c.oid), i.inhrelid",
					   1, types, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not list the partitions of %s", rt_relation_name(r->policy->relid));
	tuptable = SPI_tuptable;
	n = SPI_processed;
	for (uint64 i = 0; i < n; i++)
	{
		HeapTuple	tuple = tuptable->vals[i];
		bool		isnull;
		Oid			leaf = DatumGetObjectId(SPI_getbinval(tuple, tuptable->tupdesc, 1, &isnull));
		Oid			parent = DatumGetObjectId(SPI_getbinval(tuple, tuptable->tupdesc, 2, &isnull));
		bool		pending = DatumGetBool(SPI_getbinval(tuple, tuptable->tupdesc, 3, &isnull));
		char	   *bound = SPI_getvalue(tuple, tuptable->tupdesc, 4);
		char	   *name;
		char	   *why;
		bool		held;
		bool		truncate_first = false;
		bool		concurrent = false;
		MemoryContext old;
		RtPartCandidate *c;

		if (!rt_wholly_expired(r, leaf))
			continue;
		name = rt_relation_name(leaf);
#if RT_HAS_DETACH_CONCURRENTLY
		/* Citus refuses DETACH ... CONCURRENTLY on a distributed table (docs/operations.md#citus) */
		concurrent = r->options->at_top_level != NULL && !pending &&
			!OidIsValid(get_default_partition_oid(parent)) &&
			rt_citus_table(parent, NULL) == RT_CITUS_NONE;
#endif
		/* a concurrent detach looks at it under its own locks first (rt_step_prepare_concurrent) */
		held = false;
		why = concurrent ? NULL : rt_obstacle(r, leaf, parent, name, &held);
		if (why == NULL)
			why = rt_replication_obstacle(r, leaf, name, &truncate_first);
		if (why != NULL)
		{
			if (!held)
				rt_note_rows(r, name, why);
			continue;
		}
		old = MemoryContextSwitchTo(r->cxt);
		c = palloc0(sizeof(RtPartCandidate));
		c->relid = leaf;
		c->parent = parent;
		c->name = pstrdup(name);
		c->parent_name = rt_relation_name(parent);
		c->relname = get_rel_name(leaf);
		c->bound = pstrdup(bound ? bound : "");
		c->detach_pending = pending;
		c->truncate_first = truncate_first;
		c->truncated = -1;
		c->concurrent = concurrent;
		r->candidates = lappend(r->candidates, c);
		MemoryContextSwitchTo(old);
	}
	rt_restore_user(&saved);
	rt_safe_settings_end(nest);
}

/*
 * Returns the rows of a detached partition, counted, or estimated from
 * pg_class.reltuples (*estimated set) when retention.partition_row_count
 * says so (estimate; auto, for a partition of more than
 * RT_ROW_COUNT_EXACT_PAGES) and the partition has been vacuumed or
 * analyzed.  The exact count is taken from the partition's pages
 * (heap_count.c: a line pointer a row on an all-visible page, no
 * executor), which still reads the whole partition: for cold data, from
 * disk, only to know how much is dropped.
 */
static int64
rt_partition_rows(RtPartCandidate *c, bool *estimated)
{
	Relation	rel = relation_open(c->relid, NoLock);
	BlockNumber pages = RelationGetNumberOfBlocks(rel);
	int64		rows = -1;
	bool		isnull;
	/* a Citus table's rows are in its shards: its local heap and statistics are empty, count(*) reaches them */
	bool		citus = rt_citus_table(c->relid, NULL) != RT_CITUS_NONE;

	*estimated = false;
	if (!citus && (rt_partition_row_count == RT_ROW_COUNT_ESTIMATE ||
				   (rt_partition_row_count == RT_ROW_COUNT_AUTO && pages > RT_ROW_COUNT_EXACT_PAGES)))
	{
		float4		reltuples = rel->rd_rel->reltuples;

#if !RT_HAS_RELTUPLES_UNKNOWN
		/* before 14, 0 also meant "never vacuumed or analyzed" */
		if (reltuples == 0)
			reltuples = -1;
#endif
		if (reltuples >= 0)
		{
			*estimated = true;
			rows = (int64) reltuples;
		}
	}
	if (rows < 0 && !citus)
	{
		/* counted from its pages: the caller holds an ACCESS EXCLUSIVE lock, so a snapshot taken now sees it all */
		Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());

		rows = rt_heap_count_visible(rel, snapshot);
		UnregisterSnapshot(snapshot);
	}
	relation_close(rel, NoLock);
	if (rows >= 0)
		return rows;
	if (rt_spi_execute(psprintf("SELECT pg_catalog.count(*) FROM ONLY %s", c->name),
					   0, NULL, NULL, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not count the rows of %s", c->name);
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/* Returns true when the current partition holds a row (read, not estimated). */
static bool
rt_holds_rows(RtPartCandidate *c)
{
	return rt_query_bool(psprintf("SELECT EXISTS (SELECT 1 FROM ONLY %s)", c->name), 0, NULL, NULL);
}

/*
 * Writes the logical decoding message of the current partition's removal
 * (docs/reference.md#logical-decoding-messages) in the current transaction.
 */
static void
rt_partition_cdc(RtPartRun *r, const char *action, int64 rows, bool estimated)
{
	RtCdcPurge	m;

	memset(&m, 0, sizeof(m));
	m.action = action;
	m.policy_id = r->policy->policy_id;
	m.run_id = r->run_id;
	m.table = rt_relation_name(r->policy->relid);
	m.relation = r->current->name;
	m.cutoff = r->cutoff_tz;
	m.rows = rows;
	m.rows_estimated = estimated;
	rt_cdc_purge(&m);
}

/*
 * Empties the current partition, still attached, with TRUNCATE, which
 * logical replication sends to the subscribers of its publications (a
 * DETACH and a DROP it does not send); counts its rows first, adds them to
 * the run's, and writes the message.  Checks again, under the TRUNCATE's
 * ACCESS EXCLUSIVE lock, that everything in it has expired.  Runs as the
 * table owner.
 */
static void
rt_truncate_current(RtPartRun *r)
{
	RtPartCandidate *c = r->current;
	char	   *why;

	LockRelationOid(c->relid, AccessExclusiveLock);
	why = rt_data_obstacle(r, c->relid, c->name);
	if (why != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s", why)));
	c->truncated = rt_partition_rows(c, &c->truncated_estimated);
	rt_part_utility_spi(psprintf("TRUNCATE TABLE ONLY %s", c->name));
	r->stats.rows += c->truncated;
	rt_partition_cdc(r, "truncate", c->truncated, c->truncated_estimated);
}

/*
 * Raises an error when the current partition, now locked, is no longer a
 * wholly expired partition free to go (it was detached, a row came in, a
 * hold or a foreign key appeared since the run looked at it); r->held
 * says whether a legal hold is why.
 */
static void
rt_recheck_current(RtPartRun *r)
{
	RtPartCandidate *c = r->current;
	bool		held;
	char	   *why;

	if (!get_rel_relispartition(c->relid) || !rt_wholly_expired(r, c->relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("it changed while the run looked at it")));
	why = rt_obstacle(r, c->relid, c->parent, c->name, &held);
	r->held = held;
	if (why != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s", why)));
}

/*
 * Step: empties the current partition with TRUNCATE in a transaction of
 * its own, before its concurrent detach (which cannot share one), after
 * checking it again as the prepare step does.
 */
static void
rt_step_truncate(void *arg)
{
	RtPartRun *r = (RtPartRun *) arg;
	RtPartCandidate *c = r->current;
	RtSavedUser saved;
	int			nest = rt_safe_settings_begin(RT_SAFE_LOCK_TIMEOUT | RT_SAFE_ISO_DATES);

	rt_become_table_owner(r->policy->relid, &saved);
	LockRelationOid(c->relid, AccessExclusiveLock);
	rt_recheck_current(r);
	rt_truncate_current(r);
	rt_restore_user(&saved);
	rt_runlog_progress(r->run_id, &r->stats);
	rt_safe_settings_end(nest);
}

/*
 * Finishes the removal of the current partition, detached in this
 * transaction or an earlier one: checks it again under an ACCESS EXCLUSIVE
 * lock, counts its rows, drops it or moves it to the detach schema, and
 * records it in the audit trail and the run record.  Runs as the table
 * owner; restores the caller's identity for the records.
 */
static void
rt_finish_detached(RtPartRun *r, RtSavedUser *saved)
{
	RtPartCandidate *c = r->current;
	char	   *why;
	int64		rows;
	bool		estimated;
	char	   *kept_as = NULL;
	StringInfoData details;

	LockRelationOid(c->relid, AccessExclusiveLock);
	if (get_rel_relispartition(c->relid))
		elog(ERROR, "partition %s is still attached", c->name);
	why = rt_data_obstacle(r, c->relid, c->name);
	if (why != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s", why)));
	if (c->truncated >= 0 && rt_holds_rows(c))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("rows were added to it after its TRUNCATE, which a DROP would keep from the subscribers of its publication")));
	rows = rt_partition_rows(c, &estimated);

	if (r->policy->partition_action == RT_PARTITION_DROP)
		rt_part_utility_spi(psprintf("DROP TABLE %s RESTRICT", c->name));
	else
	{
		Oid			nsp = r->policy->detach_schema ?
			get_namespace_oid(r->policy->detach_schema, false) : get_rel_namespace(c->relid);

		if (nsp != get_rel_namespace(c->relid))
			rt_part_utility_spi(psprintf("ALTER TABLE %s SET SCHEMA %s", c->name,
										 quote_identifier(r->policy->detach_schema)));
		kept_as = rt_relation_name(c->relid);
	}
	rt_restore_user(saved);

	initStringInfo(&details);
	appendStringInfo(&details, "{\"policy_id\": " INT64_FORMAT ", \"run_id\": " INT64_FORMAT
					 ", \"partition\": %s, \"partition_of\": %s, \"bound\": %s, \"concurrently\": %s",
					 r->policy->policy_id, r->run_id, rt_json_quote(c->name),
					 rt_json_quote(c->parent_name), rt_json_quote(c->bound),
					 c->concurrent ? "true" : "false");
	if (kept_as != NULL)
		appendStringInfo(&details, ", \"kept_as\": %s", rt_json_quote(kept_as));
	if (c->truncated >= 0)
		appendStringInfoString(&details, ", \"truncated\": true");
	if (estimated || (c->truncated >= 0 && c->truncated_estimated))
	{
		appendStringInfoString(&details, ", \"rows_estimated\": true");
		/* the run's rows include it: the run record says which part is an estimate */
		rt_runlog_note(r->run_id, psprintf("the " INT64_FORMAT " rows of partition %s are an estimate (pg_class.reltuples, retention.partition_row_count = %s)",
										   rows + Max(c->truncated, 0), c->name,
										   rt_partition_row_count == RT_ROW_COUNT_AUTO ? "auto" : "estimate"));
	}
	appendStringInfoChar(&details, '}');
	rt_audit_append_named(kept_as ? "partition_detached" : "partition_dropped", c->name,
						  rows + Max(c->truncated, 0), details.data);
	/* a partition truncated first had its message (and its rows counted) with the TRUNCATE */
	if (c->truncated < 0)
		rt_partition_cdc(r, kept_as ? "detach_partition" : "drop_partition", rows, estimated);
	r->stats.rows += rows;
	r->stats.partitions++;
	rt_runlog_progress(r->run_id, &r->stats);
}

/* Step: detaches the current partition without CONCURRENTLY (or finishes a pending detach) and removes it. */
static void
rt_step_remove(void *arg)
{
	RtPartRun *r = (RtPartRun *) arg;
	RtPartCandidate *c = r->current;
	RtSavedUser saved;
	int			nest = rt_safe_settings_begin(RT_SAFE_LOCK_TIMEOUT | RT_SAFE_ISO_DATES);

	rt_become_table_owner(r->policy->relid, &saved);
	/* the detach and the drop wait on the workers too: as long as on this node at most */
	if (rt_citus_table(c->parent, NULL) != RT_CITUS_NONE)
		rt_citus_bound_lock_waits();
	if (!r->detached)
	{
		/* published: emptied first, in this transaction, by a statement subscribers receive */
		if (c->truncate_first && c->truncated < 0)
			rt_truncate_current(r);
		/* it may have changed since it was found: look again under the detach's locks */
		rt_part_utility_spi(psprintf("ALTER TABLE %s DETACH PARTITION %s%s", c->parent_name, c->name,
									 c->detach_pending ? " FINALIZE" : ""));
	}
	rt_finish_detached(r, &saved);
	rt_safe_settings_end(nest);
}

/* Step: locks the current partition and its parent for a concurrent detach and checks it again. */
static void
rt_step_prepare_concurrent(void *arg)
{
	RtPartRun *r = (RtPartRun *) arg;
	RtPartCandidate *c = r->current;
	RtSavedUser saved;
	int			nest = rt_safe_settings_begin(RT_SAFE_LOCK_TIMEOUT | RT_SAFE_ISO_DATES);

	rt_become_table_owner(r->policy->relid, &saved);
	/* the locks DETACH CONCURRENTLY takes first; they last until its first commit */
	LockRelationOid(c->parent, ShareUpdateExclusiveLock);
	LockRelationOid(c->relid, ShareUpdateExclusiveLock);
	rt_recheck_current(r);
	rt_restore_user(&saved);
	rt_safe_settings_end(nest);
}

/* Step: attaches the current partition back after its removal failed. */
static void
rt_step_reattach(void *arg)
{
	RtPartRun *r = (RtPartRun *) arg;
	RtPartCandidate *c = r->current;
	RtSavedUser saved;
	int			nest = rt_safe_settings_begin(RT_SAFE_LOCK_TIMEOUT | RT_SAFE_ISO_DATES);

	rt_become_table_owner(r->policy->relid, &saved);
	rt_part_utility_spi(psprintf("ALTER TABLE %s ATTACH PARTITION %s %s", c->parent_name, c->name, c->bound));
	rt_restore_user(&saved);
	rt_safe_settings_end(nest);
}

#if RT_HAS_DETACH_CONCURRENTLY
/*
 * Runs ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY on the current
 * partition at the top level (see RtRunOptions.at_top_level).  Its first
 * transaction is the caller's, which holds the locks the prepare step
 * took; it commits that and returns in its second.  An error is stored in
 * r->detach_error and leaves a fresh transaction open.
 */
static void
rt_detach_concurrently(void *arg)
{
	RtPartRun  *r = arg;
	RtPartCandidate *c = r->current;
	MemoryContext cxt = CurrentMemoryContext;
	char	   *sql = psprintf("ALTER TABLE %s DETACH PARTITION %s CONCURRENTLY", c->parent_name, c->name);
	char	   *lock_timeout = pstrdup(GetConfigOption("lock_timeout", false, false));
	char		budget[32];
	RtSavedUser saved;

	rt_become_table_owner(r->policy->relid, &saved);
	PG_TRY();
	{
		RawStmt    *raw = linitial_node(RawStmt, raw_parser(sql, RAW_PARSE_DEFAULT));
		PlannedStmt *stmt = makeNode(PlannedStmt);

		/*
		 * Its locks are held already; its wait for older queries is bounded
		 * by the run's time budget, not by lock_timeout: a transaction left
		 * open for longer must not hold the worker (and every other policy
		 * of the database) forever.  Timed out, the partition stays "detach
		 * pending", out of new queries' sight, and a later run finishes it.
		 */
		snprintf(budget, sizeof(budget), "%d", rt_max_run_time_ms);
		(void) set_config_option("lock_timeout", budget, PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SET, true, 0, false);

		/*
		 * Its first transaction only marks the partition detach pending: it
		 * need not wait for the disk.  The second, which drops the partition
		 * with its audit entry, does, and flushes the first with it; a crash
		 * in between finds the partition attached, or pending (finished by
		 * the next run).
		 */
		(void) set_config_option("synchronous_commit", "off", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_LOCAL, true, 0, false);
		stmt->commandType = CMD_UTILITY;
		stmt->canSetTag = true;
		stmt->utilityStmt = raw->stmt;
		stmt->stmt_location = raw->stmt_location;
		stmt->stmt_len = raw->stmt_len;
		PushActiveSnapshot(GetTransactionSnapshot());
		ProcessUtility(stmt, sql, false, PROCESS_UTILITY_TOPLEVEL, NULL, NULL, None_Receiver, NULL);
		while (ActiveSnapshotSet())
			PopActiveSnapshot();
		MemoryContextSwitchTo(cxt);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(r->error_cxt);
		r->detach_error = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		StartTransactionCommand();
		MemoryContextSwitchTo(cxt);
	}
	PG_END_TRY();
	rt_restore_user(&saved);
	(void) set_config_option("lock_timeout", lock_timeout, PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SET, true, 0, false);
}

/* Returns true when the current partition is detach-pending (its concurrent detach was interrupted). */
static bool
rt_detach_pending(RtPartRun *r)
{
	Oid			types[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(r->current->relid)};

	return rt_query_bool("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits"
						 " WHERE inhrelid OPERATOR(pg_catalog.=) $1 AND inhdetachpending)",
						 1, types, values);
}
#endif

/* Ends the current transaction of the run and starts the next one (nothing inside the caller's). */
static void
rt_part_next(RtPartRun *r)
{
	MemoryContext old = MemoryContextSwitchTo(r->cxt);

	if (r->options->next_transaction)
		r->options->next_transaction();
	MemoryContextSwitchTo(old);
}

/*
 * Removes the current partition; returns an error that must end the run,
 * or NULL.  A partition that cannot be removed is noted and left to the
 * batches.
 */
static ErrorData *
rt_remove_one(RtPartRun *r)
{
	RtPartCandidate *c = r->current;
	ErrorData  *edata;
	RtRunStats	before = r->stats;

	r->detached = false;
	r->detach_error = NULL;
#if RT_HAS_DETACH_CONCURRENTLY
	if (c->concurrent)
	{
		bool		pending;

		r->held = false;
		if (c->truncate_first)
		{
			edata = rt_part_protected(rt_step_truncate, r);
			if (edata != NULL)
			{
				r->stats = before;
				c->truncated = -1;
				if (rt_part_is_interrupt(edata))
					return edata;
				/* a table under a legal hold: its batches report the hold themselves */
				if (!r->held)
					rt_note_rows(r, c->name, rt_why(r, edata));
				FreeErrorData(edata);
				return NULL;
			}
			/* the TRUNCATE commits: its rows are gone whatever happens to the partition next */
			rt_part_next(r);
			before = r->stats;
		}
		edata = rt_part_protected(rt_step_prepare_concurrent, r);
		if (edata != NULL)
		{
			if (rt_part_is_interrupt(edata))
				return edata;
			/* a table under a legal hold: its batches report the hold themselves */
			if (!r->held)
				rt_note_rows(r, c->name, rt_why(r, edata));
			FreeErrorData(edata);
			return NULL;
		}
		r->options->at_top_level(rt_detach_concurrently, r);
		/* where did it stop?  a pending detach is finished below, or by the next run */
		SPI_connect();
		pending = rt_detach_pending(r);
		r->detached = !pending && !get_rel_relispartition(c->relid);
		SPI_finish();
		if (r->detach_error != NULL)
		{
			if (rt_part_is_interrupt(r->detach_error))
				return r->detach_error;
			if (!pending && !r->detached)
			{
				rt_note_rows(r, c->name, rt_why(r, r->detach_error));
				return NULL;
			}
		}
		c->detach_pending = pending;
	}
#endif
	edata = rt_part_protected(rt_step_remove, r);
	if (edata == NULL)
		return NULL;
	r->stats = before;
	if (!c->concurrent)
		c->truncated = -1;		/* the TRUNCATE rolled back with the rest */
	if (rt_part_is_interrupt(edata))
		return edata;
	if (!r->detached)
	{
		/* nothing changed: the batches take its rows */
		rt_note_rows(r, c->name, rt_why(r, edata));
		FreeErrorData(edata);
		return NULL;
	}
	else
	{
		/* detached by a committed transaction, yet not removed: put it back */
		ErrorData  *again = rt_part_protected(rt_step_reattach, r);

		if (again == NULL)
		{
			rt_note_rows(r, c->name, rt_why(r, edata));
			FreeErrorData(edata);
			return NULL;
		}
		if (rt_part_is_interrupt(again))
			return again;
		{
			MemoryContext old = MemoryContextSwitchTo(r->error_cxt);
			ErrorData  *e = palloc0(sizeof(ErrorData));

			e->sqlerrcode = edata->sqlerrcode;
			e->message = psprintf("partition %s was detached from %s but could not be removed (%s) nor attached back (%s)",
								  c->name, c->parent_name, edata->message, again->message);
			e->detail = psprintf("Its rows are still in %s, outside the partitioned table.", c->name);
			e->hint = psprintf("Attach it back with ALTER TABLE %s ATTACH PARTITION %s %s;",
							   c->parent_name, c->name, c->bound);
			MemoryContextSwitchTo(old);
			return e;
		}
	}
}

/* Removes the partitions wholly past the cutoff; see partition.h. */
ErrorData *
rt_partitions_remove(const RtPolicy *policy, TimestampTz cutoff, int64 run_id,
					 const RtRunOptions *options, RtRunStats *stats, MemoryContext error_cxt)
{
	RtPartRun	r;
	ErrorData  *edata;
	ListCell   *lc;
	Relation	rel;
	int16		typlen;
	bool		typbyval;

	if (policy->action != RT_ACTION_DELETE || policy->partition_action == RT_PARTITION_ROWS ||
		get_rel_relkind(policy->relid) != RELKIND_PARTITIONED_TABLE)
		return NULL;

	memset(&r, 0, sizeof(r));
	r.policy = policy;
	r.options = options;
	r.run_id = run_id;
	r.cutoff_tz = cutoff;
	r.cxt = CurrentMemoryContext;
	r.error_cxt = error_cxt;
	r.stats = *stats;
	rel = relation_open(policy->relid, AccessShareLock);
	r.anchor_type = rt_policy_anchor_type(policy, rel);
	relation_close(rel, AccessShareLock);
	get_typlenbyval(rt_anchor_type_oid(r.anchor_type), &typlen, &typbyval);
	r.cutoff = datumCopy(rt_cutoff_for_anchor(cutoff, policy->time_zone, r.anchor_type),
						 typbyval, typlen);

	edata = rt_part_protected(rt_step_find, &r);
	if (edata == NULL)
	{
		rt_part_next(&r);
		foreach(lc, r.candidates)
		{
			r.current = lfirst(lc);
			edata = rt_remove_one(&r);
			rt_part_next(&r);
			if (edata != NULL)
				break;
		}
	}
	*stats = r.stats;
	return edata;
}
