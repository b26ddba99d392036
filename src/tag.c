/*
 * tag.c
 *    Tags on personal columns as the engine reads them.
 *
 * A tag is the security label of provider "retention" on a column:
 * "CATEGORY" or "CATEGORY:MASK".  Keeping tags in pg_seclabel rather than
 * in a table of our own means PostgreSQL keeps them right by itself: they
 * follow ALTER TABLE ... RENAME of tables and columns, vanish with DROP
 * COLUMN and DROP TABLE, and pg_dump writes them as SECURITY LABEL
 * commands.  Declaring and checking tags (retention.tag(), untag() and the
 * security-label hook) is tagcmds.c's; this file never calls it.
 *
 * The split of a label is pure C, built alone by tests/fuzz
 * (RT_FUZZ_STANDALONE leaves out the rest of the file).
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "commands/seclabel.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "category.h"
#include "extension.h"
#include "tag.h"

/* Splits a label into category and mask at its first colon; *mask is NULL when the label has none. */
void
rt_tag_label_split(const char *label, char **category, char **mask)
{
	const char *colon = strchr(label, ':');

	if (colon == NULL)
	{
		*category = pstrdup(label);
		*mask = NULL;
	}
	else
	{
		*category = pnstrdup(label, colon - label);
		*mask = pstrdup(colon + 1);
	}
}

#ifndef RT_FUZZ_STANDALONE

/* Reads the tag of column attnum of relid; false when the column has none. */
bool
rt_tag_lookup(Oid relid, AttrNumber attnum, char **category, char **mask)
{
	ObjectAddress addr;
	char	   *label;

	ObjectAddressSubSet(addr, RelationRelationId, relid, attnum);
	label = GetSecurityLabel(&addr, RT_LABEL_PROVIDER);
	if (label == NULL)
		return false;
	rt_tag_label_split(label, category, mask);
	return true;
}

/* Returns the tables relid inherits from directly (partition parent or inheritance parents). */
static List *
rt_inheritance_parents(Oid relid)
{
	Relation	inhrel = table_open(InheritsRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	List	   *parents = NIL;

	ScanKeyInit(&key, Anum_pg_inherits_inhrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(inhrel, InheritsRelidSeqnoIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
		parents = lappend_oid(parents, ((Form_pg_inherits) GETSTRUCT(tuple))->inhparent);
	systable_endscan(scan);
	table_close(inhrel, AccessShareLock);
	return parents;
}

/* Reads the tag of column colname of relid, or of the nearest ancestor's column of that name. */
bool
rt_tag_lookup_inherited(Oid relid, const char *colname, Oid skip_relid,
						char **category, char **mask)
{
	List	   *queue = list_make1_oid(relid);

	/* breadth first: the table itself, its parents, their parents ... */
	for (int i = 0; i < list_length(queue) && i < 1000; i++)
	{
		Oid			r = list_nth_oid(queue, i);

		if (r != skip_relid)
		{
			AttrNumber	attnum = get_attnum(r, colname);

			if (attnum > 0 && rt_tag_lookup(r, attnum, category, mask))
				return true;
		}
		queue = list_concat(queue, rt_inheritance_parents(r));
	}
	return false;
}

/* Returns the mask a tag applies: its own, or its category's default. */
const char *
rt_tag_effective_mask(const char *category, const char *mask)
{
	const RtCategory *cat;

	if (mask != NULL)
		return mask;
	cat = rt_category_lookup(category);
	if (cat == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown category \"%s\" in a retention tag", category),
				 errhint("Categories are: %s. Tag the column again with retention.tag().", rt_category_names())));
	return cat->default_mask;
}

/* Returns true when some column of relid is tagged; see tag.h. */
bool
rt_tag_any_column(Oid relid, bool inherited, const char *skip_col, Oid skip_relid)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	bool		found = false;
	char	   *category;
	char	   *mask;

	for (int i = 0; i < desc->natts && !found; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped)
			continue;
		if (inherited)
			found = rt_tag_lookup_inherited(relid, NameStr(att->attname),
											skip_col != NULL && strcmp(NameStr(att->attname), skip_col) == 0 ?
											skip_relid : InvalidOid,
											&category, &mask);
		else
			found = (relid != skip_relid || skip_col == NULL ||
					 strcmp(NameStr(att->attname), skip_col) != 0) &&
				rt_tag_lookup(relid, i + 1, &category, &mask);
	}
	relation_close(rel, AccessShareLock);
	return found;
}

/* Returns the columns of dest that hold personal data by declaration or by name; see tag.h. */
List *
rt_tag_personal_columns_like(Oid src, Oid dest)
{
	Relation	rel = try_relation_open(dest, AccessShareLock);
	TupleDesc	desc;
	List	   *names = NIL;
	char	   *category;
	char	   *mask;

	if (rel == NULL)
		return NIL;
	desc = RelationGetDescr(rel);
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		const char *name = NameStr(att->attname);

		if (att->attisdropped)
			continue;
		if (rt_tag_lookup_inherited(dest, name, InvalidOid, &category, &mask) ||
			rt_tag_lookup_inherited(src, name, InvalidOid, &category, &mask) ||
			((att->atttypid == JSONOID || att->atttypid == JSONBOID) && rt_tag_any_column(src, true, NULL, InvalidOid)))
			names = lappend(names, pstrdup(name));
	}
	relation_close(rel, AccessShareLock);
	return names;
}

#endif							/* RT_FUZZ_STANDALONE */
