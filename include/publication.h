/*
 * publication.h
 *    Which logical-replication publications publish a table's changes, and
 *    how (docs/operations.md#logical-replication-and-cdc): what a purge or
 *    an erasure must do so that subscribers end up with the publisher's
 *    rows, and which of its statements PostgreSQL refuses for want of a
 *    replica identity.
 */
#ifndef RT_PUBLICATION_H
#define RT_PUBLICATION_H

#include "postgres.h"

#include "nodes/nodes.h"
#include "nodes/pg_list.h"

/* One publication that publishes the changes of a relation. */
typedef struct RtPublisher
{
	char	   *name;			/* quoted */
	bool		deletes;		/* publishes DELETE */
	bool		updates;		/* publishes UPDATE */
	bool		truncates;		/* publishes TRUNCATE */
	bool		via_root;		/* publishes a partition's changes as an ancestor's (publish_via_partition_root) */
} RtPublisher;

/*
 * Returns the publications (RtPublisher *) that publish the changes of
 * relid, a table or a leaf partition, as pgoutput decides it: named in the
 * publication, in one of its schemas, FOR ALL TABLES, or through a
 * partitioned table above it.  NIL for a relation no publication can
 * publish (temporary, unlogged).
 */
extern List *rt_publishers(Oid relid);

/*
 * Returns the quoted name of a publication for which PostgreSQL refuses
 * cmd (CMD_DELETE or CMD_UPDATE) on relid, or on a leaf partition of it,
 * for want of a replica identity, and the refused table in *table; NULL
 * when PostgreSQL lets cmd run.
 */
extern char *rt_publication_refusing(Oid relid, CmdType cmd, char **table);

#endif							/* RT_PUBLICATION_H */
