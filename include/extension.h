/*
 * extension.h
 *    The extension itself: its names, the role that owns it in a database,
 *    and the version of its SQL objects there against this library's.
 *
 * Ground floor: includes only PostgreSQL's headers and version.h.
 */
#ifndef RT_EXTENSION_H
#define RT_EXTENSION_H

#include "postgres.h"

#include "version.h"

/* Name of the extension, its schema and its security-label provider. */
#define RT_EXTENSION_NAME	"pg_retention"
#define RT_SCHEMA_NAME		"retention"
#define RT_LABEL_PROVIDER	"retention"

/* The role whose members handle data subjects' requests and legal holds (docs/security.md). */
#define RT_OFFICER_ROLE		"retention_officer"

/*
 * Returns the role that owns the pg_retention extension in this database,
 * raising object_not_in_prerequisite_state when it is not installed here,
 * and warns (once per session) when its SQL objects are not the version
 * this library was built for: nearly every function comes here first.
 */
extern Oid	rt_extension_owner(void);

/*
 * Warns, once per session and version, when the SQL objects of the
 * extension in this database (extversion) are not the ones this library
 * was built for, with the command that fixes it.
 */
extern void rt_version_check(const char *extversion);

/*
 * True when the SQL objects of the extension in this database are of
 * version at least `version`: what the library asks before it relies on
 * an object a later script added (a column, a function).
 */
extern bool rt_sql_objects_at_least(const char *version);

#endif							/* RT_EXTENSION_H */
