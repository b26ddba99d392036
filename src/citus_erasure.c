/*
 * citus_erasure.c
 *    Erasures of data subjects whose graph holds Citus tables
 *    (docs/operations.md#citus).
 *
 * erasure.c erases a subject with statements on each table of its graph,
 * which Citus sends to the shards: a subject's rows on a distributed table
 * are found by its key, which includes the distribution column (subjectcmds.c
 * refuses any other), and the tests of rows still referenced are correlated
 * on co-located tables.  Three things differ:
 *  - a reference table in the graph (a customer's address) is changed
 *    after distributed tables were read in the same transaction, which
 *    Citus allows only when the transaction runs one connection per node;
 *  - its rows are remembered by the values of the referenced columns, not
 *    by ctid, which names a row of one placement only, and the test that
 *    nothing else references them is written uncorrelated, as Citus
 *    accepts it on a reference table;
 *  - the pseudonym mask goes to the shards in its node form, under the
 *    grant of citus_mask.c.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"

#include "citus.h"
#include "citus_erasure.h"
#include "citus_mask.h"
#include "fk_guard.h"
#include "privilege.h"
#include "quote.h"
#include "safe_spi.h"
#include "subject.h"

/* Prepares an erasure of kind k for Citus; see citus_erasure.h. */
int
rt_citus_erasure_begin(const RtSubjectKind *k)
{
	ListCell   *lc;
	bool		reference = false;
	bool		citus = false;
	int			nest;

	foreach(lc, k->tables)
	{
		RtCitusKind kind = rt_citus_table(((RtSubjectTable *) lfirst(lc))->relid, NULL);

		citus |= kind != RT_CITUS_NONE;
		reference |= kind == RT_CITUS_REFERENCE;
	}
	if (!citus)
		return -1;
	nest = NewGUCNestLevel();
	if (reference)
		rt_citus_sequential();
	return nest;
}

/* Closes what rt_citus_erasure_begin opened. */
void
rt_citus_erasure_end(int nest)
{
	if (nest >= 0)
		AtEOXact_GUC(true, nest);
}

/* Remembers the referenced rows of t the subject points at, by value; see citus_erasure.h. */
List *
rt_citus_remember_referenced(const RtSubjectKind *k, const RtSubjectTable *t, const char *keyref,
							 Oid key_type, Datum key, List **types)
{
	RtSubjectTable *root = rt_subject_table_for(k, k->relid);
	StringInfoData sql;
	RtSavedUser saved;
	List	   *values = NIL;
	ListCell   *lc;
	Oid			argtypes[1] = {key_type};
	Datum		args[1] = {key};

	*types = NIL;
	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	foreach(lc, t->subject_columns)
		appendStringInfo(&sql, "%spg_catalog.array_agg(DISTINCT r.%s)", foreach_current_index(lc) > 0 ? ", " : "",
						 quote_identifier(lfirst(lc)));
	appendStringInfo(&sql, " FROM %s r WHERE %s", rt_relation_name(k->relid),
					 rt_subject_belongs(k, root, "r", keyref));
	foreach(lc, t->subject_columns)
		appendStringInfo(&sql, " AND r.%s IS NOT NULL", quote_identifier(lfirst(lc)));
	rt_become_table_owner(k->relid, &saved);
	if (rt_spi_execute(sql.data, 1, argtypes, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the rows %s references", rt_relation_name(k->relid));
	rt_restore_user(&saved);
	for (int i = 0; i < SPI_tuptable->tupdesc->natts; i++)
	{
		bool		isnull;
		Datum		arr = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1, &isnull);

		if (isnull)
			return NIL;			/* the subject points at nothing */
		values = lappend(values, DatumGetPointer(datumCopy(arr, false, -1)));
		*types = lappend_oid(*types, SPI_gettypeid(SPI_tuptable->tupdesc, i + 1));
	}
	return values;
}

/* Returns the referenced-row expression of a Citus table for an erasure; see citus_erasure.h. */
char *
rt_citus_erasure_referenced_expr(Oid relid)
{
	if (rt_citus_table(relid, NULL) == RT_CITUS_REFERENCE)
		return rt_citus_referenced_expr(relid, "t", RT_FK_ANY);
	return rt_fk_referenced_expr(relid, "t", RT_FK_ANY);
}

/* Deletes remembered referenced rows nothing references any more; see citus_erasure.h. */
int64
rt_citus_erase_referenced(const RtSubjectTable *t, List *values, List *types, int64 *shared)
{
	StringInfoData match;
	char	   *blocked = rt_citus_erasure_referenced_expr(t->relid);
	Oid		   *argtypes = palloc(sizeof(Oid) * Max(1, list_length(values)));
	Datum	   *args = palloc(sizeof(Datum) * Max(1, list_length(values)));
	RtSavedUser saved;
	ListCell   *lc;
	bool		isnull;
	int64		total;
	int64		deleted;

	*shared = 0;
	if (values == NIL)
		return 0;
	initStringInfo(&match);
	appendStringInfoChar(&match, '(');
	foreach(lc, t->ref_columns)
		appendStringInfo(&match, "%st.%s", foreach_current_index(lc) > 0 ? ", " : "", quote_identifier(lfirst(lc)));
	appendStringInfoString(&match, ") IN (SELECT * FROM pg_catalog.unnest(");
	foreach(lc, values)
	{
		int			i = foreach_current_index(lc);

		argtypes[i] = list_nth_oid(types, i);
		args[i] = PointerGetDatum(lfirst(lc));
		appendStringInfo(&match, "%s$%d", i > 0 ? ", " : "", i + 1);
	}
	appendStringInfoString(&match, "))");

	rt_become_table_owner(t->relid, &saved);
	if (rt_spi_execute(psprintf("SELECT pg_catalog.count(*) FROM %s t WHERE %s", rt_relation_name(t->relid), match.data),
					   list_length(values), argtypes, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read %s", rt_relation_name(t->relid));
	total = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	/* a shared row goes only when nothing at all references it: a cascade or SET NULL would reach others */
	if (rt_spi_execute(psprintf("DELETE FROM %s t WHERE %s%s%s", rt_relation_name(t->relid), match.data,
								blocked ? " AND NOT " : "", blocked ? blocked : ""),
					   list_length(values), argtypes, args, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not erase rows of %s", rt_relation_name(t->relid));
	deleted = (int64) SPI_processed;
	rt_restore_user(&saved);
	*shared = Max(total - deleted, 0);
	return deleted;
}

/* Returns the SET list of an anonymizing UPDATE of a Citus table; see citus_erasure.h. */
const char *
rt_citus_erasure_set_list(Oid relid, const char *set_list_node, bool uses_key)
{
	RtSavedUser saved;

	if (uses_key)
	{
		/* the grant opens the distributed transaction with a statement on the table: as its owner */
		rt_become_table_owner(relid, &saved);
		rt_citus_mask_grant(relid);
		rt_restore_user(&saved);
	}
	return set_list_node;
}
