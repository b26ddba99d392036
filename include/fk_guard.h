/*
 * fk_guard.h
 *    Rows that foreign keys still need.  A row referenced through an
 *    ON DELETE RESTRICT or NO ACTION foreign key cannot be deleted; the
 *    purge skips it and counts it as blocked instead of letting it abort
 *    the batch.  ON DELETE CASCADE / SET NULL / SET DEFAULT are left to
 *    PostgreSQL.
 */
#ifndef RT_FK_GUARD_H
#define RT_FK_GUARD_H

#include "postgres.h"

/*
 * Returns an SQL boolean expression, true when the row of relid aliased
 * alias is still referenced through a RESTRICT or NO ACTION foreign key,
 * or NULL when no such foreign key references relid.  Identifiers are
 * quoted and operators schema-qualified.  SPI must be connected.
 */
extern char *rt_fk_blocked_expr(Oid relid, const char *alias);

#endif							/* RT_FK_GUARD_H */
