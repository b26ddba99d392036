/*
 * pg_retention.h
 *    Settings (GUCs) and version-compatibility helpers shared by every
 *    module of pg_retention.
 *
 * The extension supports PostgreSQL 13 to 17; the few catalog and executor
 * interfaces that changed between those releases are wrapped here so that
 * the modules themselves read the same on every version.
 */
#ifndef PG_RETENTION_H
#define PG_RETENTION_H

#include "postgres.h"

#include "fmgr.h"
#include "utils/acl.h"

/* Name of the extension, its schema and its security-label provider. */
#define RT_EXTENSION_NAME	"pg_retention"
#define RT_SCHEMA_NAME		"retention"
#define RT_LABEL_PROVIDER	"retention"

/* Session settings (see src/pg_retention.c for their documentation). */
extern int	rt_batch_size;			/* rows per batch */
extern int	rt_lock_timeout_ms;		/* lock_timeout applied to each batch */
extern int	rt_min_keep_seconds;	/* smallest retention period accepted */
extern int	rt_batch_pause_ms;		/* pause between two batches of a run */
extern int	rt_partition_row_count;	/* how the rows of a partition removed whole are counted */

/* Values of retention.partition_row_count. */
typedef enum RtRowCount
{
	RT_ROW_COUNT_EXACT,			/* count(*) of the detached partition */
	RT_ROW_COUNT_ESTIMATE		/* pg_class.reltuples, when the partition has been analyzed */
} RtRowCount;

/* Ownership test for a relation, spelled the same on every version. */
#if PG_VERSION_NUM >= 160000
#define rt_class_ownercheck(relid, roleid) \
	object_ownercheck(RelationRelationId, (relid), (roleid))
#else
#define rt_class_ownercheck(relid, roleid) pg_class_ownercheck((relid), (roleid))
#endif

/* Privilege test on a relation, spelled the same on every version. */
#define rt_class_aclcheck(relid, roleid, mode) pg_class_aclcheck((relid), (roleid), (mode))

/* Privilege test on a schema, spelled the same on every version. */
#if PG_VERSION_NUM >= 160000
#define rt_namespace_aclcheck(nspid, roleid, mode) \
	object_aclcheck(NamespaceRelationId, (nspid), (roleid), (mode))
#else
#define rt_namespace_aclcheck(nspid, roleid, mode) pg_namespace_aclcheck((nspid), (roleid), (mode))
#endif

#endif							/* PG_RETENTION_H */
