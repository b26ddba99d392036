/*
 * extension.c
 *    The extension itself: the role that owns it in this database, the
 *    check of its SQL objects' version against this library's, and
 *    retention.library_version().
 *
 * Ground floor: includes only PostgreSQL's headers and extension.h.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "extension.h"
#include "version.h"

/* the extversion this session was last warned about, so that it is warned once */
static char *rt_warned_version = NULL;

/* the extversion of this database as last read by rt_version_check */
static char *rt_seen_version = NULL;

/* Returns the role that owns the extension in this database; see extension.h. */
Oid
rt_extension_owner(void)
{
	Oid			extoid = get_extension_oid(RT_EXTENSION_NAME, true);
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	Oid			owner = InvalidOid;
	char	   *extversion = NULL;

	if (!OidIsValid(extoid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"%s\" is not installed in this database",
						RT_EXTENSION_NAME),
				 errhint("Run CREATE EXTENSION %s.", RT_EXTENSION_NAME)));

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(extoid));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
	{
		bool		isnull;
		Datum		d = heap_getattr(tuple, Anum_pg_extension_extversion,
									 RelationGetDescr(rel), &isnull);

		owner = ((Form_pg_extension) GETSTRUCT(tuple))->extowner;
		if (!isnull)
			extversion = TextDatumGetCString(d);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	if (!OidIsValid(owner))
		elog(ERROR, "could not find the owner of extension %s", RT_EXTENSION_NAME);
	if (extversion != NULL)
		rt_version_check(extversion);
	return owner;
}

/* Warns once per session and version when extversion is not the library's; see extension.h. */
void
rt_version_check(const char *extversion)
{
	bool		valid;
	int			cmp;

	if (rt_seen_version == NULL || strcmp(rt_seen_version, extversion) != 0)
	{
		if (rt_seen_version != NULL)
			pfree(rt_seen_version);
		rt_seen_version = MemoryContextStrdup(TopMemoryContext, extversion);
	}
	if (strcmp(extversion, RT_LIBRARY_VERSION) == 0)
		return;
	/* CREATE EXTENSION and ALTER EXTENSION ... UPDATE pass through the older versions on their way */
	if (creating_extension)
		return;
	if (rt_warned_version != NULL && strcmp(rt_warned_version, extversion) == 0)
		return;
	if (rt_warned_version != NULL)
		pfree(rt_warned_version);
	rt_warned_version = MemoryContextStrdup(TopMemoryContext, extversion);

	cmp = rt_version_compare(extversion, RT_LIBRARY_VERSION, &valid);
	if (valid && cmp > 0)
		ereport(WARNING,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"%s\" is at version %s, newer than its library (version %s)",
						RT_EXTENSION_NAME, extversion, RT_LIBRARY_VERSION),
				 errdetail("Functions the newer SQL objects call may be missing from this library."),
				 errhint("Install the library of version %s on this server and restart it.", extversion)));
	else
		ereport(WARNING,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"%s\" is at version %s, older than its library (version %s)",
						RT_EXTENSION_NAME, extversion, RT_LIBRARY_VERSION),
				 errdetail("The library keeps working with the SQL objects of version %s, without what later versions added.",
						   extversion),
				 errhint("Run ALTER EXTENSION %s UPDATE; in this database.", RT_EXTENSION_NAME)));
}

/* Tells whether this database's SQL objects are at least of a version; see extension.h. */
bool
rt_sql_objects_at_least(const char *version)
{
	bool		valid;
	int			cmp;

	(void) rt_extension_owner();	/* reads extversion afresh (an UPDATE may have run) */
	if (rt_seen_version == NULL)
		return false;
	cmp = rt_version_compare(rt_seen_version, version, &valid);
	return valid && cmp >= 0;
}

PG_FUNCTION_INFO_V1(retention_library_version);

/* SQL: retention.library_version() is the version of the SQL objects this library was built for. */
Datum
retention_library_version(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(RT_LIBRARY_VERSION));
}
