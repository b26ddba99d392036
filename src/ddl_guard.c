/*
 * ddl_guard.c
 *    Event triggers that keep policies right through DDL.
 *
 * Tags live in pg_seclabel and need no help.  Policies live in
 * retention.policy_catalog, which names its table by OID (regclass, so
 * table renames and schema moves follow by themselves) and its columns by
 * name, so this module:
 *  - renames the anchor and columns of policies when ALTER TABLE ...
 *    RENAME COLUMN renames them (on the table and on its partitions);
 *  - refuses ALTER COLUMN ... TYPE that would leave an anchor column
 *    without a date or timestamp type;
 *  - checks tags again after ALTER TABLE and CREATE INDEX, so that a type
 *    change, SET NOT NULL or a new unique index cannot leave a tag whose
 *    mask no longer fits its column;
 *  - refuses DROP COLUMN of a column a policy uses (the policy must be
 *    dropped first: silently ending a retention rule would be worse);
 *  - removes the policies of a table that is dropped, recording that in
 *    the audit trail.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "commands/event_trigger.h"
#include "executor/spi.h"
#include "nodes/parsenodes.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "audit.h"
#include "cutoff.h"
#include "policy.h"
#include "privilege.h"
#include "tag.h"

/* Returns an oid[] datum of relid and every relation that inherits from it. */
static Datum
rt_family_array(Oid relid)
{
	List	   *rels = find_all_inheritors(relid, NoLock, NULL);
	Datum	   *elems = palloc(sizeof(Datum) * list_length(rels));
	int			n = 0;
	ListCell   *lc;

	foreach(lc, rels)
		elems[n++] = ObjectIdGetDatum(lfirst_oid(lc));
	return PointerGetDatum(construct_array(elems, n, OIDOID, sizeof(Oid), true, TYPALIGN_INT));
}

/* Follows ALTER TABLE ... RENAME COLUMN in the policies of the table and its partitions. */
static void
rt_follow_column_rename(RenameStmt *stmt)
{
	Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	Oid			types[3] = {OIDARRAYOID, NAMEOID, NAMEOID};
	Datum		values[3];
	NameData	oldname,
				newname;

	if (!OidIsValid(relid))
		return;
	namestrcpy(&oldname, stmt->subname);
	namestrcpy(&newname, stmt->newname);
	values[0] = rt_family_array(relid);
	values[1] = NameGetDatum(&oldname);
	values[2] = NameGetDatum(&newname);
	rt_catalog_exec("UPDATE retention.policy_catalog"
					" SET anchor = CASE WHEN anchor OPERATOR(pg_catalog.=) $2 THEN $3 ELSE anchor END,"
					" columns = pg_catalog.array_replace(columns, $2, $3)"
					" WHERE relid::pg_catalog.oid OPERATOR(pg_catalog.=) ANY ($1)"
					" AND (anchor OPERATOR(pg_catalog.=) $2 OR $2 OPERATOR(pg_catalog.=) ANY (columns))",
					3, types, values, NULL, false, SPI_OK_UPDATE);
}

/* Refuses ALTER COLUMN ... TYPE that would give an anchor column an unusable type. */
static void
rt_check_anchor_types(AlterTableStmt *stmt)
{
	Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	ListCell   *lc;

	if (!OidIsValid(relid))
		return;
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst(lc);
		Oid			types[2] = {OIDARRAYOID, NAMEOID};
		Datum		values[2];
		NameData	colname;
		AttrNumber	attnum;
		RtAnchorType anchor_type;
		bool		isnull;

		if (cmd->subtype != AT_AlterColumnType || cmd->name == NULL)
			continue;
		namestrcpy(&colname, cmd->name);
		values[0] = rt_family_array(relid);
		values[1] = NameGetDatum(&colname);
		rt_catalog_exec("SELECT policy_id FROM retention.policy_catalog"
						" WHERE relid::pg_catalog.oid OPERATOR(pg_catalog.=) ANY ($1)"
						" AND anchor OPERATOR(pg_catalog.=) $2 LIMIT 1",
						2, types, values, NULL, false, SPI_OK_SELECT);
		if (SPI_processed == 0)
			continue;
		attnum = get_attnum(relid, cmd->name);
		if (attnum > 0 && !rt_anchor_type_of(get_atttype(relid, attnum), &anchor_type))
			ereport(ERROR,
					(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
					 errmsg("column %s of table %s is the anchor of retention policy " INT64_FORMAT
							" and must keep a date, timestamp or timestamptz type",
							quote_identifier(cmd->name), rt_relation_name(relid),
							DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
														SPI_tuptable->tupdesc, 1, &isnull))),
					 errhint("Drop or alter the policy first with retention.drop_policy() or retention.alter_policy().")));
	}
}

PG_FUNCTION_INFO_V1(retention_on_ddl_end);

/* Event trigger on ddl_command_end for ALTER TABLE and CREATE INDEX: follows renames, guards anchors and tags. */
Datum
retention_on_ddl_end(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;
	Node	   *parsetree;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		elog(ERROR, "retention_on_ddl_end: not fired by event trigger manager");
	trigdata = (EventTriggerData *) fcinfo->context;
	parsetree = trigdata->parsetree;

	if (IsA(parsetree, RenameStmt) &&
		((RenameStmt *) parsetree)->renameType == OBJECT_COLUMN &&
		((RenameStmt *) parsetree)->relation != NULL)
	{
		SPI_connect();
		rt_follow_column_rename((RenameStmt *) parsetree);
		SPI_finish();
	}
	else if (IsA(parsetree, AlterTableStmt))
	{
		Oid			relid = RangeVarGetRelid(((AlterTableStmt *) parsetree)->relation, NoLock, true);

		SPI_connect();
		rt_check_anchor_types((AlterTableStmt *) parsetree);
		SPI_finish();
		if (OidIsValid(relid))
		{
			ListCell   *lc;

			foreach(lc, find_all_inheritors(relid, NoLock, NULL))
				rt_tag_revalidate_relation(lfirst_oid(lc));
		}
	}
	else if (IsA(parsetree, IndexStmt))
	{
		Oid			relid = RangeVarGetRelid(((IndexStmt *) parsetree)->relation, NoLock, true);

		if (OidIsValid(relid))
			rt_tag_revalidate_relation(relid);
	}
	PG_RETURN_NULL();
}

PG_FUNCTION_INFO_V1(retention_on_sql_drop);

/* Event trigger on sql_drop: refuses dropping policy columns, forgets dropped tables. */
Datum
retention_on_sql_drop(PG_FUNCTION_ARGS)
{
	bool		isnull;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		elog(ERROR, "retention_on_sql_drop: not fired by event trigger manager");

	SPI_connect();
	/* a dropped column that a policy uses: refuse the DROP */
	rt_catalog_exec("SELECT p.policy_id, d.address_names[3], pg_catalog.format('%s.%s', pg_catalog.quote_ident(d.address_names[1]), pg_catalog.quote_ident(d.address_names[2]))"
					" FROM pg_catalog.pg_event_trigger_dropped_objects() d"
					" JOIN retention.policy_catalog p ON p.relid::pg_catalog.oid OPERATOR(pg_catalog.=) d.objid"
					" WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
					" AND d.objsubid OPERATOR(pg_catalog.>) 0"
					" AND (p.anchor OPERATOR(pg_catalog.=) d.address_names[3]"
					"      OR d.address_names[3]::pg_catalog.name OPERATOR(pg_catalog.=) ANY (p.columns))"
					" LIMIT 1",
					0, NULL, NULL, NULL, false, SPI_OK_SELECT);
	if (SPI_processed > 0)
	{
		HeapTuple	t = SPI_tuptable->vals[0];
		TupleDesc	d = SPI_tuptable->tupdesc;
		int64		policy_id = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));

		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("cannot drop column %s of table %s because retention policy " INT64_FORMAT " uses it",
						quote_identifier(SPI_getvalue(t, d, 2)), SPI_getvalue(t, d, 3), policy_id),
				 errhint("Drop the policy first: SELECT retention.drop_policy(" INT64_FORMAT ");", policy_id)));
	}

	/* a dropped table: its policies go with it, and the audit says so */
	rt_catalog_exec("DELETE FROM retention.policy_catalog p"
					" USING pg_catalog.pg_event_trigger_dropped_objects() d"
					" WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
					" AND d.objsubid OPERATOR(pg_catalog.=) 0"
					" AND p.relid::pg_catalog.oid OPERATOR(pg_catalog.=) d.objid"
					" RETURNING p.policy_id, d.object_identity",
					0, NULL, NULL, NULL, false, SPI_OK_DELETE_RETURNING);
	if (SPI_processed > 0)
	{
		uint64		n = SPI_processed;
		SPITupleTable *tuptable = SPI_tuptable;

		for (uint64 i = 0; i < n; i++)
		{
			int64		policy_id = DatumGetInt64(SPI_getbinval(tuptable->vals[i], tuptable->tupdesc, 1, &isnull));
			char	   *identity = SPI_getvalue(tuptable->vals[i], tuptable->tupdesc, 2);

			rt_audit_append_named("policy_dropped_with_table", identity, -1,
								  psprintf("{\"policy_id\": " INT64_FORMAT "}", policy_id));
		}
	}
	SPI_finish();
	PG_RETURN_NULL();
}
