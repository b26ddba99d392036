/*
 * audit.h
 *    The tamper-evident audit trail (SPEC section 7): every policy change,
 *    tag, run, erasure, hold and release appends one entry to
 *    retention.audit in the transaction that made the change, with a
 *    BLAKE2b hash chained over the previous entry.
 */
#ifndef RT_AUDIT_H
#define RT_AUDIT_H

#include "postgres.h"

/*
 * Appends an audit entry: event name, table (InvalidOid for none), a row
 * count (negative for none) and details as JSON text.  The actor is the
 * current user at the time of the call.  SPI must be connected.
 */
extern void rt_audit_append(const char *event, Oid relid, int64 rows,
							const char *details_json);

/* Like rt_audit_append, naming the table by text (for tables already dropped). */
extern void rt_audit_append_named(const char *event, const char *tbl, int64 rows,
								  const char *details_json);

/* Returns s as a JSON string literal, quoted and escaped. */
extern char *rt_json_quote(const char *s);

#endif							/* RT_AUDIT_H */
