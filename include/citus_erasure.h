/*
 * citus_erasure.h
 *    Erasures on Citus tables (docs/operations.md#citus): what an erasure
 *    does differently when its subject's graph holds distributed and
 *    reference tables.
 */
#ifndef RT_CITUS_ERASURE_H
#define RT_CITUS_ERASURE_H

#include "postgres.h"

#include "nodes/pg_list.h"

#include "subject.h"

/*
 * Prepares the erasure of a subject of kind k for Citus, when a table of its
 * graph is a Citus table: a reference table is changed after distributed
 * tables were read, so Citus must run the erasure's statements one
 * connection per node (citus.multi_shard_modify_mode = sequential).
 * Returns the GUC level to close with rt_citus_erasure_end, or -1.
 */
extern int	rt_citus_erasure_begin(const RtSubjectKind *k);

/* Closes what rt_citus_erasure_begin opened. */
extern void rt_citus_erasure_end(int nest);

/*
 * Remembers, before the subject's own row goes, the rows of referenced
 * table t (its address) that the subject's row points at, by the values of
 * the referenced columns: a ctid names a row of one shard or one placement
 * only.  keyref is how the statements name the subject's key ("$1" or
 * "ANY ($1)"), of type key_type.  Returns the values, one array per column
 * (NIL when the subject points at nothing); *types gets their array types.
 * Runs as t's owner.  SPI must be connected.
 */
extern List *rt_citus_remember_referenced(const RtSubjectKind *k, const RtSubjectTable *t,
										  const char *keyref, Oid key_type, Datum key,
										  List **types);

/*
 * Deletes the rows of referenced table t remembered by
 * rt_citus_remember_referenced that nothing references any more; returns
 * the rows deleted and sets *shared to those kept because something still
 * references them.  Runs as t's owner.  SPI must be connected.
 */
extern int64 rt_citus_erase_referenced(const RtSubjectTable *t, List *values, List *types, int64 *shared);

/*
 * Returns the expression "the row on alias t of relid is referenced through
 * a foreign key of any ON DELETE action" in the form Citus accepts for
 * relid, or NULL when no key references it.
 */
extern char *rt_citus_erasure_referenced_expr(Oid relid);

/*
 * Returns the SET list of an anonymizing UPDATE of Citus table relid
 * (set_list_node of anonymize.h), after granting the pseudonym mask on its
 * shards when uses_key (rt_citus_mask_grant).
 */
extern const char *rt_citus_erasure_set_list(Oid relid, const char *set_list_node, bool uses_key);

#endif							/* RT_CITUS_ERASURE_H */
