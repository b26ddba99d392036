/*
 * scheduler_ddl.c
 *    Keeps database workers out of the way of DDL that needs a database
 *    to itself, and tells the launcher when pg_retention appears in or
 *    leaves a database.
 *
 * PostgreSQL does not stop background workers for a plain DROP DATABASE:
 * it waits five seconds for "other users" to leave, then fails.  The same
 * check guards CREATE DATABASE ... TEMPLATE, ALTER DATABASE ... RENAME and
 * ... SET TABLESPACE.  DROP EXTENSION and ALTER EXTENSION take locks on
 * the extension's own tables in an order a running batch could deadlock
 * with.  The library is preloaded, so every backend runs this
 * ProcessUtility hook: before such a statement runs, it marks the
 * database as held in the registry (the launcher starts no worker there),
 * asks the database's worker to leave (cancelling whatever transaction it
 * is in: a batch, which rolls back whole, or a due test or pending
 * erasures, which run the table owner's code too), and waits until the
 * worker is gone.  The hold
 * ends with the transaction, so the worker cannot come back between the
 * statement and its commit.
 *
 * A pg_restore session (application_name pg_restore) of a superuser or of
 * the database's owner holds its database the same way, from its first
 * command until it disconnects: a restore brings the policies and the rows
 * before the foreign keys, and --clean drops the keys first, so a run in
 * between would delete rows the keys still need, or deadlock with the
 * restore's DROPs.  Other roles cannot hold the worker off that way.
 *
 * CREATE, ALTER and DROP EXTENSION pg_retention also ask the launcher, at
 * commit, to look at the database again, so a database that gains the
 * extension gets a worker within moments, with no list kept by hand.  A
 * change committed by two-phase commit (PREPARE TRANSACTION, then COMMIT
 * PREPARED, as Citus propagates CREATE EXTENSION to its workers) asks at
 * the COMMIT PREPARED, when the catalog shows a change the launcher has not
 * seen.
 * Adding or changing a policy asks for nothing: the policy is first
 * applied at the worker's next pass, within retention.naptime, so that a
 * DBA can preview it (or CALL retention.run() with an as_of of their own)
 * before the worker acts.
 */
#include "postgres.h"

#include <signal.h>

#include "access/xact.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "pgstat.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/procarray.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "extension.h"
#include "scheduler.h"
#include "scheduler_registry.h"

/* how long DDL waits for a worker to leave before it goes ahead regardless */
#define RT_LEAVE_WAIT_MS 10000

static ProcessUtility_hook_type rt_prev_process_utility = NULL;

/* this transaction changed pg_retention in this database: tell the launcher at commit */
static bool rt_recheck_at_commit = false;

/* this backend holds a database free of workers until the transaction ends */
static bool rt_holding = false;

/* this backend is a restore: it holds its database until it exits */
static bool rt_session_holding = false;

/* Returns the OID of a database by name, or InvalidOid. */
static Oid
rt_database_oid(const char *name)
{
	return name ? get_database_oid(name, true) : InvalidOid;
}

/* Returns true when a list of names (String nodes) contains name. */
static bool
rt_names_contain(List *names, const char *name)
{
	ListCell   *lc;

	foreach(lc, names)
	{
		Node	   *n = lfirst(lc);

		if (IsA(n, String) && strcmp(strVal(n), name) == 0)
			return true;
	}
	return false;
}

/* Returns true when DROP OWNED names the role that owns pg_retention here. */
static bool
rt_drop_owned_takes_extension(DropOwnedStmt *stmt)
{
	Oid			owner;
	ListCell   *lc;

	if (!OidIsValid(get_extension_oid(RT_EXTENSION_NAME, true)))
		return false;
	owner = rt_extension_owner();
	foreach(lc, stmt->roles)
	{
		if (get_rolespec_oid(lfirst(lc), true) == owner)
			return true;
	}
	return false;
}

/* Returns the template a CREATE DATABASE copies: its TEMPLATE option or template1. */
static const char *
rt_createdb_template(CreatedbStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->options)
	{
		DefElem    *opt = lfirst(lc);

		if (strcmp(opt->defname, "template") == 0 && opt->arg != NULL)
			return defGetString(opt);
	}
	return "template1";
}

/*
 * Classifies a utility statement: sets *hold to the database that must be
 * free of workers while it runs, and *recheck when it creates, alters or
 * drops pg_retention in this database.
 */
static void
rt_classify(Node *parsetree, Oid *hold, bool *recheck)
{
	*hold = InvalidOid;
	*recheck = false;

	switch (nodeTag(parsetree))
	{
		case T_DropdbStmt:
			*hold = rt_database_oid(((DropdbStmt *) parsetree)->dbname);
			break;
		case T_CreatedbStmt:
			*hold = rt_database_oid(rt_createdb_template((CreatedbStmt *) parsetree));
			break;
		case T_AlterDatabaseStmt:
			{
				AlterDatabaseStmt *stmt = (AlterDatabaseStmt *) parsetree;
				ListCell   *lc;

				foreach(lc, stmt->options)
				{
					if (strcmp(((DefElem *) lfirst(lc))->defname, "tablespace") == 0)
						*hold = rt_database_oid(stmt->dbname);
				}
				break;
			}
		case T_RenameStmt:
			if (((RenameStmt *) parsetree)->renameType == OBJECT_DATABASE)
				*hold = rt_database_oid(((RenameStmt *) parsetree)->subname);
			break;
		case T_CreateExtensionStmt:
			*recheck = strcmp(((CreateExtensionStmt *) parsetree)->extname, RT_EXTENSION_NAME) == 0;
			break;
		case T_AlterExtensionStmt:
			*recheck = strcmp(((AlterExtensionStmt *) parsetree)->extname, RT_EXTENSION_NAME) == 0;
			break;
		case T_AlterExtensionContentsStmt:
			*recheck = strcmp(((AlterExtensionContentsStmt *) parsetree)->extname, RT_EXTENSION_NAME) == 0;
			break;
		case T_DropStmt:
			{
				DropStmt   *stmt = (DropStmt *) parsetree;

				if (stmt->removeType == OBJECT_EXTENSION)
					*recheck = rt_names_contain(stmt->objects, RT_EXTENSION_NAME);
				else if (stmt->removeType == OBJECT_SCHEMA)
					*recheck = rt_names_contain(stmt->objects, RT_SCHEMA_NAME);
				break;
			}
		case T_DropOwnedStmt:
			*recheck = rt_drop_owned_takes_extension((DropOwnedStmt *) parsetree);
			break;
		default:
			break;
	}
	/* changing the extension under a running batch could deadlock with it */
	if (*recheck && nodeTag(parsetree) != T_CreateExtensionStmt)
		*hold = MyDatabaseId;
}

/* Returns true while a worker of dboid still runs; asks it to leave when ask is set. */
static bool
rt_worker_present(Oid dboid, bool ask)
{
	bool		present = false;

	LWLockAcquire(rt_registry->lock, LW_EXCLUSIVE);
	for (int i = 0; i < rt_registry->nslots; i++)
	{
		RtWorkerSlot *slot = &rt_registry->slots[i];

		if (!slot->in_use || slot->dboid != dboid)
			continue;
		if (slot->exited)
		{
			/* gone from the registry; wait until it is gone from the proc array too */
			if (slot->pid != 0 && BackendPidGetProc(slot->pid) != NULL)
				present = true;
			continue;
		}
		present = true;
		if (ask && slot->pid != 0)
		{
			slot->leave = true;
			/* the transaction in flight is cancelled (a batch rolls back whole); a sleeper is woken */
			kill(slot->pid, slot->in_xact ? SIGINT : SIGUSR1);
		}
		else if (ask)
			slot->leave = true;
	}
	LWLockRelease(rt_registry->lock);
	return present;
}

/* Holds dboid free of workers until the end of the transaction and waits for its worker to leave. */
static void
rt_hold_database(Oid dboid)
{
	RtBackendEntry *me = rt_registry_my_entry();
	TimestampTz give_up = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), RT_LEAVE_WAIT_MS);
	bool		ask = true;

	if (me == NULL || !OidIsValid(dboid))
		return;
	LWLockAcquire(rt_registry->lock, LW_EXCLUSIVE);
	me->pid = MyProcPid;
	me->hold_dboid = dboid;
	LWLockRelease(rt_registry->lock);
	rt_holding = true;

	while (rt_worker_present(dboid, ask))
	{
		ask = false;
		if (GetCurrentTimestamp() >= give_up)
			break;				/* the statement's own checks decide from here */
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 10,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/* Returns true when this session is a restore of a superuser or of the database's owner. */
static bool
rt_is_restore_session(void)
{
	Oid			userid = GetSessionUserId();

	if (application_name == NULL || strcmp(application_name, "pg_restore") != 0)
		return false;
	return superuser_arg(userid) || rt_database_ownercheck(MyDatabaseId, userid);
}

/* Ends the hold of a restore session when its backend exits, and wakes the launcher. */
static void
rt_session_hold_exit(int code, Datum arg)
{
	RtBackendEntry *me = rt_registry_my_entry();

	(void) code;
	(void) arg;
	if (me != NULL)
	{
		LWLockAcquire(rt_registry->lock, LW_EXCLUSIVE);
		if (me->pid == MyProcPid)
			me->hold_dboid = InvalidOid;
		LWLockRelease(rt_registry->lock);
	}
	rt_registry_wake_launcher();
}

/* Holds this database free of workers until the backend exits (a restore session). */
static void
rt_hold_database_for_session(void)
{
	rt_session_holding = true;
	before_shmem_exit(rt_session_hold_exit, (Datum) 0);
	rt_hold_database(MyDatabaseId);
	ereport(LOG,
			(errmsg("pg_retention: no policy runs in database %s while this pg_restore session lasts",
					quote_identifier(get_database_name(MyDatabaseId)))));
}

/* Transaction callback: ends the hold and passes on a pending recheck. */
static void
rt_sched_xact_callback(XactEvent event, void *arg)
{
	RtBackendEntry *me;
	bool		wake = false;

	(void) arg;
	if (!rt_holding && !rt_recheck_at_commit)
		return;
	if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT &&
		event != XACT_EVENT_PREPARE)
		return;
	me = rt_registry_my_entry();
	if (me != NULL)
	{
		LWLockAcquire(rt_registry->lock, LW_EXCLUSIVE);
		/* a restore session keeps its hold until it exits */
		me->hold_dboid = rt_session_holding ? MyDatabaseId : InvalidOid;
		/* with no worker here, a recheck makes the launcher start one now */
		if (event == XACT_EVENT_COMMIT && rt_recheck_at_commit)
		{
			me->pid = MyProcPid;
			me->recheck_dboid = MyDatabaseId;
		}
		LWLockRelease(rt_registry->lock);
		wake = true;
	}
	rt_holding = false;
	rt_recheck_at_commit = false;
	if (wake)
		rt_registry_wake_launcher();
}

/*
 * After COMMIT PREPARED: asks the launcher, at the commit of the statement's
 * own transaction, to look at this database again when what the prepared
 * transaction committed changed whether it holds pg_retention -- the
 * extension is there and no worker runs, or a worker runs and it is gone.
 * The recheck request of the transaction that made the change was dropped
 * at its PREPARE (nothing was visible yet), and the COMMIT PREPARED may come
 * from another session, as when Citus recovers a transaction; so the test
 * is on the catalog, one lookup per COMMIT PREPARED.
 */
static void
rt_after_commit_prepared(void)
{
	bool		installed;

	InvalidateCatalogSnapshot();
	installed = OidIsValid(get_extension_oid(RT_EXTENSION_NAME, true));
	if (installed != rt_worker_present(MyDatabaseId, false))
		rt_recheck_at_commit = true;
}

/* ProcessUtility hook: clears the way for DDL that needs a database without workers. */
static void
rt_sched_process_utility(PlannedStmt *pstmt, const char *queryString,
#if RT_HAS_READONLY_TREE
						 bool readOnlyTree,
#endif
						 ProcessUtilityContext context, ParamListInfo params,
						 QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	Oid			hold;
	bool		recheck;

	if (rt_registry_available() && !IsBinaryUpgrade)
	{
		/* pg_restore sends SET commands first: the hold begins before any object */
		if (!rt_session_holding && rt_is_restore_session())
			rt_hold_database_for_session();
		rt_classify(pstmt->utilityStmt, &hold, &recheck);
		if (recheck)
			rt_recheck_at_commit = true;
		if (OidIsValid(hold))
			rt_hold_database(hold);
	}

	if (rt_prev_process_utility)
		rt_prev_process_utility(pstmt, queryString,
#if RT_HAS_READONLY_TREE
								readOnlyTree,
#endif
								context, params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString,
#if RT_HAS_READONLY_TREE
								readOnlyTree,
#endif
								context, params, queryEnv, dest, qc);

	if (rt_registry_available() && !IsBinaryUpgrade && IsA(pstmt->utilityStmt, TransactionStmt) &&
		((TransactionStmt *) pstmt->utilityStmt)->kind == TRANS_STMT_COMMIT_PREPARED)
		rt_after_commit_prepared();
}

/* Installs the ProcessUtility hook and the transaction callback. */
void
rt_sched_ddl_install(void)
{
	rt_prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = rt_sched_process_utility;
	RegisterXactCallback(rt_sched_xact_callback, NULL);
}
