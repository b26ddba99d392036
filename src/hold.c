/*
 * hold.c
 *    Legal holds as the engine reads them: which holds are active, what
 *    they cover, and the hold lock that orders them against purges and
 *    erasures.  Placing and releasing holds is holdcmds.c's; this file
 *    never calls it.
 *
 * A hold names what it covers (a subject of a kind by its key, or a table),
 * why (reason, shown in reports) and until when (NULL: until released).  A
 * hold is active while it is neither released nor past its until.  Holds
 * keep the subject's key as written, because the rows must be found while
 * the hold lasts; the audit trail records holds without it.
 */
#include "postgres.h"

#include "access/relation.h"
#include "catalog/catalog.h"
#include "catalog/partition.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "citus.h"
#include "cache.h"
#include "extension.h"
#include "hold.h"
#include "privilege.h"
#include "quote.h"
#include "safe_spi.h"
#include "subject.h"

/* the SQL condition of an active hold, on the hold catalog's own columns */
#define RT_HOLD_ACTIVE RT_HOLD_ACTIVE_OF("")

/* the advisory lock (two int4 keys) that orders holds against purges and erasures: "RTHL", 1 */
#define RT_HOLD_LOCK_KEY1 0x5254484C
#define RT_HOLD_LOCK_KEY2 1

/* Takes the database's hold lock in mode until the end of the transaction. */
static void
rt_holds_lock(LOCKMODE mode)
{
	LOCKTAG		tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, RT_HOLD_LOCK_KEY1, RT_HOLD_LOCK_KEY2, 2);
	(void) LockAcquire(&tag, mode, false, false);
}

/* Takes the hold lock in exclusive mode: placing or releasing a hold (holdcmds.c). */
void
rt_holds_lock_exclusive(void)
{
	rt_holds_lock(ExclusiveLock);
}

/*
 * Takes the hold lock in share mode: a purge batch or an erasure that is
 * about to read the holds and act on them.  Placing or releasing a hold
 * takes it in exclusive mode, so a hold placed while a batch or an erasure
 * is under way waits for its commit (the batch did not see the hold; the
 * hold then finds the rows as they are after it), and a batch or erasure
 * that starts while a hold is being placed waits and then sees it.
 */
void
rt_holds_lock_shared(void)
{
	rt_holds_lock(ShareLock);
}

/* Returns true when an active table hold covers relid or one of its partitioned ancestors. */
bool
rt_table_on_hold(Oid relid)
{
	List	   *rels = list_make1_oid(relid);
	Oid			types[1] = {OIDARRAYOID};
	Datum		values[1];

	if (get_rel_relispartition(relid))
		rels = list_concat(rels, get_partition_ancestors(relid));
	values[0] = rt_oid_array(rels);
	rt_catalog_exec_kept("SELECT 1 FROM retention.hold_catalog WHERE " RT_HOLD_ACTIVE
						 " AND relid::pg_catalog.oid OPERATOR(pg_catalog.=) ANY ($1) LIMIT 1",
						 1, types, values, NULL, false, SPI_OK_SELECT);
	return SPI_processed > 0;
}

/* Returns the ids of the subjects of kind under an active hold. */
List *
rt_held_subjects(const char *kind)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(kind)};
	List	   *ids = NIL;

	rt_catalog_exec("SELECT DISTINCT subject_id FROM retention.hold_catalog WHERE " RT_HOLD_ACTIVE
					" AND kind OPERATOR(pg_catalog.=) $1",
					1, types, values, NULL, false, SPI_OK_SELECT);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;

		ids = lappend(ids, TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[i],
															 SPI_tuptable->tupdesc, 1, &isnull)));
	}
	return ids;
}

/* Returns the ids of the active holds covering subject id of kind or one of tables. */
List *
rt_holds_covering(const char *kind, const char *id, List *tables)
{
	Oid			types[3] = {TEXTOID, TEXTOID, OIDARRAYOID};
	Datum		values[3];
	List	   *family = NIL;
	ListCell   *lc;
	List	   *holds = NIL;

	/* a hold on a partition or on the partitioned table covers the table */
	foreach(lc, tables)
		family = list_concat(family, find_all_inheritors(lfirst_oid(lc), NoLock, NULL));
	values[0] = CStringGetTextDatum(kind);
	values[1] = CStringGetTextDatum(id);
	values[2] = rt_oid_array(family);
	rt_catalog_exec("SELECT hold_id FROM retention.hold_catalog WHERE " RT_HOLD_ACTIVE
					" AND ((kind OPERATOR(pg_catalog.=) $1 AND subject_id OPERATOR(pg_catalog.=) $2)"
					"      OR relid::pg_catalog.oid OPERATOR(pg_catalog.=) ANY ($3)) ORDER BY hold_id",
					3, types, values, NULL, false, SPI_OK_SELECT);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		int64	   *hold_id = palloc(sizeof(int64));

		*hold_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		holds = lappend(holds, hold_id);
	}
	return holds;
}

/* Adds the int64 hold ids of the current SPI result's first column to holds, skipping those already there. */
static List *
rt_add_hold_ids(List *holds)
{
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		int64		hold_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		bool		known = false;
		ListCell   *lc;
		int64	   *p;

		foreach(lc, holds)
			known = known || *(int64 *) lfirst(lc) == hold_id;
		if (known)
			continue;
		p = palloc(sizeof(int64));
		*p = hold_id;
		holds = lappend(holds, p);
	}
	return holds;
}

/*
 * rt_held_sharing_table for a Citus table, which refuses the test
 * correlated with the list of held subjects: one held subject at a time
 * (docs/operations.md#citus).
 */
static List *
rt_held_sharing_citus_table(const RtSubjectKind *k, const RtSubjectTable *t, Datum key,
							const RtSubjectKind *k2, const RtSubjectTable *t2, Datum held)
{
	Oid			types[2] = {k->key_type, TEXTOID};
	Datum		values[2] = {key, (Datum) 0};
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	List	   *ids = NIL;
	char	   *sql = psprintf("SELECT EXISTS (SELECT 1 FROM %s t WHERE (%s) AND (%s))",
							   rt_relation_name(t->relid), t->belongs,
							   rt_subject_belongs(k2, t2, "t",
												  psprintf("($2::pg_catalog.text)::%s",
														   format_type_be_qualified(k2->key_type))));

	deconstruct_array(DatumGetArrayTypeP(held), TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		RtSavedUser saved;
		bool		isnull;
		bool		shares;

		if (nulls[i])
			continue;
		values[1] = elems[i];
		rt_become_table_owner(t->relid, &saved);
		if (rt_spi_execute(sql, 2, types, values, NULL, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not read the held rows of %s", rt_relation_name(t->relid));
		rt_restore_user(&saved);
		shares = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		if (shares)
			ids = lappend(ids, TextDatumGetCString(elems[i]));
	}
	return ids;
}

/*
 * Returns the held subjects of kind k2 (canonical ids, text) that share a
 * row of table t with subject key of kind k, read as the table's owner.
 */
static List *
rt_held_sharing_table(const RtSubjectKind *k, const RtSubjectTable *t, Datum key,
					  const RtSubjectKind *k2, const RtSubjectTable *t2, Datum held)
{
	Oid			types[2] = {k->key_type, TEXTARRAYOID};
	Datum		values[2] = {key, held};
	RtSavedUser saved;
	List	   *ids = NIL;
	char	   *sql;

	if (rt_citus_table(t->relid, NULL) != RT_CITUS_NONE)
		return rt_held_sharing_citus_table(k, t, key, k2, t2, held);
	/* unnest in a subquery's target list: a composite key stays one column (docs/reference.md#data-subjects) */
	sql = psprintf("SELECT rt_held.id::pg_catalog.text FROM (SELECT pg_catalog.unnest($2::%s[]) AS id) AS rt_held"
				   " WHERE EXISTS (SELECT 1 FROM %s t WHERE (%s) AND (%s))",
				   format_type_be_qualified(k2->key_type), rt_relation_name(t->relid), t->belongs,
				   rt_subject_belongs(k2, t2, "t", "rt_held.id"));
	rt_become_table_owner(t->relid, &saved);
	if (rt_spi_execute(sql, 2, types, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the held rows of %s", rt_relation_name(t->relid));
	rt_restore_user(&saved);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;

		ids = lappend(ids, TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull)));
	}
	return ids;
}

/* Returns the tables (partitions as their partitioned table) with a foreign key to one of tables or their partitions. */
static List *
rt_tables_referencing(List *tables)
{
	Oid			types[1] = {OIDARRAYOID};
	Datum		values[1] = {rt_oid_array(tables)};
	List	   *result = NIL;

	rt_catalog_exec("SELECT DISTINCT c.conrelid FROM pg_catalog.pg_constraint c"
					" WHERE c.contype OPERATOR(pg_catalog.=) 'f'"
					" AND (c.confrelid OPERATOR(pg_catalog.=) ANY ($1) OR c.confrelid OPERATOR(pg_catalog.=) ANY"
					"      (SELECT i.inhrelid FROM pg_catalog.pg_inherits i"
					"        WHERE i.inhparent OPERATOR(pg_catalog.=) ANY ($1)))",
					1, types, values, NULL, false, SPI_OK_SELECT);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Oid			relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));

		if (get_rel_relispartition(relid))
			relid = llast_oid(get_partition_ancestors(relid));
		result = list_append_unique_oid(result, relid);
	}
	return result;
}

/*
 * Returns the ids (int64 *) of the active holds that keep an erasure of
 * subject id (key) of kind k from going ahead now: a hold on the subject
 * itself, a table hold on a table of its graph, and a hold on any subject,
 * of any kind, that shares one of the subject's rows (a rental held for the
 * staff member who handled it is held for the customer's erasure too).
 */
List *
rt_holds_blocking_erasure(const RtSubjectKind *k, const char *id, Datum key)
{
	List	   *tables = NIL;
	List	   *holds;
	ListCell   *lc;

	/* the common case, and one query instead of a few per kind and table */
	if (!rt_holds_any_active())
		return NIL;
	foreach(lc, k->tables)
		tables = lappend_oid(tables, ((RtSubjectTable *) lfirst(lc))->relid);
	/* a table that references the graph from outside it is changed by ON DELETE SET NULL / CASCADE */
	tables = list_concat_unique_oid(tables, rt_tables_referencing(tables));
	holds = rt_holds_covering(k->kind, id, tables);
	foreach(lc, rt_subject_kind_names())
	{
		const char *kind2 = lfirst(lc);
		Datum		held = rt_held_keys(kind2);
		RtSubjectKind *k2;
		List	   *sharing = NIL;
		ListCell   *tc;

		if (held == (Datum) 0)
			continue;
		k2 = strcmp(kind2, k->kind) == 0 ? (RtSubjectKind *) k : rt_subject_kind(kind2);
		foreach(tc, k->tables)
		{
			RtSubjectTable *t = lfirst(tc);
			RtSubjectTable *t2 = rt_subject_table_for(k2, t->relid);

			if (t2 != NULL)
				sharing = list_concat(sharing, rt_held_sharing_table(k, t, key, k2, t2, held));
		}
		if (sharing != NIL)
		{
			Oid			types[2] = {TEXTOID, TEXTARRAYOID};
			Datum		values[2];

			values[0] = CStringGetTextDatum(kind2);
			values[1] = rt_text_array(sharing);
			rt_catalog_exec("SELECT hold_id FROM retention.hold_catalog WHERE " RT_HOLD_ACTIVE
							" AND kind OPERATOR(pg_catalog.=) $1 AND subject_id OPERATOR(pg_catalog.=) ANY ($2)"
							" ORDER BY hold_id",
							2, types, values, NULL, false, SPI_OK_SELECT);
			holds = rt_add_hold_ids(holds);
		}
	}
	return holds;
}

/* Returns true when this transaction holds the hold lock (in share or exclusive mode). */
static bool
rt_holds_lock_held(void)
{
	LOCKTAG		tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, RT_HOLD_LOCK_KEY1, RT_HOLD_LOCK_KEY2, 2);
	return LockHeldByMe(&tag, ShareLock) || LockHeldByMe(&tag, ExclusiveLock);
}

/*
 * Returns true when any legal hold is active in this database.  "None" is
 * remembered for the rest of a transaction that holds the hold lock: no
 * other session can place a hold before it ends, time only ends holds, and
 * a hold this transaction places itself moves the catalog generation on
 * (the hold catalog's trigger, cache.h).
 */
bool
rt_holds_any_active(void)
{
	static LocalTransactionId none_lxid = InvalidLocalTransactionId;
	static uint64 none_generation = 0;

	if (none_lxid != InvalidLocalTransactionId && none_lxid == MyProc->lxid &&
		none_generation == rt_catalog_generation() && rt_holds_lock_held())
		return false;
	rt_catalog_exec_kept("SELECT 1 FROM retention.hold_catalog WHERE " RT_HOLD_ACTIVE " LIMIT 1",
						 0, NULL, NULL, NULL, false, SPI_OK_SELECT);
	if (SPI_processed > 0)
		return true;
	if (rt_holds_lock_held())
	{
		none_lxid = MyProc->lxid;
		none_generation = rt_catalog_generation();
	}
	return false;
}

/* Returns the id of the first active hold on subject id of kind itself, or 0 when there is none. */
int64
rt_subject_hold(const char *kind, const char *id)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2] = {CStringGetTextDatum(kind), CStringGetTextDatum(id)};
	bool		isnull;

	rt_catalog_exec("SELECT hold_id FROM retention.hold_catalog WHERE " RT_HOLD_ACTIVE
					" AND kind OPERATOR(pg_catalog.=) $1 AND subject_id OPERATOR(pg_catalog.=) $2"
					" ORDER BY hold_id LIMIT 1",
					2, types, values, NULL, false, SPI_OK_SELECT);
	if (SPI_processed == 0)
		return 0;
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * Forgets the subject ids of holds that have ended (released or past their
 * until) once no pending erasure still needs them to find its subject: an
 * ended hold keeps no personal data.  Needs the 0.2.0 catalog (whose check
 * lets an ended hold lose its id); returns how many holds forgot theirs.
 */
int64
rt_holds_forget_ended(void)
{
	if (!rt_sql_objects_at_least("0.2.0"))
		return 0;
	rt_catalog_exec("UPDATE retention.hold_catalog h SET subject_id = NULL"
					" WHERE h.subject_id IS NOT NULL AND NOT (" RT_HOLD_ACTIVE_OF("h.") ")"
					" AND NOT EXISTS (SELECT 1 FROM retention.erasure_ledger l"
					"   WHERE l.status OPERATOR(pg_catalog.=) 'pending'"
					"   AND l.subject_hold OPERATOR(pg_catalog.=) h.hold_id)",
					0, NULL, NULL, NULL, false, SPI_OK_UPDATE);
	return (int64) SPI_processed;
}

/* Returns SQL on alias: the row belongs to a held subject of some kind covering relid. */
char *
rt_held_predicate(Oid relid, const char *alias, int first_param, List **kinds)
{
	List	   *names = rt_subject_kind_names();
	ListCell   *lc;
	StringInfoData buf;

	*kinds = NIL;
	initStringInfo(&buf);
	foreach(lc, names)
	{
		RtSubjectKind *k;
		RtSubjectTable *t;
		char	   *keyref;

		/* a kind whose table is gone (dropped with the event triggers disabled) holds no row */
		if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(rt_subject_kind_relid(lfirst(lc), NULL))))
			continue;
		k = rt_subject_kind(lfirst(lc));
		t = rt_subject_table_for(k, relid);
		if (t == NULL)
			continue;
		keyref = psprintf("ANY ($%d::%s[])", first_param + list_length(*kinds),
						  format_type_be_qualified(k->key_type));
		appendStringInfo(&buf, "%s(%s)", *kinds == NIL ? "" : " OR ",
						 rt_subject_belongs(k, t, alias, keyref));
		*kinds = lappend(*kinds, k->kind);
	}
	return *kinds == NIL ? NULL : psprintf("(%s)", buf.data);
}

/* Returns the held keys of kind as a text[] Datum, or 0 when none is held. */
Datum
rt_held_keys(const char *kind)
{
	List	   *ids = rt_held_subjects(kind);

	return ids == NIL ? (Datum) 0 : rt_text_array(ids);
}
