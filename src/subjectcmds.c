/*
 * subjectcmds.c
 *    Declaring kinds of data subjects: retention.add_subject(),
 *    link_subject(), drop_subject(), and the retention.subject_graph view
 *    that shows the graph subject.c resolves (docs/reference.md#data-subjects).
 *
 * A kind's key must be unique under the equality an erasure uses, so that
 * erasing one subject never reaches another's rows.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "parser/parse_coerce.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"

#include "audit.h"
#include "citus.h"
#include "extension.h"
#include "privilege.h"
#include "quote.h"
#include "srf.h"
#include "subject.h"

/*
 * Returns true when an index (its pg_index tuple) compares its key column
 * at position i (attribute att) as the erasure will: with the column's own
 * collation and its type's default operator class.  A unique index under
 * another collation ("C" on a case-insensitive column) lets two rows hold
 * keys that the erasure's equality takes for one subject.
 */
static bool
rt_index_uses_key_equality(HeapTuple tuple, int i, Form_pg_attribute att)
{
	bool		isnull;
	oidvector  *collations = (oidvector *) DatumGetPointer(SysCacheGetAttr(INDEXRELID, tuple,
																		  Anum_pg_index_indcollation, &isnull));
	oidvector  *classes = (oidvector *) DatumGetPointer(SysCacheGetAttr(INDEXRELID, tuple,
																	   Anum_pg_index_indclass, &isnull));
	Oid			opclass = classes->values[i];

	if (collations->values[i] != att->attcollation)
		return false;
	return opclass == GetDefaultOpClass(att->atttypid, BTREE_AM_OID) ||
		opclass == GetDefaultOpClass(att->atttypid, HASH_AM_OID);
}

/*
 * Returns true when a unique index or primary key of rel has exactly the n
 * columns attnums as its key, in any order, each compared as the erasure
 * compares it (rt_index_uses_key_equality).
 */
static bool
rt_is_unique_columns(Relation rel, const AttrNumber *attnums, int n)
{
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;
	bool		found = false;

	foreach(lc, indexes)
	{
		HeapTuple	tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(lc)));
		Form_pg_index index;
		bool		all = true;

		if (!HeapTupleIsValid(tuple))
			continue;
		index = (Form_pg_index) GETSTRUCT(tuple);
		if (index->indisunique && index->indnkeyatts == n &&
			heap_attisnull(tuple, Anum_pg_index_indpred, NULL) &&
			heap_attisnull(tuple, Anum_pg_index_indexprs, NULL))
		{
			for (int i = 0; i < n && all; i++)
			{
				bool		member = false;

				for (int j = 0; j < n; j++)
					member |= attnums[j] == index->indkey.values[i];
				all = member &&
					rt_index_uses_key_equality(tuple, i,
											   TupleDescAttr(RelationGetDescr(rel), index->indkey.values[i] - 1));
			}
			found |= all;
		}
		ReleaseSysCache(tuple);
	}
	list_free(indexes);
	return found;
}

/*
 * On a Citus distributed table, refuses a key that leaves out the
 * distribution column: Citus keeps a unique index only with it, so no
 * other column can be unique alone, and a subject's rows are found on its
 * shard by it (docs/operations.md#citus).
 */
static void
rt_require_distribution_column(Oid relid, const char *kind, List *columns)
{
	char	   *dist = NULL;
	ListCell   *lc;

	if (rt_citus_table(relid, &dist) != RT_CITUS_DISTRIBUTED || dist == NULL)
		return;
	foreach(lc, columns)
		if (strcmp(lfirst(lc), dist) == 0)
			return;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_COLUMN_REFERENCE),
			 errmsg("the key of data subject kind \"%s\" on distributed table %s must include its distribution column %s",
					kind, rt_relation_name(relid), quote_identifier(dist)),
			 errdetail("Citus keeps unique indexes only with the distribution column, and finds a subject's rows on its shard by it."),
			 errhint("Declare a composite key, the distribution column first: retention.add_subject('%s', '%s', ARRAY['%s', '%s']).",
					 kind, rt_relation_name(relid), dist, (char *) linitial(columns))));
}

/* Returns column names as "a, b", each quoted as an identifier. */
static char *
rt_column_list(List *columns)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, columns)
		appendStringInfo(&buf, "%s%s", buf.len > 0 ? ", " : "", quote_identifier(lfirst(lc)));
	return buf.data;
}

/* Checks a kind name: 1 to 63 bytes, no leading or trailing blanks. */
static void
rt_check_kind_name(const char *kind)
{
	if (!rt_subject_kind_name_ok(kind))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid data subject kind \"%s\"", kind),
				 errhint("A kind is a name of 1 to 63 bytes without leading or trailing blanks, such as 'customer'.")));
}

/* Opens a table argument of the subject functions, checking kind of relation and ownership. */
static Relation
rt_open_subject_table(Oid relid, const char *what)
{
	Relation	rel;

	/* who may, before any lock: a stranger must not queue behind the table's DDL */
	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	rt_require_table_owner(relid, what);
	rel = try_relation_open(relid, AccessShareLock);
	if (rel == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	if (rel->rd_rel->relkind != RELKIND_RELATION && rel->rd_rel->relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s is not a table", rt_relation_name(relid)),
				 errhint("Data subjects live in ordinary or partitioned tables.")));
	rt_require_table_owner(relid, what);
	return rel;
}

/* Returns the attribute number of a column argument, or raises undefined_column. */
static AttrNumber
rt_subject_column(Oid relid, const char *col)
{
	AttrNumber	attnum = get_attnum(relid, col);

	if (attnum <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column %s of table %s does not exist", quote_identifier(col), rt_relation_name(relid)),
				 errhint("Column names are case-sensitive.")));
	return attnum;
}

PG_FUNCTION_INFO_V1(retention_add_subject);

/* SQL: retention.add_subject(kind, tbl, key) declares a kind of data subject. */
Datum
retention_add_subject(PG_FUNCTION_ARGS)
{
	char	   *kind;
	Oid			relid;
	char	   *key;
	Relation	rel;
	AttrNumber	attnum;
	Oid			types[4] = {TEXTOID, OIDOID, NAMEOID, NAMEOID};
	Datum		values[4];
	NameData	creator;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("kind, tbl and key must not be null")));
	kind = text_to_cstring(PG_GETARG_TEXT_PP(0));
	relid = PG_GETARG_OID(1);
	key = NameStr(*PG_GETARG_NAME(2));
	rt_check_kind_name(kind);
	rel = rt_open_subject_table(relid, "declare a kind of data subject on it");
	attnum = rt_subject_column(relid, key);
	rt_require_distribution_column(relid, kind, list_make1(key));
	if (!rt_is_unique_columns(rel, &attnum, 1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_COLUMN_REFERENCE),
				 errmsg("column %s of table %s is not a key: no unique index or primary key on it alone",
						quote_identifier(key), rt_relation_name(relid)),
				 errhint("A data subject's key identifies one row of its table, such as customer.customer_id; its unique index must compare with the column's own collation and its type's default operator class.")));
	/* a unique index covers one table: inheritance children may repeat the key */
	if (rel->rd_rel->relkind == RELKIND_RELATION && has_subclass(relid))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("table %s has inheritance children, whose rows may repeat the key %s",
						rt_relation_name(relid), quote_identifier(key)),
				 errhint("Declare the kind on a table without children, or on a partitioned table (whose unique key covers its partitions).")));

	SPI_connect();
	namestrcpy(&creator, GetUserNameFromId(GetUserId(), false));
	values[0] = CStringGetTextDatum(kind);
	values[1] = ObjectIdGetDatum(relid);
	values[2] = PG_GETARG_DATUM(2);
	values[3] = NameGetDatum(&creator);
	rt_catalog_exec("SELECT 1 FROM retention.subject_catalog WHERE kind OPERATOR(pg_catalog.=) $1",
					1, types, values, NULL, false, SPI_OK_SELECT);
	if (SPI_processed > 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("data subject kind \"%s\" already exists", kind),
				 errhint("Drop it first with retention.drop_subject('%s').", kind)));
	rt_catalog_exec("INSERT INTO retention.subject_catalog (kind, relid, key_column, created_by)"
					" VALUES ($1, $2, $3, $4)", 4, types, values, NULL, false, SPI_OK_INSERT);
	rt_audit_append("subject_added", relid, -1,
					psprintf("{\"kind\": %s, \"key\": %s}", rt_json_quote(kind), rt_json_quote(key)));
	SPI_finish();
	relation_close(rel, NoLock);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(retention_add_subject_composite);

/*
 * SQL: retention.add_subject(kind, tbl, key name[]) declares a kind of data
 * subject whose key is several columns together, such as a tenant and an
 * account id on a table distributed by the tenant.  Its ids are written as
 * rows: '(7,42)' (docs/reference.md#data-subjects).  The row type of the key
 * is created as retention."<kind> key".
 */
Datum
retention_add_subject_composite(PG_FUNCTION_ARGS)
{
	char	   *kind;
	Oid			relid;
	Relation	rel;
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *elemnulls;
	int			n;
	AttrNumber *attnums;
	List	   *columns = NIL;
	char	   *type_name;
	StringInfoData def;
	StringInfoData json;
	Oid			types[6] = {TEXTOID, OIDOID, NAMEOID, NAMEOID, TEXTARRAYOID, TEXTOID};
	Datum		values[6];
	NameData	creator;
	NameData	first;
	Datum	   *texts;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("kind, tbl and key must not be null")));
	kind = text_to_cstring(PG_GETARG_TEXT_PP(0));
	relid = PG_GETARG_OID(1);
	arr = PG_GETARG_ARRAYTYPE_P(2);
	rt_check_kind_name(kind);
	rel = rt_open_subject_table(relid, "declare a kind of data subject on it");
	deconstruct_array(arr, NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR, &elems, &elemnulls, &n);
	if (ARR_NDIM(arr) > 1 || n < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a composite key of data subject kind \"%s\" needs two columns or more", kind),
				 errhint("For a key of one column, give its name: retention.add_subject('%s', '%s', 'id').",
						 kind, rt_relation_name(relid))));
	attnums = palloc(sizeof(AttrNumber) * n);
	texts = palloc(sizeof(Datum) * n);
	for (int i = 0; i < n; i++)
	{
		char	   *col;

		if (elemnulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("key columns of data subject kind \"%s\" must not be null", kind)));
		col = pstrdup(NameStr(*DatumGetName(elems[i])));
		attnums[i] = rt_subject_column(relid, col);
		for (int j = 0; j < i; j++)
			if (attnums[j] == attnums[i])
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_COLUMN),
						 errmsg("column %s appears twice in the key of data subject kind \"%s\"",
								quote_identifier(col), kind)));
		columns = lappend(columns, col);
		texts[i] = CStringGetTextDatum(col);
	}
	rt_require_distribution_column(relid, kind, columns);
	if (!rt_is_unique_columns(rel, attnums, n))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_COLUMN_REFERENCE),
				 errmsg("columns (%s) of table %s are not a key: no unique index or primary key on exactly them",
						rt_column_list(columns), rt_relation_name(relid)),
				 errhint("A composite key identifies one row of its table, such as (tenant_id, account_id) with PRIMARY KEY (tenant_id, account_id); its unique index must compare each column with its own collation and its type's default operator class.")));
	if (rel->rd_rel->relkind == RELKIND_RELATION && has_subclass(relid))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("table %s has inheritance children, whose rows may repeat the key", rt_relation_name(relid)),
				 errhint("Declare the kind on a table without children, or on a partitioned table (whose unique key covers its partitions).")));
	type_name = psprintf("%s key", kind);
	if (strlen(type_name) >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("data subject kind \"%s\" is too long for a composite key", kind),
				 errdetail("Its key's row type is named after it, \"%s\", which must fit in %d bytes.", type_name, NAMEDATALEN - 1),
				 errhint("Choose a kind of at most %d bytes.", NAMEDATALEN - 5)));

	/* the row type of the key: field by field the columns' types and collations */
	initStringInfo(&def);
	appendStringInfo(&def, "CREATE TYPE %s.%s AS (", RT_SCHEMA_NAME, quote_identifier(type_name));
	for (int i = 0; i < n; i++)
	{
		Form_pg_attribute att = TupleDescAttr(RelationGetDescr(rel), attnums[i] - 1);

		appendStringInfo(&def, "%s%s %s", i > 0 ? ", " : "", quote_identifier(NameStr(att->attname)),
						 format_type_extended(att->atttypid, att->atttypmod,
											  FORMAT_TYPE_TYPEMOD_GIVEN | FORMAT_TYPE_FORCE_QUALIFY));
		if (OidIsValid(att->attcollation) && att->attcollation != get_typcollation(att->atttypid))
			appendStringInfo(&def, " COLLATE %s", generate_collation_name(att->attcollation));
	}
	appendStringInfoChar(&def, ')');

	SPI_connect();
	namestrcpy(&creator, GetUserNameFromId(GetUserId(), false));
	namestrcpy(&first, linitial(columns));
	values[0] = CStringGetTextDatum(kind);
	values[1] = ObjectIdGetDatum(relid);
	values[2] = NameGetDatum(&first);
	values[3] = NameGetDatum(&creator);
	values[4] = PointerGetDatum(construct_array(texts, n, TEXTOID, -1, false, TYPALIGN_INT));
	values[5] = CStringGetTextDatum(psprintf("%s.%s", RT_SCHEMA_NAME, quote_identifier(type_name)));
	if (!rt_sql_objects_at_least("0.3.0"))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("composite keys of data subjects need the extension's 0.3.0 objects"),
				 errhint("Run ALTER EXTENSION pg_retention UPDATE.")));
	rt_catalog_exec("SELECT 1 FROM retention.subject_catalog WHERE kind OPERATOR(pg_catalog.=) $1",
					1, types, values, NULL, false, SPI_OK_SELECT);
	if (SPI_processed > 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("data subject kind \"%s\" already exists", kind),
				 errhint("Drop it first with retention.drop_subject('%s').", kind)));
	rt_catalog_exec(def.data, 0, NULL, NULL, NULL, false, SPI_OK_UTILITY);
	rt_catalog_exec("INSERT INTO retention.subject_catalog (kind, relid, key_column, created_by, key_columns, key_type)"
					" VALUES ($1, $2, $3, $4, $5::pg_catalog.name[], $6::pg_catalog.regtype)",
					6, types, values, NULL, false, SPI_OK_INSERT);
	initStringInfo(&json);
	appendStringInfo(&json, "{\"kind\": %s, \"key\": [", rt_json_quote(kind));
	for (int i = 0; i < n; i++)
		appendStringInfo(&json, "%s%s", i > 0 ? ", " : "", rt_json_quote(list_nth(columns, i)));
	appendStringInfoString(&json, "]}");
	rt_audit_append("subject_added", relid, -1, json.data);
	SPI_finish();
	relation_close(rel, NoLock);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(retention_link_subject);

/* SQL: retention.link_subject(kind, tbl, col) says that tbl.col holds the key of a kind without a foreign key. */
Datum
retention_link_subject(PG_FUNCTION_ARGS)
{
	char	   *kind;
	Oid			relid;
	char	   *col;
	Relation	rel;
	AttrNumber	attnum;
	Oid			coltype;
	RtSubjectKind *k;
	Oid			types[3] = {TEXTOID, OIDOID, NAMEOID};
	Datum		values[3];

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("kind, tbl and col must not be null")));
	kind = text_to_cstring(PG_GETARG_TEXT_PP(0));
	relid = PG_GETARG_OID(1);
	col = NameStr(*PG_GETARG_NAME(2));
	rel = rt_open_subject_table(relid, "link it to a kind of data subject");
	attnum = rt_subject_column(relid, col);
	coltype = get_atttype(relid, attnum);

	SPI_connect();
	k = rt_subject_kind(kind);
	if (relid == k->relid)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("table %s is the table of data subject kind \"%s\" itself", rt_relation_name(relid), kind),
				 errhint("link_subject names another table whose column holds the subject's key.")));
	if (k->key_columns != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("data subject kind \"%s\" has a composite key, which column %s of table %s cannot hold alone",
						kind, quote_identifier(col), rt_relation_name(relid)),
				 errhint("Declare a foreign key from the columns that hold the key together; the graph follows it.")));
	if (!can_coerce_type(1, &coltype, &k->key_type, COERCION_EXPLICIT))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column %s of table %s is of type %s, which cannot hold the key of data subject kind \"%s\" (%s)",
						quote_identifier(col), rt_relation_name(relid), format_type_be(coltype), kind,
						format_type_be(k->key_type))));
	values[0] = CStringGetTextDatum(kind);
	values[1] = ObjectIdGetDatum(relid);
	values[2] = PG_GETARG_DATUM(2);
	/* no foreign key keeps the kind (a restore loads the two tables in any order): lock it */
	rt_catalog_exec("SELECT 1 FROM retention.subject_catalog WHERE kind OPERATOR(pg_catalog.=) $1 FOR KEY SHARE",
					1, types, values, NULL, false, SPI_OK_SELECT);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("data subject kind \"%s\" does not exist", kind),
				 errhint("It was dropped while the link was being added.")));
	rt_catalog_exec("INSERT INTO retention.subject_link_catalog (kind, relid, column_name)"
					" VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", 3, types, values, NULL, false, SPI_OK_INSERT);
	rt_audit_append("subject_linked", relid, -1,
					psprintf("{\"kind\": %s, \"column\": %s}", rt_json_quote(kind), rt_json_quote(col)));
	SPI_finish();
	relation_close(rel, NoLock);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(retention_drop_subject);

/* SQL: retention.drop_subject(kind) forgets a kind of data subject and its links. */
Datum
retention_drop_subject(PG_FUNCTION_ARGS)
{
	char	   *kind;
	Oid			relid;
	Oid			key_type;
	Oid			types[1] = {TEXTOID};
	Datum		values[1];

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("kind must not be null")));
	kind = text_to_cstring(PG_GETARG_TEXT_PP(0));
	values[0] = CStringGetTextDatum(kind);
	SPI_connect();
	/* a composite key (0.3.0) has a row type of its own, made by add_subject */
	relid = rt_subject_kind_relid(kind, &key_type);
	if (SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
		rt_require_table_owner(relid, "drop its kind of data subject");
	else if (!superuser())
		/* a table dropped behind the event trigger's back: a superuser may clean up */
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("the table of data subject kind \"%s\" no longer exists", kind),
				 errhint("A superuser can drop the kind with retention.drop_subject().")));
	/* the links go with their kind (no foreign key cascades: see the 0.2.0 script) */
	rt_catalog_exec("DELETE FROM retention.subject_link_catalog WHERE kind OPERATOR(pg_catalog.=) $1",
					1, types, values, NULL, false, SPI_OK_DELETE);
	rt_catalog_exec("DELETE FROM retention.subject_catalog WHERE kind OPERATOR(pg_catalog.=) $1",
					1, types, values, NULL, false, SPI_OK_DELETE);
	/* a composite key's row type goes with its kind */
	if (OidIsValid(key_type))
		rt_catalog_exec(psprintf("DROP TYPE %s", format_type_be_qualified(key_type)),
						0, NULL, NULL, NULL, false, SPI_OK_UTILITY);
	rt_audit_append_named("subject_dropped", rt_relation_name(relid), -1,
						  psprintf("{\"kind\": %s}", rt_json_quote(kind)));
	SPI_finish();
	PG_RETURN_VOID();
}

/* Returns the name of a subject role as shown in retention.subject_graph. */
static const char *
rt_subject_role_name(RtSubjectRole role)
{
	switch (role)
	{
		case RT_SUBJECT_ROOT:
			return "subject";
		case RT_SUBJECT_OWNED:
			return "owned";
		case RT_SUBJECT_REFERENCED:
			return "referenced";
	}
	return "";
}

PG_FUNCTION_INFO_V1(retention_subject_graph);

/* SQL: retention.subject_graph() lists, per kind, the tables its rows are found in (view retention.subject_graph). */
Datum
retention_subject_graph(PG_FUNCTION_ARGS)
{
	RtSrf		srf;
	List	   *kinds;
	ListCell   *lc;

	rt_srf_begin(fcinfo, &srf);
	SPI_connect();
	kinds = rt_subject_kind_names();
	foreach(lc, kinds)
	{
		RtSubjectKind *k = rt_subject_kind(lfirst(lc));
		ListCell   *tc;
		int			order = 0;

		foreach(tc, k->tables)
		{
			RtSubjectTable *t = lfirst(tc);
			Datum		values[7];
			bool		nulls[7] = {false, false, false, false, false, false, false};
			Datum	   *cols = palloc(sizeof(Datum) * Max(1, list_length(t->link_columns)));
			int			n = 0;
			ListCell   *cc;

			foreach(cc, t->link_columns)
				cols[n++] = CStringGetTextDatum(strVal(lfirst(cc)));
			values[0] = CStringGetTextDatum(k->kind);
			values[1] = ObjectIdGetDatum(t->relid);
			values[2] = CStringGetTextDatum(rt_subject_role_name(t->role));
			values[3] = Int32GetDatum(t->depth);
			values[4] = CStringGetTextDatum(t->via);
			values[5] = PointerGetDatum(construct_array(cols, n, TEXTOID, -1, false, TYPALIGN_INT));
			values[6] = Int32GetDatum(++order);
			if (t->role == RT_SUBJECT_REFERENCED)
				nulls[5] = true;
			rt_srf_put(&srf, values, nulls);
		}
	}
	SPI_finish();
	return (Datum) 0;
}
