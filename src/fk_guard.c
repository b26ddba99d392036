/*
 * fk_guard.c
 *    SQL that tells which rows foreign keys still need.
 *
 * For each foreign key that references the relation with ON DELETE
 * RESTRICT or NO ACTION we add EXISTS (SELECT 1 FROM referencing r WHERE
 * r.fk = t.pk ...), with the constraint's own equality operators and the
 * collation PostgreSQL's own ON DELETE check compares under (ri_triggers.c):
 * the referenced column's when it is nondeterministic, else the referencing
 * column's -- so a referencing "bob" under a case-insensitive collation
 * keeps "Bob" too, as PostgreSQL would refuse to delete it.  A
 * foreign key declared on a partitioned referencing table is checked once
 * through that table (its per-partition copies are skipped); one that
 * references a partitioned table is found through the copy PostgreSQL
 * keeps on each referenced partition.
 *
 * A foreign key declared on a partition of a partitioned table guards the
 * rows referenced from any partition of that table: the partitions are
 * one table to its users, and a partition that lacks the constraint (as
 * Pagila's payment_p2022_07 does) is an oversight, not a licence to leave
 * its payments pointing at deleted rentals.  Such keys are checked through
 * the partition tree's root, once -- unless a sibling partition's key on
 * the same columns references another table (rt_partition_key_conflicts):
 * then a key speaks for its own partition only.
 *
 * The test runs as the current user (a purge runs as the table's owner).
 * A referencing table that user may not read is left out of the test:
 * PostgreSQL's own foreign-key check (which runs as the referencing table's
 * owner) then refuses those rows, and the purge isolates them one by one.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "cache.h"
#include "fk_guard.h"
#include "quote.h"
#include "safe_spi.h"

/* Reads an int2[] or oid[] catalog array into a palloc'd array of Datums. */
static Datum *
rt_catalog_array(Datum array, Oid elemtype, int *n)
{
	Datum	   *elems;
	int16		typlen;
	bool		typbyval;
	char		typalign;

	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	deconstruct_array(DatumGetArrayTypeP(array), elemtype, typlen, typbyval,
					  typalign, &elems, NULL, n);
	return elems;
}

/*
 * Returns true when a foreign key declared on partition part of owner is
 * contradicted by a sibling: another partition of owner has a foreign key
 * on the same columns to a table other than referenced.  A partition's own
 * key then covers that partition's rows only (sale events reference
 * customers, shift events staff); otherwise it stands for the whole table,
 * as where one partition merely lacks the key (Pagila's payment_p2022_07).
 */
bool
rt_partition_key_conflicts(Oid owner, Oid part, Oid referenced, List *cols)
{
	Oid			types[4] = {OIDOID, OIDOID, OIDOID, NAMEARRAYOID};
	Datum		values[4];
	Datum	   *names = palloc(sizeof(Datum) * list_length(cols));
	ListCell   *lc;
	int			n = 0;

	foreach(lc, cols)
		names[n++] = DirectFunctionCall1(namein, CStringGetDatum(lfirst(lc)));
	values[0] = ObjectIdGetDatum(owner);
	values[1] = ObjectIdGetDatum(part);
	values[2] = ObjectIdGetDatum(referenced);
	values[3] = PointerGetDatum(construct_array(names, n, NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR));
	if (rt_spi_execute("SELECT 1 FROM pg_catalog.pg_constraint c"
					   " WHERE c.contype OPERATOR(pg_catalog.=) 'f' AND c.conparentid OPERATOR(pg_catalog.=) 0"
					   " AND c.conrelid OPERATOR(pg_catalog.<>) $2"
					   " AND c.conrelid OPERATOR(pg_catalog.=) ANY"
					   "     (SELECT relid FROM pg_catalog.pg_partition_tree($1::pg_catalog.regclass))"
					   " AND c.confrelid OPERATOR(pg_catalog.<>) $3"	/* no tree for a plain table */
					   " AND c.confrelid OPERATOR(pg_catalog.<>) ALL"
					   "     (SELECT relid FROM pg_catalog.pg_partition_tree($3::pg_catalog.regclass))"
					   " AND ARRAY(SELECT a.attname FROM pg_catalog.unnest(c.conkey) WITH ORDINALITY k(attnum, ord)"
					   "           JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.conrelid"
					   "            AND a.attnum OPERATOR(pg_catalog.=) k.attnum ORDER BY k.ord)"
					   "     OPERATOR(pg_catalog.=) $4 LIMIT 1",
					   4, types, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the foreign keys of the partitions of relation %u", owner);
	return SPI_processed > 0;
}

/* Returns the referenced-row expression, with referencing rows of the same table that go too left out when self is set. */
static char *
rt_fk_expr_build(Oid relid, const char *alias, const char *actions, const RtFkSelf *self)
{
	Oid			argtypes[2] = {OIDOID, TEXTOID};
	Datum		values[2] = {ObjectIdGetDatum(relid), CStringGetTextDatum(self != NULL ? RT_FK_ANY : actions)};
	StringInfoData buf;
	int			rc;
	List	   *seen = NIL;
	SPITupleTable *keys;
	uint64		nkeys_found;

	rc = rt_spi_execute(
							   "SELECT c.conrelid, c.conkey, c.confkey, c.conpfeqop, c.confdeltype"
							   " FROM pg_catalog.pg_constraint c"
							   " WHERE c.contype OPERATOR(pg_catalog.=) 'f'"
							   " AND c.confdeltype OPERATOR(pg_catalog.=) ANY ($2::pg_catalog.\"char\"[])"
							   " AND c.confrelid OPERATOR(pg_catalog.=) $1"
							   " AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint pc"
							   "   WHERE pc.oid OPERATOR(pg_catalog.=) c.conparentid"
							   "   AND pc.confrelid OPERATOR(pg_catalog.=) c.confrelid)"
							   " ORDER BY c.oid",
							   2, argtypes, values, NULL, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read the foreign keys of relation %u", relid);
	if (SPI_processed == 0)
		return NULL;
	/* the loop asks the catalog again (rt_partition_key_conflicts) */
	keys = SPI_tuptable;
	nkeys_found = SPI_processed;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '(');
	for (uint64 i = 0; i < nkeys_found; i++)
	{
		HeapTuple	t = keys->vals[i];
		TupleDesc	d = keys->tupdesc;
		bool		isnull;
		Oid			conrelid = DatumGetObjectId(SPI_getbinval(t, d, 1, &isnull));
		Oid			refrelid = conrelid;
		int			nkeys,
					nfkeys,
					nops;
		Datum	   *conkey = rt_catalog_array(SPI_getbinval(t, d, 2, &isnull), INT2OID, &nkeys);
		Datum	   *confkey = rt_catalog_array(SPI_getbinval(t, d, 3, &isnull), INT2OID, &nfkeys);
		Datum	   *ops = rt_catalog_array(SPI_getbinval(t, d, 4, &isnull), OIDOID, &nops);
		char		refalias[16];
		char	   *key;
		ListCell   *lc;
		bool		duplicate = false;

		if (nkeys != nfkeys || nkeys != nops)
			elog(ERROR, "malformed foreign key on relation %u", conrelid);
		if (get_rel_relispartition(conrelid))
		{
			List	   *cols = NIL;

			for (int k = 0; k < nkeys; k++)
				cols = lappend(cols, get_attname(conrelid, DatumGetInt16(conkey[k]), false));
			refrelid = llast_oid(get_partition_ancestors(conrelid));
			/* siblings whose keys on these columns point elsewhere: this partition alone */
			if (rt_partition_key_conflicts(refrelid, conrelid, relid, cols))
				refrelid = conrelid;
		}
		if (pg_class_aclcheck(refrelid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
			continue;
		/*
		 * With self, a live reply keeps the row it references whatever the
		 * key's ON DELETE action: a cascade or SET NULL would delete or
		 * change a row that has not expired.  Keys from other tables count
		 * only for the actions asked for.
		 */
		if (self != NULL && !(refrelid == relid || refrelid == self->policy_relid) &&
			strchr(actions, DatumGetChar(SPI_getbinval(t, d, 5, &isnull))) == NULL)
			continue;

		/* the partitions of one table give the same test: keep one */
		key = psprintf("%u", refrelid);
		for (int k = 0; k < nkeys; k++)
			key = psprintf("%s/%d=%s/%u", key, DatumGetInt16(confkey[k]),
						   get_attname(conrelid, DatumGetInt16(conkey[k]), false),
						   DatumGetObjectId(ops[k]));
		foreach(lc, seen)
			if (strcmp(lfirst(lc), key) == 0)
				duplicate = true;
		if (duplicate)
			continue;
		seen = lappend(seen, key);
		snprintf(refalias, sizeof(refalias), "fk%d", list_length(seen));

		if (list_length(seen) > 1)
			appendStringInfoString(&buf, " OR ");
		appendStringInfo(&buf, "EXISTS (SELECT 1 FROM %s%s %s WHERE ",
						 get_rel_relkind(refrelid) == RELKIND_PARTITIONED_TABLE ? "" : "ONLY ",
						 rt_relation_name(refrelid), refalias);
		for (int k = 0; k < nkeys; k++)
		{
			Oid			typid;
			int32		typmod;
			Oid			coll;
			Oid			fkcoll;

			/* under the collation PostgreSQL's own check uses: see the header */
			get_atttypetypmodcoll(relid, DatumGetInt16(confkey[k]), &typid, &typmod, &coll);
			get_atttypetypmodcoll(conrelid, DatumGetInt16(conkey[k]), &typid, &typmod, &fkcoll);
			if (!OidIsValid(coll) || get_collation_isdeterministic(coll))
				coll = fkcoll;
			if (k > 0)
				appendStringInfoString(&buf, " AND ");
			appendStringInfo(&buf, "%s.%s%s %s %s.%s",
							 alias,
							 quote_identifier(get_attname(relid, DatumGetInt16(confkey[k]), false)),
							 rt_collation_sql(coll),
							 rt_operator_sql(DatumGetObjectId(ops[k])),
							 refalias,
							 quote_identifier(get_attname(conrelid, DatumGetInt16(conkey[k]), false)));
		}
		/* a row that references only itself goes away with itself */
		if (refrelid == relid)
			appendStringInfo(&buf, " AND %s.ctid OPERATOR(pg_catalog.<>) %s.ctid", refalias, alias);
		/* a reply that expired too goes in the same statement: only a live (or undated) one keeps the row */
		if (self != NULL && (refrelid == relid || refrelid == self->policy_relid))
			appendStringInfo(&buf, " AND (%s.%s OPERATOR(pg_catalog.<) %s) IS NOT TRUE",
							 refalias, self->anchor, self->cutoff_ref);
		appendStringInfoChar(&buf, ')');
	}
	appendStringInfoChar(&buf, ')');
	return seen == NIL ? NULL : buf.data;
}

/*
 * Returns rt_fk_expr_build's expression, remembered for the catalog
 * generation (cache.h): an erasure asks for the same tables' expressions
 * several times, and every erasure asks again.  The expression leaves out
 * referencing tables the current user may not read: the user is part of
 * the key.
 */
static char *
rt_fk_expr(Oid relid, const char *alias, const char *actions, const RtFkSelf *self)
{
	char	   *key = psprintf("fk_guard %u %s %s %u %u %s %s", relid, alias, actions, GetUserId(),
							   self ? self->policy_relid : InvalidOid, self ? self->anchor : "",
							   self ? self->cutoff_ref : "");
	bool		found;
	char	   *expr = rt_memo_get(key, &found);

	if (found)
		return expr;
	expr = rt_fk_expr_build(relid, alias, actions, self);
	rt_memo_put(key, expr);
	return expr;
}

/* Returns the blocked-row expression for relid aliased alias, or NULL; see fk_guard.h. */
char *
rt_fk_blocked_expr(Oid relid, const char *alias, const RtFkSelf *self)
{
	return rt_fk_expr(relid, alias, RT_FK_RESTRICTING, self);
}

/* Returns the expression: the row is referenced through a foreign key whose ON DELETE action is in actions. */
char *
rt_fk_referenced_expr(Oid relid, const char *alias, const char *actions)
{
	return rt_fk_expr(relid, alias, actions, NULL);
}
