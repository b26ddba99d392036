/*
 * policycmds.c
 *    The SQL commands that declare retention policies: add_policy,
 *    alter_policy, drop_policy, their declaration checks, and the advice
 *    on the index that lets runs read only the rows they act on
 *    (index_advice).  docs/reference.md#policies documents them.
 *
 * Every check runs before anything is written, and all writes of one call
 * happen in the caller's transaction, so a call that fails changes
 * nothing.  The table stays share-locked while the policy is declared, so
 * a concurrent DROP COLUMN cannot slip between the check and the insert.
 * The engine reads policies through policy.c and never calls this file.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/catalog.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "anonymize.h"
#include "audit.h"
#include "citus.h"
#include "compat.h"
#include "cutoff.h"
#include "extension.h"
#include "policy.h"
#include "policycmds.h"
#include "privilege.h"
#include "publication.h"
#include "quote.h"
#include "tag.h"

#define RT_MAX_BATCH_SIZE 1000000

/* longest retention period: its cutoff must stay a valid timestamp for centuries */
#define RT_MAX_KEEP_YEARS 1000

/* retention.min_keep: shortest retention period add_policy accepts */
static int	rt_min_keep_seconds = 3600;

/* Defines the setting retention.min_keep (called by _PG_init). */
void
rt_policycmds_define_gucs(void)
{
	DefineCustomIntVariable("retention.min_keep",
							"Shortest retention period retention.add_policy() accepts.",
							"Guards against a bare number such as '10' read as 10 seconds; only a superuser may lower it.",
							&rt_min_keep_seconds, 3600, 1, INT_MAX,
							PGC_SUSET, GUC_UNIT_S, NULL, NULL, NULL);
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

/*
 * Refuses an enabled delete policy that keeps the partitions it removes
 * detached, on a partitioned table a publication publishes with its deletes
 * or truncates: logical replication sends no DETACH, and the subscribers
 * would keep those rows for ever (docs/operations.md#logical-replication-and-cdc).
 * A table that joins a publication later makes the run fail instead.
 */
static void
rt_refuse_detach_published(const RtPolicy *p, Relation rel)
{
	ListCell   *lc;

	if (!p->enabled || p->action != RT_ACTION_DELETE || p->partition_action != RT_PARTITION_DETACH ||
		rel->rd_rel->relkind != RELKIND_PARTITIONED_TABLE)
		return;
	foreach(lc, find_all_inheritors(RelationGetRelid(rel), AccessShareLock, NULL))
	{
		ListCell   *pc;

		foreach(pc, rt_publishers(lfirst_oid(lc)))
		{
			RtPublisher *pub = lfirst(pc);

			if (pub->deletes || pub->truncates)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("a policy on %s cannot keep the partitions it removes detached: publication %s publishes %s",
								rt_relation_name(RelationGetRelid(rel)), pub->name, rt_relation_name(lfirst_oid(lc))),
						 errdetail("Logical replication sends no DETACH: the subscribers of the publication would keep the rows of every partition the policy removes."),
						 errhint("Use partition_action 'drop', which empties a published partition with TRUNCATE (or deletes its rows) before it drops it, or 'rows'.")));
		}
	}
}

/*
 * Checks the minimum interval between rounds of runs
 * (docs/operations.md#run-windows): none (all zero), or positive in every
 * part, finite and at most RT_MAX_KEEP_YEARS, so that adding it to a run's
 * start stays a valid time.
 */
static void
rt_min_interval_validate(const RtPolicy *p, const char *relname)
{
	const Interval *mi = &p->min_interval;

	if (!rt_policy_has_min_interval(p))
		return;
	if (rt_interval_not_finite(mi))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("min_interval of a policy on %s must be finite", relname),
				 errhint("To stop a policy from running, disable it.")));
	if (mi->month < 0 || mi->day < 0 || mi->time < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("min_interval %s of a policy on %s is negative or has a negative part",
						rt_interval_text(mi), relname),
				 errhint("Give the least time between the starts of two rounds of runs, such as interval '12 hours', or 0 for none.")));
	/* months counted as years here: 30-day months would let 1001 years through */
	if (mi->month / (double) MONTHS_PER_YEAR +
		(mi->day + mi->time / (double) USECS_PER_DAY) / 365.25 > RT_MAX_KEEP_YEARS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("min_interval %s of a policy on %s is longer than %d years",
						rt_interval_text(mi), relname, RT_MAX_KEEP_YEARS),
				 errhint("To stop a policy from running, disable it.")));
}

/*
 * Applies the run-window arguments of add_policy or alter_policy, numbers
 * first (window_start), first + 1 (window_end) and first + 2
 * (min_interval), to p; a NULL argument leaves p's value.  A bound of 24:00
 * is the midnight that ends the day, so 00:00 to 24:00 is the whole day:
 * no window.  Raises invalid_parameter_value, naming the table, for a
 * window with one bound only or one that starts where it ends
 * (docs/reference.md#run-windows).
 */
static void
rt_window_args(FunctionCallInfo fcinfo, int first, RtPolicy *p)
{
	char	   *relname = rt_relation_name(p->relid);
	bool		start_set = p->has_window;
	bool		end_set = p->has_window;
	TimeADT		start = p->window_start;
	TimeADT		end = p->window_end;

	if (PG_NARGS() <= first)
		return;					/* the declaration before 0.3.0 */
	/* '0' is none, as all-zero parts mean (rt_policy_has_min_interval) */
	if (!PG_ARGISNULL(first + 2))
		p->min_interval = *PG_GETARG_INTERVAL_P(first + 2);
	if (!PG_ARGISNULL(first) && !PG_ARGISNULL(first + 1) &&
		PG_GETARG_TIMEADT(first) == 0 && PG_GETARG_TIMEADT(first + 1) == USECS_PER_DAY)
	{
		p->has_window = false;
		p->window_start = p->window_end = 0;
		return;
	}
	if (!PG_ARGISNULL(first))
	{
		start_set = true;
		start = PG_GETARG_TIMEADT(first) % USECS_PER_DAY;
	}
	if (!PG_ARGISNULL(first + 1))
	{
		end_set = true;
		end = PG_GETARG_TIMEADT(first + 1) % USECS_PER_DAY;
	}
	if (start_set != end_set)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("run window of a policy on %s needs both window_start and window_end", relname),
				 errdetail("Only %s was given.", start_set ? "window_start" : "window_end"),
				 errhint("Give both, as in window_start => '01:00', window_end => '05:00' (local times in the policy's time zone), or neither for a policy the scheduler may run at any time.")));
	if (start_set && start == end)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("run window of a policy on %s starts and ends at %s", relname,
						rt_time_of_day_text(start)),
				 errdetail("A window from a time to the same time would be empty, or the whole day."),
				 errhint("For no window give neither bound; alter_policy removes a window with window_start => '00:00', window_end => '24:00'.")));
	p->has_window = start_set;
	p->window_start = start;
	p->window_end = end;
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
	/* on Citus the coordinator enforces: a worker's scheduler never acts on shards on its own */
	if (rt_citus_is_shard(RelationGetRelid(rel)))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s is a shard of a Citus table", relname),
				 errhint("Declare the policy on the distributed or reference table, on the coordinator (see \"Citus\" in docs/operations.md).")));
	if (rt_citus_table(RelationGetRelid(rel), NULL) != RT_CITUS_NONE && !rt_citus_is_coordinator())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("retention policies of Citus table %s are declared on the coordinator", relname),
				 errdetail("This node is a Citus worker; the coordinator's scheduler runs the policies of Citus tables on every shard."),
				 errhint("Connect to the coordinator and declare the policy there.")));

	if (rt_interval_not_finite(&p->keep))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("retention period of a policy on %s must be finite", relname),
				 errhint("To keep rows forever, declare no policy, or disable it.")));
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
	rt_min_interval_validate(p, relname);

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

	rt_refuse_detach_published(p, rel);

	/* every mask the policy applies must fit every table it reaches */
	if (p->action == RT_ACTION_ANONYMIZE)
		rt_anon_validate_policy(p, rel);
}

/* Returns the CREATE INDEX statement that lets runs of a policy read only the rows they act on. */
static char *
rt_index_advice_sql(const RtPolicy *policy)
{
	char	   *relname = rt_relation_name(policy->relid);

	if (policy->action == RT_ACTION_ANONYMIZE)
		return psprintf("CREATE INDEX ON %s (%s) WHERE %s", relname, quote_identifier(policy->anchor),
						rt_anon_sql(policy, policy->relid, NULL)->pending);
	return psprintf("CREATE INDEX ON %s (%s)", relname, quote_identifier(policy->anchor));
}

/* Emits a NOTICE with the partial index that keeps runs of an anonymize policy proportional to new rows. */
static void
rt_anon_advise_index(const RtPolicy *policy, Relation rel)
{
	AttrNumber	attnum = get_attnum(RelationGetRelid(rel), policy->anchor);

	if (rt_anchor_index_exists(rel, attnum, RT_INDEX_PARTIAL))
		return;
	ereport(NOTICE,
			(errmsg("without a partial index, each run of this policy reads every expired row of %s, also those anonymized before",
					rt_relation_name(RelationGetRelid(rel))),
			 errhint("%s; holds only the rows still to anonymize, so runs read just those (retention.index_advice() repeats it).",
					 rt_index_advice_sql(policy))));
}

PG_FUNCTION_INFO_V1(retention_index_advice);

/*
 * SQL: retention.index_advice(policy_id bigint) returns the CREATE INDEX
 * statement with which runs of the policy read only the rows they act on.
 */
Datum
retention_index_advice(PG_FUNCTION_ARGS)
{
	int64		policy_id = PG_GETARG_INT64(0);
	MemoryContext caller = CurrentMemoryContext;
	RtPolicy   *policy;
	char	   *sql;

	SPI_connect();
	policy = rt_policy_get_existing(policy_id, false);
	if (get_rel_name(policy->relid) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table of retention policy " INT64_FORMAT " no longer exists", policy_id)));
	sql = MemoryContextStrdup(caller, rt_index_advice_sql(policy));
	SPI_finish();
	PG_RETURN_TEXT_P(cstring_to_text(sql));
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
	if (!rt_anchor_index_exists(rel, attnum, RT_INDEX_FULL))
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

/* Fills the catalog values of a policy's window_start, window_end and min_interval (NULL when unset). */
static void
rt_window_values(const RtPolicy *p, Datum *values, char *nulls)
{
	values[0] = TimeADTGetDatum(p->window_start);
	values[1] = TimeADTGetDatum(p->window_end);
	nulls[0] = nulls[1] = p->has_window ? ' ' : 'n';
	values[2] = IntervalPGetDatum(&p->min_interval);
	nulls[2] = rt_policy_has_min_interval(p) ? ' ' : 'n';
}

PG_FUNCTION_INFO_V1(retention_add_policy);

/*
 * SQL: retention.add_policy(tbl, keep, after, action, columns, batch_size,
 * basis, time_zone, partition_action, detach_schema, window_start,
 * window_end, min_interval).
 */
Datum
retention_add_policy(PG_FUNCTION_ARGS)
{
	RtPolicy	p;
	Relation	rel;
	Oid			argtypes[14] = {REGCLASSOID, INTERVALOID, NAMEOID, TEXTOID, NAMEARRAYOID,
	INT4OID, TEXTOID, TEXTOID, NAMEOID, TEXTOID, NAMEOID, TIMEOID, TIMEOID, INTERVALOID};
	Datum		values[14];
	char		nulls[14] = "              ";
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
	rt_window_args(fcinfo, 10, &p);

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
	rt_window_values(&p, &values[11], &nulls[11]);
	rt_catalog_exec(rt_sql_objects_at_least("0.3.0") ?
					"INSERT INTO retention.policy_catalog"
					" (relid, keep, anchor, action, columns, batch_size, basis, time_zone, created_by,"
					" partition_action, detach_schema, window_start, window_end, min_interval)"
					" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING policy_id" :
					rt_sql_objects_at_least("0.2.0") ?
					"INSERT INTO retention.policy_catalog"
					" (relid, keep, anchor, action, columns, batch_size, basis, time_zone, created_by,"
					" partition_action, detach_schema)"
					" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING policy_id" :
					"INSERT INTO retention.policy_catalog"
					" (relid, keep, anchor, action, columns, batch_size, basis, time_zone, created_by)"
					" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING policy_id",
					14, argtypes, values, nulls, false, SPI_OK_INSERT_RETURNING);
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
	RtPolicy   *p = rt_policy_or_error(rt_policy_get_for_update(policy_id), policy_id);

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
 * batch_size, basis, time_zone, enabled, partition_action, detach_schema,
 * window_start, window_end, min_interval).
 */
Datum
retention_alter_policy(PG_FUNCTION_ARGS)
{
	int64		policy_id;
	RtPolicy   *p;
	Relation	rel;
	Oid			argtypes[14] = {INT8OID, INTERVALOID, NAMEOID, TEXTOID, NAMEARRAYOID,
	INT4OID, TEXTOID, TEXTOID, BOOLOID, TEXTOID, NAMEOID, TIMEOID, TIMEOID, INTERVALOID};
	Datum		values[14];
	char		nulls[14] = "              ";
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
	rt_window_args(fcinfo, 11, p);

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
	rt_window_values(p, &values[11], &nulls[11]);
	rt_catalog_exec(psprintf("UPDATE retention.policy_catalog SET keep = $2, anchor = $3, action = $4,"
							 " columns = $5, batch_size = $6, basis = $7, time_zone = $8, enabled = $9%s%s"
							 " WHERE policy_id OPERATOR(pg_catalog.=) $1",
							 rt_sql_objects_at_least("0.2.0") ?
							 ", partition_action = $10, detach_schema = $11" : "",
							 rt_sql_objects_at_least("0.3.0") ?
							 ", window_start = $12, window_end = $13, min_interval = $14" : ""),
					14, argtypes, values, nulls, false, SPI_OK_UPDATE);
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
