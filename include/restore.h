/*
 * restore.h
 *    Restores recognized (docs/operations.md#backups-and-restores): a
 *    database restored from an older state or copied is told apart from
 *    the one it came from, the erasures it lacks are replayed before any
 *    policy runs, and time-based purges wait retention.restore_grace.
 */
#ifndef RT_RESTORE_H
#define RT_RESTORE_H

#include "postgres.h"

#include "datatype/timestamp.h"

/* What rt_restore_check() found and did. */
typedef struct RtRestoreOutcome
{
	bool		recognized;		/* a restore was recognized by this call */
	int64		restore_id;		/* its row in retention.restore_log */
	int			replayed;		/* erasures brought from the ledger file and replayed */
	TimestampTz grace_until;	/* policies wait until then (0: they do not) */
	ErrorData  *replay_error;	/* the replay failed (no key, say): policies must not run */
} RtRestoreOutcome;

/* Defines retention.restore_grace (called by _PG_init). */
extern void rt_restore_define_gucs(void);

/*
 * Compares this database with the ledger file and with where its ledger
 * was written, recognizes a restore (recording it, auditing it and
 * logging it once), settles the file's lines that a crash left
 * unconfirmed, and replays the erasures of its ledgers that the database
 * lacks (never waiting for the grace period).  A ledger file that cannot
 * be read is a WARNING (once per problem and session), and the check goes
 * on without it.  SPI must be connected, in a transaction that commits.
 */
extern void rt_restore_check(RtRestoreOutcome *outcome);

/* Returns until when time-based purges wait after a restore, or 0.  SPI must be connected. */
extern TimestampTz rt_restore_grace_until(void);

/*
 * Writes the head of the audit chain to the ledger file as an anchor of
 * this database's ledger when it moved, at most every interval_s seconds
 * (0: never): a later restore from before it is recognized by its audit
 * trail.  SPI must be connected.
 */
extern void rt_restore_write_anchor(int interval_s);

#endif							/* RT_RESTORE_H */
