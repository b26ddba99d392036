/*
 * subject_export.c
 *    retention.subject_data(kind, id): everything the database holds about
 *    one data subject, as one jsonb document — the answer to an access or
 *    portability request (GDPR art. 15 and 20, PIPL art. 45).
 *
 * The document lists each table of the subject's graph (see subject.c)
 * with how it was reached, which of its columns are tagged as personal
 * data (and of which category), and every row of the subject, whole: an
 * access request covers all data about the person, not only the columns
 * someone remembered to tag.  Each table is read as its owner, with the
 * search_path a purge uses.
 *
 * A document that silently lacks rows is a wrong answer to the person who
 * asked.  Where row-level security could hide rows from the owners, each
 * table's rows of the subject are counted again with full visibility
 * (subject.c rt_subject_count_all_rows); rows hidden from the owner fail
 * the request (SQLSTATE RTA01), naming the table, the count and the
 * policies (docs/reference.md#retentionsubject_datakind-text-id-text--jsonb).
 */
#include "postgres.h"

#include "access/relation.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "audit.h"
#include "erasure.h"
#include "privilege.h"
#include "quote.h"
#include "safe_spi.h"
#include "subject.h"
#include "tag.h"


/* Appends {"column": "category", ...} for the tagged columns of relid. */
static void
rt_append_categories(StringInfo buf, Oid relid)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	bool		first = true;

	appendStringInfoChar(buf, '{');
	for (int i = 0; i < desc->natts; i++)
	{
		char	   *category;
		char	   *mask;

		if (TupleDescAttr(desc, i)->attisdropped ||
			!rt_tag_lookup(relid, i + 1, &category, &mask))
			continue;
		if (!first)
			appendStringInfoString(buf, ", ");
		first = false;
		escape_json(buf, NameStr(TupleDescAttr(desc, i)->attname));
		appendStringInfoString(buf, ": ");
		escape_json(buf, category);
	}
	appendStringInfoChar(buf, '}');
	relation_close(rel, AccessShareLock);
}

/*
 * Raises access_incomplete (RTA01) when row-level security (on one of
 * rls_tables) hides rows of the subject in t from its owner: seen rows
 * were read, the count with full visibility differs.
 */
static void
rt_check_nothing_hidden(const RtSubjectKind *k, const RtSubjectTable *t, Datum key, List *rls_tables,
						int64 seen)
{
	int64		all;

	if (rls_tables == NIL)
		return;
	all = rt_subject_count_all_rows(k, t->relid, false, t->belongs, k->key_type, key);
	if (all == seen)
		return;
	ereport(ERROR,
			(errcode(RT_ERRCODE_ACCESS_INCOMPLETE),
			 all < 0 ?
			 errmsg("access request for a data subject of kind \"%s\" cannot tell whether rows of table %s are hidden from it",
					k->kind, rt_relation_name(t->relid)) :
			 errmsg("access request for a data subject of kind \"%s\" would lack " INT64_FORMAT " row%s of table %s",
					k->kind, all - seen, all - seen == 1 ? "" : "s", rt_relation_name(t->relid)),
			 all < 0 ?
			 errdetail("The %s; a document without such rows would not be all the database holds about the person.",
					   rt_subject_uncountable_cause(rls_tables)) :
			 errdetail("The table holds " INT64_FORMAT " row%s of the subject and its owner, as whom pg_retention reads it, sees " INT64_FORMAT ": %s. A document without them would not be all the database holds about the person.",
					   all, all == 1 ? "" : "s", seen, rt_subject_hidden_cause(rls_tables, t->relid, all - seen)),
			 errhint("Let the owners see every row (a policy that admits the table's owner, ALTER TABLE ... NO FORCE ROW LEVEL SECURITY, or one owner for the tables of the subject), then ask again.")));
}

/* Appends the rows of one graph table as "count" and "rows"; returns how many. */
static int64
rt_append_rows(StringInfo buf, const RtSubjectKind *k, const RtSubjectTable *t, Datum key, List *rls_tables)
{
	Oid			argtypes[1] = {k->key_type};
	Datum		values[1] = {key};
	RtSavedUser saved;
	char	   *sql;
	bool		isnull;
	int64		count;

	sql = psprintf("SELECT pg_catalog.count(*), COALESCE(pg_catalog.jsonb_agg("
				   "pg_catalog.to_jsonb(t) ORDER BY t.tableoid, t.ctid), '[]')::pg_catalog.text"
				   " FROM %s t WHERE %s", rt_relation_name(t->relid), t->belongs);
	rt_become_table_owner(t->relid, &saved);
	if (rt_spi_execute(sql, 1, argtypes, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the rows of %s", rt_relation_name(t->relid));
	rt_restore_user(&saved);
	count = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	appendStringInfo(buf, ", \"count\": " INT64_FORMAT ", \"rows\": %s", count,
					 TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull)));
	rt_check_nothing_hidden(k, t, key, rls_tables, count);
	return count;
}

/* Returns the name of a subject role as written in the document. */
static const char *
rt_role_word(RtSubjectRole role)
{
	return role == RT_SUBJECT_ROOT ? "subject" : role == RT_SUBJECT_OWNED ? "owned" : "referenced";
}

PG_FUNCTION_INFO_V1(retention_subject_data);

/* SQL: retention.subject_data(kind, id) returns every row of one data subject as jsonb. */
Datum
retention_subject_data(PG_FUNCTION_ARGS)
{
	char	   *kind;
	char	   *id;
	RtSubjectKind *k;
	Datum		key;
	StringInfoData buf;
	int64		total = 0;
	int			ntables = 0;
	Datum		result;
	RtSubjectTable *root = NULL;
	ListCell   *lc;
	MemoryContext caller_cxt = CurrentMemoryContext;
	List	   *rls_tables;

	rt_subject_request_args(fcinfo, "read the data of a data subject", &kind, &id);

	SPI_connect();
	k = rt_subject_kind(kind);
	key = rt_subject_key_datum(k, id, true);
	rls_tables = rt_subject_row_security_tables(k);

	/* the document outlives SPI_finish: build it in the caller's context */
	{
		MemoryContext old = MemoryContextSwitchTo(caller_cxt);

		initStringInfo(&buf);
		MemoryContextSwitchTo(old);
	}
	appendStringInfoString(&buf, "{\"kind\": ");
	escape_json(&buf, kind);
	appendStringInfoString(&buf, ", \"id\": ");
	escape_json(&buf, id);
	appendStringInfo(&buf, ", \"generated_at\": \"%s\", \"tables\": [",
					 timestamptz_to_str(GetCurrentTransactionStartTimestamp()));
	/* the subject's own table first, then what it owns, then what it references */
	foreach(lc, k->tables)
		if (((RtSubjectTable *) lfirst(lc))->role == RT_SUBJECT_ROOT)
			root = lfirst(lc);
	for (int pass = 0; pass < 3; pass++)
	{
		foreach(lc, k->tables)
		{
			RtSubjectTable *t = lfirst(lc);

			if ((pass == 0 && t != root) || (pass == 1 && t->role != RT_SUBJECT_OWNED) ||
				(pass == 2 && t->role != RT_SUBJECT_REFERENCED))
				continue;
			if (ntables++ > 0)
				appendStringInfoString(&buf, ", ");
			appendStringInfoString(&buf, "{\"table\": ");
			escape_json(&buf, rt_relation_name(t->relid));
			appendStringInfo(&buf, ", \"relation\": \"%s\"", rt_role_word(t->role));
			if (t->role != RT_SUBJECT_ROOT)
			{
				appendStringInfoString(&buf, ", \"via\": ");
				escape_json(&buf, t->via);
			}
			appendStringInfoString(&buf, ", \"personal_columns\": ");
			rt_append_categories(&buf, t->relid);
			total += rt_append_rows(&buf, k, t, key, rls_tables);
			appendStringInfoChar(&buf, '}');
		}
	}
	appendStringInfoString(&buf, "]}");
	{
		char	   *token = rt_erasure_subject_token(kind, rt_subject_canonical_id(k, key));

		rt_audit_append("subject_access", k->relid, total,
						psprintf("{\"kind\": %s, \"subject\": %s, \"tables\": %d}", rt_json_quote(kind),
								 token ? rt_json_quote(token) : "null", ntables));
	}
	SPI_finish();

	result = DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
	PG_RETURN_DATUM(result);
}
