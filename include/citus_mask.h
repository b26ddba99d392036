/*
 * citus_mask.h
 *    The pseudonym mask on a Citus cluster (docs/operations.md#citus): the
 *    form of the mask the shards compute with their own node's key, and the
 *    grant that lets it run there for the engine's statements only.
 */
#ifndef RT_CITUS_MASK_H
#define RT_CITUS_MASK_H

#include "postgres.h"

/* the setting that carries the grant to the workers (SET LOCAL, see rt_citus_set_local) */
#define RT_NODE_GRANT_SETTING "retention.node_grant"

/* Defines the setting retention.node_grant (called by _PG_init). */
extern void rt_citus_mask_define_gucs(void);

/*
 * Lets retention.mask_pseudonym_node() compute pseudonyms on the shards of
 * relid for the rest of the current transaction: makes the transaction a
 * distributed one (rt_citus_begin_distributed) and hands every node it
 * reaches the coordinator's key fingerprint and a grant bound to that
 * distributed transaction, keyed with the coordinator's key.  A node whose
 * key differs refuses the statement (F0000), naming both fingerprints;
 * nothing can reuse the grant outside the transaction.  Raises the key's
 * own error when the coordinator has no usable key.
 */
extern void rt_citus_mask_grant(Oid relid);

#endif							/* RT_CITUS_MASK_H */
