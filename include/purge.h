/*
 * purge.h
 *    The batch engine: finds the expired rows of one relation a batch at a
 *    time and deletes them.
 *
 * A policy on a partitioned (or inheritance) table is applied to each
 * leaf relation in turn, as an RtTarget.  Candidates are found by keyset,
 * never by re-reading what earlier batches already handled:
 *  - in heap order (ctid), scanning a window of blocks at a time with a
 *    TID range scan, when the planner would read much of the table anyway
 *    or no index leads with the anchor column;
 *  - in anchor order through the anchor's btree index, when only a small
 *    part of the table has expired.
 * The expiry predicate is re-checked by the DELETE itself, so a row whose
 * anchor moved out of the window after it was selected stays.
 *
 * An anonymize policy runs through the same scan: its candidates carry one
 * more condition (some masked column still differs from its mask, see
 * anonymize.c) and the statement is an UPDATE that masks them.
 */
#ifndef RT_PURGE_H
#define RT_PURGE_H

#include "postgres.h"

#include "executor/spi.h"
#include "storage/itemptr.h"

#include "cutoff.h"
#include "policy.h"

/* How a batch treats rows that other sessions hold locks on. */
typedef enum RtBatchMode
{
	RT_BATCH_FAST,				/* plain DELETE; waits up to lock_timeout */
	RT_BATCH_SKIP_LOCKED,		/* locks candidates with SKIP LOCKED first */
	RT_BATCH_CAREFUL			/* SKIP LOCKED, and isolates rows a foreign key, constraint or trigger refuses */
} RtBatchMode;

/* Where the keyset scan of a target stands. */
typedef struct RtPosition
{
	ItemPointerData tid;		/* last row handled (heap order: next starts after it) */
	BlockNumber window_end;		/* heap order: end (exclusive) of the current block window */
	Datum		key;			/* anchor order: anchor of the last row handled; Citus: start of the next range */
	double		width;			/* Citus: width of the next range of anchor values (0: not started) */
	bool		done;			/* no candidates left */
} RtPosition;

struct RtCitusTarget;

/* One leaf relation of a policy, with its prepared statements. */
typedef struct RtTarget
{
	Oid			relid;
	Oid			policy_relid;	/* the policy's table: relid itself or an ancestor */
	MemoryContext cxt;			/* lives as long as the target: positions are copied here */
	char	   *relname;		/* quoted, schema-qualified */
	char	   *anchor;			/* quoted anchor column */
	RtAnchorType anchor_type;
	bool		anchor_not_null;	/* NOT NULL: no undated rows to count */
	Datum		cutoff;			/* compared as anchor < cutoff */
	bool		anchor_order;	/* keyset through the anchor index */
	BlockNumber nblocks;		/* heap order: blocks when the run started */
	double		rows_per_block; /* heap order: density estimate for windows */
	RtPosition	pos;
	RtAction	action;			/* delete, or anonymize (UPDATE in the "delete" plans) */
	char	   *pending;		/* anonymize: condition of rows still to mask */
	char	   *set_list;		/* anonymize: the SET list of the UPDATE */
	SPIPlanPtr	select_plan;
	SPIPlanPtr	delete_plan;
	SPIPlanPtr	delete_skip_locked_plan;
	/* legal holds: the same statements, skipping rows of held subjects */
	List	   *held_kinds;		/* kinds of data subject that cover this table */
	Datum	   *held_keys;		/* per kind: text[] of held keys, for the current batch */
	SPIPlanPtr	select_held_plan;
	SPIPlanPtr	delete_held_plan;
	SPIPlanPtr	delete_skip_locked_held_plan;
	/* what the run checks of its own work (docs/operations.md "What pg_retention checks ...") */
	Oid			relfilenode;	/* the heap the positions refer to; another one means a rewrite */
	int			rewrites;		/* rewrites noticed during the run (the scan started over) */
	char	   *refused_by;		/* a DO INSTEAD rule turns the statement into another: not run; why, for the run */
	bool		watch_copies;	/* user triggers or rules fire on the statement: see where rows go */
	int64		shortfall;		/* rows given to the statement that it did not act on */
	List	   *copies;			/* RtInsertCount *: rows the statement's triggers put elsewhere */
	/* what the current pass saw of this target (rows left for reasons it knows) */
	int64		pass_blocked;
	int64		pass_held;
	int64		pass_locked;
	int64		pass_refused;
	int64		pass_rls_refused;
	/* a Citus table: batches by ranges of the anchor, no ctid (citus_purge.c) */
	struct RtCitusTarget *citus;
} RtTarget;

/*
 * What rt_target_probe found of the rows a pass left that nothing it knew
 * of explained: it gave them to the statement once more (careful mode),
 * then looked at each row still due; rows other sessions changed meanwhile
 * are given again, up to RT_PROBE_ROUNDS rounds in all.
 */
#define RT_PROBE_ROUNDS 3

typedef struct RtProbe
{
	int64		given;			/* rows given to the statement */
	int64		deleted;		/* of those, deleted (or masked) now */
	int64		blocked;		/* refused by a foreign key the SELECT did not foresee */
	int64		skipped_locked; /* locked by another session (includes by_others) */
	int64		rls_refused;	/* row-level security lets the owner see but not lock or change them */
	int64		row_errors;		/* refused by a constraint, a data error or a trigger's exception */
	char	   *first_row_error;	/* the first of those, named (no row data) */
	int			first_row_errcode;
	int64		by_trigger;		/* still there, kept or put back by this table's own triggers or rules */
	int64		by_others;		/* changed or inserted by another session in every round */
	bool		too_many;		/* more than the cap: not probed (another pass does that) */
} RtProbe;

/* What is still due in a target after a run, and why (rt_target_leftover). */
typedef struct RtLeftover
{
	int64		due;			/* expired rows (still to mask, for anonymize) the owner sees */
	int64		held;			/* of those, under a legal hold */
	int64		blocked;		/* of those, needed by a foreign key (and not held) */
	int64		hidden;			/* expired rows row-level security hides from the owner */
} RtLeftover;

/* What one batch did. */
typedef struct RtBatchResult
{
	int64		candidates;		/* expired rows examined */
	int64		deleted;		/* rows deleted, or anonymized */
	int64		blocked;		/* kept because a foreign key needs them */
	int64		skipped_locked; /* left because another session locks them */
	int64		rls_refused;	/* left because row-level security lets the owner see but not lock or change them */
	int64		held;			/* left because a legal hold covers them */
	int64		row_errors;		/* rows a constraint or trigger refused to let go (or to mask) */
	char	   *first_row_error;	/* the first of those refusals: what refused it, no row data */
	int			first_row_errcode;	/* and its SQLSTATE */
} RtBatchResult;

/*
 * Returns the leaf relations of a policy's table with their statements
 * prepared (kept across transactions; free with rt_targets_free).  Runs
 * as the current user, which the caller has set to the table owner; a
 * partition that user may not change is left out and its name appended to
 * *unreachable.  SPI must be connected.
 */
extern List *rt_targets_prepare(const RtPolicy *policy, TimestampTz cutoff, List **unreachable);

/* Frees the statements of targets prepared by rt_targets_prepare. */
extern void rt_targets_free(List *targets);

/* Returns true for errors that one row can cause (constraints, data, trigger exceptions), which a purge isolates. */
extern bool rt_is_row_error(int sqlerrcode);

/* Returns the number of rows of a target whose anchor is NULL. */
extern int64 rt_target_count_undated(RtTarget *target);

/*
 * Runs one batch on a target in the current transaction: selects up to
 * batch_size expired rows after the target's position, deletes those no
 * foreign key needs (or masks them, for anonymize), and advances the
 * position.  On error the caller
 * rolls back and may retry from the saved position with another mode.
 */
extern void rt_purge_batch(RtTarget *target, int batch_size, RtBatchMode mode,
						   RtBatchResult *result);

/*
 * Counts what is still due in a target now, as its owner (the current
 * user) sees the table, and the rows row-level security forced on the
 * owner hides, counted with full visibility.  SPI must be connected.
 */
extern void rt_target_leftover(RtTarget *target, RtLeftover *out);

/* Sets a target back to its first row, for another pass of the run. */
extern void rt_target_restart(RtTarget *target);

/*
 * Returns the number of rows of a target still due now (past the cutoff,
 * still to mask for anonymize), as the current user sees them: the cheap
 * count that tells whether the rows a pass saw explain what is left.
 */
extern int64 rt_target_count_due(RtTarget *target);

/*
 * Gives the rows of a target still due that neither a hold nor a foreign
 * key keeps (at most cap of them) to its statement once more, in careful
 * mode, and tells what became of each (RtProbe).  A row still there after
 * it, written by this transaction, was kept or put back by the table's own
 * triggers or rules; one the statement was given and that nothing else
 * explains was suppressed by them; one it was not given was changed or
 * inserted by another session meanwhile.  A Citus target is not probed
 * (its rows have no ctid across shards): too_many is set.  Runs as the
 * current user, the table owner; SPI must be connected and the hold lock
 * taken.
 */
extern void rt_target_probe(RtTarget *target, int64 cap, RtProbe *out);

/*
 * In citus_purge.c: the batches of a Citus table (docs/operations.md#citus).
 * The coordinator's table is an empty shell and a ctid names a row of one
 * shard only, so a batch is a range of anchor values sent through the
 * coordinator to every shard at once; the next range is sized from the rows
 * this one removed.
 */

/* Makes target a Citus target when its table is a Citus table; returns false (and changes nothing) otherwise. */
extern bool rt_citus_target_prepare(RtTarget *target, const RtPolicy *policy);

/* Runs one batch of a Citus target (rt_purge_batch's work, by anchor range). */
extern void rt_citus_purge_batch(RtTarget *target, int batch_size, RtBatchMode mode, RtBatchResult *result);

/* Sets a Citus target back to its first range. */
extern void rt_citus_target_restart(RtTarget *target);

/*
 * Returns the blocked-row expression of a Citus target in a form Citus
 * accepts (cutoff_ref: the cutoff in the statement), or NULL; reference
 * tables also get citus.multi_shard_modify_mode = sequential for the
 * statement's GUC level (rt_citus_sequential).
 */
extern char *rt_citus_blocked_expr(RtTarget *target, const char *cutoff_ref);

#endif							/* RT_PURGE_H */
