/*
 * privilege.c
 *    Identity switching for pg_retention.
 *
 * No function of the extension is SECURITY DEFINER.  Instead the C code
 * switches identity for exactly the statements that need it: statements on
 * the extension's own tables run as the extension owner, and the batches of
 * a policy run as the owner of the policy's table inside a
 * SECURITY_RESTRICTED_OPERATION context (as VACUUM and REFRESH MATERIALIZED
 * VIEW do).  A (sub)transaction abort restores the previous identity, so an
 * error can never leave a session running as another role.
 *
 * Every statement the extension runs through SPI goes through the wrappers
 * here, which run it with search_path "pg_catalog, pg_temp" in a GUC level
 * of its own: a name the statement leaves unqualified cannot resolve to a
 * function or operator someone planted in a schema of the caller's
 * search_path (which, run as the extension owner, would be a privilege
 * escalation), and a SET made by user code the statement reaches ends with
 * the statement.
 *
 * The table-owner switches in effect are also kept on a small stack, with
 * the subtransaction that made each, so that a mask only the engine may
 * apply (retention.mask_pseudonym: computing pseudonyms is not for
 * everyone, SPEC section 4) can tell the engine's statements from the same
 * role calling it on its own.  Subtransaction and transaction callbacks
 * drop the entries of what an error rolled back.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "pg_retention.h"
#include "privilege.h"
#include "version.h"

/* Returns the qualified name of a relation for messages. */
static char *
rt_system_relation_name(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), get_rel_name(relid));
}

/*
 * Returns the role that owns the pg_retention extension in this database,
 * and warns (once per session) when its SQL objects are not the version
 * this library was built for: nearly every function comes here first.
 */
Oid
rt_extension_owner(void)
{
	Oid			extoid = get_extension_oid(RT_EXTENSION_NAME, true);
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	Oid			owner = InvalidOid;
	char	   *extversion = NULL;

	if (!OidIsValid(extoid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"%s\" is not installed in this database",
						RT_EXTENSION_NAME),
				 errhint("Run CREATE EXTENSION %s.", RT_EXTENSION_NAME)));

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(extoid));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
	{
		bool		isnull;
		Datum		d = heap_getattr(tuple, Anum_pg_extension_extversion,
									 RelationGetDescr(rel), &isnull);

		owner = ((Form_pg_extension) GETSTRUCT(tuple))->extowner;
		if (!isnull)
			extversion = TextDatumGetCString(d);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	if (!OidIsValid(owner))
		elog(ERROR, "could not find the owner of extension %s", RT_EXTENSION_NAME);
	if (extversion != NULL)
		rt_version_check(extversion);
	return owner;
}

/* deepest nesting of table-owner switches (engine inside erasure inside a trigger ...) */
#define RT_ENGINE_MAX_DEPTH 64

/* One table-owner switch in effect. */
typedef struct RtEngineSwitch
{
	Oid			owner;
	int			sec_context;	/* the security context the switch set */
	SubTransactionId subid;		/* the subtransaction that made it */
} RtEngineSwitch;

static RtEngineSwitch rt_engine_stack[RT_ENGINE_MAX_DEPTH];
static int	rt_engine_depth = 0;
static bool rt_engine_callbacks = false;

/* Transaction callback: no table-owner switch outlives its transaction. */
static void
rt_engine_xact_callback(XactEvent event, void *arg)
{
	(void) arg;
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_COMMIT ||
		event == XACT_EVENT_PARALLEL_ABORT || event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_PREPARE)
		rt_engine_depth = 0;
}

/* Subtransaction callback: forgets the switches made inside a subtransaction that rolled back. */
static void
rt_engine_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						   SubTransactionId parentSubid, void *arg)
{
	(void) parentSubid;
	(void) arg;
	if (event != SUBXACT_EVENT_ABORT_SUB)
		return;
	/* subtransaction ids grow, so later ones are nested in (or follow) this one */
	while (rt_engine_depth > 0 && rt_engine_stack[rt_engine_depth - 1].subid >= mySubid)
		rt_engine_depth--;
}

/* Returns true when the engine acts as table owner roleid right now; see privilege.h. */
bool
rt_engine_acting_as(Oid roleid)
{
	Oid			userid;
	int			sec_context;
	const RtEngineSwitch *top;

	if (rt_engine_depth == 0)
		return false;
	top = &rt_engine_stack[rt_engine_depth - 1];
	GetUserIdAndSecContext(&userid, &sec_context);
	return top->owner == roleid && userid == roleid && sec_context == top->sec_context;
}

/* Switches to the extension owner to read or write the extension's tables. */
void
rt_become_catalog_owner(RtSavedUser *saved)
{
	Oid			owner = rt_extension_owner();

	GetUserIdAndSecContext(&saved->userid, &saved->sec_context);
	saved->guc_nest = rt_safe_path_begin();
	saved->engine_depth = -1;
	SetUserIdAndSecContext(owner, saved->sec_context | SECURITY_LOCAL_USERID_CHANGE);
}

/* Switches to the owner of relid in a restricted security context. */
void
rt_become_table_owner(Oid relid, RtSavedUser *saved)
{
	HeapTuple	tuple;
	Oid			owner;

	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid),
				 errhint("The table was dropped while a policy on it was running.")));
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);

	if (rt_engine_depth >= RT_ENGINE_MAX_DEPTH)
		elog(ERROR, "table-owner switches nested too deeply");
	if (!rt_engine_callbacks)
	{
		RegisterXactCallback(rt_engine_xact_callback, NULL);
		RegisterSubXactCallback(rt_engine_subxact_callback, NULL);
		rt_engine_callbacks = true;
	}

	GetUserIdAndSecContext(&saved->userid, &saved->sec_context);
	saved->guc_nest = rt_safe_path_begin();
	saved->engine_depth = rt_engine_depth;
	rt_engine_stack[rt_engine_depth].owner = owner;
	rt_engine_stack[rt_engine_depth].sec_context =
		saved->sec_context | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION;
	rt_engine_stack[rt_engine_depth].subid = GetCurrentSubTransactionId();
	rt_engine_depth++;
	SetUserIdAndSecContext(owner, rt_engine_stack[rt_engine_depth - 1].sec_context);
}

/* Restores the identity and search_path saved by rt_become_catalog_owner or rt_become_table_owner. */
void
rt_restore_user(const RtSavedUser *saved)
{
	if (saved->engine_depth >= 0 && saved->engine_depth < rt_engine_depth)
		rt_engine_depth = saved->engine_depth;
	SetUserIdAndSecContext(saved->userid, saved->sec_context);
	/* a set_config() of user code run meanwhile must not outlive the switch */
	rt_safe_path_end(saved->guc_nest);
}

/* Returns true when roleid has the privileges of relid's owner. */
bool
rt_has_owner_rights(Oid relid, Oid roleid)
{
	return rt_class_ownercheck(relid, roleid);
}

/* Raises insufficient_privilege unless the current user owns relid. */
void
rt_require_table_owner(Oid relid, const char *what)
{
	if (!rt_has_owner_rights(relid, GetUserId()))
	{
		char	   *relname = get_rel_name(relid);
		char	   *nspname = get_namespace_name(get_rel_namespace(relid));

		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of table %s to %s",
						quote_qualified_identifier(nspname, relname), what),
				 errhint("Ask the owner of the table, or a member of its owning role, to do it.")));
	}
}

/* Opens a GUC nesting level with search_path "pg_catalog, pg_temp"; returns the level. */
int
rt_safe_path_begin(void)
{
	int			nest = NewGUCNestLevel();

	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	return nest;
}

/* Closes a level of rt_safe_path_begin, undoing every setting changed inside it. */
void
rt_safe_path_end(int nest)
{
	/* false: a SET by user code inside must not outlive the statement */
	AtEOXact_GUC(false, nest);
}

/* SPI_execute_with_args under a safe search_path, leaving CurrentMemoryContext as it was. */
int
rt_spi_execute(const char *sql, int nargs, Oid *argtypes, Datum *values,
			   const char *nulls, bool read_only, long count)
{
	MemoryContext old = CurrentMemoryContext;
	int			nest = rt_safe_path_begin();
	int			rc = SPI_execute_with_args(sql, nargs, argtypes, values, nulls, read_only, count);

	rt_safe_path_end(nest);
	MemoryContextSwitchTo(old);
	return rc;
}

/* SPI_execute_plan under a safe search_path, leaving CurrentMemoryContext as it was. */
int
rt_spi_execute_plan(SPIPlanPtr plan, Datum *values, const char *nulls, bool read_only, long count)
{
	MemoryContext old = CurrentMemoryContext;
	int			nest = rt_safe_path_begin();
	int			rc = SPI_execute_plan(plan, values, nulls, read_only, count);

	rt_safe_path_end(nest);
	MemoryContextSwitchTo(old);
	return rc;
}

/* SPI_prepare_cursor under a safe search_path, leaving CurrentMemoryContext as it was. */
SPIPlanPtr
rt_spi_prepare_cursor(const char *sql, int nargs, Oid *argtypes, int cursor_options)
{
	MemoryContext old = CurrentMemoryContext;
	int			nest = rt_safe_path_begin();
	SPIPlanPtr	plan = SPI_prepare_cursor(sql, nargs, argtypes, cursor_options);

	rt_safe_path_end(nest);
	MemoryContextSwitchTo(old);
	return plan;
}

/* SPI_prepare under a safe search_path, leaving CurrentMemoryContext as it was. */
SPIPlanPtr
rt_spi_prepare(const char *sql, int nargs, Oid *argtypes)
{
	return rt_spi_prepare_cursor(sql, nargs, argtypes, 0);
}

/* SPI_cursor_open_with_args under a safe search_path. */
Portal
rt_spi_cursor_open(const char *sql, int nargs, Oid *argtypes, Datum *values,
				   const char *nulls, bool read_only)
{
	MemoryContext old = CurrentMemoryContext;
	int			nest = rt_safe_path_begin();
	Portal		portal = SPI_cursor_open_with_args(NULL, sql, nargs, argtypes, values, nulls,
												   read_only, 0);

	rt_safe_path_end(nest);
	MemoryContextSwitchTo(old);
	return portal;
}

/* Runs one statement on the extension's own tables as the extension owner. */
int
rt_catalog_exec(const char *sql, int nargs, Oid *argtypes, Datum *values,
				const char *nulls, bool read_only, int expected)
{
	RtSavedUser saved;
	int			rc;

	rt_become_catalog_owner(&saved);
	rc = rt_spi_execute(sql, nargs, argtypes, values, nulls, read_only, 0);
	rt_restore_user(&saved);
	if (rc != expected)
		elog(ERROR, "SPI_execute_with_args failed (%s): %s",
			 SPI_result_code_string(rc), sql);
	return rc;
}

/* Raises insufficient_privilege unless the current user is a superuser or a member of role. */
void
rt_require_role(const char *role, const char *what)
{
	Oid			roleid = get_role_oid(role, true);
	Oid			userid = GetUserId();

	if (superuser_arg(userid) || (OidIsValid(roleid) && has_privs_of_role(userid, roleid)))
		return;
	ereport(LOG,
			(errmsg("pg_retention: role %s was refused: %s",
					quote_identifier(GetUserNameFromId(userid, false)), what)));
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to %s", what),
			 errdetail("Only superusers and members of role %s may do this.", quote_identifier(role)),
			 errhint("A superuser can GRANT %s TO the role that handles these requests.",
					 quote_identifier(role))));
}

/* Raises an error when relid is a system catalog or lives in a system schema. */
void
rt_refuse_system_relation(Oid relid, const char *what)
{
	Oid			nsp = get_rel_namespace(relid);
	char	   *nspname = get_namespace_name(nsp);

	if (IsCatalogRelationOid(relid) || IsCatalogNamespace(nsp) || IsToastNamespace(nsp) ||
		(nspname && strcmp(nspname, "information_schema") == 0))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to %s: %s is a system catalog", what, rt_system_relation_name(relid)),
				 errhint("Retention applies to user tables; the system catalogs are PostgreSQL's own.")));
}

/* Returns an oid[] Datum of a list of Oids. */
Datum
rt_oid_array(List *oids)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(1, list_length(oids)));
	int			n = 0;
	ListCell   *lc;

	foreach(lc, oids)
		elems[n++] = ObjectIdGetDatum(lfirst_oid(lc));
	return PointerGetDatum(construct_array(elems, n, OIDOID, sizeof(Oid), true, TYPALIGN_INT));
}

/* Returns a text[] Datum of a list of C strings. */
Datum
rt_text_array(List *strings)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(1, list_length(strings)));
	int			n = 0;
	ListCell   *lc;

	foreach(lc, strings)
		elems[n++] = CStringGetTextDatum(lfirst(lc));
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/* Returns an int8[] Datum of a list of int64 pointers. */
Datum
rt_int8_array(List *values)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(1, list_length(values)));
	int			n = 0;
	ListCell   *lc;

	foreach(lc, values)
		elems[n++] = Int64GetDatum(*(int64 *) lfirst(lc));
	return PointerGetDatum(construct_array(elems, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}
