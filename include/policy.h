/*
 * policy.h
 *    Retention policies as the engine reads them: their in-memory form,
 *    read from retention.policy_catalog, and what the engine asks of a
 *    policy's table.  The commands that change policies are in
 *    policycmds.c (policycmds.h).
 */
#ifndef RT_POLICY_H
#define RT_POLICY_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "access/attnum.h"
#include "nodes/pg_list.h"
#include "utils/date.h"
#include "utils/relcache.h"

#include "cutoff.h"

typedef enum RtAction
{
	RT_ACTION_DELETE,
	RT_ACTION_ANONYMIZE
} RtAction;

/*
 * What a delete policy does with a partition that lies wholly before its
 * cutoff (partition.c); anonymize policies never remove partitions.
 */
typedef enum RtPartitionAction
{
	RT_PARTITION_DROP,			/* detach it and drop it */
	RT_PARTITION_DETACH,		/* detach it and keep it, moved to detach_schema if set */
	RT_PARTITION_ROWS			/* no partition is removed whole: rows go by batches */
} RtPartitionAction;

typedef struct RtPolicy
{
	int64		policy_id;
	Oid			relid;			/* the table the policy is declared on */
	Interval	keep;			/* retention period */
	char	   *anchor;			/* column whose age decides expiry */
	RtAction	action;
	List	   *columns;		/* column names (char *) for anonymize; NIL = all tagged */
	int			batch_size;		/* 0 = use retention.batch_size */
	char	   *basis;			/* legal basis or reason, may be NULL */
	char	   *time_zone;		/* zone in which the cutoff is computed */
	bool		enabled;
	RtPartitionAction partition_action;
	char	   *detach_schema;	/* RT_PARTITION_DETACH: schema of kept partitions, NULL = their own */
	/* when the scheduler may run it (docs/operations.md#run-windows) */
	bool		has_window;		/* a daily run window */
	TimeADT		window_start;	/* its bounds, local times in time_zone, in [00:00, 24:00) */
	TimeADT		window_end;		/* before or at window_start: the window crosses midnight */
	Interval	min_interval;	/* least time between two rounds of runs; all zero = none */
} RtPolicy;

/* Defines the setting retention.batch_size (called by _PG_init). */
extern void rt_policy_define_gucs(void);

/* Returns the SQL name of an action. */
extern const char *rt_action_name(RtAction action);

/* Returns the SQL name of a partition action: drop, detach or rows. */
extern const char *rt_partition_action_name(RtPartitionAction action);

/* Parses a partition action; raises invalid_parameter_value (naming relid's table) for an unknown one. */
extern RtPartitionAction rt_partition_action_parse(const char *name, Oid relid);

/*
 * Returns the policies (RtPolicy *), enabled ones or all, every one or those declared
 * on relid, ordered by policy_id, copied into the current memory context.
 * SPI must be connected.
 */
extern List *rt_policy_list(Oid relid, bool include_disabled);

/*
 * Returns the policy with this id, or NULL if there is none.  With lock
 * set, the catalog row is locked FOR SHARE until the end of the
 * transaction, so alter_policy and drop_policy wait for a running batch.
 * SPI must be connected.
 */
extern RtPolicy *rt_policy_get(int64 policy_id, bool lock);

/* As rt_policy_get(), but raises undefined_object (42704) when there is no such policy. */
extern RtPolicy *rt_policy_get_existing(int64 policy_id, bool lock);

/* Returns policy when it is not NULL, else raises undefined_object (42704) naming policy_id. */
extern RtPolicy *rt_policy_or_error(RtPolicy *policy, int64 policy_id);

/* Returns the policy with this id with its catalog row locked FOR UPDATE, or NULL. SPI must be connected. */
extern RtPolicy *rt_policy_get_for_update(int64 policy_id);

/*
 * Checks that the anchor column of policy still exists in rel with a date
 * or timestamp type and returns that type; raises an error otherwise.
 */
extern RtAnchorType rt_policy_anchor_type(const RtPolicy *policy, Relation rel);

/* Which indexes rt_anchor_index_exists() looks for. */
typedef enum RtIndexKind
{
	RT_INDEX_ANY,				/* partial or not */
	RT_INDEX_FULL,				/* without a WHERE clause: holds every row */
	RT_INDEX_PARTIAL			/* with a WHERE clause (the rows still to anonymize) */
} RtIndexKind;

/* Returns true when a valid btree index of rel of the kind asked for has attnum as its first key. */
extern bool rt_anchor_index_exists(Relation rel, AttrNumber attnum, RtIndexKind which);

/* Returns true when two policies would act the same (used to notice changes mid-run). */
extern bool rt_policy_same(const RtPolicy *a, const RtPolicy *b);

/* Returns the details of a policy as JSON text, as the audit trail records them. */
extern char *rt_policy_details(const RtPolicy *p);

/* Returns the batch size a policy runs with. */
extern int	rt_policy_batch_size(const RtPolicy *policy);

/* Returns true when a policy has a minimum interval between its rounds of runs. */
extern bool rt_policy_has_min_interval(const RtPolicy *policy);

/* Returns a time of day as "HH:MM" (with seconds when it has any), as windows are shown. */
extern char *rt_time_of_day_text(TimeADT t);

#endif							/* RT_POLICY_H */
