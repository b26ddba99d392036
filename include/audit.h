/*
 * audit.h
 *    The tamper-evident audit trail (docs/reference.md#audit): every policy change,
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

/*
 * Reads the newest audit entry into *seq and *hash (copied into the
 * caller's memory context); returns false when the trail is empty.  SPI
 * must be connected.
 */
extern bool rt_audit_head(int64 *seq, bytea **hash);

/*
 * Notes in retention.audit_anchor_log that the anchor (seq, hash) was given
 * out, by via: "log" (the worker's log line), "call" (audit_anchor()) or
 * "report" (retention.report(), which prints it).
 * Does nothing on a standby, in a read-only transaction or before the
 * 0.3.0 objects.  Returns false when that anchor was noted by via before
 * (another worker process logged it already).  SPI must be connected.
 */
extern bool rt_audit_note_anchor(int64 seq, bytea *hash, const char *via);

/* Returns a hash as the text of a bytea literal (\x and hex digits). */
extern char *rt_audit_hash_text(bytea *hash);

#endif							/* RT_AUDIT_H */
