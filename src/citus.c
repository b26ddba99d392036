/*
 * citus.c
 *    Citus as pg_retention sees it: Citus tables read from Citus's catalog,
 *    the coordinator, and the session state statements sent to the shards
 *    must carry (docs/operations.md#citus).
 *
 * Citus keeps the rows of a distributed or reference table in shards on the
 * worker nodes; the coordinator's table is an empty shell, and a statement
 * on it is planned by Citus and sent to the shards.  What the engine reads
 * of the shell's own heap (its size, its ctids) therefore means nothing for
 * such a table: purge.c hands Citus tables to citus_purge.c, which selects
 * rows by ranges of the anchor column instead.
 *
 * Everything here is read through SQL from Citus's catalog and functions,
 * looked up by name when the citus extension is installed in the database:
 * the library is never linked against Citus, and works the same without it.
 *
 * Settings.  The engine sets lock_timeout and the rest of its settings in C
 * (safe_spi.c), which Citus does not forward to the workers: a batch on a
 * distributed table would wait on a locked shard row for as long as the
 * worker's own lock_timeout says (by default forever).  Citus forwards SET
 * LOCAL statements, when citus.propagate_set_commands is 'local' and it
 * counts the transaction as one of several statements (a transaction block,
 * a procedure, a DO block): rt_citus_set_local issues them from a DO block,
 * so that the scheduler's background transactions carry them too.
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"

#include "citus.h"
#include "guc.h"
#include "quote.h"
#include "safe_spi.h"

/* Returns true when the citus extension is installed in this database. */
bool
rt_citus_installed(void)
{
	return OidIsValid(get_extension_oid("citus", true));
}

/* Runs a query of one row under its own SPI connection; returns false when it gave no row. */
static bool
rt_citus_query_row(const char *sql, int nargs, Oid *types, Datum *values, int ncols, char **out)
{
	bool		found;

	SPI_connect();
	if (rt_spi_execute(sql, nargs, types, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read Citus's catalog: %s", sql);
	found = SPI_processed > 0;
	for (int i = 0; i < ncols; i++)
	{
		char	   *v = found ? SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1) : NULL;

		out[i] = NULL;
		if (v != NULL)
		{
			/* in the caller's memory: SPI_finish frees the connection's */
			out[i] = SPI_palloc(strlen(v) + 1);
			strcpy(out[i], v);
		}
	}
	SPI_finish();
	return found;
}

/* Returns the kind of Citus table relid is, and its distribution column; see citus.h. */
RtCitusKind
rt_citus_table(Oid relid, char **dist_column)
{
	Oid			types[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(relid)};
	char	   *row[3];

	if (dist_column != NULL)
		*dist_column = NULL;
	if (!OidIsValid(relid) || !rt_citus_installed())
		return RT_CITUS_NONE;
	if (!rt_citus_query_row("SELECT p.partmethod::pg_catalog.text, p.repmodel::pg_catalog.text,"
							" CASE WHEN p.partmethod OPERATOR(pg_catalog.=) 'h'"
							" THEN pg_catalog.column_to_column_name(p.logicalrelid, p.partkey) END"
							" FROM pg_catalog.pg_dist_partition p"
							" WHERE p.logicalrelid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass",
							1, types, values, 3, row))
		return RT_CITUS_NONE;
	if (strcmp(row[0], "h") == 0)
	{
		if (dist_column != NULL && row[2] != NULL)
			*dist_column = row[2];
		return RT_CITUS_DISTRIBUTED;
	}
	/* a Citus local table is partmethod 'n' too, but kept on one node ('s'): not a reference table */
	if (strcmp(row[0], "n") == 0 && strcmp(row[1], "t") == 0)
		return RT_CITUS_REFERENCE;
	return RT_CITUS_OTHER;
}

/* Returns true unless this node is a Citus worker; see citus.h. */
bool
rt_citus_is_coordinator(void)
{
	char	   *row[1];

	if (!rt_citus_installed())
		return true;
	/* the coordinator's group is 0; a node not added to a cluster yet is one too */
	if (!rt_citus_query_row("SELECT (g.groupid OPERATOR(pg_catalog.=) 0)::pg_catalog.text"
							" FROM pg_catalog.pg_dist_local_group g",
							0, NULL, NULL, 1, row))
		return true;
	return strcmp(row[0], "true") == 0;
}

/* Returns this node's name in the Citus cluster; see citus.h. */
char *
rt_citus_node_name(void)
{
	char	   *row[1];

	if (rt_citus_installed() &&
		rt_citus_query_row("SELECT n.nodename OPERATOR(pg_catalog.||) ':' OPERATOR(pg_catalog.||) n.nodeport::pg_catalog.text"
						   " FROM pg_catalog.pg_dist_node n JOIN pg_catalog.pg_dist_local_group g"
						   " ON g.groupid OPERATOR(pg_catalog.=) n.groupid"
						   " WHERE n.noderole OPERATOR(pg_catalog.=) 'primary' ORDER BY n.nodeid",
						   0, NULL, NULL, 1, row) && row[0] != NULL)
		return row[0];
	return pstrdup("this node");
}

/* Returns true when relid is a shard of a Citus table; see citus.h. */
bool
rt_citus_is_shard(Oid relid)
{
	Oid			types[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(relid)};
	char	   *row[1];

	if (!rt_citus_installed())
		return false;
	if (!rt_citus_query_row("SELECT pg_catalog.relation_is_a_known_shard($1::pg_catalog.regclass)::pg_catalog.text",
							1, types, values, 1, row))
		return false;
	return row[0] != NULL && strcmp(row[0], "true") == 0;
}

/* Returns true when value is made only of the characters rt_citus_set_local accepts. */
static bool
rt_citus_plain_value(const char *value)
{
	if (*value == '\0')
		return false;
	for (const char *c = value; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
			  *c == '_' || *c == ':' || *c == '.'))
			return false;
	return true;
}

/* Sets settings as SET LOCAL here and on every node the transaction reaches; see citus.h. */
void
rt_citus_set_local(int n, const char *const *names, const char *const *values)
{
	StringInfoData sql;
	int			nest;

	initStringInfo(&sql);
	appendStringInfoString(&sql, "DO $rt_citus$BEGIN ");
	for (int i = 0; i < n; i++)
	{
		if (!rt_citus_plain_value(values[i]))
			elog(ERROR, "unexpected value for setting %s", names[i]);
		appendStringInfo(&sql, "SET LOCAL %s = '%s'; ", names[i], values[i]);
	}
	appendStringInfoString(&sql, "END$rt_citus$");

	nest = rt_safe_settings_begin(0);
	(void) set_config_option("citus.propagate_set_commands", "local", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	if (rt_spi_execute(sql.data, 0, NULL, NULL, NULL, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not set the settings of the statements sent to the Citus workers");
	rt_safe_settings_end(nest);
}

/* Sets lock_timeout on every node the transaction reaches; see citus.h. */
void
rt_citus_bound_lock_waits(void)
{
	const char *names[1] = {"lock_timeout"};
	const char *values[1];
	char		buf[32];

	snprintf(buf, sizeof(buf), "%d", rt_lock_timeout_ms);
	values[0] = buf;
	rt_citus_set_local(1, names, values);
}

/* Reads Citus's distributed transaction id of this backend; see citus.h. */
void
rt_citus_transaction_id(RtCitusXid *xid)
{
	char	   *row[3];

	memset(xid, 0, sizeof(*xid));
	if (!rt_citus_installed())
		return;
	if (!rt_citus_query_row("SELECT t.initiator_node_identifier::pg_catalog.text, t.transaction_number::pg_catalog.text,"
							" pg_catalog.round(pg_catalog.date_part('epoch', t.transaction_stamp) OPERATOR(pg_catalog.*) 1000000)::pg_catalog.int8::pg_catalog.text"
							" FROM pg_catalog.get_current_transaction_id() t",
							0, NULL, NULL, 3, row))
		return;
	if (row[0] == NULL || row[1] == NULL)
		return;
	xid->initiator = pg_strtoint32(row[0]);
	xid->number = strtou64(row[1], NULL, 10);
	xid->stamp = row[2] != NULL ? strtoi64(row[2], NULL, 10) : 0;
}

/* Makes the current transaction a distributed one reaching every shard of relid; see citus.h. */
void
rt_citus_begin_distributed(Oid relid)
{
	RtCitusXid	xid;

	rt_citus_transaction_id(&xid);
	if (xid.number != 0)
		return;
	if (rt_spi_execute(psprintf("DELETE FROM ONLY %s t WHERE t.ctid OPERATOR(pg_catalog.=) '(0,0)'::pg_catalog.tid",
								rt_relation_name(relid)),
					   0, NULL, NULL, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not begin a distributed transaction on %s", rt_relation_name(relid));
}

/* Makes Citus run the rest of the transaction's multi-shard statements one connection per node; see citus.h. */
void
rt_citus_sequential(void)
{
	(void) set_config_option("citus.multi_shard_modify_mode", "sequential", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
}

/* Reads an int2[] of attribute numbers of relid as a list of quoted column names. */
static List *
rt_citus_columns(Oid relid, Datum attnums)
{
	ArrayType  *arr = DatumGetArrayTypeP(attnums);
	Datum	   *elems;
	int			n;
	List	   *names = NIL;

	deconstruct_array(arr, INT2OID, 2, true, TYPALIGN_SHORT, &elems, NULL, &n);
	for (int i = 0; i < n; i++)
		names = lappend(names, (char *) quote_identifier(get_attname(relid, DatumGetInt16(elems[i]), false)));
	return names;
}

/* Returns the referenced-row expression Citus accepts on a reference table; see citus.h. */
char *
rt_citus_referenced_expr(Oid relid, const char *alias, const char *actions)
{
	Oid			types[2] = {OIDOID, TEXTOID};
	Datum		values[2] = {ObjectIdGetDatum(relid), CStringGetTextDatum(actions)};
	SPITupleTable *keys;
	uint64		n;
	StringInfoData buf;

	/* keys declared on a partitioned table once, through it (its partitions' copies name it as parent) */
	if (rt_spi_execute("SELECT c.conrelid, c.conkey, c.confkey FROM pg_catalog.pg_constraint c"
					   " WHERE c.contype OPERATOR(pg_catalog.=) 'f'"
					   " AND c.confrelid OPERATOR(pg_catalog.=) $1"
					   " AND c.confdeltype OPERATOR(pg_catalog.=) ANY ($2::pg_catalog.\"char\"[])"
					   " AND c.conparentid OPERATOR(pg_catalog.=) 0 ORDER BY c.oid",
					   2, types, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the foreign keys referencing relation %u", relid);
	keys = SPI_tuptable;
	n = SPI_processed;
	if (n == 0)
		return NULL;
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '(');
	for (uint64 i = 0; i < n; i++)
	{
		bool		isnull;
		Oid			conrelid = DatumGetObjectId(SPI_getbinval(keys->vals[i], keys->tupdesc, 1, &isnull));
		List	   *fk = rt_citus_columns(conrelid, SPI_getbinval(keys->vals[i], keys->tupdesc, 2, &isnull));
		List	   *pk = rt_citus_columns(relid, SPI_getbinval(keys->vals[i], keys->tupdesc, 3, &isnull));
		ListCell   *lc;

		if (i > 0)
			appendStringInfoString(&buf, " OR ");
		appendStringInfoChar(&buf, '(');
		foreach(lc, pk)
			appendStringInfo(&buf, "%s%s.%s", foreach_current_index(lc) > 0 ? ", " : "", alias, (char *) lfirst(lc));
		appendStringInfoString(&buf, ") IN (SELECT ");
		foreach(lc, fk)
			appendStringInfo(&buf, "%sr.%s", foreach_current_index(lc) > 0 ? ", " : "", (char *) lfirst(lc));
		appendStringInfo(&buf, " FROM %s%s r WHERE ",
						 get_rel_relkind(conrelid) == RELKIND_PARTITIONED_TABLE ? "" : "ONLY ",
						 rt_relation_name(conrelid));
		/* a key with a NULL column references nothing (and NOT IN a set with NULLs is never true) */
		foreach(lc, fk)
			appendStringInfo(&buf, "%sr.%s IS NOT NULL", foreach_current_index(lc) > 0 ? " AND " : "",
							 (char *) lfirst(lc));
		appendStringInfoString(&buf, ")");
	}
	appendStringInfoChar(&buf, ')');
	return buf.data;
}
