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
 *  - checks tags again after ALTER TABLE, CREATE INDEX and CREATE TABLE
 *    ... PARTITION OF / INHERITS, so that a type change, SET NOT NULL, a
 *    new unique index, or a generated column computed from a tagged column
 *    with a unique index of its own, cannot leave a tag whose mask no
 *    longer fits its column; a partition (or child) is checked against the tags it
 *    inherits as well as its own, since runs apply those to it;
 *  - refuses DROP COLUMN of a column a policy uses (the policy must be
 *    dropped first: silently ending a retention rule would be worse);
 *  - removes the policies of a table that is dropped, recording that in
 *    the audit trail;
 *  - refuses, before it runs (ddl_command_start), DDL that would rename
 *    schema retention or an object in it, move such an object to another
 *    schema, or give the schema or one of its objects to a role that is
 *    not a superuser (or grant such a role CREATE on the schema): the C
 *    code names its objects retention.*, so after a rename every run and
 *    every ALTER TABLE in the database (whose event trigger reads
 *    retention.policy_catalog) would fail, and a role that can change the
 *    schema could plant functions there that run with the rights of
 *    whoever runs a policy.
 *
 * The event triggers are ENABLE ALWAYS (pg_retention--0.2.0--0.3.0.sql):
 * session_replication_role = replica must not switch the guards off.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "executor/spi.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "audit.h"
#include "compat.h"
#include "cutoff.h"
#include "extension.h"
#include "mask_spec.h"
#include "privilege.h"
#include "quote.h"
#include "safe_spi.h"
#include "tagcmds.h"

/* Returns an oid[] datum of relid and every relation that inherits from it. */
static Datum
rt_family_array(Oid relid)
{
	return rt_oid_array(find_all_inheritors(relid, NoLock, NULL));
}

/* Follows a column rename in the policies of relid and its partitions. */
static void
rt_follow_rename(Oid relid, const char *oldname, const char *newname)
{
	Oid			types[3] = {OIDARRAYOID, NAMEOID, NAMEOID};
	Datum		values[3];
	NameData	oldn,
				newn;

	namestrcpy(&oldn, oldname);
	namestrcpy(&newn, newname);
	values[0] = rt_family_array(relid);
	values[1] = NameGetDatum(&oldn);
	values[2] = NameGetDatum(&newn);
	rt_catalog_exec("UPDATE retention.policy_catalog"
					" SET anchor = CASE WHEN anchor OPERATOR(pg_catalog.=) $2 THEN $3 ELSE anchor END,"
					" columns = pg_catalog.array_replace(columns, $2, $3)"
					" WHERE relid::pg_catalog.oid OPERATOR(pg_catalog.=) ANY ($1)"
					" AND (anchor OPERATOR(pg_catalog.=) $2 OR $2 OPERATOR(pg_catalog.=) ANY (columns))",
					3, types, values, NULL, false, SPI_OK_UPDATE);
}

/* Refuses a change that left an anchor column of a policy on relid (or its partitions) without a date or timestamp type. */
static void
rt_check_anchors(Oid relid)
{
	Oid			types[1] = {OIDARRAYOID};
	Datum		values[1] = {rt_family_array(relid)};
	SPITupleTable *tuptable;
	uint64		n;

	rt_catalog_exec("SELECT policy_id, relid::pg_catalog.oid, anchor FROM retention.policy_catalog"
					" WHERE relid::pg_catalog.oid OPERATOR(pg_catalog.=) ANY ($1)",
					1, types, values, NULL, false, SPI_OK_SELECT);
	tuptable = SPI_tuptable;
	n = SPI_processed;
	for (uint64 i = 0; i < n; i++)
	{
		bool		isnull;
		int64		policy_id = DatumGetInt64(SPI_getbinval(tuptable->vals[i], tuptable->tupdesc, 1, &isnull));
		Oid			prelid = DatumGetObjectId(SPI_getbinval(tuptable->vals[i], tuptable->tupdesc, 2, &isnull));
		char	   *anchor = NameStr(*DatumGetName(SPI_getbinval(tuptable->vals[i], tuptable->tupdesc, 3, &isnull)));
		AttrNumber	attnum = get_attnum(prelid, anchor);
		RtAnchorType anchor_type;

		if (attnum > 0 && !rt_anchor_type_of(get_atttype(prelid, attnum), &anchor_type))
			ereport(ERROR,
					(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
					 errmsg("column %s of table %s is the anchor of retention policy " INT64_FORMAT
							" and must keep a date, timestamp or timestamptz type",
							quote_identifier(anchor), rt_relation_name(prelid), policy_id),
					 errhint("Drop or alter the policy first with retention.drop_policy() or retention.alter_policy().")));
	}
}

/*
 * Returns the tables an ALTER TABLE or ALTER TYPE touches: the table, or
 * the tables typed by a composite type (CREATE TABLE ... OF type).
 */
static List *
rt_altered_tables(RangeVar *relation, bool is_type)
{
	Oid			relid = RangeVarGetRelid(relation, NoLock, true);
	Oid			types[1] = {OIDOID};
	Datum		values[1];
	List	   *result = NIL;

	if (!OidIsValid(relid))
		return NIL;
	if (!is_type)
		return list_make1_oid(relid);
	values[0] = ObjectIdGetDatum(get_rel_type_id(relid));
	if (rt_spi_execute("SELECT oid FROM pg_catalog.pg_class WHERE reloftype OPERATOR(pg_catalog.=) $1",
							  1, types, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not find the tables of type %u", relid);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;

		result = lappend_oid(result, DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
																	SPI_tuptable->tupdesc, 1, &isnull)));
	}
	return result;
}

/*
 * Checks again the tags of relid, those it inherits included, and of every
 * table below it.  The tables below need only their own tags checked: the
 * check of a tag on relid or above it covers relid's inheritors.
 */
static void
rt_recheck_tags(Oid relid)
{
	ListCell   *lc;

	foreach(lc, find_all_inheritors(relid, NoLock, NULL))
		rt_tag_revalidate_relation(lfirst_oid(lc), lfirst_oid(lc) == relid);
}

PG_FUNCTION_INFO_V1(retention_on_ddl_end);

/* Event trigger on ddl_command_end for ALTER TABLE, CREATE TABLE and CREATE INDEX: follows renames, guards anchors and tags. */
Datum
retention_on_ddl_end(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;
	Node	   *parsetree;
	bool		pushed = false;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		elog(ERROR, "retention_on_ddl_end: not fired by event trigger manager");
	trigdata = (EventTriggerData *) fcinfo->context;
	parsetree = trigdata->parsetree;

	/*
	 * The second transaction of ALTER TABLE ... DETACH PARTITION ...
	 * CONCURRENTLY starts with no active snapshot, and in a background
	 * worker there is no portal for SPI to take one from: take it here.
	 */
	if (!ActiveSnapshotSet())
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		pushed = true;
	}

	if (IsA(parsetree, RenameStmt) &&
		(((RenameStmt *) parsetree)->renameType == OBJECT_COLUMN ||
		 ((RenameStmt *) parsetree)->renameType == OBJECT_ATTRIBUTE) &&
		((RenameStmt *) parsetree)->relation != NULL)
	{
		RenameStmt *stmt = (RenameStmt *) parsetree;
		List	   *relids;
		ListCell   *lc;

		SPI_connect();
		relids = rt_altered_tables(stmt->relation, stmt->renameType == OBJECT_ATTRIBUTE);
		foreach(lc, relids)
			rt_follow_rename(lfirst_oid(lc), stmt->subname, stmt->newname);
		SPI_finish();
	}
	else if (IsA(parsetree, AlterTableStmt))
	{
		AlterTableStmt *stmt = (AlterTableStmt *) parsetree;
		List	   *relids;
		ListCell   *lc;

		SPI_connect();
		relids = rt_altered_tables(stmt->relation,
								   rt_alter_table_objtype(stmt) == OBJECT_TYPE);
		foreach(lc, relids)
			rt_check_anchors(lfirst_oid(lc));
		foreach(lc, relids)
			rt_recheck_tags(lfirst_oid(lc));
		SPI_finish();
	}
	else if (IsA(parsetree, IndexStmt))
	{
		/* a unique index on a partition must fit the parent's tags too */
		Oid			relid = RangeVarGetRelid(((IndexStmt *) parsetree)->relation, NoLock, true);

		if (OidIsValid(relid))
			rt_recheck_tags(relid);
	}
	else if (IsA(parsetree, CreateStmt) &&
			 (((CreateStmt *) parsetree)->inhRelations != NIL ||
			  ((CreateStmt *) parsetree)->partbound != NULL))
	{
		/* CREATE TABLE ... PARTITION OF / INHERITS with constraints of its own */
		Oid			relid = RangeVarGetRelid(((CreateStmt *) parsetree)->relation, NoLock, true);

		if (OidIsValid(relid))
			rt_tag_revalidate_relation(relid, true);
	}
	if (pushed)
		PopActiveSnapshot();
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

	/* a dropped function that a function() mask names: refuse the DROP */
	rt_catalog_exec("SELECT d.address_names[1], d.address_names[2], l.label, l.objoid, l.objsubid"
					" FROM pg_catalog.pg_event_trigger_dropped_objects() d, pg_catalog.pg_seclabel l"
					" WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass"
					" AND l.provider OPERATOR(pg_catalog.=) 'retention'"
					" AND pg_catalog.strpos(l.label, ':function(') OPERATOR(pg_catalog.>) 0",
					0, NULL, NULL, NULL, false, SPI_OK_SELECT);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		char	   *schema = SPI_getvalue(t, d, 1);
		char	   *name = SPI_getvalue(t, d, 2);
		char	   *label = SPI_getvalue(t, d, 3);
		RtMaskSpec	spec;
		List	   *names;

		if (rt_mask_parse(strchr(label, ':') + 1, &spec) != NULL || spec.kind != RT_MASK_FUNCTION)
			continue;
		names = rt_qualified_name_list(spec.arg);
		if (list_length(names) == 2 && strcmp(strVal(linitial(names)), schema) == 0 &&
			strcmp(strVal(lsecond(names)), name) == 0)
		{
			Oid			relid = DatumGetObjectId(SPI_getbinval(t, d, 4, &isnull));
			int			attnum = DatumGetInt32(SPI_getbinval(t, d, 5, &isnull));

			ereport(ERROR,
					(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
					 errmsg("cannot drop function %s because the mask of column %s of table %s uses it",
							quote_qualified_identifier(schema, name),
							quote_identifier(get_attname(relid, attnum, false)), rt_relation_name(relid)),
					 errhint("Tag the column with another mask first, with retention.tag().")));
		}
	}

	/*
	 * A dropped key column of a kind of data subject: refuse the DROP.  The
	 * kind would name a column that is gone, and every statement that reads
	 * the subjects (runs of unrelated tables among them, for their legal
	 * holds) would fail until someone edited the catalog by hand.
	 */
	rt_catalog_exec("SELECT s.kind, d.object_identity"
					" FROM pg_catalog.pg_event_trigger_dropped_objects() d"
					" JOIN retention.subject_catalog s ON s.relid::pg_catalog.oid OPERATOR(pg_catalog.=) d.objid"
					" WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
					" AND d.objsubid OPERATOR(pg_catalog.>) 0"
					" AND d.address_names[3] OPERATOR(pg_catalog.=) s.key_column::pg_catalog.text"
					" ORDER BY s.kind LIMIT 1",
					0, NULL, NULL, NULL, false, SPI_OK_SELECT);
	if (SPI_processed > 0)
	{
		HeapTuple	t = SPI_tuptable->vals[0];
		TupleDesc	d = SPI_tuptable->tupdesc;
		char	   *kind = SPI_getvalue(t, d, 1);

		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("cannot drop column %s because it is the key of data subject kind \"%s\"",
						SPI_getvalue(t, d, 2), kind),
				 errdetail("Erasures, access requests and legal holds of that kind find their rows from its key."),
				 errhint("Drop the kind first: SELECT retention.drop_subject(%s);", quote_literal_cstr(kind))));
	}

	/*
	 * A dropped table of a kind of data subject: the kind goes with it (as
	 * its policies do), with its links, and the audit says so.  Refusing
	 * the DROP would break pg_restore --clean, which drops every table
	 * before it restores them (and the kind with them).
	 */
	rt_catalog_exec("DELETE FROM retention.subject_link_catalog l"
					" USING retention.subject_catalog s, pg_catalog.pg_event_trigger_dropped_objects() d"
					" WHERE l.kind OPERATOR(pg_catalog.=) s.kind"
					" AND d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
					" AND d.objsubid OPERATOR(pg_catalog.=) 0"
					" AND s.relid::pg_catalog.oid OPERATOR(pg_catalog.=) d.objid",
					0, NULL, NULL, NULL, false, SPI_OK_DELETE);
	rt_catalog_exec("DELETE FROM retention.subject_catalog s"
					" USING pg_catalog.pg_event_trigger_dropped_objects() d"
					" WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
					" AND d.objsubid OPERATOR(pg_catalog.=) 0"
					" AND s.relid::pg_catalog.oid OPERATOR(pg_catalog.=) d.objid"
					" RETURNING s.kind, d.object_identity",
					0, NULL, NULL, NULL, false, SPI_OK_DELETE_RETURNING);
	if (SPI_processed > 0)
	{
		uint64		n = SPI_processed;
		SPITupleTable *tuptable = SPI_tuptable;

		for (uint64 i = 0; i < n; i++)
			rt_audit_append_named("subject_dropped_with_table", SPI_getvalue(tuptable->vals[i], tuptable->tupdesc, 2), -1,
								  psprintf("{\"kind\": %s}",
										   rt_json_quote(SPI_getvalue(tuptable->vals[i], tuptable->tupdesc, 1))));
	}

	/* a dropped table or column that a link_subject names: the link goes, and the audit says so */
	rt_catalog_exec("DELETE FROM retention.subject_link_catalog l"
					" USING pg_catalog.pg_event_trigger_dropped_objects() d"
					" WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
					" AND l.relid::pg_catalog.oid OPERATOR(pg_catalog.=) d.objid"
					" AND (d.objsubid OPERATOR(pg_catalog.=) 0 OR d.address_names[3] OPERATOR(pg_catalog.=) l.column_name::pg_catalog.text)"
					" RETURNING l.kind, l.column_name::pg_catalog.text, d.object_identity",
					0, NULL, NULL, NULL, false, SPI_OK_DELETE_RETURNING);
	if (SPI_processed > 0)
	{
		uint64		n = SPI_processed;
		SPITupleTable *tuptable = SPI_tuptable;

		for (uint64 i = 0; i < n; i++)
			rt_audit_append_named("subject_link_dropped_with_table", SPI_getvalue(tuptable->vals[i], tuptable->tupdesc, 3), -1,
								  psprintf("{\"kind\": %s, \"column\": %s}",
										   rt_json_quote(SPI_getvalue(tuptable->vals[i], tuptable->tupdesc, 1)),
										   rt_json_quote(SPI_getvalue(tuptable->vals[i], tuptable->tupdesc, 2))));
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

/*
 * Returns the description ("schema retention", "table retention.audit",
 * "column anchor of table retention.policy_catalog") of the object a DDL
 * statement names when it is schema retention or lies in it, else NULL.
 * relation is the statement's table (when it names one), else objtype and
 * object name the object; locks as the statement itself will.
 */
static char *
rt_guarded_object(Oid nsp, RangeVar *relation, ObjectType objtype, Node *object, const char *subname)
{
	ObjectAddress address;
	Relation	rel = NULL;

	if (relation != NULL)
	{
		Oid			relid = RangeVarGetRelid(relation, NoLock, true);

		if (!OidIsValid(relid) || get_rel_namespace(relid) != nsp)
			return NULL;
		ObjectAddressSet(address, RelationRelationId, relid);
		if (subname != NULL)
		{
			/* a part of the table: RENAME COLUMN, CONSTRAINT, ALTER TRIGGER ... ON ... RENAME */
			const char *part = objtype == OBJECT_COLUMN || objtype == OBJECT_ATTRIBUTE ? "column" :
				objtype == OBJECT_TABCONSTRAINT ? "constraint" :
				objtype == OBJECT_TRIGGER ? "trigger" :
				objtype == OBJECT_RULE ? "rule" :
				objtype == OBJECT_POLICY ? "policy" : "object";

			return psprintf("%s %s of %s", part, quote_identifier(subname),
							getObjectDescription(&address, false));
		}
		return getObjectDescription(&address, false);
	}
	if (objtype == OBJECT_SCHEMA)
	{
		/* ALTER SCHEMA ... RENAME names the schema in subname, OWNER TO in object */
		const char *name = subname ? subname : (object && IsA(object, String) ? strVal(object) : NULL);

		return name && get_namespace_oid(name, true) == nsp ? psprintf("schema %s", quote_identifier(name)) : NULL;
	}
	switch (objtype)
	{
		case OBJECT_TYPE:
		case OBJECT_DOMAIN:
			/* ALTER TYPE and ALTER DOMAIN name the type by a plain list of names */
			if (object == NULL || !IsA(object, List))
				return NULL;
			object = (Node *) makeTypeNameFromNameList((List *) object);
			break;
		case OBJECT_FUNCTION:
		case OBJECT_PROCEDURE:
		case OBJECT_ROUTINE:
		case OBJECT_AGGREGATE:
			if (object == NULL || !IsA(object, ObjectWithArgs))
				return NULL;
			break;
		default:
			/* nothing else of the commands the event trigger is for lives in a schema */
			return NULL;
	}
	address = get_object_address(objtype, object, &rel, AccessExclusiveLock, true);
	if (rel != NULL)
		relation_close(rel, NoLock);
	if (!OidIsValid(address.objectId) || get_object_namespace(&address) != nsp)
		return NULL;
	return getObjectDescription(&address, false);
}

/* Refuses to make newowner, a role that is not a superuser, the owner of what (schema retention or an object in it). */
static void
rt_refuse_owner(const char *what, RoleSpec *newowner)
{
	Oid			roleid = get_rolespec_oid(newowner, false);

	if (superuser_arg(roleid))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("cannot make role %s the owner of %s of extension %s",
					quote_identifier(GetUserNameFromId(roleid, false)), what, RT_EXTENSION_NAME),
			 errdetail("A role that is not a superuser could put functions or operators there that run with the rights of whoever runs a policy."),
			 errhint("Leave it to a superuser.")));
}

/* Refuses GRANT CREATE (or ALL) on schema retention to a role that is not a superuser, PUBLIC included. */
static void
rt_check_grant(Oid nsp, GrantStmt *stmt)
{
	ListCell   *lc;
	bool		create = stmt->privileges == NIL;	/* ALL */

	if (!stmt->is_grant || stmt->targtype != ACL_TARGET_OBJECT || stmt->objtype != OBJECT_SCHEMA)
		return;
	foreach(lc, stmt->privileges)
		if (((AccessPriv *) lfirst(lc))->priv_name != NULL &&
			strcmp(((AccessPriv *) lfirst(lc))->priv_name, "create") == 0)
			create = true;
	if (!create)
		return;
	foreach(lc, stmt->objects)
	{
		ListCell   *g;

		if (get_namespace_oid(strVal(lfirst(lc)), true) != nsp)
			continue;
		foreach(g, stmt->grantees)
		{
			RoleSpec   *grantee = lfirst(g);
			Oid			roleid = grantee->roletype == ROLESPEC_PUBLIC ? InvalidOid :
				get_rolespec_oid(grantee, false);

			if (OidIsValid(roleid) && superuser_arg(roleid))
				continue;
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("cannot grant CREATE on schema %s of extension %s to %s",
							quote_identifier(strVal(lfirst(lc))), RT_EXTENSION_NAME,
							OidIsValid(roleid) ? quote_identifier(GetUserNameFromId(roleid, false)) : "PUBLIC"),
					 errdetail("A role that is not a superuser could put functions or operators there that run with the rights of whoever runs a policy.")));
		}
	}
}

PG_FUNCTION_INFO_V1(retention_on_ddl_start);

/*
 * Event trigger on ddl_command_start: refuses renaming schema retention or
 * an object in it, moving such an object to another schema, and giving
 * them to roles that are not superusers (docs/reference.md "DDL
 * behaviour"); the extension's own scripts may.
 */
Datum
retention_on_ddl_start(PG_FUNCTION_ARGS)
{
	Node	   *parsetree;
	Oid			nsp;
	char	   *what = NULL;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		elog(ERROR, "retention_on_ddl_start: not fired by event trigger manager");
	parsetree = ((EventTriggerData *) fcinfo->context)->parsetree;
	if (creating_extension)
		PG_RETURN_NULL();
	/* the trigger exists only with the extension, whose schema keeps its name (this guard) */
	nsp = get_namespace_oid(RT_SCHEMA_NAME, true);
	if (!OidIsValid(nsp))
		PG_RETURN_NULL();

	if (IsA(parsetree, RenameStmt))
	{
		RenameStmt *stmt = (RenameStmt *) parsetree;

		what = rt_guarded_object(nsp, stmt->relation, stmt->renameType, stmt->object, stmt->subname);
		if (what != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot rename %s of extension %s", what, RT_EXTENSION_NAME),
					 errdetail("The extension refers to its schema and objects by name; renamed, they would break its runs and the event triggers that every ALTER TABLE of the database fires."),
					 errhint("Keep the names; to remove the extension, use DROP EXTENSION %s.", RT_EXTENSION_NAME)));
	}
	else if (IsA(parsetree, AlterObjectSchemaStmt))
	{
		AlterObjectSchemaStmt *stmt = (AlterObjectSchemaStmt *) parsetree;

		what = rt_guarded_object(nsp, stmt->relation, stmt->objectType, stmt->object, NULL);
		if (what != NULL && get_namespace_oid(stmt->newschema, true) != nsp)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot move %s of extension %s to schema %s", what, RT_EXTENSION_NAME,
							quote_identifier(stmt->newschema)),
					 errdetail("The extension refers to its objects as %s.*; moved, they would break its runs and the event triggers that every ALTER TABLE of the database fires.",
							   RT_SCHEMA_NAME)));
	}
	else if (IsA(parsetree, AlterOwnerStmt))
	{
		AlterOwnerStmt *stmt = (AlterOwnerStmt *) parsetree;

		what = rt_guarded_object(nsp, stmt->relation, stmt->objectType, stmt->object, NULL);
		if (what != NULL)
			rt_refuse_owner(what, stmt->newowner);
	}
	else if (IsA(parsetree, AlterTableStmt))
	{
		AlterTableStmt *stmt = (AlterTableStmt *) parsetree;
		ListCell   *lc;

		foreach(lc, stmt->cmds)
		{
			AlterTableCmd *cmd = lfirst(lc);

			if (cmd->subtype != AT_ChangeOwner)
				continue;
			if (what == NULL)
				what = rt_guarded_object(nsp, stmt->relation, OBJECT_TABLE, NULL, NULL);
			if (what != NULL)
				rt_refuse_owner(what, cmd->newowner);
		}
	}
	else if (IsA(parsetree, GrantStmt))
		rt_check_grant(nsp, (GrantStmt *) parsetree);
	PG_RETURN_NULL();
}
