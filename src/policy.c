/*
 * policy.c
 *    Retention policies: add_policy, alter_policy, drop_policy and the
 *    catalog table behind the retention.policies view.
 *
 * Every check runs before anything is written, and all writes of one call
 * happen in the caller's transaction, so a call that fails changes
 * nothing.  The table stays share-locked while the policy is declared, so
 * a concurrent DROP COLUMN cannot slip between the check and the insert.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/catalog.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_am.h"
#include "catalog/pg_index.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/json.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "anonymize.h"
#include "audit.h"
#include "cutoff.h"
#include "pg_retention.h"
#include "policy.h"
#include "privilege.h"
#include "scheduler.h"
#include "tag.h"
#include "version.h"

#define RT_MAX_BATCH_SIZE 1000000

/* longest retention period: its cutoff must stay a valid timestamp for centuries */
#define RT_MAX_KEEP_YEARS 1000

/*
 * Returns the columns of policy_catalog an RtPolicy is built from; a
 * database still at 0.1.0 has no partition columns (their defaults stand in).
 */
static const char *
rt_policy_columns(void)
{
	return rt_sql_objects_at_least("0.2.0") ?
		"policy_id, relid::pg_catalog.oid, keep, anchor, action, columns, "
		"batch_size, basis, time_zone, enabled, partition_action, detach_schema" :
		"policy_id, relid::pg_catalog.oid, keep, anchor, action, columns, "
		"batch_size, basis, time_zone, enabled, NULL::pg_catalog.text, NULL::pg_catalog.name";
}

/* Returns the SQL name of an action. */
const char *
rt_action_name(RtAction action)
{
	return action == RT_ACTION_DELETE ? "delete" : "anonymize";
}

/* Returns the SQL name of a partition action. */
const char *
rt_partition_action_name(RtPartitionAction action)
{
	switch (action)
	{
		case RT_PARTITION_DROP:
			return "drop";
		case RT_PARTITION_DETACH:
			return "detach";
		case RT_PARTITION_ROWS:
			return "rows";
	}
	return "drop";				/* keep the compiler quiet */
}

/* Parses a partition action; raises invalid_parameter_value for an unknown one. */
static RtPartitionAction
rt_partition_action_parse(const char *name, Oid relid)
{
	if (strcmp(name, "drop") == 0)
		return RT_PARTITION_DROP;
	if (strcmp(name, "detach") == 0)
		return RT_PARTITION_DETACH;
	if (strcmp(name, "rows") == 0)
		return RT_PARTITION_ROWS;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown partition_action \"%s\" for a policy on table %s", name,
					rt_relation_name(relid)),
			 errhint("Use drop (detach and drop a partition wholly past the cutoff), detach (detach it and keep it) or rows (delete its rows by batches).")));
	return RT_PARTITION_DROP;	/* keep the compiler quiet */
}

/* Parses an action name; raises invalid_parameter_value for an unknown one. */
static RtAction
rt_action_parse(const char *name, Oid relid)
{
	if (strcmp(name, "delete") == 0)
		return RT_ACTION_DELETE;
	if (strcmp(name, "anonymize") == 0)
		return RT_ACTION_ANONYMIZE;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown action \"%s\" for a policy on table %s", name,
					rt_relation_name(relid)),
			 errhint("Use delete (remove expired rows) or anonymize (replace their tagged columns by their masks).")));
	return RT_ACTION_DELETE;	/* keep the compiler quiet */
}

/* Returns the schema-qualified, quoted name of a relation ("s"."t"). */
char *
rt_relation_name(Oid relid)
{
	char	   *relname = get_rel_name(relid);
	Oid			nsp;

	if (relname == NULL)
		return psprintf("(dropped relation %u)", relid);
	nsp = get_rel_namespace(relid);
	/* the session's own temporary schema is spelled as users spell it */
	return quote_qualified_identifier(isTempNamespace(nsp) ? "pg_temp" : get_namespace_name(nsp),
									  relname);
}

/* Returns the batch size a policy runs with. */
int
rt_policy_batch_size(const RtPolicy *policy)
{
	return policy->batch_size > 0 ? policy->batch_size : rt_batch_size;
}

/* Builds an RtPolicy from a row of rt_policy_columns(), in the current memory context. */
static RtPolicy *
rt_policy_from_tuple(HeapTuple tuple, TupleDesc desc)
{
	RtPolicy   *p = palloc0(sizeof(RtPolicy));
	bool		isnull;
	Datum		d;

	p->policy_id = DatumGetInt64(SPI_getbinval(tuple, desc, 1, &isnull));
	p->relid = DatumGetObjectId(SPI_getbinval(tuple, desc, 2, &isnull));
	p->keep = *DatumGetIntervalP(SPI_getbinval(tuple, desc, 3, &isnull));
	p->anchor = pstrdup(NameStr(*DatumGetName(SPI_getbinval(tuple, desc, 4, &isnull))));
	p->action = strcmp(TextDatumGetCString(SPI_getbinval(tuple, desc, 5, &isnull)),
					   "delete") == 0 ? RT_ACTION_DELETE : RT_ACTION_ANONYMIZE;
	d = SPI_getbinval(tuple, desc, 6, &isnull);
	if (!isnull)
	{
		Datum	   *elems;
		int			nelems;

		deconstruct_array(DatumGetArrayTypeP(d), NAMEOID, NAMEDATALEN, false,
						  TYPALIGN_CHAR, &elems, NULL, &nelems);
		for (int i = 0; i < nelems; i++)
			p->columns = lappend(p->columns, pstrdup(NameStr(*DatumGetName(elems[i]))));
	}
	d = SPI_getbinval(tuple, desc, 7, &isnull);
	p->batch_size = isnull ? 0 : DatumGetInt32(d);
	d = SPI_getbinval(tuple, desc, 8, &isnull);
	p->basis = isnull ? NULL : TextDatumGetCString(d);
	p->time_zone = TextDatumGetCString(SPI_getbinval(tuple, desc, 9, &isnull));
	p->enabled = DatumGetBool(SPI_getbinval(tuple, desc, 10, &isnull));
	d = SPI_getbinval(tuple, desc, 11, &isnull);
	p->partition_action = isnull ? RT_PARTITION_DROP :
		rt_partition_action_parse(TextDatumGetCString(d), p->relid);
	d = SPI_getbinval(tuple, desc, 12, &isnull);
	p->detach_schema = isnull ? NULL : pstrdup(NameStr(*DatumGetName(d)));
	return p;
}

/* Returns the policies (enabled ones, or all), every one or those on relid, ordered by id. */
List *
rt_policy_list(Oid relid, bool include_disabled)
{
	Oid			argtypes[2] = {OIDOID, BOOLOID};
	Datum		values[2] = {ObjectIdGetDatum(relid), BoolGetDatum(include_disabled)};
	List	   *result = NIL;

	rt_catalog_exec(psprintf("SELECT %s FROM retention.policy_catalog"
							 " WHERE (enabled OR $2) AND ($1 OPERATOR(pg_catalog.=) 0"
							 " OR relid::pg_catalog.oid OPERATOR(pg_catalog.=) $1)"
							 " ORDER BY policy_id", rt_policy_columns()),
					2, argtypes, values, NULL, false, SPI_OK_SELECT);
	for (uint64 i = 0; i < SPI_processed; i++)
		result = lappend(result, rt_policy_from_tuple(SPI_tuptable->vals[i],
													  SPI_tuptable->tupdesc));
	return result;
}

/* Returns the policy with this id (locked FOR SHARE when lock is set), or NULL. */
RtPolicy *
rt_policy_get(int64 policy_id, bool lock)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(policy_id)};

	rt_catalog_exec(psprintf("SELECT %s FROM retention.policy_catalog"
							 " WHERE policy_id OPERATOR(pg_catalog.=) $1%s",
							 rt_policy_columns(), lock ? " FOR SHARE" : ""),
					1, argtypes, values, NULL, false, SPI_OK_SELECT);
	if (SPI_processed == 0)
		return NULL;
	return rt_policy_from_tuple(SPI_tuptable->vals[0], SPI_tuptable->tupdesc);
}

/* Returns true when two policies would act the same. */
bool
rt_policy_same(const RtPolicy *a, const RtPolicy *b)
{
	ListCell   *la,
			   *lb;

	if (a->relid != b->relid || a->action != b->action || a->enabled != b->enabled ||
		memcmp(&a->keep, &b->keep, sizeof(Interval)) != 0 ||
		strcmp(a->anchor, b->anchor) != 0 || strcmp(a->time_zone, b->time_zone) != 0 ||
		list_length(a->columns) != list_length(b->columns))
		return false;
	forboth(la, a->columns, lb, b->columns)
	{
		if (strcmp(lfirst(la), lfirst(lb)) != 0)
			return false;
	}
	return true;
}

/* Returns the anchor type of a policy's column in rel, raising an error if unusable. */
RtAnchorType
rt_policy_anchor_type(const RtPolicy *policy, Relation rel)
{
	AttrNumber	attnum = get_attnum(RelationGetRelid(rel), policy->anchor);
	RtAnchorType anchor_type;
	Form_pg_attribute att;

	if (attnum == InvalidAttrNumber || attnum < 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column %s of table %s does not exist",
						quote_identifier(policy->anchor),
						rt_relation_name(RelationGetRelid(rel))),
				 errhint("The anchor (\"after\") of a policy is a date, timestamp or timestamptz column of its table.")));
	att = TupleDescAttr(RelationGetDescr(rel), attnum - 1);
	if (!rt_anchor_type_of(att->atttypid, &anchor_type))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column %s of table %s is of type %s, which cannot anchor a retention period",
						quote_identifier(policy->anchor),
						rt_relation_name(RelationGetRelid(rel)),
						format_type_be(att->atttypid)),
				 errhint("The anchor (\"after\") must be a date, timestamp or timestamptz column; a text column holding dates needs a typed column first.")));
	return anchor_type;
}

/* Returns the access method of a relation (an index's: btree, hash, ...). */
static Oid
rt_relation_am(Oid relid)
{
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			am = InvalidOid;

	if (HeapTupleIsValid(tuple))
	{
		am = ((Form_pg_class) GETSTRUCT(tuple))->relam;
		ReleaseSysCache(tuple);
	}
	return am;
}

/* Returns true when a valid, non-partial btree index of rel has attnum as its first key. */
bool
rt_has_anchor_index(Relation rel, AttrNumber attnum)
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
		if (index->indisvalid && index->indkey.values[0] == attnum &&
			heap_attisnull(tuple, Anum_pg_index_indpred, NULL) &&
			rt_relation_am(index->indexrelid) == BTREE_AM_OID)
			found = true;
		ReleaseSysCache(tuple);
	}
	list_free(indexes);
	return found;
}

/*
 * Checks a complete policy against its (share-locked) table and raises an
 * error naming the table or column for the first thing that is wrong.
 */
static void
rt_policy_validate(RtPolicy *p, Relation rel)
{
	char	   *relname = rt_relation_name(RelationGetRelid(rel));
	char		relkind = rel->rd_rel->relkind;
	double		keep_seconds = rt_interval_seconds(&p->keep);
	ListCell   *lc;

	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s is not a table", relname),
				 errhint("Policies apply to ordinary and partitioned tables, not to views, materialized views or foreign tables; put the policy on the table the view reads.")));
	if (rel->rd_rel->relpersistence == RELPERSISTENCE_TEMP)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot declare a retention policy on temporary table %s", relname),
				 errhint("A temporary table lives only as long as its session.")));
	rt_require_table_owner(RelationGetRelid(rel), "declare a retention policy on it");

#if PG_VERSION_NUM >= 170000
	if (INTERVAL_NOT_FINITE(&p->keep))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("retention period of a policy on %s must be finite", relname),
				 errhint("To keep rows forever, declare no policy, or disable it.")));
#endif
	if (keep_seconds <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("retention period of a policy on %s must be positive, not %s",
						relname,
						rt_interval_text(&p->keep)),
				 errhint("Give the period rows are kept, such as interval '90 days'.")));
	/*
	 * '1 mon -29 days' is positive counted in 30-day months, yet a cutoff
	 * after a 28-day February lies after as_of: no part may be negative.
	 */
	if (p->keep.month < 0 || p->keep.day < 0 || p->keep.time < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("retention period %s of a policy on %s has a negative part",
						rt_interval_text(&p->keep), relname),
				 errhint("Months, days and time must each be positive or zero: with calendar months, a negative part can put the cutoff after as_of.")));
	if (keep_seconds > RT_MAX_KEEP_YEARS * 365.25 * SECS_PER_DAY)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("retention period %s of a policy on %s is longer than %d years",
						rt_interval_text(&p->keep), relname, RT_MAX_KEEP_YEARS),
				 errhint("To keep rows forever, declare no policy, or disable it.")));
	if (keep_seconds < rt_min_keep_seconds)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("retention period %s of a policy on %s is shorter than retention.min_keep (%d seconds)",
						rt_interval_text(&p->keep),
						relname, rt_min_keep_seconds),
				 errhint("Write the unit, as in interval '10 days' (a bare '10' means 10 seconds). If so short a period is meant, a superuser may lower retention.min_keep first.")));

	(void) rt_policy_anchor_type(p, rel);

	if (p->batch_size < 0 || p->batch_size > RT_MAX_BATCH_SIZE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("batch size %d of a policy on %s is out of range", p->batch_size, relname),
				 errhint("Give a number of rows from 1 to %d, or NULL (0 in alter_policy) for retention.batch_size.",
						 RT_MAX_BATCH_SIZE)));
	if (!rt_time_zone_valid(p->time_zone))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("time zone \"%s\" of a policy on %s is not recognized", p->time_zone, relname),
				 errhint("Use a name from pg_timezone_names, such as 'UTC' or 'Asia/Shanghai'; offsets such as '+08' are refused because POSIX reads their sign backwards.")));
	p->time_zone = rt_canonical_time_zone(p->time_zone);

	if (p->action == RT_ACTION_DELETE && p->columns != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a delete policy on %s takes no columns", relname),
				 errhint("columns chooses which tagged columns an anonymize policy masks; a delete policy removes whole rows.")));
	foreach(lc, p->columns)
	{
		char	   *col = lfirst(lc);
		AttrNumber	attnum = get_attnum(RelationGetRelid(rel), col);
		char	   *category;
		char	   *mask;

		if (attnum == InvalidAttrNumber || attnum < 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column %s of table %s does not exist", quote_identifier(col), relname)));
		if (!rt_tag_lookup_inherited(RelationGetRelid(rel), col, InvalidOid, &category, &mask))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("column %s of table %s is not tagged", quote_identifier(col), relname),
					 errhint("An anonymize policy masks tagged columns; tag it first with retention.tag().")));
		for (ListCell *lc2 = lnext(p->columns, lc); lc2 != NULL; lc2 = lnext(p->columns, lc2))
			if (strcmp(col, lfirst(lc2)) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("column %s is listed twice in a policy on %s", quote_identifier(col), relname)));
	}
	if (p->action == RT_ACTION_ANONYMIZE && p->columns == NIL)
	{
		TupleDesc	desc = RelationGetDescr(rel);
		bool		any = false;
		char	   *category;
		char	   *mask;

		for (int i = 0; i < desc->natts && !any; i++)
			if (!TupleDescAttr(desc, i)->attisdropped &&
				rt_tag_lookup_inherited(RelationGetRelid(rel), NameStr(TupleDescAttr(desc, i)->attname),
										InvalidOid, &category, &mask))
				any = true;
		if (!any)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("table %s has no tagged columns to anonymize", relname),
					 errhint("Tag its personal columns with retention.tag() first.")));
	}
	if (p->detach_schema != NULL)
	{
		Oid			nsp = get_namespace_oid(p->detach_schema, true);

		if (p->partition_action != RT_PARTITION_DETACH)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("detach_schema of a policy on %s needs partition_action 'detach'", relname),
					 errhint("detach_schema names the schema that keeps the partitions a policy detaches.")));
		if (!OidIsValid(nsp))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_SCHEMA),
					 errmsg("schema %s, the detach_schema of a policy on %s, does not exist",
							quote_identifier(p->detach_schema), relname)));
		if (IsCatalogNamespace(nsp) || IsToastNamespace(nsp) || isAnyTempNamespace(nsp))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("schema %s cannot keep the partitions a policy on %s detaches",
							quote_identifier(p->detach_schema), relname),
					 errhint("Choose an ordinary schema.")));
		/* the partitions move there as the table's owner, who declares the policy */
		if (rt_namespace_aclcheck(nsp, GetUserId(), ACL_CREATE) != ACLCHECK_OK)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied for schema %s, the detach_schema of a policy on %s",
							quote_identifier(p->detach_schema), relname),
					 errhint("The owner of the table needs CREATE on the schema that keeps its detached partitions.")));
	}

	/* every mask the policy applies must fit every table it reaches */
	if (p->action == RT_ACTION_ANONYMIZE)
		rt_anon_validate_policy(p, rel);
}

/* Emits a NOTICE when no index lets a run read only the expired rows. */
static void
rt_policy_advise_index(const RtPolicy *p, Relation rel)
{
	AttrNumber	attnum = get_attnum(RelationGetRelid(rel), p->anchor);

	if (p->action == RT_ACTION_ANONYMIZE)
	{
		rt_anon_advise_index(p, rel);
		return;
	}
	if (!rt_has_anchor_index(rel, attnum))
		ereport(NOTICE,
				(errmsg("table %s has no index on %s; every run of this policy reads the whole table",
						rt_relation_name(RelationGetRelid(rel)), quote_identifier(p->anchor)),
				 errhint("CREATE INDEX ON %s (%s) lets runs read only the expired rows.",
						 rt_relation_name(RelationGetRelid(rel)), quote_identifier(p->anchor))));
}

/* Returns a name[] datum for a list of column names, or a NULL flag when the list is empty. */
static Datum
rt_columns_datum(List *columns, char *isnull)
{
	Datum	   *elems;
	int			i = 0;
	ListCell   *lc;

	if (columns == NIL)
	{
		*isnull = 'n';
		return (Datum) 0;
	}
	elems = palloc(sizeof(Datum) * list_length(columns));
	foreach(lc, columns)
	{
		Name		n = palloc0(NAMEDATALEN);

		namestrcpy(n, lfirst(lc));
		elems[i++] = NameGetDatum(n);
	}
	*isnull = ' ';
	return PointerGetDatum(construct_array(elems, i, NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR));
}

/* Reads a name[] argument into a list of column names (an empty array gives NIL). */
static List *
rt_columns_arg(Datum arg)
{
	ArrayType  *arr = DatumGetArrayTypeP(arg);
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	List	   *result = NIL;

	deconstruct_array(arr, NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("columns must not contain null")));
		result = lappend(result, pstrdup(NameStr(*DatumGetName(elems[i]))));
	}
	return result;
}

/* Builds the details of a policy as jsonb text for the audit trail. */
char *
rt_policy_details(const RtPolicy *p)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"policy_id\": " INT64_FORMAT ", \"keep\": ", p->policy_id);
	escape_json(&buf, rt_interval_text(&p->keep));
	appendStringInfoString(&buf, ", \"after\": ");
	escape_json(&buf, p->anchor);
	appendStringInfo(&buf, ", \"action\": \"%s\", \"columns\": ", rt_action_name(p->action));
	if (p->columns == NIL)
		appendStringInfoString(&buf, "null");
	else
	{
		appendStringInfoChar(&buf, '[');
		foreach(lc, p->columns)
		{
			if (lc != list_head(p->columns))
				appendStringInfoString(&buf, ", ");
			escape_json(&buf, lfirst(lc));
		}
		appendStringInfoChar(&buf, ']');
	}
	if (p->batch_size > 0)
		appendStringInfo(&buf, ", \"batch_size\": %d", p->batch_size);
	else
		appendStringInfoString(&buf, ", \"batch_size\": null");
	appendStringInfoString(&buf, ", \"basis\": ");
	if (p->basis)
		escape_json(&buf, p->basis);
	else
		appendStringInfoString(&buf, "null");
	appendStringInfoString(&buf, ", \"time_zone\": ");
	escape_json(&buf, p->time_zone);
	appendStringInfo(&buf, ", \"enabled\": %s, \"partition_action\": \"%s\", \"detach_schema\": ",
					 p->enabled ? "true" : "false", rt_partition_action_name(p->partition_action));
	if (p->detach_schema)
		escape_json(&buf, p->detach_schema);
	else
		appendStringInfoString(&buf, "null");
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/* Raises an error if an argument the SQL signature requires is NULL. */
static void
rt_require_arg(FunctionCallInfo fcinfo, int argno, const char *name)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", name)));
}

/* Refuses a policy that would act exactly as an existing one on the same table. */
static void
rt_refuse_duplicate(const RtPolicy *p)
{
	List	   *existing = rt_policy_list(p->relid, true);
	ListCell   *lc;

	foreach(lc, existing)
	{
		RtPolicy   *other = lfirst(lc);
		RtPolicy	same = *p;

		same.enabled = other->enabled;
		if (rt_policy_same(other, &same))
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("retention policy " INT64_FORMAT " on %s already does this",
							other->policy_id, rt_relation_name(p->relid)),
					 errhint("Change it with retention.alter_policy(" INT64_FORMAT ", ...) instead.",
							 other->policy_id)));
	}
}

PG_FUNCTION_INFO_V1(retention_add_policy);

/*
 * SQL: retention.add_policy(tbl, keep, after, action, columns, batch_size,
 * basis, time_zone, partition_action, detach_schema).
 */
Datum
retention_add_policy(PG_FUNCTION_ARGS)
{
	RtPolicy	p;
	Relation	rel;
	Oid			argtypes[11] = {REGCLASSOID, INTERVALOID, NAMEOID, TEXTOID, NAMEARRAYOID,
	INT4OID, TEXTOID, TEXTOID, NAMEOID, TEXTOID, NAMEOID};
	Datum		values[11];
	char		nulls[11] = "           ";
	bool		isnull;
	NameData	creator;

	rt_require_arg(fcinfo, 0, "tbl");
	rt_require_arg(fcinfo, 1, "keep (the retention period)");
	rt_require_arg(fcinfo, 2, "after (the anchor column)");
	rt_require_arg(fcinfo, 3, "action");

	memset(&p, 0, sizeof(p));
	p.relid = PG_GETARG_OID(0);
	p.keep = *PG_GETARG_INTERVAL_P(1);
	p.anchor = pstrdup(NameStr(*PG_GETARG_NAME(2)));
	p.enabled = true;

	/* who may, before any lock: a stranger must not queue behind the table's DDL */
	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(p.relid)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", p.relid)));
	rt_require_table_owner(p.relid, "declare a retention policy on it");
	rt_refuse_system_relation(p.relid, "declare a retention policy on it");
	rel = try_relation_open(p.relid, AccessShareLock);
	if (rel == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", p.relid)));
	p.action = rt_action_parse(text_to_cstring(PG_GETARG_TEXT_PP(3)), p.relid);
	p.columns = PG_ARGISNULL(4) ? NIL : rt_columns_arg(PG_GETARG_DATUM(4));
	if (!PG_ARGISNULL(5) && PG_GETARG_INT32(5) <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("batch size %d of a policy on %s is out of range",
						PG_GETARG_INT32(5), rt_relation_name(p.relid)),
				 errhint("Give a number of rows from 1 to %d, or NULL (0 in alter_policy) for retention.batch_size.",
						 RT_MAX_BATCH_SIZE)));
	p.batch_size = PG_ARGISNULL(5) ? 0 : PG_GETARG_INT32(5);
	p.basis = PG_ARGISNULL(6) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(6));
	p.time_zone = PG_ARGISNULL(7) ? rt_session_time_zone() : text_to_cstring(PG_GETARG_TEXT_PP(7));
	/* the 0.1.0 declaration has eight arguments */
	p.partition_action = PG_NARGS() <= 8 || PG_ARGISNULL(8) ? RT_PARTITION_DROP :
		rt_partition_action_parse(text_to_cstring(PG_GETARG_TEXT_PP(8)), p.relid);
	p.detach_schema = PG_NARGS() <= 9 || PG_ARGISNULL(9) ? NULL : pstrdup(NameStr(*PG_GETARG_NAME(9)));

	rt_policy_validate(&p, rel);

	SPI_connect();
	rt_refuse_duplicate(&p);
	namestrcpy(&creator, GetUserNameFromId(GetUserId(), false));
	values[0] = ObjectIdGetDatum(p.relid);
	values[1] = IntervalPGetDatum(&p.keep);
	values[2] = PG_GETARG_DATUM(2);
	values[3] = CStringGetTextDatum(rt_action_name(p.action));
	values[4] = rt_columns_datum(p.columns, &nulls[4]);
	values[5] = Int32GetDatum(p.batch_size);
	if (p.batch_size == 0)
		nulls[5] = 'n';
	values[6] = p.basis ? CStringGetTextDatum(p.basis) : (Datum) 0;
	if (p.basis == NULL)
		nulls[6] = 'n';
	values[7] = CStringGetTextDatum(p.time_zone);
	values[8] = NameGetDatum(&creator);
	values[9] = CStringGetTextDatum(rt_partition_action_name(p.partition_action));
	values[10] = p.detach_schema ? PG_GETARG_DATUM(9) : (Datum) 0;
	if (p.detach_schema == NULL)
		nulls[10] = 'n';
	rt_catalog_exec(rt_sql_objects_at_least("0.2.0") ?
					"INSERT INTO retention.policy_catalog"
					" (relid, keep, anchor, action, columns, batch_size, basis, time_zone, created_by,"
					" partition_action, detach_schema)"
					" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING policy_id" :
					"INSERT INTO retention.policy_catalog"
					" (relid, keep, anchor, action, columns, batch_size, basis, time_zone, created_by)"
					" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING policy_id",
					11, argtypes, values, nulls, false, SPI_OK_INSERT_RETURNING);
	p.policy_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	rt_audit_append("policy_added", p.relid, -1, rt_policy_details(&p));
	SPI_finish();

	rt_policy_advise_index(&p, rel);
	relation_close(rel, NoLock);
	PG_RETURN_INT64(p.policy_id);
}

/*
 * Loads a policy for a change by its owner: locks its row and its table,
 * checks rights.  With missing_ok, a superuser gets the policy of a table
 * that no longer exists, with *rel NULL.
 */
static RtPolicy *
rt_policy_for_change(int64 policy_id, Relation *rel, const char *what, bool missing_ok)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(policy_id)};
	RtPolicy   *p;

	rt_catalog_exec(psprintf("SELECT %s FROM retention.policy_catalog"
							 " WHERE policy_id OPERATOR(pg_catalog.=) $1 FOR UPDATE", rt_policy_columns()),
					1, argtypes, values, NULL, false, SPI_OK_SELECT);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("retention policy " INT64_FORMAT " does not exist", policy_id),
				 errhint("See retention.policies for the declared policies.")));
	p = rt_policy_from_tuple(SPI_tuptable->vals[0], SPI_tuptable->tupdesc);
	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(p->relid)))
	{
		/* a table dropped behind the event trigger's back: a superuser may clean up */
		if (!missing_ok || !superuser())
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("table of retention policy " INT64_FORMAT " no longer exists", policy_id),
					 errhint("A superuser can drop the policy with retention.drop_policy(" INT64_FORMAT ").",
							 policy_id)));
		*rel = NULL;
		return p;
	}
	rt_require_table_owner(p->relid, what);
	*rel = try_relation_open(p->relid, AccessShareLock);
	if (*rel == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table of retention policy " INT64_FORMAT " no longer exists", policy_id)));
	return p;
}

PG_FUNCTION_INFO_V1(retention_alter_policy);

/*
 * SQL: retention.alter_policy(policy_id, keep, after, action, columns,
 * batch_size, basis, time_zone, enabled, partition_action, detach_schema).
 */
Datum
retention_alter_policy(PG_FUNCTION_ARGS)
{
	int64		policy_id;
	RtPolicy   *p;
	Relation	rel;
	Oid			argtypes[11] = {INT8OID, INTERVALOID, NAMEOID, TEXTOID, NAMEARRAYOID,
	INT4OID, TEXTOID, TEXTOID, BOOLOID, TEXTOID, NAMEOID};
	Datum		values[11];
	char		nulls[11] = "           ";
	NameData	anchor;
	NameData	detach_schema;
	char	   *before;

	rt_require_arg(fcinfo, 0, "policy_id");
	policy_id = PG_GETARG_INT64(0);

	SPI_connect();
	p = rt_policy_for_change(policy_id, &rel, "alter its retention policy", false);
	before = rt_policy_details(p);

	if (!PG_ARGISNULL(1))
		p->keep = *PG_GETARG_INTERVAL_P(1);
	if (!PG_ARGISNULL(2))
		p->anchor = pstrdup(NameStr(*PG_GETARG_NAME(2)));
	if (!PG_ARGISNULL(3))
		p->action = rt_action_parse(text_to_cstring(PG_GETARG_TEXT_PP(3)), p->relid);
	if (!PG_ARGISNULL(4))
		p->columns = rt_columns_arg(PG_GETARG_DATUM(4));
	if (!PG_ARGISNULL(5))
		p->batch_size = PG_GETARG_INT32(5);
	if (!PG_ARGISNULL(6))
	{
		char	   *basis = text_to_cstring(PG_GETARG_TEXT_PP(6));

		p->basis = basis[0] == '\0' ? NULL : basis;
	}
	if (!PG_ARGISNULL(7))
		p->time_zone = text_to_cstring(PG_GETARG_TEXT_PP(7));
	if (!PG_ARGISNULL(8))
		p->enabled = PG_GETARG_BOOL(8);
	/* the 0.1.0 declaration has nine arguments */
	if (PG_NARGS() > 9 && !PG_ARGISNULL(9))
		p->partition_action = rt_partition_action_parse(text_to_cstring(PG_GETARG_TEXT_PP(9)), p->relid);
	if (PG_NARGS() > 10 && !PG_ARGISNULL(10))
	{
		char	   *schema = NameStr(*PG_GETARG_NAME(10));

		p->detach_schema = schema[0] == '\0' ? NULL : pstrdup(schema);
	}

	rt_policy_validate(p, rel);
	if (strcmp(before, rt_policy_details(p)) == 0)
	{
		/* nothing changes: nothing to write, nothing to record */
		SPI_finish();
		relation_close(rel, NoLock);
		PG_RETURN_VOID();
	}

	namestrcpy(&anchor, p->anchor);
	values[0] = Int64GetDatum(policy_id);
	values[1] = IntervalPGetDatum(&p->keep);
	values[2] = NameGetDatum(&anchor);
	values[3] = CStringGetTextDatum(rt_action_name(p->action));
	values[4] = rt_columns_datum(p->columns, &nulls[4]);
	values[5] = Int32GetDatum(p->batch_size);
	if (p->batch_size == 0)
		nulls[5] = 'n';
	values[6] = p->basis ? CStringGetTextDatum(p->basis) : (Datum) 0;
	if (p->basis == NULL)
		nulls[6] = 'n';
	values[7] = CStringGetTextDatum(p->time_zone);
	values[8] = BoolGetDatum(p->enabled);
	values[9] = CStringGetTextDatum(rt_partition_action_name(p->partition_action));
	if (p->detach_schema)
		namestrcpy(&detach_schema, p->detach_schema);
	values[10] = NameGetDatum(&detach_schema);
	if (p->detach_schema == NULL)
		nulls[10] = 'n';
	rt_catalog_exec(psprintf("UPDATE retention.policy_catalog SET keep = $2, anchor = $3, action = $4,"
							 " columns = $5, batch_size = $6, basis = $7, time_zone = $8, enabled = $9%s"
							 " WHERE policy_id OPERATOR(pg_catalog.=) $1",
							 rt_sql_objects_at_least("0.2.0") ?
							 ", partition_action = $10, detach_schema = $11" : ""),
					11, argtypes, values, nulls, false, SPI_OK_UPDATE);
	rt_audit_append("policy_altered", p->relid, -1, rt_policy_details(p));
	SPI_finish();

	relation_close(rel, NoLock);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(retention_drop_policy);

/* SQL: retention.drop_policy(policy_id) removes a policy (and nothing else). */
Datum
retention_drop_policy(PG_FUNCTION_ARGS)
{
	int64		policy_id;
	RtPolicy   *p;
	Relation	rel;
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1];

	rt_require_arg(fcinfo, 0, "policy_id");
	policy_id = PG_GETARG_INT64(0);
	values[0] = Int64GetDatum(policy_id);

	SPI_connect();
	p = rt_policy_for_change(policy_id, &rel, "drop its retention policy", true);
	rt_catalog_exec("DELETE FROM retention.policy_catalog WHERE policy_id OPERATOR(pg_catalog.=) $1",
					1, argtypes, values, NULL, false, SPI_OK_DELETE);
	rt_audit_append("policy_dropped", p->relid, -1, rt_policy_details(p));
	SPI_finish();

	if (rel != NULL)
		relation_close(rel, NoLock);
	PG_RETURN_VOID();
}
