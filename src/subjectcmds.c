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
#include "utils/syscache.h"

#include "audit.h"
#include "privilege.h"
#include "quote.h"
#include "srf.h"
#include "subject.h"

/*
 * Returns true when an index (its pg_index tuple) compares its one key
 * column as the erasure will: with the column's own collation and its
 * type's default operator class.  A unique index under another collation
 * ("C" on a case-insensitive column) lets two rows hold keys that the
 * erasure's equality takes for one subject.
 */
static bool
rt_index_uses_key_equality(HeapTuple tuple, Form_pg_attribute att)
{
	bool		isnull;
	oidvector  *collations = (oidvector *) DatumGetPointer(SysCacheGetAttr(INDEXRELID, tuple,
																		  Anum_pg_index_indcollation, &isnull));
	oidvector  *classes = (oidvector *) DatumGetPointer(SysCacheGetAttr(INDEXRELID, tuple,
																	   Anum_pg_index_indclass, &isnull));
	Oid			opclass = classes->values[0];

	if (collations->values[0] != att->attcollation)
		return false;
	return opclass == GetDefaultOpClass(att->atttypid, BTREE_AM_OID) ||
		opclass == GetDefaultOpClass(att->atttypid, HASH_AM_OID);
}

/* Returns true when a unique index or primary key of rel has exactly attnum as its key. */
static bool
rt_is_unique_column(Relation rel, AttrNumber attnum)
{
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;
	bool		found = false;

	foreach(lc, indexes)
	{
		HeapTuple	tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(lc)));
		Form_pg_index index;

		if (!HeapTupleIsValid(tuple))
			continue;
		index = (Form_pg_index) GETSTRUCT(tuple);
		if (index->indisunique && index->indnkeyatts == 1 && index->indkey.values[0] == attnum &&
			heap_attisnull(tuple, Anum_pg_index_indpred, NULL) &&
			heap_attisnull(tuple, Anum_pg_index_indexprs, NULL) &&
			rt_index_uses_key_equality(tuple, TupleDescAttr(RelationGetDescr(rel), attnum - 1)))
			found = true;
		ReleaseSysCache(tuple);
	}
	list_free(indexes);
	return found;
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
	if (!rt_is_unique_column(rel, attnum))
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
	Oid			types[1] = {TEXTOID};
	Datum		values[1];

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("kind must not be null")));
	kind = text_to_cstring(PG_GETARG_TEXT_PP(0));
	values[0] = CStringGetTextDatum(kind);
	SPI_connect();
	relid = rt_subject_kind_relid(kind);
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
