/*
 * cdc.c
 *    Logical decoding messages for change-data-capture consumers
 *    (docs/reference.md#logical-decoding-messages,
 *    docs/operations.md#logical-replication-and-cdc).
 *
 * A DELETE that a retention policy or an erasure runs looks, in the WAL and
 * so to every logical decoding consumer, like any application's DELETE.
 * Each purge batch, each partition removed whole and each erasure therefore
 * writes one transactional message with the prefix "retention" (what
 * pg_logical_emit_message(true, 'retention', ...) writes) after its
 * statements, in their transaction: a consumer that reads the message
 * before it applies the transaction's changes (test_decoding, pgoutput
 * with messages on, wal2json, Debezium) knows which changes are lifecycle
 * deletes and can apply or skip them.  The message rolls back with the
 * batch, and is decoded only if the changes are.
 *
 * Content: one JSON object with a version; reason "retention" (a policy's
 * run), "erasure" or "replay"; the policy and run, or the erasure's ledger
 * ids, kind and subject tokens (a keyed hash: never the subject's id); the
 * counts.  On by default: a consumer that knows nothing of them drops
 * them (pgoutput sends messages only to subscribers that asked for them),
 * they cost one small WAL record per batch, and a table's owner cannot
 * turn them off to pass lifecycle deletes for application ones
 * (retention.cdc_messages is for superusers).  Nothing is written below
 * wal_level logical, where no consumer could decode them.
 */
#include "postgres.h"

#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "replication/message.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/json.h"

#include "cdc.h"
#include "compat.h"
#include "quote.h"

/* retention.cdc_messages: write the messages at all */
static bool rt_cdc_messages = true;

/* Defines the setting retention.cdc_messages (called by _PG_init). */
void
rt_cdc_define_gucs(void)
{
	DefineCustomBoolVariable("retention.cdc_messages",
							 "Writes a logical decoding message (prefix retention) with each purge batch and erasure.",
							 "The message names the policy or erasure and the counts, in the transaction of the changes; "
							 "written only at wal_level logical.",
							 &rt_cdc_messages, true, PGC_SUSET, 0, NULL, NULL, NULL);
}

/* Returns true when messages are written; see cdc.h. */
bool
rt_cdc_enabled(void)
{
	return rt_cdc_messages && XLogLogicalInfoActive();
}

/* Writes one message of JSON text in the current transaction. */
static void
rt_cdc_emit(const char *json)
{
	(void) rt_log_logical_message(RT_CDC_PREFIX, json, strlen(json), true);
}

/* Returns a time as JSON text in UTC, ISO 8601 ("2024-03-01T00:00:00+00:00"). */
static char *
rt_cdc_time(TimestampTz t)
{
	char		buf[MAXDATELEN + 1];
	int			utc = 0;

	JsonEncodeDateTime(buf, TimestampTzGetDatum(t), TIMESTAMPTZOID, &utc);
	return rt_json_quote(buf);
}

/* Writes the message of a purge batch or a partition removed whole; see cdc.h. */
void
rt_cdc_purge(const RtCdcPurge *m)
{
	StringInfoData buf;

	if (!rt_cdc_enabled())
		return;
	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"version\": %d, \"reason\": \"retention\", \"action\": %s, "
					 "\"policy_id\": " INT64_FORMAT ", \"run_id\": " INT64_FORMAT ", "
					 "\"table\": %s, \"relation\": %s, \"cutoff\": %s, \"batch\": ",
					 RT_CDC_VERSION, rt_json_quote(m->action), m->policy_id, m->run_id,
					 rt_json_quote(m->table), rt_json_quote(m->relation), rt_cdc_time(m->cutoff));
	if (m->batch > 0)
		appendStringInfo(&buf, INT64_FORMAT, m->batch);
	else
		appendStringInfoString(&buf, "null");
	appendStringInfo(&buf, ", \"rows\": " INT64_FORMAT ", \"rows_estimated\": %s, "
					 "\"blocked\": " INT64_FORMAT ", \"skipped_locked\": " INT64_FORMAT ", "
					 "\"held\": " INT64_FORMAT ", \"refused\": " INT64_FORMAT "}",
					 m->rows, m->rows_estimated ? "true" : "false", m->blocked, m->skipped_locked,
					 m->held, m->refused);
	rt_cdc_emit(buf.data);
}

/* Writes the message of an erasure; see cdc.h. */
void
rt_cdc_erasure(const char *reason, const char *kind, const char *erasure_ids,
			   const char *subjects, int64 rows, const char *steps)
{
	if (!rt_cdc_enabled())
		return;
	rt_cdc_emit(psprintf("{\"version\": %d, \"reason\": %s, \"action\": \"erase\", \"kind\": %s, "
						 "\"erasure_ids\": %s, \"subjects\": %s, \"rows\": " INT64_FORMAT ", \"steps\": %s}",
						 RT_CDC_VERSION, rt_json_quote(reason), rt_json_quote(kind), erasure_ids,
						 subjects, rows, steps));
}
