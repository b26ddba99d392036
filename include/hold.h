/*
 * hold.h
 *    Legal holds as the engine reads them (docs/reference.md#legal-holds):
 *    a hold on one data subject or on a whole table pauses purges and
 *    erasure of the rows it covers until it is released or expires.
 *    Placing and releasing holds is holdcmds.c's.
 */
#ifndef RT_HOLD_H
#define RT_HOLD_H

#include "postgres.h"

#include "nodes/pg_list.h"

/*
 * Takes the database's hold lock in share mode until the end of the
 * transaction, before reading the holds to act on them (a purge batch, an
 * erasure): hold() and release() take it exclusively, so a hold is never
 * placed between a batch's look at the holds and its commit.
 */
extern void rt_holds_lock_shared(void);

/* Takes the hold lock exclusively until the end of the transaction: placing or releasing a hold. */
extern void rt_holds_lock_exclusive(void);

/* The SQL condition of an active hold on the hold catalog's columns, prefixed by alias ("" or "h."). */
#define RT_HOLD_ACTIVE_OF(alias) \
	alias "released_at IS NULL AND (" alias "until IS NULL OR " alias "until OPERATOR(pg_catalog.>) pg_catalog.now())"

/* Returns true when an active table hold covers relid (or one of its partitioned ancestors). SPI must be connected. */
extern bool rt_table_on_hold(Oid relid);

/* Returns the ids (char *) of the subjects of kind under an active hold. SPI must be connected. */
extern List *rt_held_subjects(const char *kind);

/* Returns the ids (int64 *) of the active holds that cover subject id of kind or one of tables (Oids). SPI must be connected. */
extern List *rt_holds_covering(const char *kind, const char *id, List *tables);

/*
 * Returns the ids (int64 *) of the active holds that keep an erasure of
 * subject id (its key value key) of kind k from going ahead: on the subject,
 * on a table of its graph, or on another subject (of any kind) that shares
 * one of its rows.  SPI must be connected.
 */
struct RtSubjectKind;
extern List *rt_holds_blocking_erasure(const struct RtSubjectKind *k, const char *id, Datum key);

/* Returns true when any legal hold is active in this database. SPI must be connected. */
extern bool rt_holds_any_active(void);

/* Returns the id of the first active hold on subject id of kind itself, or 0. SPI must be connected. */
extern int64 rt_subject_hold(const char *kind, const char *id);

/* Forgets the subject ids of ended holds no pending erasure needs; returns how many. SPI must be connected. */
extern int64 rt_holds_forget_ended(void);

/*
 * Returns SQL on alias that is true when the row belongs to a subject under
 * a hold, with the held keys of each kind passed as text[] parameters
 * $first_param, $first_param + 1, ...; sets *kinds to those kinds (char *).
 * Returns NULL when no kind of data subject covers relid.  SPI must be
 * connected.
 */
extern char *rt_held_predicate(Oid relid, const char *alias, int first_param, List **kinds);

/*
 * Returns the held keys of kind as a text[] Datum, or (Datum) 0 when no
 * subject of that kind is held.  SPI must be connected.
 */
extern Datum rt_held_keys(const char *kind);

#endif							/* RT_HOLD_H */
