/*
 * restore.c
 *    Restores recognized, erasures replayed by themselves, and the grace
 *    period of time-based purges after a restore (docs/operations.md
 *    "Backups and restores").
 *
 * The signal.  Every database writes its erasures to the ledger file
 * (ledger_file.c) under a ledger name "uuid@system identifier/database
 * OID" that dumps and backups carry, and its worker writes anchors of its
 * audit chain there.  A database is taken for a restore (or a copy) when:
 *  - moved: its ledger was written from another system or database than
 *    the one it runs in now (pg_restore into a new database, a dump
 *    loaded elsewhere, CREATE DATABASE ... TEMPLATE, pg_upgrade);
 *  - erasures: the file holds erasures of its own ledger that it lacks
 *    (a base backup or point-in-time recovery from before them, a clone);
 *  - audit: the file holds an anchor of its own ledger that its audit
 *    trail does not reach or does not pass through (a restore from before
 *    a change that was audited, erasure or not).
 * A promoted streaming standby is none of these: it runs in the same
 * system and database, and has every committed erasure and audit entry
 * the primary wrote (a failover that lost committed transactions is, in
 * truth, an older state, and taken for one).  A timeline switch alone
 * proves nothing, so it is not a signal.
 *
 * Once recognized, the database writes under a new ledger (a new uuid, or
 * when it moved the same uuid from its new home), keeping the old one as
 * an ancestor: it goes on replaying the erasures the database it came from
 * records after the copy, while its own are not taken for that database's.
 * The restore is recorded in retention.restore_log, audited
 * (restore_recognized) and logged once; time-based purges of the
 * scheduler then wait retention.restore_grace, which retention.resume()
 * ends early.  Erasure replay never waits.
 *
 * Unconfirmed lines.  A crash between the erasure lines written before a
 * commit and the "commit" line after it leaves them unconfirmed.  The
 * database that wrote them settles them at its worker's next pass: an
 * erasure its ledger has committed (a "commit" line), one whose
 * transaction the commit log shows aborted or crashed (an "abort" line).
 * In another database they are replayed once they cannot be in flight (a
 * transaction of another history), recorded as unconfirmed in the audit:
 * replaying an erasure is idempotent, and one that had reached its commit
 * was asked for.
 */
#include "postgres.h"

#include "access/transam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/procarray.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "audit.h"
#include "compat.h"
#include "erasure_ledger.h"
#include "extension.h"
#include "guc.h"
#include "ledger_file.h"
#include "privilege.h"
#include "quote.h"
#include "restore.h"
#include "safe_spi.h"
#include "subxact.h"

/* how long a line of another system is given to be confirmed before it counts unconfirmed */
#define RT_UNCONFIRMED_AFTER_S 10

/* retention.restore_grace, s: how long time-based purges wait after a restore is recognized */
static int	rt_restore_grace_s = 3 * 86400;

/* the last problem with the ledger file this session warned about, to warn once */
static char *rt_warned_problem = NULL;

/* Defines retention.restore_grace (called by _PG_init). */
void
rt_restore_define_gucs(void)
{
	DefineCustomIntVariable("retention.restore_grace",
							"How long the scheduler's time-based purges wait after a restore is recognized.",
							"Erasures are replayed at once; policies wait, so that a restored copy can be looked at before expired rows go. retention.resume() ends the wait early; 0 turns it off.",
							&rt_restore_grace_s, 3 * 86400, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
}

/* Warns about a problem with the ledger file, once per distinct problem and session. */
static void
rt_warn_file_problem(ErrorData *edata)
{
	if (rt_warned_problem != NULL && strcmp(rt_warned_problem, edata->message) == 0)
		return;
	if (rt_warned_problem)
		pfree(rt_warned_problem);
	rt_warned_problem = MemoryContextStrdup(TopMemoryContext, edata->message);
	ereport(WARNING,
			(errcode(edata->sqlerrcode),
			 errmsg("%s", edata->message),
			 edata->context ? errcontext("%s", edata->context) : 0,
			 errdetail("Without the ledger file, a restore is recognized only when the database moved, and erasures made since a backup are not replayed."),
			 edata->hint ? errhint("%s", edata->hint) : 0));
}

/* Returns true when id is in list (char *). */
static bool
rt_str_member(List *list, const char *id)
{
	ListCell   *lc;

	foreach(lc, list)
		if (strcmp(lfirst(lc), id) == 0)
			return true;
	return false;
}

/* Returns the ledgers to read from the file: this database's own (first) and its ancestors'. */
static List *
rt_restore_ledgers(const RtLedgerIdentity *id, const char *own)
{
	List	   *ledgers = list_make1(pstrdup(own));
	ListCell   *lc;

	if (strcmp(own, id->ledger) != 0)
		ledgers = lappend(ledgers, id->ledger);
	foreach(lc, id->ancestors)
		if (!rt_str_member(ledgers, lfirst(lc)))
			ledgers = lappend(ledgers, lfirst(lc));
	return ledgers;
}

/* Returns this database's system identifier. */
static uint64
rt_system_here(void)
{
	return GetSystemIdentifier();
}

/* How a transaction of this system stands in its commit log. */
typedef enum RtXidState
{
	RT_XID_FUTURE,				/* not assigned here: another history */
	RT_XID_TOO_OLD,				/* the commit log no longer knows */
	RT_XID_RUNNING,
	RT_XID_COMMITTED,
	RT_XID_ENDED_OTHERWISE		/* aborted, or crashed */
} RtXidState;

/* Returns how the transaction xid8 (a FullTransactionId's value) stands here. */
static RtXidState
rt_xid_state(uint64 xid8)
{
	FullTransactionId next = ReadNextFullTransactionId();
	TransactionId xid;
	TransactionId oldest;

	if (xid8 >= U64FromFullTransactionId(next))
		return RT_XID_FUTURE;
	if (U64FromFullTransactionId(next) - xid8 > (uint64) 1 << 31)
		return RT_XID_TOO_OLD;
	xid = XidFromFullTransactionId(FullTransactionIdFromU64(xid8));
	LWLockAcquire(XactTruncationLock, LW_SHARED);
	oldest = rt_oldest_clog_xid();
	LWLockRelease(XactTruncationLock);
	if (TransactionIdPrecedes(xid, oldest))
		return RT_XID_TOO_OLD;
	if (TransactionIdIsInProgress(xid))
		return RT_XID_RUNNING;
	if (TransactionIdDidCommit(xid))
		return RT_XID_COMMITTED;
	return RT_XID_ENDED_OTHERWISE;
}

/* Returns which of ids (char *) the erasure ledger holds with status (or done). */
static List *
rt_ids_in_database(List *ids, List *statuses)
{
	Oid			types[2] = {TEXTARRAYOID, TEXTARRAYOID};
	Datum		values[2];
	List	   *present = NIL;

	if (ids == NIL)
		return NIL;
	values[0] = rt_text_array(ids);
	values[1] = rt_text_array(statuses);
	rt_catalog_exec("SELECT f.id FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2)) AS f(id, status)"
					" WHERE EXISTS (SELECT 1 FROM retention.erasure_ledger l"
					"   WHERE l.erasure_id OPERATOR(pg_catalog.=) f.id::pg_catalog.uuid"
					"   AND (l.status OPERATOR(pg_catalog.=) f.status OR l.status OPERATOR(pg_catalog.=) 'done'))",
					/* a snapshot of its own, taken after the file was read: what it confirms is seen */
					2, types, values, NULL, false, SPI_OK_SELECT);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;

		present = lappend(present, TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[i],
																	 SPI_tuptable->tupdesc, 1, &isnull)));
	}
	return present;
}

/*
 * Settles the transactions of this database's own ledger that a crash left
 * unconfirmed: committed when the ledger holds their entries, aborted when
 * the commit log says they did not commit.  Appends the lines and marks
 * them in state.
 */
static void
rt_settle_own(RtLedgerFileState *state, const char *own)
{
	HASH_SEQ_STATUS seq;
	RtFileTxn  *t;
	List	   *lines = NIL;
	List	   *settled = NIL;
	ListCell   *lc;

	hash_seq_init(&seq, state->txns);
	while ((t = hash_seq_search(&seq)) != NULL)
	{
		List	   *statuses = NIL;
		const char *outcome = NULL;

		if (t->outcome != '?' || strcmp(t->ledger, own) != 0 || t->system != rt_system_here())
			continue;
		for (int i = 0; i < list_length(t->erasure_ids); i++)
			statuses = lappend(statuses, "pending");	/* present in any status */
		if (rt_ids_in_database(t->erasure_ids, statuses) != NIL)
			outcome = "commit";
		else if (rt_xid_state(t->xid) == RT_XID_ENDED_OTHERWISE)
			outcome = "abort";
		if (outcome == NULL)
			continue;			/* in flight, or of another history: not ours to say */
		lines = lappend(lines, psprintf("{\"type\": \"%s\", \"ledger\": \"%s\", \"txn\": \"%s\", \"settled\": \"after a crash, from the database\"}",
										outcome, own, t->txn));
		settled = lappend(settled, t);
		t->outcome = outcome[0];
	}
	if (lines == NIL)
		return;
	rt_ledger_file_append(lines);
	foreach(lc, settled)
		ereport(LOG,
				(errmsg("pg_retention: ledger file transaction %s, left unconfirmed by a crash, settled as %s",
						((RtFileTxn *) lfirst(lc))->txn,
						((RtFileTxn *) lfirst(lc))->outcome == 'c' ? "committed" : "aborted")));
}

/*
 * Returns true when an erasure of the file counts: committed, or
 * unconfirmed but no longer possibly in flight (*unconfirmed set then).
 * An unconfirmed line of this system is judged by the commit log; one of
 * this database's own ledger (own) only when its transaction is of
 * another history, since one the commit log shows committed may not be
 * visible yet.
 */
static bool
rt_erasure_counts(const RtLedgerFileState *state, const RtFileErasure *e, const char *own, bool *unconfirmed)
{
	char		key[48];
	RtFileTxn  *t;

	*unconfirmed = false;
	if (e->outcome == 'c')
		return true;
	memset(key, 0, sizeof(key));
	strlcpy(key, e->txn, sizeof(key));
	t = hash_search(state->txns, key, HASH_FIND, NULL);
	if (t == NULL || t->outcome == 'a')
		return false;
	if (t->outcome == 'c')
		return true;
	if (t->system == rt_system_here())
	{
		switch (rt_xid_state(t->xid))
		{
			case RT_XID_FUTURE:
			case RT_XID_TOO_OLD:
				break;			/* written by another history of this system */
			case RT_XID_COMMITTED:
				if (strcmp(e->ledger, own) == 0)
					return false;	/* settled by the next pass once visible */
				return true;	/* its commit line is on its way */
			default:
				return false;	/* in flight, or ended without committing */
		}
	}
	else if (GetCurrentTimestamp() - t->at < (TimestampTz) RT_UNCONFIRMED_AFTER_S * USECS_PER_SEC)
		return false;			/* perhaps still committing elsewhere */
	*unconfirmed = true;
	return true;
}

/* The erasures of the file that count and that the database lacks, of ledgers (all when NULL). */
typedef struct RtMissing
{
	List	   *ids;			/* char * */
	List	   *entries;		/* entry JSON, char * */
	List	   *unconfirmed;	/* ids */
} RtMissing;

/* Collects the erasures of the file that count and that the database lacks (own: its own ledger). */
static void
rt_missing(const RtLedgerFileState *state, const char *own, const char *only_ledger, RtMissing *m)
{
	HASH_SEQ_STATUS seq;
	RtFileErasure *e;
	List	   *ids = NIL;
	List	   *statuses = NIL;
	List	   *entries = NIL;
	List	   *unconfirmed = NIL;
	List	   *present;
	ListCell   *lc;
	ListCell   *ec;

	memset(m, 0, sizeof(*m));
	hash_seq_init(&seq, state->erasures);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		bool		uncertain;

		if (only_ledger != NULL && strcmp(e->ledger, only_ledger) != 0)
			continue;
		if (!rt_erasure_counts(state, e, own, &uncertain))
			continue;
		ids = lappend(ids, e->erasure_id);
		statuses = lappend(statuses, e->status);
		entries = lappend(entries, e->entry_json);
		if (uncertain)
			unconfirmed = lappend(unconfirmed, e->erasure_id);
	}
	present = rt_ids_in_database(ids, statuses);
	forboth(lc, ids, ec, entries)
	{
		if (rt_str_member(present, lfirst(lc)))
			continue;
		m->ids = lappend(m->ids, lfirst(lc));
		m->entries = lappend(m->entries, lfirst(ec));
		if (rt_str_member(unconfirmed, lfirst(lc)))
			m->unconfirmed = lappend(m->unconfirmed, lfirst(lc));
	}
}

/* Returns "" when the audit trail reaches the anchor and passes through it, else what is wrong. */
static char *
rt_audit_against_anchor(const RtLedgerFileState *state)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1];
	bool		head_null;
	bool		hash_null;
	int64		head;
	Datum		hash;

	if (state->anchor_seq <= 0 || state->anchor_hash == NULL)
		return "";
	values[0] = Int64GetDatum(state->anchor_seq);
	rt_catalog_exec("SELECT (SELECT pg_catalog.max(seq) FROM retention.audit),"
					" (SELECT pg_catalog.encode(hash, 'hex') FROM retention.audit WHERE seq OPERATOR(pg_catalog.=) $1)",
					1, types, values, NULL, true, SPI_OK_SELECT);
	head = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &head_null));
	hash = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &hash_null);
	if (head_null || head < state->anchor_seq)
		return psprintf("{\"anchor_seq\": " INT64_FORMAT ", \"audit_head\": " INT64_FORMAT "}",
						state->anchor_seq, head_null ? (int64) 0 : head);
	if (hash_null || strcmp(TextDatumGetCString(hash), state->anchor_hash) != 0)
		return psprintf("{\"anchor_seq\": " INT64_FORMAT ", \"audit_head\": " INT64_FORMAT ", \"forked\": true}",
						state->anchor_seq, head);
	return "";
}

/* Returns a time as a JSON string, ISO 8601 in UTC, whatever the session's DateStyle. */
static char *
rt_json_time(TimestampTz t)
{
	int			utc = 0;
	char		buf[MAXDATELEN + 1];

	JsonEncodeDateTime(buf, TimestampTzGetDatum(t), TIMESTAMPTZOID, &utc);
	return psprintf("\"%s\"", buf);
}

/* Returns a JSON array of strings. */
static char *
rt_json_strings(List *strings)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	foreach(lc, strings)
	{
		if (lc != list_head(strings))
			appendStringInfoString(&buf, ", ");
		escape_json(&buf, lfirst(lc));
	}
	appendStringInfoChar(&buf, ']');
	return buf.data;
}

/*
 * Records a recognized restore: the database's new ledger (the old one an
 * ancestor), a row of retention.restore_log with the grace period, an
 * audit entry and one log line.  Returns the row's id.
 */
static int64
rt_recognize(RtLedgerIdentity *id, const char *own, bool moved, List *signals, const char *details,
			 TimestampTz *grace_until)
{
	char	   *previous = id->ledger;
	char	   *ledger;
	TimestampTz now = GetCurrentTimestamp();
	Oid			types[6] = {TEXTARRAYOID, TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		values[6];
	char		nulls[6] = "      ";
	bool		isnull;
	int64		restore_id;
	char	   *grace_text;
	ListCell   *lc;

	/* a copy that moved keeps its uuid from its new home: its first lines were written so */
	ledger = moved ? pstrdup(own) :
		rt_ledger_name_here(DatumGetCString(DirectFunctionCall1(uuid_out, DirectFunctionCall1(gen_random_uuid, (Datum) 0))));
	if (!rt_str_member(id->ancestors, previous))
		id->ancestors = lappend(id->ancestors, previous);
	if (strcmp(own, previous) != 0 && strcmp(own, ledger) != 0 && !rt_str_member(id->ancestors, own))
		id->ancestors = lappend(id->ancestors, pstrdup(own));
	id->ledger = ledger;
	rt_ledger_identity_write(id);

	*grace_until = rt_restore_grace_s > 0 ? now + (TimestampTz) rt_restore_grace_s * USECS_PER_SEC : 0;
	values[0] = rt_text_array(signals);
	values[1] = CStringGetTextDatum(details);
	values[2] = CStringGetTextDatum(previous);
	values[3] = CStringGetTextDatum(ledger);
	values[4] = TimestampTzGetDatum(now);
	values[5] = TimestampTzGetDatum(*grace_until);
	nulls[5] = *grace_until != 0 ? ' ' : 'n';
	rt_catalog_exec("INSERT INTO retention.restore_log (recognized_at, signals, details, previous_ledger, ledger, grace_until)"
					" VALUES ($5, $1, $2::pg_catalog.jsonb, $3, $4, $6) RETURNING restore_id",
					6, types, values, nulls, false, SPI_OK_INSERT_RETURNING);
	restore_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	grace_text = *grace_until != 0 ? pstrdup(timestamptz_to_str(*grace_until)) : NULL;
	rt_audit_append("restore_recognized", InvalidOid, -1,
					psprintf("{\"restore_id\": " INT64_FORMAT ", \"signals\": %s, \"details\": %s,"
							 " \"previous_ledger\": %s, \"ledger\": %s, \"grace_until\": %s}",
							 restore_id, rt_json_strings(signals), details, rt_json_quote(previous),
							 rt_json_quote(ledger), *grace_until != 0 ? rt_json_time(*grace_until) : "null"));
	{
		StringInfoData why;

		initStringInfo(&why);
		foreach(lc, signals)
			appendStringInfo(&why, "%s%s", why.len ? ", " : "", (char *) lfirst(lc));
		ereport(LOG,
				(errmsg("pg_retention: database \"%s\" is a restore or a copy (%s): erasures it lacks are replayed now; %s",
						get_database_name(MyDatabaseId), why.data,
						grace_text ? psprintf("time-based purges wait until %s (retention.restore_grace)", grace_text) :
						"time-based purges do not wait (retention.restore_grace = 0)"),
				 errdetail("Restore %ld in retention.restores: %s", (long) restore_id, details),
				 errhint("retention.resume() ends the wait early."),
				 errhidestmt(true)));
	}
	return restore_id;
}

/* Brings the missing erasures into the ledger, not applied here yet, audits those it changed, and returns how many. */
static int
rt_import(const RtMissing *m, const RtLedgerFileState *state, int64 restore_id)
{
	Oid			types[2] = {TEXTARRAYOID, TEXTOID};
	Datum		values[2];
	List	   *changed = NIL;
	List	   *unconfirmed = NIL;
	ListCell   *lc;

	values[0] = rt_text_array(m->entries);
	values[1] = CStringGetTextDatum(rt_erasure_deadline);
	rt_catalog_exec("INSERT INTO retention.erasure_ledger (erasure_id, kind, subject_hash, key_fingerprint,"
					" requested_at, requested_by, status, completed_at, rows, applied_here, due_at)"
					" SELECT (e OPERATOR(pg_catalog.->>) 'erasure_id')::pg_catalog.uuid, e OPERATOR(pg_catalog.->>) 'kind',"
					" pg_catalog.decode(e OPERATOR(pg_catalog.->>) 'subject_hash', 'hex'),"
					" e OPERATOR(pg_catalog.->>) 'key_fingerprint',"
					" (e OPERATOR(pg_catalog.->>) 'requested_at')::pg_catalog.timestamptz,"
					" (e OPERATOR(pg_catalog.->>) 'requested_by')::pg_catalog.name,"
					" e OPERATOR(pg_catalog.->>) 'status',"
					" (e OPERATOR(pg_catalog.->>) 'completed_at')::pg_catalog.timestamptz,"
					" COALESCE((e OPERATOR(pg_catalog.->>) 'rows')::pg_catalog.int8, 0), NULL,"
					/* due as import_erasures() makes it: the request's time plus retention.erasure_deadline */
					" (e OPERATOR(pg_catalog.->>) 'requested_at')::pg_catalog.timestamptz"
					" OPERATOR(pg_catalog.+) $2::pg_catalog.interval"
					" FROM pg_catalog.unnest($1::pg_catalog.jsonb[]) e"
					/* one this database holds pending, done in the file, is carried out here too */
					" ON CONFLICT (erasure_id) DO UPDATE SET status = EXCLUDED.status,"
					" completed_at = EXCLUDED.completed_at, rows = EXCLUDED.rows, applied_here = NULL"
					" WHERE erasure_ledger.status OPERATOR(pg_catalog.=) 'pending'"
					" AND erasure_ledger.waiting_for IS NULL AND EXCLUDED.status OPERATOR(pg_catalog.=) 'done'"
					" RETURNING erasure_ledger.erasure_id::pg_catalog.text",
					2, types, values, NULL, false, SPI_OK_INSERT_RETURNING);
	for (uint64 i = 0; i < SPI_processed; i++)
		changed = lappend(changed, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
	/* one still held here (pending, waiting for a hold) is left as it is, and not audited again each pass */
	if (changed == NIL)
		return 0;
	foreach(lc, m->unconfirmed)
		if (rt_str_member(changed, lfirst(lc)))
			unconfirmed = lappend(unconfirmed, lfirst(lc));
	rt_audit_append("erasures_restored", InvalidOid, list_length(changed),
					psprintf("{\"file\": %s, \"file_id\": %s, \"restore_id\": %s, \"erasure_ids\": %s, \"unconfirmed\": %s}",
							 rt_json_quote(state->path), state->file_id ? rt_json_quote(state->file_id) : "null",
							 restore_id > 0 ? psprintf(INT64_FORMAT, restore_id) : "null",
							 rt_json_strings(changed), rt_json_strings(unconfirmed)));
	if (unconfirmed != NIL)
		ereport(LOG,
				(errmsg("pg_retention: %d erasure%s whose commit the ledger file does not confirm %s replayed",
						list_length(unconfirmed), list_length(unconfirmed) == 1 ? "" : "s",
						list_length(unconfirmed) == 1 ? "is" : "are"),
				 errdetail("A crash cut them off between their lines and their commit; they had been asked for and reached their commit. The audit entry erasures_restored names them."),
				 errhidestmt(true)));
	return list_length(changed);
}

/* Replays the ledger's unapplied entries (a step for rt_in_subtransaction); counts in *arg. */
static void
rt_replay_step(void *arg)
{
	*(int *) arg = rt_erasure_replay_unapplied();
}

/* Adds replayed to the newest restore's count. */
static void
rt_count_replayed(int replayed)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(replayed)};

	rt_catalog_exec("UPDATE retention.restore_log SET replayed = replayed OPERATOR(pg_catalog.+) $1"
					" WHERE restore_id OPERATOR(pg_catalog.=) (SELECT pg_catalog.max(restore_id) FROM retention.restore_log)",
					1, types, values, NULL, false, SPI_OK_UPDATE);
}

/* Recognizes a restore and replays what the database lacks; see restore.h. */
void
rt_restore_check(RtRestoreOutcome *outcome)
{
	RtLedgerIdentity id;
	char	   *own;
	bool		moved;
	List	   *signals = NIL;
	StringInfoData details;
	RtLedgerFileState *state = NULL;
	RtMissing	missing;
	int64		restore_id = 0;

	memset(outcome, 0, sizeof(*outcome));
	if (!rt_sql_objects_at_least("0.3.0") || RecoveryInProgress())
		return;
	(void) rt_ledger_identity_read(&id, true);
	own = rt_ledger_name_here(rt_ledger_uuid(id.ledger));
	moved = strcmp(own, id.ledger) != 0;
	initStringInfo(&details);
	appendStringInfoChar(&details, '{');
	if (moved)
	{
		signals = lappend(signals, "moved");
		appendStringInfo(&details, "\"moved\": {\"from\": %s, \"to\": %s}",
						 rt_json_quote(strchr(id.ledger, '@') ? strchr(id.ledger, '@') + 1 : id.ledger),
						 rt_json_quote(strchr(own, '@') + 1));
	}
	if (rt_ledger_file_expected(&id))
	{
		ErrorData  *problem = NULL;

		state = rt_ledger_file_read(rt_restore_ledgers(&id, own), &problem);
		if (problem != NULL)
			rt_warn_file_problem(problem);
	}
	if (state != NULL)
	{
		char	   *audit;

		if (!moved)
			rt_settle_own(state, own);
		rt_missing(state, own, own, &missing);
		if (missing.ids != NIL)
		{
			signals = lappend(signals, "erasures");
			/* no erasure id: retention.restores is readable by PUBLIC, the ids by officers (the audit names them) */
			appendStringInfo(&details, "%s\"erasures\": {\"missing\": %d}",
							 details.len > 1 ? ", " : "", list_length(missing.ids));
		}
		audit = rt_audit_against_anchor(state);
		if (audit[0] != '\0')
		{
			signals = lappend(signals, "audit");
			appendStringInfo(&details, "%s\"audit\": %s", details.len > 1 ? ", " : "", audit);
		}
	}
	appendStringInfoChar(&details, '}');
	if (signals != NIL)
	{
		RtLedgerIdentity now;

		/*
		 * One recognition at a time (the worker, sessions' CALL
		 * retention.run()): the lock is taken only here, so that a
		 * transaction that ran a check holds nobody up in the common case.
		 * Another session may have recognized the restore meanwhile.
		 */
		rt_catalog_exec("LOCK TABLE retention.ledger_identity IN SHARE UPDATE EXCLUSIVE MODE",
						0, NULL, NULL, NULL, false, SPI_OK_UTILITY);
		(void) rt_ledger_identity_read(&now, true);
		if (strcmp(now.ledger, id.ledger) == 0)
		{
			restore_id = rt_recognize(&id, own, moved, signals, details.data, &outcome->grace_until);
			outcome->recognized = true;
			outcome->restore_id = restore_id;
		}
	}
	/* every ledger it descends from: what the database it came from erases later reaches it too */
	if (state != NULL)
	{
		rt_missing(state, own, NULL, &missing);
		if (missing.ids != NIL)
		{
			outcome->replayed = rt_import(&missing, state, restore_id);
			if (outcome->replayed > 0)
				rt_count_replayed(outcome->replayed);
		}
	}
	if (outcome->replayed > 0 || outcome->recognized)
	{
		int			looked_at = 0;

		outcome->replay_error = rt_in_subtransaction(rt_replay_step, &looked_at, CurrentMemoryContext);
		if (outcome->replay_error == NULL && looked_at > 0)
			ereport(LOG,
					(errmsg("pg_retention: replayed %d erasure%s in database \"%s\"%s",
							looked_at, looked_at == 1 ? "" : "s", get_database_name(MyDatabaseId),
							restore_id > 0 ? psprintf(" after restore %ld", (long) restore_id) : ""),
					 errhint("The audit entries erasures_restored and erasures_replayed name them."),
					 errhidestmt(true)));
	}
	outcome->grace_until = rt_restore_grace_until();
}

/* Returns until when time-based purges wait after a restore, or 0. */
TimestampTz
rt_restore_grace_until(void)
{
	bool		isnull;
	Datum		d;

	if (!rt_sql_objects_at_least("0.3.0"))
		return 0;
	/* not read-only: a restore this transaction recognized must be seen */
	rt_catalog_exec("SELECT grace_until FROM retention.restores WHERE waiting",
					0, NULL, NULL, NULL, false, SPI_OK_SELECT);
	if (SPI_processed == 0)
		return 0;
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? 0 : DatumGetTimestampTz(d);
}

/* Writes the audit head to the ledger file as an anchor when it moved; see restore.h. */
void
rt_restore_write_anchor(int interval_s)
{
	RtLedgerIdentity id;
	char	   *own;
	RtLedgerFileState *state;
	int64		seq;
	bytea	   *hash;
	char	   *hex;
	TimestampTz now = GetCurrentTimestamp();

	if (interval_s <= 0 || rt_ledger_file_path() == NULL || !rt_sql_objects_at_least("0.3.0") ||
		RecoveryInProgress())
		return;
	if (!rt_ledger_identity_read(&id, false))
		return;
	own = rt_ledger_name_here(rt_ledger_uuid(id.ledger));
	if (strcmp(own, id.ledger) != 0)
		return;					/* moved: the next check records it first */
	if (!rt_audit_head(&seq, &hash) || hash == NULL)
		return;
	hex = TextDatumGetCString(DirectFunctionCall2(binary_encode, PointerGetDatum(hash),
												  CStringGetTextDatum("hex")));
	if (rt_ledger_file_expected(&id))
	{
		state = rt_ledger_file_read(rt_restore_ledgers(&id, own), NULL);
		if (state->anchor_seq == seq && state->anchor_hash && strcmp(state->anchor_hash, hex) == 0)
			return;
		if (state->anchor_at != 0 && now - state->anchor_at < (TimestampTz) interval_s * USECS_PER_SEC)
			return;
	}
	/* the anchor must not name an entry a crash could still take back */
	XLogFlush(GetXLogInsertRecPtr());
	{
		int			utc = 0;
		char		at[MAXDATELEN + 1];

		JsonEncodeDateTime(at, TimestampTzGetDatum(now), TIMESTAMPTZOID, &utc);
		rt_ledger_file_append(list_make1(psprintf("{\"type\": \"anchor\", \"ledger\": \"%s\", \"seq\": " INT64_FORMAT
												  ", \"hash\": \"%s\", \"at\": \"%s\"}", own, seq, hex, at)));
	}
}

PG_FUNCTION_INFO_V1(retention_resume);

/* SQL: retention.resume() ends the wait of time-based purges after a recognized restore. */
Datum
retention_resume(PG_FUNCTION_ARGS)
{
	bool		isnull;
	int64		restore_id;
	char	   *grace;
	NameData	caller;
	Oid			types[1] = {NAMEOID};
	Datum		values[1];

	(void) fcinfo;
	if (!superuser() && !rt_database_ownercheck(MyDatabaseId, GetUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be a superuser or the owner of database \"%s\" to end the wait after a restore",
						get_database_name(MyDatabaseId)),
				 errhint("The wait lets someone look at a restored copy before expired rows go; the database's owner decides when it ends.")));
	SPI_connect();
	if (!rt_sql_objects_at_least("0.3.0"))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("retention.resume() needs the 0.3.0 objects of pg_retention"),
				 errhint("Run ALTER EXTENSION pg_retention UPDATE; in this database.")));
	/* the caller, not the extension owner the statement runs as */
	namestrcpy(&caller, GetUserNameFromId(GetUserId(), false));
	values[0] = NameGetDatum(&caller);
	rt_catalog_exec("UPDATE retention.restore_log SET resumed_at = pg_catalog.now(), resumed_by = $1"
					" WHERE restore_id OPERATOR(pg_catalog.=) (SELECT restore_id FROM retention.restores WHERE waiting)"
					" RETURNING restore_id, grace_until",
					1, types, values, NULL, false, SPI_OK_UPDATE_RETURNING);
	if (SPI_processed == 0)
	{
		SPI_finish();
		ereport(NOTICE,
				(errmsg("no wait after a restore is in force in database \"%s\"", get_database_name(MyDatabaseId)),
				 errhint("See retention.restores.")));
		PG_RETURN_BOOL(false);
	}
	restore_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	grace = rt_json_time(DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull)));
	rt_audit_append("restore_resumed", InvalidOid, -1,
					psprintf("{\"restore_id\": " INT64_FORMAT ", \"grace_until\": %s}", restore_id, grace));
	SPI_finish();
	ereport(LOG,
			(errmsg("pg_retention: the wait after restore " INT64_FORMAT " in database \"%s\" was ended by %s; time-based purges run again",
					restore_id, get_database_name(MyDatabaseId), GetUserNameFromId(GetUserId(), false)),
			 errhidestmt(true)));
	PG_RETURN_BOOL(true);
}
