/*
 * diagnose.c
 *    Why rows a statement of the engine was given are still there: the
 *    triggers, rules and row-level security policies of a table, read
 *    from the relation cache and the catalogs, named as a DBA reads them.
 *
 * The engine never trusts its own view of a table: after a run or an
 * erasure it counts what is left (docs/operations.md "What pg_retention
 * checks after each run and erasure").  What is left without a reason the
 * run itself knows (a foreign key, a hold, a lock, a refusal) is explained
 * here when the table itself explains it:
 *  - a DO INSTEAD rule turns the DELETE or UPDATE into something else;
 *  - a BEFORE ROW trigger returned NULL (a soft delete);
 *  - row-level security forced on the owner hides rows from the engine.
 * Where rows went instead (an audit or history table a trigger or rule
 * copies them into) is told by the transaction's insert counts before and
 * after the statement (rt_inserts_now, rt_inserts_between).
 */
#include "postgres.h"

#include "access/relation.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "diagnose.h"
#include "extension.h"
#include "privilege.h"
#include "quote.h"
#include "safe_spi.h"
#include "subxact.h"

/* Returns the tgtype bit of a DML command. */
static int16
rt_trigger_event_bit(CmdType cmd)
{
	switch (cmd)
	{
		case CMD_DELETE:
			return TRIGGER_TYPE_DELETE;
		case CMD_UPDATE:
			return TRIGGER_TYPE_UPDATE;
		case CMD_INSERT:
			return TRIGGER_TYPE_INSERT;
		default:
			return 0;
	}
}

/* Returns true when a trigger fires with session_replication_role = origin (the engine's). */
static bool
rt_trigger_fires(const Trigger *trigger)
{
	return !trigger->tgisinternal &&
		(trigger->tgenabled == TRIGGER_FIRES_ON_ORIGIN || trigger->tgenabled == TRIGGER_FIRES_ALWAYS);
}

/* Returns the names of relid's user triggers on cmd; before_row_only keeps BEFORE ROW ones. */
static List *
rt_triggers_on(Oid relid, CmdType cmd, bool before_row_only)
{
	Relation	rel = try_relation_open(relid, AccessShareLock);
	List	   *names = NIL;
	int16		event = rt_trigger_event_bit(cmd);

	if (rel == NULL)
		return NIL;
	if (rel->trigdesc != NULL)
	{
		for (int i = 0; i < rel->trigdesc->numtriggers; i++)
		{
			const Trigger *trigger = &rel->trigdesc->triggers[i];

			if (!rt_trigger_fires(trigger) || (trigger->tgtype & event) == 0)
				continue;
			if (before_row_only &&
				!(TRIGGER_FOR_ROW(trigger->tgtype) && TRIGGER_FOR_BEFORE(trigger->tgtype)))
				continue;
			names = lappend(names, pstrdup(trigger->tgname));
		}
	}
	relation_close(rel, AccessShareLock);
	return names;
}

/* Returns the enabled BEFORE ROW triggers of relid on cmd; see diagnose.h. */
List *
rt_before_row_triggers(Oid relid, CmdType cmd)
{
	return rt_triggers_on(relid, cmd, true);
}

/* Returns the enabled user triggers of relid on cmd; see diagnose.h. */
List *
rt_user_triggers(Oid relid, CmdType cmd)
{
	return rt_triggers_on(relid, cmd, false);
}

/* Runs a catalog query returning one name column for relid; returns the names. */
static List *
rt_catalog_names(const char *sql, Oid relid, const char *arg)
{
	Oid			types[2] = {OIDOID, CHAROID};
	Datum		values[2] = {ObjectIdGetDatum(relid), CharGetDatum(arg ? arg[0] : ' ')};
	List	   *names = NIL;
	MemoryContext caller = CurrentMemoryContext;

	/* a connection of its own: callers need not have one, and their results stay as they were */
	SPI_connect();
	if (rt_spi_execute(sql, arg ? 2 : 1, types, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the catalog of relation %u", relid);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);
		MemoryContext old = MemoryContextSwitchTo(caller);

		if (!isnull)
			names = lappend(names, pstrdup(NameStr(*DatumGetName(d))));
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	return names;
}

/* Returns true when relid has rules of any kind (an ALSO rule can copy rows elsewhere). */
bool
rt_table_has_rules(Oid relid)
{
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	bool		has = false;

	if (HeapTupleIsValid(tuple))
	{
		has = ((Form_pg_class) GETSTRUCT(tuple))->relhasrules;
		ReleaseSysCache(tuple);
	}
	return has;
}

/* Returns the tables a DELETE of relid cascades into; see diagnose.h. */
List *
rt_cascade_tables(Oid relid)
{
	Oid			types[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(relid)};
	MemoryContext caller = CurrentMemoryContext;
	List	   *tables = NIL;

	SPI_connect();
	if (rt_spi_execute("WITH RECURSIVE start(relid) AS ("
					   "   SELECT $1 UNION SELECT p.relid FROM pg_catalog.pg_partition_ancestors($1::pg_catalog.regclass) p),"
					   " reach(relid) AS ("
					   "   SELECT relid FROM start"
					   "   UNION SELECT c.conrelid FROM pg_catalog.pg_constraint c JOIN reach r ON c.confrelid OPERATOR(pg_catalog.=) r.relid"
					   "   WHERE c.contype OPERATOR(pg_catalog.=) 'f' AND c.confdeltype OPERATOR(pg_catalog.=) ANY ('{c,n,d}'::pg_catalog.\"char\"[]))"
					   " SELECT relid FROM reach WHERE relid OPERATOR(pg_catalog.<>) ALL (ARRAY(SELECT relid FROM start))",
					   1, types, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the foreign keys into relation %u", relid);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Oid			child = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		MemoryContext old = MemoryContextSwitchTo(caller);

		tables = lappend_oid(tables, child);
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	return tables;
}

/* Returns true when a DELETE of relid cascades into a table with triggers or rules; see diagnose.h. */
bool
rt_cascade_reaches_user_code(Oid relid)
{
	ListCell   *lc;

	foreach(lc, rt_cascade_tables(relid))
		if (rt_user_triggers(lfirst_oid(lc), CMD_DELETE) != NIL ||
			rt_user_triggers(lfirst_oid(lc), CMD_UPDATE) != NIL ||
			rt_table_has_rules(lfirst_oid(lc)))
			return true;
	return false;
}

/* Returns the enabled DO INSTEAD rules of relid on cmd; see diagnose.h. */
List *
rt_instead_rules(Oid relid, CmdType cmd)
{
	const char *ev_type = cmd == CMD_DELETE ? "4" : cmd == CMD_UPDATE ? "2" : "3";

	return rt_catalog_names("SELECT r.rulename FROM pg_catalog.pg_rewrite r"
							" WHERE r.ev_class OPERATOR(pg_catalog.=) $1"
							" AND r.ev_type OPERATOR(pg_catalog.=) $2 AND r.is_instead"
							" AND r.ev_enabled OPERATOR(pg_catalog.<>) 'D'"
							" AND r.ev_enabled OPERATOR(pg_catalog.<>) 'R'"
							" ORDER BY r.rulename",
							relid, ev_type);
}

/* Returns true when a relation forces row-level security on its owner. */
static bool
rt_rel_forces_row_security(Oid relid)
{
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	bool		forced = false;

	if (HeapTupleIsValid(tuple))
	{
		forced = ((Form_pg_class) GETSTRUCT(tuple))->relforcerowsecurity;
		ReleaseSysCache(tuple);
	}
	return forced;
}

/* Returns true when row-level security applies to the role the engine acts as; see diagnose.h. */
bool
rt_row_security_binds_owner(Oid relid)
{
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	bool		binds = false;
	Oid			user = GetUserId();

	if (HeapTupleIsValid(tuple))
	{
		Form_pg_class form = (Form_pg_class) GETSTRUCT(tuple);

		/* the table's own owner is bound only when it is forced; any other role whenever it is on */
		binds = form->relrowsecurity &&
			(form->relforcerowsecurity || form->relowner != user) &&
			!has_bypassrls_privilege(user);
		ReleaseSysCache(tuple);
	}
	return binds;
}

/* Returns the names of the row-level security policies of relid; see diagnose.h. */
List *
rt_row_security_policies(Oid relid)
{
	return rt_catalog_names("SELECT p.polname FROM pg_catalog.pg_policy p"
							" WHERE p.polrelid OPERATOR(pg_catalog.=) $1 ORDER BY p.polname",
							relid, NULL);
}

/* Returns how many rows past the cutoff row-level security hides from the owner; see diagnose.h. */
int64
rt_rows_hidden_from_owner(Oid relid, const char *anchor, Oid cutoff_type, Datum cutoff)
{
	char	   *sql;
	int64		seen;
	int64		all;
	bool		isnull;
	RtSavedUser saved;

	if (!rt_row_security_binds_owner(relid))
		return 0;
	sql = psprintf("SELECT pg_catalog.count(*) FROM ONLY %s t WHERE t.%s OPERATOR(pg_catalog.<) $1",
				   rt_relation_name(relid), anchor);
	/* not read-only: a fresh snapshot that sees what this transaction did (CALL in a block) */
	if (rt_spi_execute(sql, 1, &cutoff_type, &cutoff, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not count the expired rows of %s", rt_relation_name(relid));
	seen = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	rt_become_all_seeing(&saved);
	if (rt_spi_execute(sql, 1, &cutoff_type, &cutoff, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not count the expired rows of %s", rt_relation_name(relid));
	all = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	rt_restore_user(&saved);
	return Max(all - seen, 0);
}

/* What rt_rows_owner_cannot_lock counts, in its undone subtransaction. */
typedef struct RtUnlockedCount
{
	const char *sql;
	Oid			types[2];
	Datum		values[2];
	int64		count;
} RtUnlockedCount;

/*
 * Locks the rows of an RtUnlockedCount that no other session locks, first
 * with full visibility, then as the owner (the current user), and counts
 * those only the former could lock.  The rows the first statement locked
 * stay this transaction's until the subtransaction is undone, so a lock
 * another session takes or drops in between changes neither count.
 */
static void
rt_count_owner_cannot_lock(void *arg)
{
	RtUnlockedCount *c = arg;
	RtSavedUser saved;
	bool		isnull;
	int64		all;
	int64		owner;

	rt_become_all_seeing(&saved);
	if (rt_spi_execute(c->sql, 2, c->types, c->values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not count the rows no other session locks");
	all = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	rt_restore_user(&saved);
	if (rt_spi_execute(c->sql, 2, c->types, c->values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not count the rows the owner may lock");
	owner = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	c->count = Max(all - owner, 0);
}

/* Returns how many of the rows tids no other session locks but row-level security keeps the owner from locking; see diagnose.h. */
int64
rt_rows_owner_cannot_lock(Oid relid, const char *anchor, Oid cutoff_type, Datum cutoff, Datum tids)
{
	RtUnlockedCount c;

	c.sql = psprintf("SELECT pg_catalog.count(*) FROM (SELECT 1 FROM ONLY %s t"
					 " WHERE t.ctid OPERATOR(pg_catalog.=) ANY ($1) AND t.%s OPERATOR(pg_catalog.<) $2"
					 " FOR UPDATE SKIP LOCKED) l",
					 rt_relation_name(relid), anchor);
	c.types[0] = TIDARRAYOID;
	c.types[1] = cutoff_type;
	c.values[0] = tids;
	c.values[1] = cutoff;
	c.count = 0;
	rt_in_subtransaction_undone(rt_count_owner_cannot_lock, &c);
	return c.count;
}

/* Returns the cause of expired rows row-level security lets the owner see but not change; see diagnose.h. */
char *
rt_diagnose_rls_refused(Oid relid, CmdType cmd, int64 n)
{
	return psprintf("row-level security on %s, %s, lets the role pg_retention acts as see " INT64_FORMAT " row%s"
					" but not lock or %s %s (policies: %s); it needs %s (or FOR ALL) that pass%s %s",
					rt_relation_name(relid),
					rt_rel_forces_row_security(relid) ? "forced on its owner" : "enabled on a table another role owns",
					n, n == 1 ? "" : "s", cmd == CMD_DELETE ? "delete" : "update", n == 1 ? "it" : "them",
					rt_name_list(rt_row_security_policies(relid)),
					cmd == CMD_DELETE ? "policies FOR DELETE and FOR UPDATE" : "a policy FOR UPDATE",
					cmd == CMD_DELETE ? "" : "es", n == 1 ? "it" : "them");
}

/* Returns names (char *) quoted and joined by commas; see diagnose.h. */
char *
rt_name_list(List *names)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, names)
		appendStringInfo(&buf, "%s%s", lc == list_head(names) ? "" : ", ", quote_identifier(lfirst(lc)));
	return buf.data;
}

/* Returns "trigger t on s.r" or "triggers a, b on s.r"; see diagnose.h. */
char *
rt_describe_named(const char *what, List *names, Oid relid)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	if (list_length(names) == 1)
		appendStringInfo(&buf, "%s ", what);
	else if (strcmp(what, "policy") == 0)
		appendStringInfoString(&buf, "policies ");
	else
		appendStringInfo(&buf, "%ss ", what);
	foreach(lc, names)
	{
		if (lc != list_head(names))
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, quote_identifier(lfirst(lc)));
	}
	appendStringInfo(&buf, " on %s", rt_relation_name(relid));
	return buf.data;
}

/* Returns the cause of rows a statement left although it was given them; see diagnose.h. */
char *
rt_diagnose_left(Oid relid, CmdType cmd, int64 n)
{
	const char *verb = cmd == CMD_DELETE ? "DELETE" : "UPDATE";
	List	   *names;

	names = rt_instead_rules(relid, cmd);
	if (names != NIL)
		return psprintf("%s turns the %s into other statements (DO INSTEAD); " INT64_FORMAT " row%s left",
						rt_describe_named("rule", names, relid), verb, n, n == 1 ? "" : "s");
	if (rt_row_security_binds_owner(relid))
	{
		names = rt_row_security_policies(relid);
		if (names == NIL)
			return psprintf("row-level security %s on %s without any policy hides " INT64_FORMAT " row%s from the table owner",
							rt_rel_forces_row_security(relid) ? "forced" : "enabled",
							rt_relation_name(relid), n, n == 1 ? "" : "s");
		return psprintf("row-level security %s %s " INT64_FORMAT " row%s from the table owner",
						rt_describe_named("policy", names, relid), list_length(names) == 1 ? "hides" : "hide",
						n, n == 1 ? "" : "s");
	}
	names = rt_before_row_triggers(relid, cmd);
	if (names != NIL)
		return psprintf("%s returned NULL for " INT64_FORMAT " row%s (BEFORE %s ROW trigger)",
						rt_describe_named("trigger", names, relid), n, n == 1 ? "" : "s", verb);
	return NULL;
}

/* Returns the tables with rows inserted in this transaction; see diagnose.h. */
List *
rt_inserts_now(void)
{
	List	   *result = NIL;

	if (rt_spi_execute("SELECT s.relid, s.n_tup_ins FROM pg_catalog.pg_stat_xact_user_tables s"
					   " WHERE s.n_tup_ins OPERATOR(pg_catalog.>) 0 ORDER BY s.relid",
					   0, NULL, NULL, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the insert counts of this transaction");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		RtInsertCount *c = palloc(sizeof(RtInsertCount));
		bool		isnull;

		c->relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		c->inserted = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));
		result = lappend(result, c);
	}
	return result;
}

/* Returns the tables whose inserts grew between two counts; see diagnose.h. */
List *
rt_inserts_between(List *before, List *after)
{
	List	   *grown = NIL;
	Oid			own = get_namespace_oid(RT_SCHEMA_NAME, true);
	ListCell   *la;

	foreach(la, after)
	{
		RtInsertCount *a = lfirst(la);
		int64		earlier = 0;
		ListCell   *lb;

		foreach(lb, before)
		{
			RtInsertCount *b = lfirst(lb);

			if (b->relid == a->relid)
				earlier = b->inserted;
		}
		if (a->inserted > earlier && get_rel_namespace(a->relid) != own)
		{
			RtInsertCount *g = palloc(sizeof(RtInsertCount));

			g->relid = a->relid;
			g->inserted = a->inserted - earlier;
			grown = lappend(grown, g);
		}
	}
	return grown;
}
