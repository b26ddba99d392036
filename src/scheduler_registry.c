/*
 * scheduler_registry.c
 *    The shared registry of the scheduler (see scheduler_registry.h):
 *    sizing and creating it, and the few questions every process asks it.
 *
 * One LWLock guards the whole registry.  It is held only for short scans
 * of at most max_worker_processes + MaxBackends small entries, never
 * across anything that can wait or fail.
 */
#include "postgres.h"

#include <signal.h>

#include "access/xlog.h"
#include "miscadmin.h"
#include "postmaster/autovacuum.h"
#include "postmaster/bgworker.h"
#include "replication/walsender.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/shmem.h"

#include "compat.h"
#include "guc.h"
#include "scheduler.h"
#include "scheduler_registry.h"

#define RT_REGISTRY_NAME "pg_retention scheduler"

RtRegistry *rt_registry = NULL;

static shmem_startup_hook_type rt_prev_shmem_startup_hook = NULL;

#if RT_HAS_SHMEM_REQUEST_HOOK
static shmem_request_hook_type rt_prev_shmem_request_hook = NULL;
#endif

/* Returns the number of backend entries: one per possible backend. */
static int
rt_registry_nbackends(void)
{
#if RT_HAS_SHMEM_REQUEST_HOOK
	return MaxBackends;
#else
	/* before 15, _PG_init runs before MaxBackends is computed: same formula */
	return MaxConnections + autovacuum_max_workers + 1 + max_worker_processes + max_wal_senders;
#endif
}

/* Returns the size of the registry in shared memory. */
static Size
rt_registry_size(void)
{
	Size		size = offsetof(RtRegistry, slots);

	size = add_size(size, mul_size(max_worker_processes, sizeof(RtWorkerSlot)));
	size = MAXALIGN(size);
	size = add_size(size, mul_size(rt_registry_nbackends(), sizeof(RtBackendEntry)));
	return size;
}

/* Asks for the registry's shared memory and lock; called while the postmaster loads the library. */
void
rt_registry_request(void)
{
	RequestAddinShmemSpace(rt_registry_size());
	RequestNamedLWLockTranche(RT_REGISTRY_NAME, 1);
}

#if RT_HAS_SHMEM_REQUEST_HOOK
/* shmem_request_hook: from 15 on, shared memory is requested here. */
static void
rt_registry_shmem_request(void)
{
	if (rt_prev_shmem_request_hook)
		rt_prev_shmem_request_hook();
	rt_registry_request();
}
#endif

/* shmem_startup_hook: creates the registry, or attaches to the one that exists. */
static void
rt_registry_shmem_startup(void)
{
	bool		found;

	if (rt_prev_shmem_startup_hook)
		rt_prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	rt_registry = ShmemInitStruct(RT_REGISTRY_NAME, rt_registry_size(), &found);
	if (!found)
	{
		memset(rt_registry, 0, rt_registry_size());
		rt_registry->lock = &(GetNamedLWLockTranche(RT_REGISTRY_NAME))->lock;
		rt_registry->nslots = max_worker_processes;
		rt_registry->nbackends = rt_registry_nbackends();
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Installs the shared-memory hooks of the registry. */
void
rt_registry_install_hooks(void)
{
#if RT_HAS_SHMEM_REQUEST_HOOK
	rt_prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = rt_registry_shmem_request;
#else
	rt_registry_request();
#endif
	rt_prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = rt_registry_shmem_startup;
}

/* Returns true when the registry exists. */
bool
rt_registry_available(void)
{
	return rt_registry != NULL;
}

/* Returns the backend entries that follow the worker slots. */
RtBackendEntry *
rt_registry_backends(void)
{
	char	   *base = (char *) rt_registry;
	Size		offset = MAXALIGN(offsetof(RtRegistry, slots) +
								 rt_registry->nslots * sizeof(RtWorkerSlot));

	return (RtBackendEntry *) (base + offset);
}

/* Returns this backend's entry, or NULL for processes without one. */
RtBackendEntry *
rt_registry_my_entry(void)
{
	int			index;

	if (rt_registry == NULL)
		return NULL;
	index = rt_my_backend_index();
	if (index < 0 || index >= rt_registry->nbackends)
		return NULL;
	return &rt_registry_backends()[index];
}

/* Returns true when a live backend keeps workers out of dboid; the caller holds the lock. */
bool
rt_registry_database_held(Oid dboid)
{
	RtBackendEntry *entries = rt_registry_backends();

	for (int i = 0; i < rt_registry->nbackends; i++)
	{
		/* an entry left behind by a backend that died is void */
		if (entries[i].pid != 0 && entries[i].hold_dboid == dboid &&
			BackendPidGetProc(entries[i].pid) != NULL)
			return true;
	}
	return false;
}

/* Wakes the launcher (its SIGUSR1 handler sets its latch), if one runs. */
void
rt_registry_wake_launcher(void)
{
	pid_t		pid;

	if (rt_registry == NULL)
		return;
	LWLockAcquire(rt_registry->lock, LW_SHARED);
	pid = rt_registry->launcher_pid;
	LWLockRelease(rt_registry->lock);
	if (pid != 0)
		kill(pid, SIGUSR1);
}

/*
 * Returns why no scheduler runs this database's policies now, or NULL when
 * one does (docs/operations.md#monitoring): the library was not preloaded,
 * retention.enabled is off, the server is a standby, no launcher runs, or
 * a session holds the database free of workers (DDL, a restore).  A
 * database waiting for a worker slot counts as run: it gets one in turn.
 */
const char *
rt_registry_stopped_reason(void)
{
	pid_t		launcher;
	bool		held;

	if (!rt_registry_available())
		return "not_preloaded";
	if (!rt_enabled)
		return "disabled";
	if (RecoveryInProgress())
		return "standby";
	LWLockAcquire(rt_registry->lock, LW_SHARED);
	launcher = rt_registry->launcher_pid;
	held = rt_registry_database_held(MyDatabaseId);
	LWLockRelease(rt_registry->lock);
	if (launcher == 0)
		return "launcher_down";
	if (held)
		return "held";
	return NULL;
}
