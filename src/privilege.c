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
 * Both switches open the safe-settings level of safe_spi.c, so that the
 * statements run meanwhile resolve names in pg_catalog only and a SET
 * made by user code they reach ends with the switch.
 *
 * The table-owner switches in effect are also kept on a small stack, with
 * the subtransaction that made each, so that a mask only the engine may
 * apply (retention.mask_pseudonym: computing pseudonyms is not for
 * everyone, docs/reference.md#masks-and-the-pseudonymization-key) can tell the engine's statements from the same
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
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "cache.h"
#include "compat.h"
#include "extension.h"
#include "privilege.h"
#include "quote.h"
#include "safe_spi.h"

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

/*
 * Returns the extension owner, read once per transaction and catalog
 * generation (cache.h): a transaction that appends audit entries and
 * ledger rows for many erasures switches to it for every statement.  Only
 * REASSIGN OWNED changes it, which gives the extension's tables a new
 * owner too, and so moves the generation on.
 */
static Oid
rt_catalog_owner(void)
{
	static LocalTransactionId lxid = InvalidLocalTransactionId;
	static uint64 generation = 0;
	static Oid	owner = InvalidOid;

	if (lxid == InvalidLocalTransactionId || lxid != MyProc->lxid || !OidIsValid(owner) ||
		generation != rt_catalog_generation())
	{
		owner = rt_extension_owner();
		lxid = MyProc->lxid;
		generation = rt_catalog_generation();
	}
	return owner;
}

/* Switches to the extension owner to read or write the extension's tables. */
void
rt_become_catalog_owner(RtSavedUser *saved)
{
	Oid			owner = rt_catalog_owner();

	GetUserIdAndSecContext(&saved->userid, &saved->sec_context);
	saved->guc_nest = rt_safe_settings_begin(0);
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
	saved->guc_nest = rt_safe_settings_begin(0);
	saved->engine_depth = rt_engine_depth;
	rt_engine_stack[rt_engine_depth].owner = owner;
	rt_engine_stack[rt_engine_depth].sec_context =
		saved->sec_context | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION;
	rt_engine_stack[rt_engine_depth].subid = GetCurrentSubTransactionId();
	rt_engine_depth++;
	SetUserIdAndSecContext(owner, rt_engine_stack[rt_engine_depth - 1].sec_context);
}

/*
 * Switches to the bootstrap superuser in a restricted security context, to
 * count rows that row-level security hides from the table owner.  Only for
 * read-only statements whose every function and operator is a built-in one
 * named in pg_catalog (a count of rows past a date), so no user code runs
 * with these rights.
 */
void
rt_become_all_seeing(RtSavedUser *saved)
{
	GetUserIdAndSecContext(&saved->userid, &saved->sec_context);
	saved->guc_nest = rt_safe_settings_begin(0);
	saved->engine_depth = -1;
	SetUserIdAndSecContext(BOOTSTRAP_SUPERUSERID,
						   saved->sec_context | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
}

/* Restores the identity and search_path saved by rt_become_catalog_owner or rt_become_table_owner. */
void
rt_restore_user(const RtSavedUser *saved)
{
	if (saved->engine_depth >= 0 && saved->engine_depth < rt_engine_depth)
		rt_engine_depth = saved->engine_depth;
	SetUserIdAndSecContext(saved->userid, saved->sec_context);
	/* a set_config() of user code run meanwhile must not outlive the switch */
	rt_safe_settings_end(saved->guc_nest);
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

/* Runs one statement on the extension's own tables as the extension owner, through a plan kept across calls. */
int
rt_catalog_exec_kept(const char *sql, int nargs, Oid *argtypes, Datum *values,
					 const char *nulls, bool read_only, int expected)
{
	RtSavedUser saved;
	int			rc;

	rt_become_catalog_owner(&saved);
	rc = rt_spi_execute_kept_in_level(sql, nargs, argtypes, values, nulls, read_only, 0);
	rt_restore_user(&saved);
	if (rc != expected)
		elog(ERROR, "SPI_execute_plan failed (%s): %s",
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
				 errmsg("permission denied to %s: %s is a system catalog", what, rt_relation_name(relid)),
				 errhint("Retention applies to user tables; the system catalogs are PostgreSQL's own.")));
}
