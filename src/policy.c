/*
 * policy.c
 *    Retention policies as the engine reads them: the in-memory form
 *    (RtPolicy) built from retention.policy_catalog, and what the engine
 *    asks of a policy's table (its anchor's type, an index on it).
 *
 * The SQL commands that change policies (add_policy, alter_policy,
 * drop_policy) and their declaration checks are in policycmds.c; this file
 * never calls them (docs/architecture.md).
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "catalog/pg_am.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "cutoff.h"
#include "extension.h"
#include "policy.h"
#include "privilege.h"
#include "quote.h"

/* retention.batch_size: rows a batch deletes or anonymizes, one transaction each */
static int	rt_batch_size = 10000;

/* Defines the setting retention.batch_size (called by _PG_init). */
void
rt_policy_define_gucs(void)
{
	DefineCustomIntVariable("retention.batch_size",
							"Rows a retention batch deletes or anonymizes in one transaction.",
							"A policy's own batch_size overrides it.",
							&rt_batch_size, 10000, 1, 1000000,
							PGC_USERSET, 0, NULL, NULL, NULL);
}

/*
 * Returns the columns of policy_catalog an RtPolicy is built from; a
 * database still at 0.1.0 has no partition columns, one at 0.2.0 no run
 * window (their defaults stand in).
 */
static const char *
rt_policy_columns(void)
{
	if (rt_sql_objects_at_least("0.3.0"))
		return "policy_id, relid::pg_catalog.oid, keep, anchor, action, columns, "
			"batch_size, basis, time_zone, enabled, partition_action, detach_schema, "
			"window_start, window_end, min_interval";
	/* before 0.3.0: no run window, no minimum interval */
	return rt_sql_objects_at_least("0.2.0") ?
		"policy_id, relid::pg_catalog.oid, keep, anchor, action, columns, "
		"batch_size, basis, time_zone, enabled, partition_action, detach_schema, "
		"NULL::pg_catalog.time, NULL::pg_catalog.time, NULL::pg_catalog.interval" :
		"policy_id, relid::pg_catalog.oid, keep, anchor, action, columns, "
		"batch_size, basis, time_zone, enabled, NULL::pg_catalog.text, NULL::pg_catalog.name, "
		"NULL::pg_catalog.time, NULL::pg_catalog.time, NULL::pg_catalog.interval";
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
RtPartitionAction
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
	d = SPI_getbinval(tuple, desc, 13, &isnull);
	p->has_window = !isnull;
	p->window_start = isnull ? 0 : DatumGetTimeADT(d);
	d = SPI_getbinval(tuple, desc, 14, &isnull);
	p->window_end = isnull ? 0 : DatumGetTimeADT(d);
	d = SPI_getbinval(tuple, desc, 15, &isnull);
	if (!isnull)
		p->min_interval = *DatumGetIntervalP(d);
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

/* Returns the policy with this id, its catalog row locked by lock_clause ("" for none), or NULL. */
static RtPolicy *
rt_policy_fetch(int64 policy_id, const char *lock_clause)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(policy_id)};

	rt_catalog_exec(psprintf("SELECT %s FROM retention.policy_catalog"
							 " WHERE policy_id OPERATOR(pg_catalog.=) $1%s",
							 rt_policy_columns(), lock_clause),
					1, argtypes, values, NULL, false, SPI_OK_SELECT);
	if (SPI_processed == 0)
		return NULL;
	return rt_policy_from_tuple(SPI_tuptable->vals[0], SPI_tuptable->tupdesc);
}

/* Returns the policy with this id (locked FOR SHARE when lock is set), or NULL. */
RtPolicy *
rt_policy_get(int64 policy_id, bool lock)
{
	return rt_policy_fetch(policy_id, lock ? " FOR SHARE" : "");
}

/* Returns the policy with this id (locked FOR SHARE when lock is set); undefined_object when there is none. */
RtPolicy *
rt_policy_get_existing(int64 policy_id, bool lock)
{
	return rt_policy_or_error(rt_policy_get(policy_id, lock), policy_id);
}

/* Returns policy when it is not NULL, else raises undefined_object naming policy_id. */
RtPolicy *
rt_policy_or_error(RtPolicy *policy, int64 policy_id)
{
	if (policy == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("retention policy " INT64_FORMAT " does not exist", policy_id),
				 errhint("See retention.policies for the declared policies.")));
	return policy;
}

/* Returns the policy with this id with its catalog row locked FOR UPDATE, or NULL. */
RtPolicy *
rt_policy_get_for_update(int64 policy_id)
{
	return rt_policy_fetch(policy_id, " FOR UPDATE");
}

/* Returns true when a policy has a minimum interval between its rounds of runs. */
bool
rt_policy_has_min_interval(const RtPolicy *policy)
{
	return policy->min_interval.month != 0 || policy->min_interval.day != 0 ||
		policy->min_interval.time != 0;
}

/* Returns a time of day as "HH:MM", or "HH:MM:SS" with its seconds, or with fractions too. */
char *
rt_time_of_day_text(TimeADT t)
{
	int64		s = t / USECS_PER_SEC;

	if (t % USECS_PER_SEC != 0)
		return DatumGetCString(DirectFunctionCall1(time_out, TimeADTGetDatum(t)));
	if (s % 60 != 0)
		return psprintf("%02d:%02d:%02d", (int) (s / 3600), (int) (s / 60 % 60), (int) (s % 60));
	return psprintf("%02d:%02d", (int) (s / 3600), (int) (s / 60 % 60));
}

/* Returns true when two policies would act the same (their run windows aside: when, not what). */
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

/* Returns true when a valid btree index of rel of the kind asked for has attnum as its first key. */
bool
rt_anchor_index_exists(Relation rel, AttrNumber attnum, RtIndexKind which)
{
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;
	bool		found = false;

	foreach(lc, indexes)
	{
		Relation	indexrel = index_open(lfirst_oid(lc), AccessShareLock);
		Form_pg_index index = indexrel->rd_index;
		bool		partial = !heap_attisnull(indexrel->rd_indextuple, Anum_pg_index_indpred, NULL);

		if (index->indisvalid && index->indnkeyatts > 0 && index->indkey.values[0] == attnum &&
			indexrel->rd_rel->relam == BTREE_AM_OID &&
			(which == RT_INDEX_ANY || partial == (which == RT_INDEX_PARTIAL)))
			found = true;
		index_close(indexrel, AccessShareLock);
	}
	list_free(indexes);
	return found;
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
	/* only when set, so that policies without them read as before 0.3.0 */
	if (p->has_window)
	{
		appendStringInfoString(&buf, ", \"window_start\": ");
		escape_json(&buf, rt_time_of_day_text(p->window_start));
		appendStringInfoString(&buf, ", \"window_end\": ");
		escape_json(&buf, rt_time_of_day_text(p->window_end));
	}
	if (rt_policy_has_min_interval(p))
	{
		appendStringInfoString(&buf, ", \"min_interval\": ");
		escape_json(&buf, rt_interval_text(&p->min_interval));
	}
	appendStringInfoChar(&buf, '}');
	return buf.data;
}
