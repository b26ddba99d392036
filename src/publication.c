/*
 * publication.c
 *    Logical-replication publications as the engine reads them
 *    (docs/operations.md#logical-replication-and-cdc).
 *
 * A subscriber holds the publisher's rows only if every change that removes
 * or masks data reaches it.  DELETE and UPDATE do, as the publication's
 * actions say.  DDL never does: a partition that is detached and dropped
 * keeps its rows on every subscriber.  TRUNCATE does, but a TRUNCATE of a
 * partition that a publication publishes through its root
 * (publish_via_partition_root) is not sent at all.  partition.c reads
 * rt_publishers() to choose how a partition goes; purge.c and erasure.c
 * read rt_publication_refusing() to say why PostgreSQL refuses every
 * DELETE (or UPDATE) of a published table without a replica identity,
 * instead of failing with the statement's own error.
 *
 * Which publications publish a relation, and as which relation, follows
 * pgoutput (get_rel_sync_entry): a publication FOR ALL TABLES, one naming
 * the relation or its schema, or one naming a partitioned table above it or
 * that table's schema; with publish_via_partition_root, a partition's
 * changes are sent as those of the topmost ancestor the publication names
 * (or the root, FOR ALL TABLES).
 */
#include "postgres.h"

#include "access/relation.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_publication.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"

#include "compat.h"
#include "publication.h"
#include "quote.h"

/* Returns the publications that name relid or its schema. */
static List *
rt_publications_naming(Oid relid)
{
	List	   *pubids = list_copy(GetRelationPublications(relid));

#if RT_HAS_SCHEMA_PUBLICATIONS
	pubids = list_concat_unique_oid(pubids, GetSchemaPublications(get_rel_namespace(relid)));
#endif
	return pubids;
}

/* Returns true when publication pubid names one of ancestors (or, from 15 on, its schema). */
static bool
rt_ancestor_published(Oid pubid, List *ancestors)
{
#if RT_HAS_SCHEMA_PUBLICATIONS
	int			level;

	return OidIsValid(GetTopMostAncestorInPublication(pubid, ancestors, &level));
#else
	ListCell   *lc;

	foreach(lc, ancestors)
		if (list_member_oid(GetRelationPublications(lfirst_oid(lc)), pubid))
			return true;
	return false;
#endif
}

/* Returns the publications that publish relid's changes; see publication.h. */
List *
rt_publishers(Oid relid)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	bool		publishable = is_publishable_relation(rel);
	List	   *ancestors;
	List	   *pubids;
	List	   *result = NIL;
	ListCell   *lc;

	relation_close(rel, AccessShareLock);
	if (!publishable)
		return NIL;
	ancestors = get_rel_relispartition(relid) ? get_partition_ancestors(relid) : NIL;
	pubids = list_concat_unique_oid(list_copy(GetAllTablesPublications()), rt_publications_naming(relid));
	foreach(lc, ancestors)
		pubids = list_concat_unique_oid(pubids, rt_publications_naming(lfirst_oid(lc)));

	foreach(lc, pubids)
	{
		Publication *pub = GetPublication(lfirst_oid(lc));
		RtPublisher *p = palloc0(sizeof(RtPublisher));

		p->name = pstrdup(quote_identifier(pub->name));
		p->deletes = pub->pubactions.pubdelete;
		p->updates = pub->pubactions.pubupdate;
		p->truncates = pub->pubactions.pubtruncate;
		p->via_root = pub->pubviaroot && ancestors != NIL &&
			(pub->alltables || rt_ancestor_published(pub->oid, ancestors));
		result = lappend(result, p);
	}
	return result;
}

/* Returns true when PostgreSQL can log the old key of a row of leaf relation rel (a replica identity). */
static bool
rt_has_replica_identity(Relation rel)
{
	return rel->rd_rel->relreplident == REPLICA_IDENTITY_FULL ||
		OidIsValid(RelationGetReplicaIndex(rel));
}

/* Returns a publication for which PostgreSQL refuses cmd on relid for want of a replica identity; see publication.h. */
char *
rt_publication_refusing(Oid relid, CmdType cmd, char **table)
{
	List	   *leaves = find_all_inheritors(relid, AccessShareLock, NULL);
	ListCell   *lc;

	foreach(lc, leaves)
	{
		Oid			leaf = lfirst_oid(lc);
		Relation	rel;
		bool		identity;
		ListCell   *pc;

		if (get_rel_relkind(leaf) != RELKIND_RELATION)
			continue;
		rel = relation_open(leaf, AccessShareLock);
		identity = rt_has_replica_identity(rel);
		relation_close(rel, AccessShareLock);
		if (identity)
			continue;
		foreach(pc, rt_publishers(leaf))
		{
			RtPublisher *p = lfirst(pc);

			if ((cmd == CMD_DELETE && p->deletes) || (cmd == CMD_UPDATE && p->updates))
			{
				*table = rt_relation_name(leaf);
				return p->name;
			}
		}
	}
	return NULL;
}
