/*
 * citus.h
 *    Citus, as pg_retention sees it: which tables are Citus tables (read
 *    from Citus's own catalog, pg_dist_partition, looked up by name: the
 *    library is never linked against Citus), whether this node is the
 *    coordinator, and the session state a statement sent to the shards
 *    must carry (docs/operations.md#citus).
 *
 * Without the citus extension in the database every function here answers
 * "not Citus" after one catalog lookup, and plain tables never take a
 * Citus path.
 */
#ifndef RT_CITUS_H
#define RT_CITUS_H

#include "postgres.h"

/* What kind of Citus table a relation is. */
typedef enum RtCitusKind
{
	RT_CITUS_NONE,				/* a plain table (or no citus extension) */
	RT_CITUS_DISTRIBUTED,		/* hash-distributed: pg_dist_partition.partmethod 'h' */
	RT_CITUS_REFERENCE,			/* a reference table: partmethod 'n', a copy on every node */
	RT_CITUS_OTHER				/* another Citus table (a Citus local table, append or range distributed) */
} RtCitusKind;

/* Returns true when the citus extension is installed in this database. */
extern bool rt_citus_installed(void);

/*
 * Returns the kind of Citus table relid is; for a distributed table sets
 * *dist_column (when not NULL) to its distribution column, unquoted.
 */
extern RtCitusKind rt_citus_table(Oid relid, char **dist_column);

/* Returns true unless this node is a Citus worker: the coordinator, or a database without Citus. */
extern bool rt_citus_is_coordinator(void);

/* Returns this node's name in the Citus cluster as host:port, or "this node" when it has none. */
extern char *rt_citus_node_name(void);

/* Returns true when relid is a shard of a Citus table (a table on a worker that Citus manages). */
extern bool rt_citus_is_shard(Oid relid);

/*
 * Sets settings for the rest of the current transaction on this node and
 * on every node the transaction reaches through Citus: names[i] = values[i],
 * as SET LOCAL.  Citus forwards SET LOCAL (and only it; set_config() and
 * the settings the engine sets in C stay on this node) when
 * citus.propagate_set_commands is 'local' and the transaction has several
 * statements, so it is issued inside a DO block with that setting on: also
 * the scheduler's transactions then carry it to the workers.  Values must be
 * made of letters, digits, '_', ':' and '.'.
 */
extern void rt_citus_set_local(int n, const char *const *names, const char *const *values);

/* Sets lock_timeout = retention.lock_timeout on every node the transaction reaches (see rt_citus_set_local). */
extern void rt_citus_bound_lock_waits(void);

/* Citus's identifier of the distributed transaction this backend is in. */
typedef struct RtCitusXid
{
	int32		initiator;		/* node that started it */
	uint64		number;			/* 0: none yet */
	int64		stamp;			/* its timestamp, microseconds */
} RtCitusXid;

/* Reads Citus's distributed transaction id of this backend (number 0 when there is none). */
extern void rt_citus_transaction_id(RtCitusXid *xid);

/*
 * Makes the current transaction a distributed one that reaches every shard
 * of relid, without changing a row, unless it is one already: a DELETE that
 * matches no row (no ctid is (0,0)).  After it, Citus runs every statement
 * of the transaction on the workers inside the same distributed transaction
 * (committed with two-phase commit), also single-shard ones that would
 * otherwise commit on their own in a background worker's transaction.
 */
extern void rt_citus_begin_distributed(Oid relid);

/*
 * Makes Citus run multi-shard statements of the rest of the transaction
 * one connection per node (citus.multi_shard_modify_mode = sequential,
 * until rt_safe_settings_end of the level open now): a reference table can
 * then be changed in a transaction that read distributed tables.
 */
extern void rt_citus_sequential(void);

/*
 * Returns an SQL boolean expression on alias, true when the row of relid is
 * referenced through a foreign key whose ON DELETE action is in actions
 * (RT_FK_RESTRICTING, RT_FK_ANY of fk_guard.h), or NULL when none references
 * it: the form Citus accepts on a reference table, which the referencing
 * tables (distributed ones too) are not correlated with --
 * (alias.k) IN (SELECT r.fk FROM referencing r WHERE r.fk IS NOT NULL).
 * SPI must be connected.
 */
extern char *rt_citus_referenced_expr(Oid relid, const char *alias, const char *actions);

#endif							/* RT_CITUS_H */
