/*
 * cdc.h
 *    The logical decoding messages (prefix "retention") that purges and
 *    erasures write into the WAL, in the transaction of the changes they
 *    describe, so that a change-data-capture consumer can tell a lifecycle
 *    delete from an application's (docs/reference.md#logical-decoding-messages);
 *    retention.cdc_messages turns them off.
 */
#ifndef RT_CDC_H
#define RT_CDC_H

#include "postgres.h"

#include "datatype/timestamp.h"

/* The prefix of every message. */
#define RT_CDC_PREFIX "retention"

/* Version of the message format; docs/reference.md says what each version holds. */
#define RT_CDC_VERSION 1

/* What one batch of a policy run, or one partition it removed whole, did. */
typedef struct RtCdcPurge
{
	const char *action;			/* delete, anonymize, truncate, drop_partition, detach_partition */
	int64		policy_id;
	int64		run_id;
	const char *table;			/* the policy's table, quoted and qualified */
	const char *relation;		/* the table or partition changed, quoted and qualified */
	TimestampTz cutoff;
	int64		batch;			/* the batch's number in the run; 0 for a partition removed whole */
	int64		rows;			/* rows deleted, anonymized, or in the partition */
	bool		rows_estimated; /* rows read from pg_class.reltuples (retention.partition_row_count) */
	int64		blocked;
	int64		skipped_locked;
	int64		held;
	int64		refused;
} RtCdcPurge;

/* Returns true when messages are written (retention.cdc_messages on and wal_level logical). */
extern bool rt_cdc_enabled(void);

/* Writes the message of a purge batch or of a partition removed whole, in the current transaction. */
extern void rt_cdc_purge(const RtCdcPurge *m);

/*
 * Writes the message of an erasure carried out in the current transaction:
 * reason "erasure" (erase_subject, or a pending erasure whose holds ended)
 * or "replay" (replay_erasures), the kind, erasure_ids and subjects as JSON
 * arrays (the ledger's ids, the subjects' ledger tokens: never an id), the
 * rows changed and the steps as rt_erasure_steps_summary gives them.
 */
extern void rt_cdc_erasure(const char *reason, const char *kind, const char *erasure_ids,
						   const char *subjects, int64 rows, const char *steps);

/* Defines the setting retention.cdc_messages (called by _PG_init). */
extern void rt_cdc_define_gucs(void);

#endif							/* RT_CDC_H */
