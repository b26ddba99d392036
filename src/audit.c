/*
 * audit.c
 *    The audit trail: appending chained entries and verifying the chain.
 *
 * Entry n carries prev_hash = hash of entry n-1 and
 *   hash = BLAKE2b-256(prev_hash || seq || at || actor || event || tbl ||
 *                      rows || details)
 * with every field length-prefixed, so no two different entries serialize
 * alike.  Appenders serialize on the single row of retention.audit_head
 * (locked FOR UPDATE until commit), which keeps the chain linear and turns
 * a race under REPEATABLE READ into a retryable serialization failure
 * instead of a fork.  The last entry is read from the audit table itself,
 * so a restored dump (which carries the audit rows but not the head row)
 * continues the chain where it stopped.
 *
 * Anchors.  The chain is an unkeyed hash, and a keyed one would not help:
 * a superuser can disable the guard triggers, rewrite or remove entries,
 * recompute every later hash and update audit_head, and verify_audit()
 * then finds a sound chain.  What such a rewrite cannot do is change what
 * was published before it: an anchor, the (seq, hash) of one entry, kept
 * outside the database.  retention.audit_anchor() returns the current
 * head for that purpose, the database worker writes it to the server log
 * whenever it moved (at most every retention.audit_anchor_interval), and
 * verify_audit(anchor_seq, anchor_hash) fails unless the chain still
 * passes through that anchor.  Entries after the newest anchor an auditor
 * holds are protected only against naive edits.  Each anchor given out is
 * noted in retention.audit_anchor_log, so that retention.metrics can say
 * how many entries no anchor covers yet and the report can name the
 * latest one (the note is a reminder, not proof: a superuser can edit it).
 */
#include "postgres.h"

#include <sodium.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "audit.h"
#include "extension.h"
#include "privilege.h"
#include "quote.h"
#include "safe_spi.h"
#include "srf.h"

#define RT_AUDIT_HASH_BYTES crypto_generichash_BYTES	/* 32 */

/* Appends a length-prefixed field to the serialized entry. */
static void
rt_audit_field(StringInfo buf, const char *data, int len)
{
	uint32		n = (len < 0) ? 0xFFFFFFFF : (uint32) len;

	appendBinaryStringInfo(buf, (const char *) &n, sizeof(n));
	if (len > 0)
		appendBinaryStringInfo(buf, data, len);
}

/*
 * Computes the hash of one entry into out (RT_AUDIT_HASH_BYTES bytes).
 * Text fields that are NULL are passed as NULL; rows < 0 means NULL.
 */
static void
rt_audit_hash(unsigned char *out, const unsigned char *prev_hash, int prev_len,
			  int64 seq, TimestampTz at, const char *actor, const char *event,
			  const char *tbl, bool rows_null, int64 rows, const char *details)
{
	StringInfoData buf;

	initStringInfo(&buf);
	rt_audit_field(&buf, (const char *) prev_hash, prev_hash ? prev_len : -1);
	rt_audit_field(&buf, (const char *) &seq, sizeof(seq));
	rt_audit_field(&buf, (const char *) &at, sizeof(at));
	rt_audit_field(&buf, actor, strlen(actor));
	rt_audit_field(&buf, event, strlen(event));
	rt_audit_field(&buf, tbl, tbl ? (int) strlen(tbl) : -1);
	rt_audit_field(&buf, (const char *) &rows, rows_null ? -1 : (int) sizeof(rows));
	rt_audit_field(&buf, details, details ? (int) strlen(details) : -1);
	crypto_generichash(out, RT_AUDIT_HASH_BYTES, (const unsigned char *) buf.data,
					   buf.len, NULL, 0);
	pfree(buf.data);
}

/*
 * The tail of the trail as this transaction left it.  Once an append has
 * locked the head row, no other session can append before this
 * transaction ends: the next append of the same transaction needs neither
 * the lock nor the last entry read again (a transaction of many erasures
 * appends many entries).  Forgotten when the transaction ends and when any
 * subtransaction rolls back (its entries, and perhaps the lock, go with it).
 */
static LocalTransactionId rt_tail_lxid = InvalidLocalTransactionId;
static int64 rt_tail_seq = 0;
static unsigned char rt_tail_hash[RT_AUDIT_HASH_BYTES];
static bool rt_tail_callbacks = false;

/* Forgets the tail at the end of a transaction. */
static void
rt_audit_tail_xact_callback(XactEvent event, void *arg)
{
	(void) event;
	(void) arg;
	rt_tail_lxid = InvalidLocalTransactionId;
}

/* Forgets the tail when a subtransaction rolls back. */
static void
rt_audit_tail_subxact_callback(SubXactEvent event, SubTransactionId sub, SubTransactionId parent, void *arg)
{
	(void) sub;
	(void) parent;
	(void) arg;
	if (event == SUBXACT_EVENT_ABORT_SUB)
		rt_tail_lxid = InvalidLocalTransactionId;
}

/*
 * Locks the head row of the trail (until the transaction ends) and reads
 * the seq the next entry takes and the hash it chains to (*prev NULL for
 * an empty trail, copied into cxt).
 */
static void
rt_audit_lock_tail(int64 *seq_out, bytea **prev_out, MemoryContext caller_cxt)
{
	int64		seq = 1;
	bytea	   *prev = NULL;
	bool		isnull;

	rt_catalog_exec_kept("SELECT seq FROM retention.audit_head FOR UPDATE",
						 0, NULL, NULL, NULL, false, SPI_OK_SELECT);
	if (SPI_processed > 0)
		seq = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)) + 1;
	rt_catalog_exec_kept("SELECT seq, hash FROM retention.audit ORDER BY seq DESC LIMIT 1",
						 0, NULL, NULL, NULL, false, SPI_OK_SELECT);
	if (SPI_processed > 0)
	{
		Datum		d;
		int64		last = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));

		if (last + 1 > seq)
			seq = last + 1;
		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
		if (!isnull)
		{
			MemoryContext old = MemoryContextSwitchTo(caller_cxt);

			prev = DatumGetByteaPCopy(d);
			MemoryContextSwitchTo(old);
		}
	}

	*seq_out = seq;
	*prev_out = prev;
}

/* Appends an audit entry naming the table by text. */
void
rt_audit_append_named(const char *event, const char *tbl, int64 rows,
					  const char *details_json)
{
	char	   *actor = GetUserNameFromId(GetUserId(), false);
	/* parsed once: its canonical text is hashed, the value itself stored */
	Datum		details_jsonb = details_json ?
		DirectFunctionCall1(jsonb_in, CStringGetDatum(details_json)) : (Datum) 0;
	char	   *details = details_json ? DatumGetCString(DirectFunctionCall1(jsonb_out, details_jsonb)) : NULL;
	TimestampTz at = GetCurrentTimestamp();
	int64		seq = 1;
	bytea	   *prev = NULL;
	unsigned char hash[RT_AUDIT_HASH_BYTES];
	bytea	   *hash_datum;
	NameData	actor_name;
	Oid			types[9] = {INT8OID, TIMESTAMPTZOID, NAMEOID, TEXTOID, TEXTOID,
	INT8OID, JSONBOID, BYTEAOID, BYTEAOID};
	Datum		values[9];
	char		nulls[9] = "         ";
	MemoryContext caller_cxt = CurrentMemoryContext;

	if (!rt_tail_callbacks)
	{
		RegisterXactCallback(rt_audit_tail_xact_callback, NULL);
		RegisterSubXactCallback(rt_audit_tail_subxact_callback, NULL);
		rt_tail_callbacks = true;
	}
	/*
	 * Serialize appenders: the head row lock is held until commit.  The next
	 * seq follows both the last entry and the head, so entries removed from
	 * the end leave a gap that verify_audit() reports even after new appends.
	 * This transaction's own earlier append already holds the lock, and
	 * knows the tail.
	 */
	if (rt_tail_lxid != InvalidLocalTransactionId && rt_tail_lxid == MyProc->lxid)
	{
		seq = rt_tail_seq + 1;
		prev = palloc(VARHDRSZ + RT_AUDIT_HASH_BYTES);
		SET_VARSIZE(prev, VARHDRSZ + RT_AUDIT_HASH_BYTES);
		memcpy(VARDATA(prev), rt_tail_hash, RT_AUDIT_HASH_BYTES);
	}
	else
		rt_audit_lock_tail(&seq, &prev, caller_cxt);
	rt_audit_hash(hash, prev ? (unsigned char *) VARDATA_ANY(prev) : NULL,
				  prev ? VARSIZE_ANY_EXHDR(prev) : 0,
				  seq, at, actor, event, tbl, rows < 0, rows, details);
	hash_datum = palloc(VARHDRSZ + RT_AUDIT_HASH_BYTES);
	SET_VARSIZE(hash_datum, VARHDRSZ + RT_AUDIT_HASH_BYTES);
	memcpy(VARDATA(hash_datum), hash, RT_AUDIT_HASH_BYTES);

	namestrcpy(&actor_name, actor);
	values[0] = Int64GetDatum(seq);
	values[1] = TimestampTzGetDatum(at);
	values[2] = NameGetDatum(&actor_name);
	values[3] = CStringGetTextDatum(event);
	values[4] = tbl ? CStringGetTextDatum(tbl) : (Datum) 0;
	nulls[4] = tbl ? ' ' : 'n';
	values[5] = Int64GetDatum(rows);
	nulls[5] = rows < 0 ? 'n' : ' ';
	values[6] = details_jsonb;
	nulls[6] = details ? ' ' : 'n';
	values[7] = PointerGetDatum(prev);
	nulls[7] = prev ? ' ' : 'n';
	values[8] = PointerGetDatum(hash_datum);
	/* the entry and the head in one statement */
	rt_catalog_exec_kept("WITH e AS (INSERT INTO retention.audit (seq, at, actor, event, tbl, rows, details, prev_hash, hash)"
						 " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING seq)"
						 " UPDATE retention.audit_head SET seq = (SELECT e.seq FROM e)",
						 9, types, values, nulls, false, SPI_OK_UPDATE);
	rt_tail_lxid = MyProc->lxid;
	rt_tail_seq = seq;
	memcpy(rt_tail_hash, hash, RT_AUDIT_HASH_BYTES);
	sodium_memzero(hash, sizeof(hash));
}

/* Appends an audit entry about table relid (InvalidOid for none). */
void
rt_audit_append(const char *event, Oid relid, int64 rows, const char *details_json)
{
	rt_audit_append_named(event, OidIsValid(relid) ? rt_relation_name(relid) : NULL,
						  rows, details_json);
}

/* Reads the newest audit entry: false when the trail is empty; the hash is copied into the caller's context. */
bool
rt_audit_head(int64 *seq, bytea **hash)
{
	bool		isnull;
	Datum		d;

	/* rt_catalog_exec leaves the caller's memory context current: the copy lands there */
	rt_catalog_exec("SELECT seq, hash FROM retention.audit ORDER BY seq DESC LIMIT 1",
					0, NULL, NULL, NULL, true, SPI_OK_SELECT);
	if (SPI_processed == 0)
		return false;
	*seq = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	*hash = isnull ? NULL : DatumGetByteaPCopy(d);
	return true;
}

/* Notes that the anchor (seq, hash) was given out by via; see audit.h. */
bool
rt_audit_note_anchor(int64 seq, bytea *hash, const char *via)
{
	Oid			types[3] = {INT8OID, BYTEAOID, TEXTOID};
	Datum		values[3];

	/* a standby or a read-only transaction gives anchors out all the same */
	if (hash == NULL || RecoveryInProgress() || XactReadOnly || !rt_sql_objects_at_least("0.3.0"))
		return true;
	values[0] = Int64GetDatum(seq);
	values[1] = PointerGetDatum(hash);
	values[2] = CStringGetTextDatum(via);
	rt_catalog_exec("INSERT INTO retention.audit_anchor_log (seq, hash, via) VALUES ($1, $2, $3)"
					" ON CONFLICT (seq, via) DO NOTHING",
					3, types, values, NULL, false, SPI_OK_INSERT);
	return SPI_processed > 0;
}

/*
 * Returns a bytea as PostgreSQL's hex output (\x...), as the log line
 * prints an anchor, whatever bytea_output says (the worker calls it
 * between transactions, where no setting can be pinned).
 */
char *
rt_audit_hash_text(bytea *hash)
{
	return psprintf("\\x%s", rt_hex((const unsigned char *) VARDATA_ANY(hash), VARSIZE_ANY_EXHDR(hash)));
}

PG_FUNCTION_INFO_V1(retention_audit_anchor);

/*
 * SQL: retention.audit_anchor() returns the seq and hash of the newest
 * audit entry (0 and NULL for an empty trail), to be kept outside the
 * database and given back to verify_audit() later.
 */
Datum
retention_audit_anchor(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		values[2];
	bool		nulls[2] = {false, true};
	int64		seq = 0;
	bytea	   *hash = NULL;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	SPI_connect();
	if (rt_audit_head(&seq, &hash) && hash != NULL)
	{
		nulls[1] = false;
		/* given out to be kept outside: retention.metrics counts the entries after it */
		rt_audit_note_anchor(seq, hash, "call");
	}
	SPI_finish();
	values[0] = Int64GetDatum(seq);
	values[1] = PointerGetDatum(hash);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}

PG_FUNCTION_INFO_V1(retention_verify_audit);

/*
 * SQL: retention.verify_audit() recomputes the chain and names the first
 * bad entry; retention.verify_audit(anchor_seq, anchor_hash) also checks
 * that the chain still passes through an anchor taken earlier.
 */
Datum
retention_verify_audit(PG_FUNCTION_ARGS)
{
	RtSrf		srf;
	Datum		values[3];
	bool		nulls[3] = {false, false, true};
	int64		entries = 0;
	int64		first_bad = 0;
	int64		expected_seq = 1;
	int64		head_seq = 0;
	unsigned char prev[RT_AUDIT_HASH_BYTES];
	bool		have_prev = false;
	Portal		portal;
	RtSavedUser saved;
	bool		isnull;
	int64		anchor_seq = 0;
	bytea	   *anchor_hash = NULL;

	if (PG_NARGS() == 2 && !(PG_ARGISNULL(0) && PG_ARGISNULL(1)))
	{
		if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("an audit anchor needs both its seq and its hash"),
					 errhint("Pass the two values retention.audit_anchor() returned, or a pair from an \"audit anchor\" log line.")));
		anchor_seq = PG_GETARG_INT64(0);
		anchor_hash = PG_GETARG_BYTEA_PP(1);
		if (anchor_seq < 1 || VARSIZE_ANY_EXHDR(anchor_hash) != RT_AUDIT_HASH_BYTES)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("audit anchor (" INT64_FORMAT ", %d bytes) is not the seq and hash of an audit entry",
							anchor_seq, (int) VARSIZE_ANY_EXHDR(anchor_hash)),
					 errhint("An anchor is a seq of 1 or more and a 32-byte hash, as retention.audit_anchor() returns them.")));
	}

	rt_srf_begin(fcinfo, &srf);
	SPI_connect();
	rt_catalog_exec("SELECT seq FROM retention.audit_head", 0, NULL, NULL, NULL, false, SPI_OK_SELECT);
	if (SPI_processed > 0)
		head_seq = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));

	rt_become_catalog_owner(&saved);
	portal = rt_spi_cursor_open("SELECT seq, at, actor, event, tbl, rows, details::pg_catalog.text,"
								" prev_hash, hash FROM retention.audit ORDER BY seq",
								0, NULL, NULL, NULL, false);
	rt_restore_user(&saved);
	while (first_bad == 0)
	{
		SPI_cursor_fetch(portal, true, 1000);
		if (SPI_processed == 0)
			break;
		for (uint64 i = 0; i < SPI_processed && first_bad == 0; i++)
		{
			HeapTuple	t = SPI_tuptable->vals[i];
			TupleDesc	d = SPI_tuptable->tupdesc;
			bool		n_tbl,
						n_rows,
						n_details,
						n_prev,
						n_hash;
			int64		seq = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
			TimestampTz at = DatumGetTimestampTz(SPI_getbinval(t, d, 2, &isnull));
			char	   *actor = NameStr(*DatumGetName(SPI_getbinval(t, d, 3, &isnull)));
			char	   *event = TextDatumGetCString(SPI_getbinval(t, d, 4, &isnull));
			Datum		tbl = SPI_getbinval(t, d, 5, &n_tbl);
			Datum		rows = SPI_getbinval(t, d, 6, &n_rows);
			Datum		details = SPI_getbinval(t, d, 7, &n_details);
			Datum		prev_hash = SPI_getbinval(t, d, 8, &n_prev);
			Datum		hash = SPI_getbinval(t, d, 9, &n_hash);
			unsigned char computed[RT_AUDIT_HASH_BYTES];
			bytea	   *prev_b = n_prev ? NULL : DatumGetByteaPP(prev_hash);
			bytea	   *hash_b = n_hash ? NULL : DatumGetByteaPP(hash);

			entries++;
			/* a gap in seq means entries were removed before this one */
			if (seq != expected_seq)
			{
				first_bad = seq;
				break;
			}
			/* prev_hash must be the previous entry's hash */
			if (have_prev != (prev_b != NULL) ||
				(prev_b && (VARSIZE_ANY_EXHDR(prev_b) != RT_AUDIT_HASH_BYTES ||
							memcmp(VARDATA_ANY(prev_b), prev, RT_AUDIT_HASH_BYTES) != 0)))
			{
				first_bad = seq;
				break;
			}
			rt_audit_hash(computed, prev_b ? (unsigned char *) VARDATA_ANY(prev_b) : NULL,
						  prev_b ? VARSIZE_ANY_EXHDR(prev_b) : 0,
						  seq, at, actor, event,
						  n_tbl ? NULL : TextDatumGetCString(tbl),
						  n_rows, n_rows ? 0 : DatumGetInt64(rows),
						  n_details ? NULL : TextDatumGetCString(details));
			if (hash_b == NULL || VARSIZE_ANY_EXHDR(hash_b) != RT_AUDIT_HASH_BYTES ||
				memcmp(VARDATA_ANY(hash_b), computed, RT_AUDIT_HASH_BYTES) != 0)
			{
				first_bad = seq;
				break;
			}
			/* the chain must pass through the anchor: a rechained rewrite does not */
			if (seq == anchor_seq &&
				memcmp(VARDATA_ANY(anchor_hash), computed, RT_AUDIT_HASH_BYTES) != 0)
			{
				first_bad = seq;
				break;
			}
			memcpy(prev, computed, RT_AUDIT_HASH_BYTES);
			have_prev = true;
			expected_seq = seq + 1;
		}
	}
	SPI_cursor_close(portal);
	SPI_finish();

	/* entries removed from the end: the head, or an anchor, remembers a later seq */
	if (first_bad == 0 && Max(head_seq, anchor_seq) >= expected_seq)
		first_bad = expected_seq;

	values[0] = BoolGetDatum(first_bad == 0);
	values[1] = Int64GetDatum(entries);
	if (first_bad != 0)
	{
		values[2] = Int64GetDatum(first_bad);
		nulls[2] = false;
	}
	rt_srf_put(&srf, values, nulls);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(retention_audit_guard);

/* Trigger: refuses UPDATE, DELETE and TRUNCATE on retention.audit. */
Datum
retention_audit_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "retention_audit_guard: not called by trigger manager");
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("the retention audit trail is append-only"),
			 errdetail("%s on retention.audit is not allowed.",
					   TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ? "UPDATE" :
					   TRIGGER_FIRED_BY_DELETE(trigdata->tg_event) ? "DELETE" : "TRUNCATE"),
			 errhint("Entries are verified with retention.verify_audit(); they are never changed.")));
	PG_RETURN_NULL();
}
