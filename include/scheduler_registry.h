/*
 * scheduler_registry.h
 *    The shared registry of the scheduler: one slot per database worker,
 *    and one entry per backend through which DDL asks the workers to leave
 *    a database and tells the launcher to look at a database again.
 *
 * The registry is small and fixed in size: worker slots are bounded by
 * max_worker_processes and backend entries by MaxBackends, both known
 * when the postmaster sizes shared memory.  Which databases hold
 * pg_retention is the launcher's own (local, unbounded) knowledge; the
 * registry only carries what other processes must see.
 */
#ifndef RT_SCHEDULER_REGISTRY_H
#define RT_SCHEDULER_REGISTRY_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "storage/lwlock.h"

/* One database worker, as the launcher started it and as it reports back. */
typedef struct RtWorkerSlot
{
	bool		in_use;			/* assigned by the launcher */
	bool		exited;			/* the process has gone (set on its way out) */
	bool		clean_exit;		/* it left on purpose, not because of an error */
	bool		absent;			/* it found no pg_retention in its database */
	bool		leave;			/* DDL wants the database free of workers */
	bool		yield;			/* the launcher wants the slot for another database */
	bool		idle;			/* sleeping between passes */
	bool		in_xact;		/* inside a transaction (a run's batch, a due test, erasures): a cancel hits it */
	bool		key_file_refused;	/* it left: its role may not take the database's retention.key_file */
	uint32		generation;		/* launcher generation that assigned the slot */
	Oid			dboid;
	pid_t		pid;			/* 0 until the worker attaches */
	TimestampTz next_pass_at;	/* when the worker's next pass starts */
} RtWorkerSlot;

/* What one backend asks of the scheduler; valid while that backend lives. */
typedef struct RtBackendEntry
{
	pid_t		pid;
	Oid			hold_dboid;		/* keep workers out of this database; InvalidOid = none */
	Oid			recheck_dboid;	/* look again whether this database holds pg_retention */
} RtBackendEntry;

/* The registry in shared memory. */
typedef struct RtRegistry
{
	LWLock	   *lock;			/* protects everything below */
	pid_t		launcher_pid;	/* 0 while no launcher runs */
	uint32		generation;		/* bumped by each launcher start */
	int			nslots;			/* max_worker_processes */
	int			nbackends;		/* MaxBackends */
	RtWorkerSlot slots[FLEXIBLE_ARRAY_MEMBER];
	/* followed by RtBackendEntry backends[nbackends] */
} RtRegistry;

/* The registry, or NULL when the library was not preloaded. */
extern RtRegistry *rt_registry;

/* Returns the backend entries that follow the worker slots. */
extern RtBackendEntry *rt_registry_backends(void);

/* Returns this backend's entry, or NULL for processes without one. */
extern RtBackendEntry *rt_registry_my_entry(void);

/* Returns true when a live backend keeps workers out of dboid (caller holds the lock). */
extern bool rt_registry_database_held(Oid dboid);

/* Wakes the launcher, if one runs. */
extern void rt_registry_wake_launcher(void);

#endif							/* RT_SCHEDULER_REGISTRY_H */
