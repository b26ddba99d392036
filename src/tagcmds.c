/*
 * tagcmds.c
 *    Declaring tags on personal columns: retention.tag(), retention.untag(),
 *    the "retention" security-label provider that checks a plain SECURITY
 *    LABEL FOR retention command the same way, and the check of a table's
 *    tags after DDL (docs/reference.md#classification).
 *
 * retention.tag() and SECURITY LABEL go through the same checks: the
 * category is known, the mask parses and fits the column (its type, NOT
 * NULL, CHECK, UNIQUE -- also of a generated column computed from it --
 * and foreign keys, on the table and every table below it).  The library is loaded by CREATE EXTENSION in a restoring session,
 * so the labels pg_dump writes restore through this hook too.
 */
#include "postgres.h"

#include "access/relation.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "commands/seclabel.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "anonymize.h"
#include "audit.h"
#include "category.h"
#include "citus.h"
#include "extension.h"
#include "mask_spec.h"
#include "privilege.h"
#include "quote.h"
#include "safe_spi.h"
#include "tag.h"
#include "tagcmds.h"

/* Describes a column for messages: column "c" of table "s"."t". */
static char *
rt_describe_column(Relation rel, const char *colname)
{
	return psprintf("column %s of table %s", quote_identifier(colname),
					quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
											   RelationGetRelationName(rel)));
}

/* Raises an error unless rel is an ordinary or partitioned table. */
static void
rt_require_taggable_relation(Relation rel)
{
	char		relkind = rel->rd_rel->relkind;

	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s is not a table",
						quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
												   RelationGetRelationName(rel))),
				 errhint("Tags and policies apply to ordinary and partitioned tables, not to views, materialized views or foreign tables.")));
}

/* Context callback saying that the mask being checked is a category's default. */
static void
rt_default_mask_context(void *arg)
{
	const RtCategory *cat = (const RtCategory *) arg;

	errcontext("%s is the default mask of category \"%s\"; retention.tag() takes another mask as its fourth argument",
			   cat->default_mask, cat->name);
}

/*
 * Checks a tag of category/mask on column attnum of rel and returns the
 * label to store (category and canonical mask); raises an error when the
 * tag is not acceptable.
 */
static char *
rt_tag_validate(Relation rel, AttrNumber attnum, const char *category, const char *mask)
{
	Form_pg_attribute att = TupleDescAttr(RelationGetDescr(rel), attnum - 1);
	const char *colname = NameStr(att->attname);
	const RtCategory *cat = rt_category_lookup(category);
	RtMaskSpec	spec;
	const char *problem;
	const char *effective;
	ErrorContextCallback callback;

	if (cat == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown category \"%s\" for %s", category,
						rt_describe_column(rel, colname)),
				 errhint("Categories are: %s.", rt_category_names())));
	if (att->attgenerated)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot tag generated %s", rt_describe_column(rel, colname)),
				 errhint("Tag the columns it is computed from; the generated column follows them.")));
	if (att->attidentity)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot tag identity %s", rt_describe_column(rel, colname)),
				 errhint("An identity column holds a surrogate key, not personal data; tag the columns that describe the person.")));

	effective = mask != NULL ? mask : cat->default_mask;
	problem = rt_mask_parse(effective, &spec);
	if (problem != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid mask \"%s\" for %s: %s", effective,
						rt_describe_column(rel, colname), problem),
				 errhint("A mask is one of: null, constant(TEXT), pseudonym, pseudonym(CONTEXT), partial(KEEP_START,KEEP_END), email, phone, national_id, card, generalize(ARG), function(SCHEMA.NAME).")));
	callback.callback = rt_default_mask_context;
	callback.arg = (void *) cat;
	callback.previous = error_context_stack;
	if (mask == NULL)
		error_context_stack = &callback;
	rt_mask_check_column(&spec, rel, attnum, effective);
	/* a tag on a parent applies to its partitions, whose own indexes may refuse it */
	if (rel->rd_rel->relhassubclass)
		rt_mask_check_inheritors(&spec, rel, colname, effective);
	error_context_stack = callback.previous;

	if (mask == NULL)
		return pstrdup(cat->name);
	return psprintf("%s:%s", cat->name, rt_mask_deparse(&spec));
}

/* Returns the attribute number of colname in rel, raising an error if there is none. */
static AttrNumber
rt_require_column(Relation rel, const char *colname)
{
	AttrNumber	attnum = get_attnum(RelationGetRelid(rel), colname);

	if (attnum == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("%s does not exist", rt_describe_column(rel, colname)),
				 errhint("Column names are case-sensitive; see \\d %s.",
						 quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
													RelationGetRelationName(rel)))));
	if (attnum < 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot tag system %s", rt_describe_column(rel, colname))));
	return attnum;
}

/* Appends a tagged/untagged entry for column colname of relid to the audit trail, with the label set or removed. */
static void
rt_tag_audit(Oid relid, const char *colname, bool tagged, const char *label)
{
	StringInfoData details;

	initStringInfo(&details);
	appendStringInfoString(&details, "{\"column\": ");
	escape_json(&details, colname);
	appendStringInfoString(&details, ", \"label\": ");
	escape_json(&details, label);
	appendStringInfoChar(&details, '}');
	SPI_connect();
	rt_audit_append(tagged ? "tagged" : "untagged", relid, -1, details.data);
	SPI_finish();
}

/* Security-label hook: validates SECURITY LABEL FOR retention commands. */
static void
rt_object_relabel(const ObjectAddress *object, const char *seclabel)
{
	Relation	rel;
	char	   *category;
	char	   *mask;

	if (object->classId != RelationRelationId || object->objectSubId <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("security labels of provider \"%s\" apply to table columns only",
						RT_LABEL_PROVIDER),
				 errhint("Write SECURITY LABEL FOR retention ON COLUMN table.column IS 'category'.")));
	rt_refuse_system_relation(object->objectId, "tag its columns");
	/* what sessions keep of the table's tags (cache.h) is built again once this commits */
	CacheInvalidateRelcacheByRelid(object->objectId);
	if (seclabel == NULL)
	{
		char	   *colname = get_attname(object->objectId, object->objectSubId, false);
		char	   *old_category;
		char	   *old_mask;

		rt_anon_check_untag(object->objectId, colname);
		/* a removal is audited (pg_restore never removes labels) */
		if (rt_tag_lookup(object->objectId, object->objectSubId, &old_category, &old_mask))
			rt_tag_audit(object->objectId, colname, false,
						 old_mask ? psprintf("%s:%s", old_category, old_mask) : old_category);
		return;
	}

	/*
	 * No audit entry for a new label: pg_restore replays tags as SECURITY
	 * LABEL commands before it restores the audit trail itself, and must not
	 * add to it.
	 */
	rel = relation_open(object->objectId, NoLock);
	rt_require_taggable_relation(rel);
	rt_tag_label_split(seclabel, &category, &mask);
	(void) rt_tag_validate(rel, object->objectSubId, category, mask);
	relation_close(rel, NoLock);
}

/* Registers the "retention" security-label provider (called by _PG_init). */
void
rt_tag_register_label_provider(void)
{
	register_label_provider(RT_LABEL_PROVIDER, rt_object_relabel);
}

/* Context callback naming the tag that DDL made unfit. */
static void
rt_retag_context(void *arg)
{
	errcontext("the tag %s no longer fits its column after this command; untag the column or tag it with another mask first",
			   (const char *) arg);
}

/* Context callback naming the inherited tag that DDL made unfit. */
static void
rt_retag_inherited_context(void *arg)
{
	errcontext("the tag %s no longer fits the column after this command; untag the column on the parent or tag it with another mask first",
			   (const char *) arg);
}

/*
 * Checks every tag of relid again, so that DDL cannot leave a tag its
 * column no longer fits.  With inherited, a column without a tag of its own
 * is checked against the tag it inherits from the nearest tagged parent, as
 * runs apply it: a unique index created on a partition must meet the
 * parent's tag as ATTACH PARTITION does.
 */
void
rt_tag_revalidate_relation(Oid relid, bool inherited)
{
	Relation	rel = try_relation_open(relid, AccessShareLock);
	TupleDesc	desc;

	if (rel == NULL)
		return;
	desc = RelationGetDescr(rel);
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		char	   *category;
		char	   *mask;
		ErrorContextCallback callback;
		bool		own;

		if (att->attisdropped)
			continue;
		own = rt_tag_lookup(relid, i + 1, &category, &mask);
		if (!own && !(inherited && rt_tag_lookup_inherited(relid, NameStr(att->attname), relid,
														   &category, &mask)))
			continue;
		callback.callback = own ? rt_retag_context : rt_retag_inherited_context;
		callback.arg = psprintf(own ? "\"%s\" of column %s of table %s" :
								"\"%s\" that column %s of table %s inherits",
								mask ? psprintf("%s:%s", category, mask) : category,
								quote_identifier(NameStr(att->attname)),
								quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
														   RelationGetRelationName(rel)));
		callback.previous = error_context_stack;
		error_context_stack = &callback;
		(void) rt_tag_validate(rel, i + 1, category, mask);
		error_context_stack = callback.previous;
	}
	relation_close(rel, AccessShareLock);
}

/* Opens the table named by a regclass argument for tagging, checking kind and ownership. */
static Relation
rt_open_for_tagging(FunctionCallInfo fcinfo, const char *what)
{
	Oid			relid;
	Relation	rel;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table and column must not be null")));
	relid = PG_GETARG_OID(0);
	/* who may, before any lock: a stranger must not queue behind the table's DDL */
	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	rt_require_table_owner(relid, what);
	rt_refuse_system_relation(relid, what);
	rel = try_relation_open(relid, ShareUpdateExclusiveLock);
	if (rel == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	rt_require_taggable_relation(rel);
	return rel;
}

/*
 * Sets (or, with label NULL, removes) the tag of a column of a Citus table
 * on every node: SetSecurityLabel() would change this node's catalog only,
 * while the SECURITY LABEL statement, run here, is what Citus forwards to
 * the workers' definitions of the table in the same distributed transaction
 * (docs/operations.md#citus).  Returns false, doing nothing, for any other
 * table, or on a Citus worker (which must not relabel a table on its own).
 */
static bool
rt_tag_label_everywhere(Relation rel, const char *colname, const char *label)
{
	Oid			relid = RelationGetRelid(rel);
	char	   *sql;

	if (rt_citus_table(relid, NULL) == RT_CITUS_NONE || !rt_citus_is_coordinator())
		return false;
	sql = psprintf("SECURITY LABEL FOR %s ON COLUMN %s.%s IS %s", RT_LABEL_PROVIDER,
				   rt_relation_name(relid), quote_identifier(colname),
				   label ? quote_literal_cstr(label) : "NULL");
	SPI_connect();
	if (rt_spi_execute(sql, 0, NULL, NULL, NULL, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not label column %s of %s", quote_identifier(colname), rt_relation_name(relid));
	SPI_finish();
	return true;
}

PG_FUNCTION_INFO_V1(retention_tag);

/* SQL: retention.tag(tbl, col, category, mask) declares a personal column. */
Datum
retention_tag(PG_FUNCTION_ARGS)
{
	Relation	rel = rt_open_for_tagging(fcinfo, "tag its columns");
	char	   *colname = NameStr(*PG_GETARG_NAME(1));
	char	   *category;
	char	   *mask = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));
	AttrNumber	attnum = rt_require_column(rel, colname);
	ObjectAddress addr;
	char	   *label;

	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("category of %s must not be null", rt_describe_column(rel, colname)),
				 errhint("Categories are: %s.", rt_category_names())));
	category = text_to_cstring(PG_GETARG_TEXT_PP(2));

	label = rt_tag_validate(rel, attnum, category, mask);
	ObjectAddressSubSet(addr, RelationRelationId, RelationGetRelid(rel), attnum);
	if (!rt_tag_label_everywhere(rel, colname, label))
		SetSecurityLabel(&addr, RT_LABEL_PROVIDER, label);
	rt_tag_audit(RelationGetRelid(rel), colname, true, label);
	relation_close(rel, NoLock);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(retention_untag);

/* SQL: retention.untag(tbl, col) removes a column's tag. */
Datum
retention_untag(PG_FUNCTION_ARGS)
{
	Relation	rel = rt_open_for_tagging(fcinfo, "untag its columns");
	char	   *colname = NameStr(*PG_GETARG_NAME(1));
	AttrNumber	attnum = rt_require_column(rel, colname);
	char	   *category;
	char	   *mask;
	ObjectAddress addr;

	if (!rt_tag_lookup(RelationGetRelid(rel), attnum, &category, &mask))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("%s is not tagged", rt_describe_column(rel, colname)),
				 errhint("See retention.personal_columns for the tagged columns.")));
	rt_anon_check_untag(RelationGetRelid(rel), colname);
	ObjectAddressSubSet(addr, RelationRelationId, RelationGetRelid(rel), attnum);
	/* through the statement, the label hook audits the removal itself */
	if (!rt_tag_label_everywhere(rel, colname, NULL))
	{
		SetSecurityLabel(&addr, RT_LABEL_PROVIDER, NULL);
		rt_tag_audit(RelationGetRelid(rel), colname, false,
					 mask ? psprintf("%s:%s", category, mask) : category);
	}
	relation_close(rel, NoLock);
	PG_RETURN_VOID();
}
