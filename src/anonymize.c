/*
 * anonymize.c
 *    The anonymize action: from tags and masks to the SQL a batch runs.
 *
 * A batch of an anonymize policy is
 *
 *   UPDATE ONLY tbl t SET c1 = mask1(t.c1), c2 = mask2(t.c2) ...
 *    WHERE t.ctid = ANY($1) AND t.anchor < $cutoff AND <pending>
 *
 * where <pending> says that some masked column still differs from its
 * mask: NOT ((t.c1 IS NULL OR t.c1 = mask1(t.c1)) AND ...).  Because every
 * mask is idempotent, an anonymized row no longer satisfies <pending>:
 *  - a rerun, or the redo of a batch after a crash, finds nothing to do
 *    and fires no trigger;
 *  - a row that arrives late with an old anchor is caught by the next run,
 *    since it still differs from its mask;
 *  - staged lifecycles work: each policy masks its own columns, and only
 *    rows where those columns are not masked yet are its candidates.
 * <pending> is built only of IMMUTABLE functions, so it can be the
 * predicate of a partial index on the anchor,
 *
 *   CREATE INDEX ON tbl (anchor) WHERE <pending>
 *
 * which holds exactly the rows still to anonymize: with it a run reads the
 * newly expired (and late) rows only, however many rows were anonymized
 * before.  add_policy() prints that statement.  Without it a run still
 * changes only what needs changing, but reads every expired row.
 *
 * NULL stays NULL under every mask (nothing to hide), so a NULL column
 * counts as masked.  Text masks compare in the "C" collation, so that a
 * nondeterministic collation cannot call a value equal to its mask.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "anonymize.h"
#include "extension.h"
#include "key.h"
#include "mask.h"
#include "mask_spec.h"
#include "policy.h"
#include "privilege.h"
#include "quote.h"
#include "safe_spi.h"
#include "tag.h"

/* One column an anonymize policy masks on one table. */
typedef struct RtAnonColumn
{
	AttrNumber	attnum;
	char	   *masktext;
	RtMaskSpec	spec;
} RtAnonColumn;

/* Describes a policy for messages: "retention policy 7" or "an anonymize policy" before it has an id. */
static char *
rt_policy_desc(const RtPolicy *policy)
{
	if (policy->policy_id > 0)
		return psprintf("retention policy " INT64_FORMAT, policy->policy_id);
	return pstrdup("the anonymize policy");
}

/* Adds column attnum of rel, with its tag's mask parsed, to the list. */
static List *
rt_anon_add_column(List *columns, const RtPolicy *policy, Relation rel, AttrNumber attnum,
				   const char *category, const char *mask)
{
	RtAnonColumn *c = palloc0(sizeof(RtAnonColumn));
	const char *problem;

	c->attnum = attnum;
	c->masktext = pstrdup(rt_tag_effective_mask(category, mask));
	problem = rt_mask_parse(c->masktext, &c->spec);
	if (problem != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid mask \"%s\" of column %s of table %s, which %s masks: %s",
						c->masktext,
						quote_identifier(NameStr(TupleDescAttr(RelationGetDescr(rel), attnum - 1)->attname)),
						rt_relation_name(RelationGetRelid(rel)), rt_policy_desc(policy), problem),
				 errhint("Tag the column again with a valid mask.")));
	return lappend(columns, c);
}

/* Returns the columns (RtAnonColumn *) the policy masks on table rel. */
static List *
rt_anon_columns(const RtPolicy *policy, Relation rel)
{
	Oid			relid = RelationGetRelid(rel);
	TupleDesc	desc = RelationGetDescr(rel);
	List	   *columns = NIL;
	char	   *category;
	char	   *mask;
	ListCell   *lc;

	if (policy->columns != NIL)
	{
		foreach(lc, policy->columns)
		{
			char	   *name = lfirst(lc);
			AttrNumber	attnum = get_attnum(relid, name);

			if (attnum <= 0)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("column %s of table %s, which %s masks, does not exist",
								quote_identifier(name), rt_relation_name(relid), rt_policy_desc(policy)),
						 errhint("Every partition of a partitioned table needs the columns its policies mask.")));
			if (!rt_tag_lookup_inherited(relid, name, InvalidOid, &category, &mask))
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("column %s of table %s, which %s masks, is not tagged",
								quote_identifier(name), rt_relation_name(relid), rt_policy_desc(policy)),
						 errhint("Tag it with retention.tag(), or take it out of the policy with retention.alter_policy().")));
			columns = rt_anon_add_column(columns, policy, rel, attnum, category, mask);
		}
		return columns;
	}

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped)
			continue;
		if (rt_tag_lookup_inherited(relid, NameStr(att->attname), InvalidOid, &category, &mask))
			columns = rt_anon_add_column(columns, policy, rel, att->attnum, category, mask);
	}
	if (columns == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table %s has no tagged columns for %s to anonymize",
						rt_relation_name(relid), rt_policy_desc(policy)),
				 errhint("Tag its personal columns with retention.tag().")));
	return columns;
}

/* Returns the text of a mask argument without surrounding blanks. */
static char *
rt_trimmed_arg(const char *arg)
{
	const char *start = arg;
	size_t		len;

	while (*start == ' ' || *start == '\t' || *start == '\n' || *start == '\r')
		start++;
	len = strlen(start);
	while (len > 0 && (start[len - 1] == ' ' || start[len - 1] == '\t' ||
					   start[len - 1] == '\n' || start[len - 1] == '\r'))
		len--;
	return pnstrdup(start, len);
}

/* Returns an ASCII-lowercased copy of s (units are ASCII words). */
static char *
rt_ascii_lower(const char *s)
{
	char	   *copy = pstrdup(s);

	for (char *p = copy; *p; p++)
		*p = pg_ascii_tolower((unsigned char) *p);
	return copy;
}

/*
 * Builds the mask expression of one column (*expr) and the condition that
 * the column is masked already (*masked).  col is the column as the SQL
 * names it (alias.col or col).
 */
static void
rt_anon_column_sql(const RtAnonColumn *c, Relation rel, const char *col,
				   const char *time_zone, char **expr, char **masked, bool *uses_key)
{
	Form_pg_attribute att = TupleDescAttr(RelationGetDescr(rel), c->attnum - 1);
	Oid			basetype = getBaseType(att->atttypid);
	char	   *astext = psprintf("%s::pg_catalog.text", col);
	const char *textfn = NULL;
	char	   *fn = NULL;

	switch (c->spec.kind)
	{
		case RT_MASK_NULL:
			*expr = pstrdup("NULL");
			*masked = psprintf("%s IS NULL", col);
			return;
		case RT_MASK_CONSTANT:
			{
				char	   *lit = psprintf("CAST(%s AS %s)", quote_literal_cstr(c->spec.arg),
										   format_type_extended(att->atttypid, att->atttypmod,
																FORMAT_TYPE_TYPEMOD_GIVEN |
																FORMAT_TYPE_FORCE_QUALIFY));

				*expr = psprintf("CASE WHEN %s IS NULL THEN NULL ELSE %s END", col, lit);
				*masked = psprintf("%s IS NULL OR %s", col, rt_mask_equal_sql(att->atttypid, col, lit));
				return;
			}
		case RT_MASK_PSEUDONYM:
			*uses_key = true;
			/*
			 * the engine-only form: the table owner needs no EXECUTE on
			 * retention.pseudonym (0.1.0 objects lack it, and grant
			 * retention.pseudonym to PUBLIC)
			 */
			*expr = psprintf("retention.%s(%s, %s::pg_catalog.text)",
							 rt_sql_objects_at_least("0.2.0") ? "mask_pseudonym" : "pseudonym", astext,
							 quote_literal_cstr(c->spec.arg ? c->spec.arg : ""));
			*masked = psprintf("%s IS NULL OR retention.is_pseudonym(%s)", col, astext);
			return;
		case RT_MASK_PARTIAL:
			fn = psprintf("retention.mask_partial(%s, %d, %d)", astext,
						  c->spec.keep_start, c->spec.keep_end);
			break;
		case RT_MASK_EMAIL:
			textfn = "retention.mask_email";
			break;
		case RT_MASK_PHONE:
			textfn = "retention.mask_phone";
			break;
		case RT_MASK_NATIONAL_ID:
			textfn = "retention.mask_national_id";
			break;
		case RT_MASK_CARD:
			textfn = "retention.mask_card";
			break;
		case RT_MASK_GENERALIZE:
			{
				char	   *arg = rt_trimmed_arg(c->spec.arg);
				const char *cast;

				if (basetype == INETOID || basetype == CIDROID)
				{
					int			prefix;

					/* checked when the tag was declared; checked again, never read loosely */
					if (!rt_mask_parse_small_int(arg, strlen(arg), RT_GENERALIZE_MAX_PREFIX, &prefix))
						ereport(ERROR,
								(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
								 errmsg("mask %s of %s needs a prefix length from 0 to %d",
										c->masktext, quote_identifier(NameStr(att->attname)),
										RT_GENERALIZE_MAX_PREFIX)));
					cast = "pg_catalog.inet";
					fn = psprintf("retention.generalize(%s::%s, %d)", col, cast, prefix);
				}
				else if (basetype == DATEOID || basetype == TIMESTAMPOID)
				{
					cast = basetype == DATEOID ? "pg_catalog.date" : "pg_catalog.\"timestamp\"";
					fn = psprintf("retention.generalize(%s::%s, %s::pg_catalog.text)", col, cast,
								  quote_literal_cstr(rt_ascii_lower(arg)));
				}
				else if (basetype == TIMESTAMPTZOID)
				{
					cast = "pg_catalog.timestamptz";
					fn = psprintf("retention.generalize(%s::%s, %s::pg_catalog.text, %s::pg_catalog.text)",
								  col, cast,
								  quote_literal_cstr(rt_ascii_lower(arg)),
								  quote_literal_cstr(time_zone));
				}
				else
				{
					cast = "pg_catalog.\"numeric\"";
					fn = psprintf("retention.generalize(%s::%s, %s::%s)", col, cast,
								  quote_literal_cstr(arg), cast);
				}
				*expr = fn;
				*masked = psprintf("%s IS NULL OR %s::%s OPERATOR(pg_catalog.=) %s", col, col, cast, fn);
				return;
			}
		case RT_MASK_FUNCTION:
			{
				char	   *coldesc = psprintf("column %s of table %s",
											   quote_identifier(NameStr(att->attname)),
											   rt_relation_name(RelationGetRelid(rel)));
				Oid			funcoid = rt_mask_function(&c->spec, att, c->masktext, coldesc);
				char	   *call = psprintf("%s(%s)",
											quote_qualified_identifier(get_namespace_name(get_func_namespace(funcoid)),
																	   get_func_name(funcoid)),
											col);

				*expr = psprintf("CASE WHEN %s IS NULL THEN NULL ELSE %s END", col, call);
				*masked = psprintf("%s IS NULL OR %s", col, rt_mask_equal_sql(att->atttypid, col, call));
				return;
			}
	}

	/* the text masks: applied to the value as text, compared byte for byte */
	if (fn == NULL)
		fn = psprintf("%s(%s)", textfn, astext);
	*expr = fn;
	*masked = psprintf("%s IS NULL OR (%s COLLATE pg_catalog.\"C\") OPERATOR(pg_catalog.=) %s",
					   col, astext, fn);
}

/* Returns the SQL of an anonymize policy for table relid. */
RtAnonSql *
rt_anon_sql(const RtPolicy *policy, Oid relid, const char *alias)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	List	   *columns = rt_anon_columns(policy, rel);
	RtAnonSql  *result = palloc0(sizeof(RtAnonSql));
	StringInfoData set;
	StringInfoData set_node;
	StringInfoData masked;
	ListCell   *lc;

	initStringInfo(&set);
	initStringInfo(&set_node);
	initStringInfo(&masked);
	foreach(lc, columns)
	{
		RtAnonColumn *c = lfirst(lc);
		const char *name = quote_identifier(NameStr(TupleDescAttr(RelationGetDescr(rel), c->attnum - 1)->attname));
		char	   *col = alias ? psprintf("%s.%s", alias, name) : pstrdup(name);
		char	   *expr;
		char	   *done;

		rt_anon_column_sql(c, rel, col, policy->time_zone, &expr, &done, &result->uses_key);
		appendStringInfo(&set, "%s%s = %s", set.len > 0 ? ", " : "", name, expr);
		/* on Citus shards: the node form of the pseudonym mask (citus_mask.c) */
		appendStringInfo(&set_node, "%s%s = %s", set_node.len > 0 ? ", " : "", name,
						 c->spec.kind == RT_MASK_PSEUDONYM ?
						 psprintf("retention.mask_pseudonym_node(%s::pg_catalog.text, %s::pg_catalog.text)",
								  col, quote_literal_cstr(c->spec.arg ? c->spec.arg : "")) : expr);
		appendStringInfo(&masked, "%s(%s)", masked.len > 0 ? " AND " : "", done);
		result->ncolumns++;
	}
	result->set_list = set.data;
	result->set_list_node = set_node.data;
	result->pending = psprintf("NOT (%s)", masked.data);
	relation_close(rel, NoLock);
	return result;
}

/* Checks an anonymize policy against its table and every table below it. */
void
rt_anon_validate_policy(const RtPolicy *policy, Relation rel)
{
	List	   *relids = find_all_inheritors(RelationGetRelid(rel), AccessShareLock, NULL);
	ListCell   *lc;
	bool		uses_key = false;
	const char *problem;

	foreach(lc, relids)
	{
		Relation	r = relation_open(lfirst_oid(lc), NoLock);
		List	   *columns = rt_anon_columns(policy, r);
		ListCell   *lc2;

		foreach(lc2, columns)
		{
			RtAnonColumn *c = lfirst(lc2);

			rt_mask_check_column(&c->spec, r, c->attnum, c->masktext);
		}
		if (rt_anon_sql(policy, RelationGetRelid(r), "t")->uses_key)
			uses_key = true;
		relation_close(r, NoLock);
	}

	if (uses_key && (problem = rt_key_problem()) != NULL)
		ereport(WARNING,
				(errmsg("%s on %s pseudonymizes, but no pseudonymization key is usable yet",
						rt_policy_desc(policy), rt_relation_name(RelationGetRelid(rel))),
				 errdetail("%s.", problem),
				 errhint("Runs of the policy fail until retention.key_file names a key file; see retention.create_key().")));
}

/* Refuses to untag a column that an anonymize policy still needs. */
void
rt_anon_check_untag(Oid relid, const char *colname)
{
	List	   *family = find_all_inheritors(relid, AccessShareLock, NULL);
	Oid			argtypes[2] = {OIDARRAYOID, NAMEOID};
	Datum		values[2];
	NameData	name;
	int64	   *ids;
	Oid		   *tables;
	bool	   *named;
	bool	   *all;
	uint64		npolicies;
	char	   *category;
	char	   *mask;

	values[0] = rt_oid_array(family);
	namestrcpy(&name, colname);
	values[1] = NameGetDatum(&name);

	SPI_connect();
	rt_catalog_exec("SELECT policy_id, relid::pg_catalog.oid,"
					" $2 OPERATOR(pg_catalog.=) ANY (columns), columns IS NULL"
					" FROM retention.policy_catalog"
					" WHERE action OPERATOR(pg_catalog.=) 'anonymize'"
					" AND relid::pg_catalog.oid OPERATOR(pg_catalog.=) ANY ($1)"
					" ORDER BY policy_id",
					2, argtypes, values, NULL, false, SPI_OK_SELECT);
	npolicies = SPI_processed;
	ids = palloc(sizeof(int64) * (npolicies + 1));
	tables = palloc(sizeof(Oid) * (npolicies + 1));
	named = palloc(sizeof(bool) * (npolicies + 1));
	all = palloc(sizeof(bool) * (npolicies + 1));
	for (uint64 i = 0; i < npolicies; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		bool		isnull;

		ids[i] = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
		tables[i] = DatumGetObjectId(SPI_getbinval(t, d, 2, &isnull));
		named[i] = DatumGetBool(SPI_getbinval(t, d, 3, &isnull)) && !isnull;
		all[i] = DatumGetBool(SPI_getbinval(t, d, 4, &isnull));
	}
	SPI_finish();

	for (uint64 i = 0; i < npolicies; i++)
	{
		if (named[i] && !rt_tag_lookup_inherited(tables[i], colname, relid, &category, &mask))
			ereport(ERROR,
					(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
					 errmsg("cannot untag column %s of table %s because retention policy " INT64_FORMAT " anonymizes it",
							quote_identifier(colname), rt_relation_name(relid), ids[i]),
					 errhint("Take the column out of the policy first with retention.alter_policy(" INT64_FORMAT ", columns => ...), or drop the policy with retention.drop_policy(" INT64_FORMAT ").",
							 ids[i], ids[i])));
		if (all[i] && !rt_tag_any_column(tables[i], true, colname, relid))
			ereport(ERROR,
					(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
					 errmsg("cannot untag column %s of table %s because it is the last tagged column of table %s, which retention policy " INT64_FORMAT " anonymizes",
							quote_identifier(colname), rt_relation_name(relid),
							rt_relation_name(tables[i]), ids[i]),
					 errhint("Drop the policy first: SELECT retention.drop_policy(" INT64_FORMAT ");", ids[i])));
	}
}
