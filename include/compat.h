/*
 * compat.h
 *    PostgreSQL-version compatibility: every difference between the server
 *    versions pg_retention knows of, behind PG_VERSION_NUM, in this one
 *    header.
 *
 * The project is tested on PostgreSQL 15 (README "Install").  The guards
 * below keep the differences to the versions before and after it that the
 * code already meets in one place, so that a port to another version is a
 * change to this file: the rest of src/ tests the RT_HAS_* features or
 * calls the rt_* spellings and never PG_VERSION_NUM itself.
 *
 * Checked against the server headers of 16 and 17 (every server function,
 * structure field and constant src/ uses, compared with 15's): the guards
 * below are all the differences found.  18 was not checked against its
 * headers; docs/packaging.md#postgresql-versions says how, and what is left.
 *
 * Ground floor: includes only PostgreSQL's headers.
 */
#ifndef RT_COMPAT_H
#define RT_COMPAT_H

#include "postgres.h"

#include "catalog/pg_class.h"
#include "catalog/pg_database.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "utils/acl.h"

/* ---- features: 1 where the running server's version has them ---- */

/* ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY and pg_inherits.inhdetachpending (14). */
#define RT_HAS_DETACH_CONCURRENTLY (PG_VERSION_NUM >= 140000)

/* ProcessUtility_hook takes a readOnlyTree argument (14). */
#define RT_HAS_READONLY_TREE (PG_VERSION_NUM >= 140000)

/* numeric infinities (14). */
#define RT_HAS_NUMERIC_INF (PG_VERSION_NUM >= 140000)

/* pg_class.reltuples is -1, not 0, for a relation never vacuumed or analyzed (14). */
#define RT_HAS_RELTUPLES_UNKNOWN (PG_VERSION_NUM >= 140000)

/* ForgetPortalSnapshots(), for a procedure that commits from C (14). */
#define RT_HAS_FORGET_PORTAL_SNAPSHOTS (PG_VERSION_NUM >= 140000)

/* shmem_request_hook, and MaxBackends known in _PG_init (15). */
#define RT_HAS_SHMEM_REQUEST_HOOK (PG_VERSION_NUM >= 150000)

/* InitMaterializedSRF() (15). */
#define RT_HAS_INIT_MATERIALIZED_SRF (PG_VERSION_NUM >= 150000)

/* SPI_commit() starts the next transaction by itself (15). */
#define RT_SPI_COMMIT_STARTS_XACT (PG_VERSION_NUM >= 150000)

/* pg_do_encoding_conversion_buf(), a conversion into a buffer that can stop instead of failing (14). */
#define RT_HAS_CONVERSION_BUF (PG_VERSION_NUM >= 140000)

/* UNIQUE NULLS NOT DISTINCT indexes, pg_index.indnullsnotdistinct (15). */
#define RT_HAS_NULLS_NOT_DISTINCT (PG_VERSION_NUM >= 150000)

/* intervals can be infinite (17). */
#define RT_HAS_INFINITE_INTERVAL (PG_VERSION_NUM >= 170000)

/* publications FOR TABLES IN SCHEMA, GetSchemaPublications() (15). */
#define RT_HAS_SCHEMA_PUBLICATIONS (PG_VERSION_NUM >= 150000)

/* ---- spellings that changed ---- */

/* Ownership test for a relation. */
#if PG_VERSION_NUM >= 160000
#define rt_class_ownercheck(relid, roleid) \
	object_ownercheck(RelationRelationId, (relid), (roleid))
#else
#define rt_class_ownercheck(relid, roleid) pg_class_ownercheck((relid), (roleid))
#endif

/* Ownership test for the current database. */
#if PG_VERSION_NUM >= 160000
#define rt_database_ownercheck(dboid, roleid) \
	object_ownercheck(DatabaseRelationId, (dboid), (roleid))
#else
#define rt_database_ownercheck(dboid, roleid) pg_database_ownercheck((dboid), (roleid))
#endif

/* Privilege test on a relation. */
#define rt_class_aclcheck(relid, roleid, mode) pg_class_aclcheck((relid), (roleid), (mode))

/* Privilege test on a database. */
#if PG_VERSION_NUM >= 160000
#define rt_database_aclcheck(dboid, roleid, mode) \
	object_aclcheck(DatabaseRelationId, (dboid), (roleid), (mode))
#else
#define rt_database_aclcheck(dboid, roleid, mode) pg_database_aclcheck((dboid), (roleid), (mode))
#endif

/* GRANT SET ON PARAMETER and pg_parameter_aclcheck() (15). */
#define RT_HAS_PARAMETER_ACL (PG_VERSION_NUM >= 150000)

/* Privilege test on a configuration parameter (none before 15: only superusers set superuser-only ones). */
#if RT_HAS_PARAMETER_ACL
#define rt_parameter_aclcheck(name, roleid, mode) pg_parameter_aclcheck((name), (roleid), (mode))
#else
#define rt_parameter_aclcheck(name, roleid, mode) ACLCHECK_NO_PRIV
#endif

/* Privilege test on a schema. */
#if PG_VERSION_NUM >= 160000
#define rt_namespace_aclcheck(nspid, roleid, mode) \
	object_aclcheck(NamespaceRelationId, (nspid), (roleid), (mode))
#else
#define rt_namespace_aclcheck(nspid, roleid, mode) pg_namespace_aclcheck((nspid), (roleid), (mode))
#endif

/* Privilege test on a function. */
#if PG_VERSION_NUM >= 160000
#define rt_proc_aclcheck(fnoid, roleid, mode) \
	object_aclcheck(ProcedureRelationId, (fnoid), (roleid), (mode))
#else
#define rt_proc_aclcheck(fnoid, roleid, mode) pg_proc_aclcheck((fnoid), (roleid), (mode))
#endif

/* A qualified name read from a string (16 added the soft-error argument; NULL throws). */
#if PG_VERSION_NUM >= 160000
#define rt_qualified_name_list(string) stringToQualifiedNameList((string), NULL)
#else
#define rt_qualified_name_list(string) stringToQualifiedNameList(string)
#endif

/* The partition parent of a partition (14 added the even_if_detached argument). */
#if PG_VERSION_NUM >= 140000
#define rt_partition_parent(relid) get_partition_parent((relid), true)
#else
#define rt_partition_parent(relid) get_partition_parent((relid))
#endif

/* The object type of an ALTER TABLE statement (13 called the field relkind). */
#if PG_VERSION_NUM >= 140000
#define rt_alter_table_objtype(stmt) ((stmt)->objtype)
#else
#define rt_alter_table_objtype(stmt) ((stmt)->relkind)
#endif

/* Reserves the settings prefix retention.* (15; before, unknown names only warn). */
#if PG_VERSION_NUM >= 150000
#define rt_reserve_guc_prefix(prefix) MarkGUCPrefixReserved(prefix)
#else
#define rt_reserve_guc_prefix(prefix) EmitWarningsOnPlaceholders(prefix)
#endif

/* Index of this backend in per-backend shared arrays (17 renamed BackendId). */
#if PG_VERSION_NUM >= 170000
#define rt_my_backend_index() (MyProcNumber)
#else
#define rt_my_backend_index() (MyBackendId - 1)
#endif

/* GetXLogReplayRecPtr (15 moved it to access/xlogrecovery.h). */
#if PG_VERSION_NUM >= 150000
#include "access/xlogrecovery.h"
#else
#include "access/xlog.h"
#endif

/* The timeline WAL is written on (15 replaced the ThisTimeLineID global). */
#if PG_VERSION_NUM >= 150000
#define rt_wal_insertion_timeline() GetWALInsertionTimeLine()
#else
#define rt_wal_insertion_timeline() ThisTimeLineID
#endif

/* The oldest xid the commit log still knows (17 renamed ShmemVariableCache). */
#if PG_VERSION_NUM >= 170000
#define rt_oldest_clog_xid() (TransamVariables->oldestClogXid)
#else
#define rt_oldest_clog_xid() (ShmemVariableCache->oldestClogXid)
#endif

/* Whether an index treats NULLs as equal (UNIQUE NULLS NOT DISTINCT). */
#if RT_HAS_NULLS_NOT_DISTINCT
#define rt_index_nulls_not_distinct(index) ((index)->indnullsnotdistinct)
#else
#define rt_index_nulls_not_distinct(index) false
#endif

/* Whether a numeric is NaN or infinite. */
#if RT_HAS_NUMERIC_INF
#define rt_numeric_is_special(num) (numeric_is_nan(num) || numeric_is_inf(num))
#else
#define rt_numeric_is_special(num) numeric_is_nan(num)
#endif

/* Whether an interval is infinite. */
#if RT_HAS_INFINITE_INTERVAL
#define rt_interval_not_finite(i) INTERVAL_NOT_FINITE(i)
#else
#define rt_interval_not_finite(i) false
#endif

/* The pg_inherits.inhdetachpending column, as SQL (false before it existed). */
#if RT_HAS_DETACH_CONCURRENTLY
#define RT_SQL_INHDETACHPENDING(alias) alias ".inhdetachpending"
#else
#define RT_SQL_INHDETACHPENDING(alias) "false"
#endif

/* The scale a numeric typmod keeps (15 allows negative scales and packs them in 11 bits). */
#if PG_VERSION_NUM >= 150000
#define rt_numeric_typmod_scale(typmod) (((((typmod) - VARHDRSZ) & 0x7ff) ^ 1024) - 1024)
#else
#define rt_numeric_typmod_scale(typmod) (((typmod) - VARHDRSZ) & 0xffff)
#endif

/* Writes a logical decoding message (17 added the flush argument); replication/message.h declares it. */
#if PG_VERSION_NUM >= 170000
#define rt_log_logical_message(prefix, message, size, transactional) \
	LogLogicalMessage((prefix), (message), (size), (transactional), false)
#else
#define rt_log_logical_message(prefix, message, size, transactional) \
	LogLogicalMessage((prefix), (message), (size), (transactional))
#endif

/* Commits the transaction of a non-atomic SPI connection and starts the next one. */
#if RT_SPI_COMMIT_STARTS_XACT
#define rt_spi_commit_and_start() SPI_commit()
#else
#define rt_spi_commit_and_start() (SPI_commit(), SPI_start_transaction())
#endif

#endif							/* RT_COMPAT_H */
