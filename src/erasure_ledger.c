/*
 * erasure_ledger.c
 *    The erasure ledger after the erasure (docs/reference.md#erasure):
 *    carrying out pending erasures once their holds end, exporting and
 *    importing the ledger between databases, and replaying it.
 *
 * The ledger records every erasure by a keyed hash of the subject (BLAKE2b
 * keyed with a subkey of the pseudonymization key, over the kind and the
 * key's canonical text), never by the id itself (erasure.c writes the
 * entry).  After a restore from an older backup, the ledger of the newer
 * database is brought over (export_erasures / import_erasures) and
 * replay_erasures() finds the subjects again by hashing the keys of the
 * subject table: one subkey derivation, the tokens in a hash table, and
 * when no hold is active all subjects found erased in one set-based pass.
 * A subject under a legal hold is not erased: the erasure is recorded as
 * pending and is carried out when its holds have ended, by release(), the
 * worker's pass or the next replay.  Without a key, erasures still happen
 * but cannot be replayed.
 *
 * Every erasure carried out here goes through erasure.c's postcondition, one
 * subject at a time in a subtransaction of its own: an entry is marked done
 * only when its subject is really gone; otherwise it stays as it was
 * (pending, or not applied here) with a WARNING naming the cause.
 */
#include "postgres.h"

#include <sodium.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/hsearch.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "audit.h"
#include "cdc.h"
#include "erasure.h"
#include "erasure_ledger.h"
#include "guc.h"
#include "extension.h"
#include "hold.h"
#include "horizon.h"
#include "key.h"
#include "ledger_file.h"
#include "privilege.h"
#include "quote.h"
#include "safe_spi.h"
#include "srf.h"
#include "subject.h"
#include "subxact.h"

/* A ledger entry waiting to be applied in this database. */
typedef struct RtLedgerEntry
{
	char	   *erasure_id;
	char	   *kind;
	bool		hashed;
	unsigned char hash[RT_SUBJECT_HASH_BYTES];
	bool		pending;
	bool		matched;
	char	   *subject_id;		/* known when a subject hold kept the erasure pending */
	char	   *key_fingerprint;	/* of the key it was hashed with; NULL: this database's key */
	Datum		key;			/* the subject's key, once a replay found it */
} RtLedgerEntry;

/* Marks a ledger entry applied here with its outcome. */
static void
rt_ledger_applied(const RtLedgerEntry *e, bool done, int64 rows, List *holds)
{
	Oid			types[4] = {TEXTOID, BOOLOID, INT8OID, INT8ARRAYOID};
	Datum		values[4];
	char		nulls[4] = "    ";

	values[0] = CStringGetTextDatum(e->erasure_id);
	values[1] = BoolGetDatum(done);
	values[2] = Int64GetDatum(rows);
	values[3] = rt_int8_array(holds);
	nulls[3] = done ? 'n' : ' ';
	rt_catalog_exec("UPDATE retention.erasure_ledger SET"
					" status = CASE WHEN $2 THEN 'done' ELSE 'pending' END,"
					" rows = CASE WHEN $2 AND status OPERATOR(pg_catalog.=) 'pending' THEN $3 ELSE rows END,"
					" completed_at = CASE WHEN $2 THEN COALESCE(completed_at, pg_catalog.now()) END,"
					" applied_here = CASE WHEN $2 THEN pg_catalog.now() END, waiting_for = $4"
					" WHERE erasure_id OPERATOR(pg_catalog.=) $1::pg_catalog.uuid"
					" RETURNING " RT_LEDGER_FILE_ENTRY_SQL,
					4, types, values, nulls, false, SPI_OK_UPDATE_RETURNING);
	/* the outcome here is recorded in the ledger file too (docs/operations.md#backups-and-restores) */
	rt_ledger_file_queue(SPI_tuptable, SPI_processed, 1);
}

/* Marks entries (RtLedgerEntry *, none pending) applied here now, in one statement. */
static void
rt_ledger_applied_together(List *entries)
{
	Oid			types[1] = {TEXTARRAYOID};
	Datum		values[1];
	List	   *ids = NIL;
	ListCell   *lc;

	foreach(lc, entries)
		ids = lappend(ids, ((RtLedgerEntry *) lfirst(lc))->erasure_id);
	values[0] = rt_text_array(ids);
	rt_catalog_exec("UPDATE retention.erasure_ledger SET status = 'done',"
					" completed_at = COALESCE(completed_at, pg_catalog.now()), applied_here = pg_catalog.now(),"
					" waiting_for = NULL"
					" WHERE erasure_id OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.uuid[])"
					" RETURNING " RT_LEDGER_FILE_ENTRY_SQL,
					1, types, values, NULL, false, SPI_OK_UPDATE_RETURNING);
	rt_ledger_file_queue(SPI_tuptable, SPI_processed, 1);
}

/* Puts one row of replay_erasures' result: the entry, its kind, what became of it, rows changed. */
static void
rt_put_replay_result(RtSrf *srf, const RtLedgerEntry *e, const char *kind, const char *result, int64 rows)
{
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	values[0] = DirectFunctionCall1(uuid_in, CStringGetDatum(e->erasure_id));
	values[1] = CStringGetTextDatum(kind);
	values[2] = CStringGetTextDatum(result);
	values[3] = Int64GetDatum(rows);
	nulls[3] = rows < 0;		/* erased together with others: no count of its own */
	rt_srf_put(srf, values, nulls);
}

/* The ledger entries (RtLedgerEntry *) of one token, found by it in a hash table. */
typedef struct RtTokenEntries
{
	unsigned char hash[RT_SUBJECT_HASH_BYTES];
	List	   *entries;
} RtTokenEntries;

/*
 * Warns that erasure erasure_id (with others of its kind when others) could
 * not be carried out now, with the error's message, detail and hint: it
 * stays as it was (pending, or not applied here) and is tried again.
 */
static void
rt_warn_not_carried_out(const char *erasure_id, bool pending, bool others, const ErrorData *edata)
{
	ereport(WARNING,
			(errcode(edata->sqlerrcode),
			 errmsg("%s %s%s could not be carried out now: %s", pending ? "pending erasure" : "erasure",
					erasure_id, others ? " and others of its kind" : "", edata->message),
			 errdetail("%s%s%s", edata->detail ? edata->detail : "", edata->detail ? " " : "",
					   pending ?
					   "It stays pending; the next release, retention.replay_erasures() or the worker's next pass tries again." :
					   "It stays unapplied here (retention.erasures.applied_here is NULL); the next retention.replay_erasures() tries again."),
			 edata->hint ? errhint("%s", edata->hint) : 0));
}

/* One subject's erasure by itself, and what became of it (for rt_in_subtransaction). */
typedef struct RtReplayOne
{
	const RtSubjectKind *k;
	RtLedgerEntry *e;
	const char *result;			/* held, erased */
	int64		total;
} RtReplayOne;

/* Erases one matched subject unless a hold covers it, and marks its entry (a subtransaction's step). */
static void
rt_replay_one_step(void *arg)
{
	RtReplayOne *r = arg;
	RtLedgerEntry *e = r->e;
	List	   *holds = rt_holds_blocking_erasure(r->k, e->subject_id, e->key);
	RtErasureKeys one = rt_erasure_one_key(r->k, e->key);
	List	   *steps;
	char	   *summary;

	if (holds != NIL)
	{
		rt_ledger_applied(e, false, 0, holds);
		r->result = "held";
		return;
	}
	/* raises when the subject is not really gone (docs/reference.md#erasure) */
	steps = rt_erase_now(r->k, &one);
	r->total = rt_erasure_steps_summary(steps, &summary);
	rt_ledger_applied(e, true, r->total, NIL);
	rt_horizon_mark("erasure", e->erasure_id, rt_erasure_steps_relids(steps));
	rt_audit_append(e->pending ? "erasure_completed" : "erasure_replayed", r->k->relid, r->total,
					psprintf("{\"erasure_id\": \"%s\", \"kind\": %s, \"subject\": %s, \"steps\": %s}",
							 e->erasure_id, rt_json_quote(r->k->kind),
							 rt_json_quote(rt_hex(e->hash, RT_SUBJECT_HASH_BYTES)), summary));
	rt_cdc_erasure(e->pending ? "erasure" : "replay", r->k->kind, psprintf("[\"%s\"]", e->erasure_id),
				   psprintf("[%s]", rt_json_quote(rt_hex(e->hash, RT_SUBJECT_HASH_BYTES))), r->total, summary);
	r->result = "erased";
}

/*
 * Erases one matched subject by itself (a pending entry, or while holds
 * exist), in a subtransaction: an erasure that would leave the subject's
 * rows (or fails otherwise) changes nothing, its entry stays as it was with
 * a WARNING, and the result is "incomplete".  Puts its result; returns
 * true when the entry was marked done.
 */
static bool
rt_replay_one(const RtSubjectKind *k, RtLedgerEntry *e, RtSrf *srf)
{
	RtReplayOne r = {k, e, "held", 0};
	ErrorData  *edata = rt_in_subtransaction_ext(rt_replay_one_step, &r, CurrentMemoryContext, false);

	if (edata != NULL)
	{
		rt_warn_not_carried_out(e->erasure_id, e->pending, false, edata);
		FreeErrorData(edata);
		r.result = "incomplete";
		r.total = 0;
	}
	if (srf)
		rt_put_replay_result(srf, e, k->kind, r.result, r.total);
	return strcmp(r.result, "erased") == 0;
}

/* The subjects erased together in one pass (for rt_in_subtransaction). */
typedef struct RtReplayTogether
{
	const RtSubjectKind *k;
	List	   *entries;
} RtReplayTogether;

/*
 * Erases the matched subjects of entries (no hold being active anywhere) in
 * one set-based pass: every statement takes the array of their keys.  One
 * audit entry names every erasure and subject token with the pass's steps.
 */
static void
rt_replay_together_step(void *arg)
{
	RtReplayTogether *w = arg;
	const RtSubjectKind *k = w->k;
	Datum	   *elems = palloc(sizeof(Datum) * list_length(w->entries));
	int			n = 0;
	int16		typlen;
	bool		typbyval;
	char		typalign;
	RtErasureKeys many;
	StringInfoData ids;
	StringInfoData tokens;
	List	   *steps;
	char	   *summary;
	int64		total;
	bool		all_pending = true; /* pending erasures whose holds ended, none replayed */
	ListCell   *lc;

	get_typlenbyvalalign(k->key_type, &typlen, &typbyval, &typalign);
	initStringInfo(&ids);
	initStringInfo(&tokens);
	foreach(lc, w->entries)
	{
		RtLedgerEntry *e = lfirst(lc);

		elems[n++] = e->key;	/* a subject twice in the ledger is harmless in ANY () */
		all_pending &= e->pending;
		appendStringInfo(&ids, "%s\"%s\"", ids.len > 0 ? ", " : "", e->erasure_id);
		appendStringInfo(&tokens, "%s\"%s\"", tokens.len > 0 ? ", " : "",
						 rt_hex(e->hash, RT_SUBJECT_HASH_BYTES));
	}
	many.type = get_array_type(k->key_type);
	many.value = PointerGetDatum(construct_array(elems, n, k->key_type, typlen, typbyval, typalign));
	many.many = true;
	steps = rt_erase_now(k, &many);
	total = rt_erasure_steps_summary(steps, &summary);
	rt_ledger_applied_together(w->entries);
	foreach(lc, w->entries)
		rt_horizon_mark("erasure", ((RtLedgerEntry *) lfirst(lc))->erasure_id, rt_erasure_steps_relids(steps));
	rt_audit_append("erasures_replayed", k->relid, total,
					psprintf("{\"erasure_ids\": [%s], \"kind\": %s, \"subjects\": [%s], \"steps\": %s}",
							 ids.data, rt_json_quote(k->kind), tokens.data, summary));
	rt_cdc_erasure(all_pending ? "erasure" : "replay", k->kind, psprintf("[%s]", ids.data),
				   psprintf("[%s]", tokens.data), total, summary);
}

/*
 * Erases the matched subjects of entries together (each result "erased"
 * with no row count of its own), in a subtransaction; when the pass would
 * leave rows of any of them, it changes nothing and they are erased one by
 * one instead, so that each subject still there is named by its entry.
 * Returns how many entries were marked done.
 */
static int
rt_replay_together(const RtSubjectKind *k, List *entries, RtSrf *srf)
{
	RtReplayTogether w = {k, entries};
	ErrorData  *edata = rt_in_subtransaction_ext(rt_replay_together_step, &w, CurrentMemoryContext, false);
	ListCell   *lc;
	int			done = 0;

	if (edata == NULL)
	{
		if (srf)
			foreach(lc, entries)
				rt_put_replay_result(srf, lfirst(lc), k->kind, "erased", -1);
		return list_length(entries);
	}
	FreeErrorData(edata);
	foreach(lc, entries)
		done += rt_replay_one(k, lfirst(lc), srf) ? 1 : 0;
	return done;
}

/*
 * Applies the entries of one kind: hashes every key of the subject table
 * once and looks the token up among the entries' (a hash table), then
 * erases the subjects found -- together in one pass when no hold is active
 * (the hold lock keeps it so), else one by one, each checked for holds.
 * Returns how many entries were marked done (erased, or absent here).
 */
static int
rt_replay_kind(const char *kind, List *entries, RtSrf *srf)
{
	RtSubjectKind *k = rt_subject_kind(kind);
	RtSavedUser saved;
	SPITupleTable *keys;
	uint64		nkeys;
	ListCell   *lc;
	HASHCTL		ctl;
	HTAB	   *tokens;
	List	   *matched = NIL;
	List	   *together = NIL;
	bool		held_somewhere;
	unsigned char subkey[RT_KEY_BYTES];
	int16		typlen;
	bool		typbyval;
	int			done = 0;

	/* an entry hashed with another key can match no subject here: it must not pass for absent */
	foreach(lc, entries)
	{
		RtLedgerEntry *e = lfirst(lc);

		if (e->hashed && e->key_fingerprint != NULL &&
			strcmp(e->key_fingerprint, rt_key_fingerprint()) != 0)
		{
			e->matched = true;	/* leaves it unapplied */
			ereport(WARNING,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("erasure %s was recorded with another pseudonymization key (fingerprint %s, this database's is %s) and was not applied",
							e->erasure_id, e->key_fingerprint, rt_key_fingerprint()),
					 errhint("Replay with the key file the erasure was recorded with (retention.key_file); the entry stays waiting.")));
			if (srf)
				rt_put_replay_result(srf, e, kind, "wrong_key", 0);
		}
	}
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = RT_SUBJECT_HASH_BYTES;
	ctl.entrysize = sizeof(RtTokenEntries);
	ctl.hcxt = CurrentMemoryContext;
	tokens = hash_create("pg_retention erasure tokens", Max(16, list_length(entries)), &ctl,
						 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	foreach(lc, entries)
	{
		RtLedgerEntry *e = lfirst(lc);
		RtTokenEntries *te;
		bool		found;

		if (!e->hashed || e->matched)
			continue;
		te = hash_search(tokens, e->hash, HASH_ENTER, &found);
		if (!found)
			te->entries = NIL;
		te->entries = lappend(te->entries, e);
	}

	rt_become_table_owner(k->relid, &saved);
	if (rt_spi_execute(psprintf("SELECT %s FROM %s t", rt_subject_key_sql(k, "t"), rt_relation_name(k->relid)),
					   0, NULL, NULL, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the keys of %s", rt_relation_name(k->relid));
	rt_restore_user(&saved);
	keys = SPI_tuptable;
	nkeys = SPI_processed;
	get_typlenbyval(k->key_type, &typlen, &typbyval);
	/* one derivation for all the keys (each would stat the key file again) */
	if (!rt_erasure_ledger_subkey(subkey))
		return 0;
	for (uint64 i = 0; i < nkeys; i++)
	{
		bool		isnull;
		Datum		key = SPI_getbinval(keys->vals[i], keys->tupdesc, 1, &isnull);
		char	   *id;
		unsigned char hash[RT_SUBJECT_HASH_BYTES];
		RtTokenEntries *te;

		if (isnull)
			continue;
		id = rt_subject_canonical_id(k, key);
		rt_erasure_subject_hash_keyed(subkey, kind, id, hash);
		te = hash_search(tokens, hash, HASH_FIND, NULL);
		if (te == NULL)
			continue;
		foreach(lc, te->entries)
		{
			RtLedgerEntry *e = lfirst(lc);

			e->matched = true;
			e->subject_id = id;
			e->key = datumCopy(key, typbyval, typlen);
			matched = lappend(matched, e);
		}
	}
	sodium_memzero(subkey, sizeof(subkey));

	/* the pass takes an array of keys: a key type with no array type (an array) goes one by one */
	held_somewhere = rt_holds_any_active() || !OidIsValid(get_array_type(k->key_type));
	foreach(lc, matched)
	{
		RtLedgerEntry *e = lfirst(lc);

		if (held_somewhere || e->pending)
			done += rt_replay_one(k, e, srf) ? 1 : 0;
		else
			together = lappend(together, e);
	}
	if (together != NIL)
		done += rt_replay_together(k, together, srf);

	/* entries whose subject is not (or no longer) here: nothing left to erase */
	foreach(lc, entries)
	{
		RtLedgerEntry *e = lfirst(lc);

		if (e->matched || !e->hashed)
			continue;
		rt_ledger_applied(e, true, 0, NIL);
		done++;
		if (srf)
			rt_put_replay_result(srf, e, kind, "absent", 0);
	}
	return done;
}

/* Returns true when a kind of data subject named kind is declared in this database. */
static bool
rt_kind_declared(const char *kind)
{
	ListCell   *lc;

	foreach(lc, rt_subject_kind_names())
		if (strcmp(lfirst(lc), kind) == 0)
			return true;
	return false;
}

/* Applies the ledger entries not yet applied here and the pending ones whose holds ended; returns how many it looked at. */
static int
rt_replay(RtSrf *srf)
{
	List	   *entries = NIL;
	List	   *kinds = NIL;
	ListCell   *lc;
	int			n = 0;

	rt_holds_lock_shared();
	/* a pending erasure is looked at once every hold it waited for has ended */
	rt_catalog_exec("SELECT erasure_id::pg_catalog.text, kind, subject_hash, status OPERATOR(pg_catalog.=) 'pending',"
					" key_fingerprint, status OPERATOR(pg_catalog.=) 'pending' AND waiting_for IS NULL"
					" FROM retention.erasure_ledger l WHERE l.applied_here IS NULL"
					" AND NOT EXISTS (SELECT 1 FROM retention.hold_catalog h"
					"   WHERE h.hold_id OPERATOR(pg_catalog.=) ANY (l.waiting_for) AND " RT_HOLD_ACTIVE_OF("h.") ")"
					" ORDER BY requested_at, erasure_id",
					0, NULL, NULL, NULL, false, SPI_OK_SELECT);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		RtLedgerEntry *e = palloc0(sizeof(RtLedgerEntry));
		bool		isnull;
		Datum		h;

		e->erasure_id = TextDatumGetCString(SPI_getbinval(t, d, 1, &isnull));
		e->kind = TextDatumGetCString(SPI_getbinval(t, d, 2, &isnull));
		h = SPI_getbinval(t, d, 3, &isnull);
		if (!isnull && VARSIZE_ANY_EXHDR(DatumGetByteaPP(h)) == RT_SUBJECT_HASH_BYTES)
		{
			memcpy(e->hash, VARDATA_ANY(DatumGetByteaPP(h)), RT_SUBJECT_HASH_BYTES);
			e->hashed = true;
		}
		e->pending = DatumGetBool(SPI_getbinval(t, d, 4, &isnull));
		h = SPI_getbinval(t, d, 5, &isnull);
		e->key_fingerprint = isnull ? NULL : TextDatumGetCString(h);
		if (DatumGetBool(SPI_getbinval(t, d, 6, &isnull)))
		{
			/* imported while a hold kept it pending where it was made: not erased there yet */
			if (srf)
				rt_put_replay_result(srf, e, e->kind, "pending_elsewhere", 0);
			continue;
		}
		entries = lappend(entries, e);
		if (!list_member(kinds, makeString(e->kind)))
			kinds = lappend(kinds, makeString(e->kind));
	}
	foreach(lc, entries)
	{
		RtLedgerEntry *e = lfirst(lc);

		if (!e->hashed)
			ereport(WARNING,
					(errmsg("erasure %s of kind \"%s\" was recorded without a key and cannot be replayed",
							e->erasure_id, e->kind)));
	}
	if (entries != NIL && rt_key_problem() != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot replay erasures: %s", rt_key_problem()),
				 errhint("Replaying needs the key the erasures were recorded with: bring the key file along with the backup.")));
	foreach(lc, kinds)
	{
		List	   *of_kind = NIL;
		ListCell   *ec;

		foreach(ec, entries)
			if (strcmp(((RtLedgerEntry *) lfirst(ec))->kind, strVal(lfirst(lc))) == 0)
				of_kind = lappend(of_kind, lfirst(ec));
		if (!rt_kind_declared(strVal(lfirst(lc))))
		{
			/* the kind is not declared here (yet): its entries wait, the others go on */
			ereport(WARNING,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("%d ledger entries of kind \"%s\" were not applied: no such kind of data subject is declared here",
							list_length(of_kind), strVal(lfirst(lc))),
					 errhint("Declare it with retention.add_subject() as in the database the entries come from, then replay again.")));
			foreach(ec, of_kind)
				if (srf)
					rt_put_replay_result(srf, lfirst(ec), strVal(lfirst(lc)), "unknown_kind", 0);
			continue;
		}
		rt_replay_kind(strVal(lfirst(lc)), of_kind, srf);
		n += list_length(of_kind);
	}
	return n;
}

/* Pending erasures to carry out together: one found by its hold, or those of one kind found by hash. */
typedef struct RtPendingWork
{
	RtLedgerEntry *entry;
	const char *kind;
	List	   *of_kind;
	int			done;			/* of the kind's entries, how many were marked done */
} RtPendingWork;

/* Carries out one pending erasure whose subject a hold on it names (an RtPendingWork). */
static void
rt_complete_by_id(void *arg)
{
	RtLedgerEntry *e = ((RtPendingWork *) arg)->entry;
	RtSubjectKind *k = rt_subject_kind(e->kind);
	Datum		key = rt_subject_key_datum(k, e->subject_id, false);
	List	   *holds = rt_holds_blocking_erasure(k, e->subject_id, key);
	List	   *steps;
	char	   *summary;
	int64		total;
	char	   *token;
	RtErasureKeys one;

	if (holds != NIL)
	{
		/* another hold came since: wait for it too */
		rt_ledger_applied(e, false, 0, holds);
		return;
	}
	one = rt_erasure_one_key(k, key);
	/* raises when the subject is not really gone: the entry stays pending (rt_pending_try) */
	steps = rt_erase_now(k, &one);
	total = rt_erasure_steps_summary(steps, &summary);
	rt_ledger_applied(e, true, total, NIL);
	((RtPendingWork *) arg)->done = 1;
	rt_horizon_mark("erasure", e->erasure_id, rt_erasure_steps_relids(steps));
	token = rt_erasure_subject_token(e->kind, e->subject_id);
	rt_audit_append("erasure_completed", k->relid, total,
					psprintf("{\"erasure_id\": \"%s\", \"kind\": %s, \"subject\": %s, \"steps\": %s}",
							 e->erasure_id, rt_json_quote(e->kind),
							 token ? rt_json_quote(token) : "null", summary));
	rt_cdc_erasure("erasure", e->kind, psprintf("[\"%s\"]", e->erasure_id),
				   psprintf("[%s]", token ? rt_json_quote(token) : "null"), total, summary);
}

/* Carries out the pending erasures of one kind found by their hash (an RtPendingWork). */
static void
rt_complete_by_hash(void *arg)
{
	RtPendingWork *w = arg;

	w->done = rt_replay_kind(w->kind, w->of_kind, NULL);
}

/*
 * Runs fn on w in a subtransaction of its own; returns true when it went
 * through.  An erasure that cannot be carried out now (a key that is
 * missing, a row a constraint keeps) stays pending with a WARNING, and the
 * release of a hold, a replay or the worker's pass goes on with the others.
 */
static bool
rt_pending_try(void (*fn) (void *arg), RtPendingWork *w, const char *erasure_id)
{
	ErrorData  *edata = rt_in_subtransaction(fn, w, CurrentMemoryContext);

	if (edata == NULL)
		return true;
	rt_warn_not_carried_out(erasure_id, true, w->of_kind != NIL && list_length(w->of_kind) > 1, edata);
	FreeErrorData(edata);
	return false;
}

/*
 * Carries out the pending erasures whose legal holds have all ended.  The
 * subject is found through the hold it waited for (holds keep the key), so
 * no scan of the subject table is needed; an erasure that waited only for
 * table holds is found by its hash, as a replay would.
 */
int
rt_erasure_complete_pending(void)
{
	SPITupleTable *tuptable;
	uint64		n;
	List	   *by_id = NIL;
	List	   *by_hash = NIL;
	List	   *kinds = NIL;
	ListCell   *lc;
	int			done = 0;

	/* a hold placed meanwhile waits for this transaction, or is seen (as by erase_subject) */
	rt_holds_lock_shared();

	/*
	 * The subject is named by the hold on it the entry recorded, or (for an
	 * entry of a 0.1.0 ledger, without a hash) by the one subject of its
	 * kind among the holds it waited for; otherwise it is found by hash.
	 */
	rt_catalog_exec(psprintf("SELECT l.erasure_id::pg_catalog.text, l.kind, l.subject_hash,"
					" COALESCE(%s, (SELECT pg_catalog.min(h.subject_id) FROM retention.hold_catalog h"
					"   WHERE l.subject_hash IS NULL AND h.hold_id OPERATOR(pg_catalog.=) ANY (l.waiting_for)"
					"   AND h.kind OPERATOR(pg_catalog.=) l.kind HAVING pg_catalog.count(DISTINCT h.subject_id) OPERATOR(pg_catalog.=) 1)),"
					" l.key_fingerprint"
					" FROM retention.erasure_ledger l WHERE l.status OPERATOR(pg_catalog.=) 'pending'"
					" AND l.waiting_for IS NOT NULL"	/* imported entries still pending elsewhere wait */
					" AND NOT EXISTS (SELECT 1 FROM retention.hold_catalog h"
					"   WHERE h.hold_id OPERATOR(pg_catalog.=) ANY (l.waiting_for) AND " RT_HOLD_ACTIVE_OF("h.") ")"
					" ORDER BY l.requested_at, l.erasure_id",
					rt_sql_objects_at_least("0.2.0") ?
					"(SELECT h.subject_id FROM retention.hold_catalog h"
					" WHERE h.hold_id OPERATOR(pg_catalog.=) l.subject_hold)" : "NULL::pg_catalog.text"),
					0, NULL, NULL, NULL, false, SPI_OK_SELECT);
	tuptable = SPI_tuptable;
	n = SPI_processed;
	for (uint64 i = 0; i < n; i++)
	{
		HeapTuple	t = tuptable->vals[i];
		TupleDesc	d = tuptable->tupdesc;
		bool		isnull;
		RtLedgerEntry *e = palloc0(sizeof(RtLedgerEntry));
		Datum		h;
		Datum		id;

		e->erasure_id = TextDatumGetCString(SPI_getbinval(t, d, 1, &isnull));
		e->kind = TextDatumGetCString(SPI_getbinval(t, d, 2, &isnull));
		e->pending = true;
		h = SPI_getbinval(t, d, 5, &isnull);
		e->key_fingerprint = isnull ? NULL : TextDatumGetCString(h);
		h = SPI_getbinval(t, d, 3, &isnull);
		e->hashed = !isnull && VARSIZE_ANY_EXHDR(DatumGetByteaPP(h)) == RT_SUBJECT_HASH_BYTES;
		if (e->hashed)
			memcpy(e->hash, VARDATA_ANY(DatumGetByteaPP(h)), RT_SUBJECT_HASH_BYTES);
		id = SPI_getbinval(t, d, 4, &isnull);
		if (isnull)
		{
			/* only table holds: find the subject by its hash */
			if (e->hashed)
			{
				by_hash = lappend(by_hash, e);
				if (!list_member(kinds, makeString(e->kind)))
					kinds = lappend(kinds, makeString(e->kind));
			}
			continue;
		}
		e->subject_id = TextDatumGetCString(id);
		by_id = lappend(by_id, e);
	}

	foreach(lc, by_id)
	{
		RtPendingWork w = {lfirst(lc), NULL, NIL, 0};

		if (rt_pending_try(rt_complete_by_id, &w, ((RtLedgerEntry *) lfirst(lc))->erasure_id))
			done += w.done;
	}
	foreach(lc, kinds)
	{
		RtPendingWork w = {NULL, strVal(lfirst(lc)), NIL, 0};
		ListCell   *ec;

		foreach(ec, by_hash)
		{
			RtLedgerEntry *e = lfirst(ec);

			if (strcmp(e->kind, w.kind) == 0)
				w.of_kind = lappend(w.of_kind, e);
		}
		if (rt_key_problem() == NULL &&
			rt_pending_try(rt_complete_by_hash, &w, ((RtLedgerEntry *) linitial(w.of_kind))->erasure_id))
			done += w.done;
	}
	/* the holds that ended keep no subject id once nothing waits on them */
	(void) rt_holds_forget_ended();
	return done;
}

/* Applies the ledger entries not applied here yet and the pending ones whose holds ended; see erasure_ledger.h. */
int
rt_erasure_replay_unapplied(void)
{
	(void) rt_erasure_complete_pending();
	return rt_replay(NULL);
}

PG_FUNCTION_INFO_V1(retention_replay_erasures);

/* SQL: retention.replay_erasures() applies the ledger entries not applied in this database yet. */
Datum
retention_replay_erasures(PG_FUNCTION_ARGS)
{
	RtSrf		srf;

	rt_require_role(RT_OFFICER_ROLE, "replay erasures");
	rt_srf_begin(fcinfo, &srf);
	SPI_connect();
	(void) rt_erasure_complete_pending();
	(void) rt_replay(&srf);
	SPI_finish();
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(retention_export_erasures);

/* SQL: retention.export_erasures() returns the ledger as a jsonb array, to carry to a restored database. */
Datum
retention_export_erasures(PG_FUNCTION_ARGS)
{
	bool		isnull;
	Datum		result;
	MemoryContext caller = CurrentMemoryContext;

	rt_require_role(RT_OFFICER_ROLE, "export the erasure ledger");
	SPI_connect();
	/* the due time travels with the entry: a restored database keeps the deadline it had */
	rt_catalog_exec(psprintf("SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object("
					"'erasure_id', erasure_id, 'kind', kind,"
					" 'subject_hash', pg_catalog.encode(subject_hash, 'hex'), 'key_fingerprint', key_fingerprint,"
					" 'requested_at', requested_at, 'requested_by', requested_by, 'status', status,"
					" 'completed_at', completed_at, 'rows', rows%s) ORDER BY requested_at, erasure_id), '[]')"
							 " FROM retention.erasure_ledger",
							 rt_sql_objects_at_least("0.3.0") ? ", 'due_at', due_at" : ""),
					0, NULL, NULL, NULL, false, SPI_OK_SELECT);
	result = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	{
		MemoryContext old = MemoryContextSwitchTo(caller);

		result = datumCopy(result, false, -1);
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	PG_RETURN_DATUM(result);
}

PG_FUNCTION_INFO_V1(retention_import_erasures);

/* SQL: retention.import_erasures(entries jsonb) adds the entries this ledger lacks; returns how many. */
Datum
retention_import_erasures(PG_FUNCTION_ARGS)
{
	Oid			types[2] = {JSONBOID, TEXTOID};
	Datum		values[2];
	int64		added;
	bool		v3;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("entries must not be null")));
	rt_require_role(RT_OFFICER_ROLE, "import erasures");
	values[0] = PG_GETARG_DATUM(0);
	SPI_connect();
	rt_catalog_exec("SELECT 1 WHERE pg_catalog.jsonb_typeof($1) OPERATOR(pg_catalog.=) 'array'",
					1, types, values, NULL, false, SPI_OK_SELECT);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("entries must be a JSON array as returned by retention.export_erasures()")));
	/* an entry of an export made before 0.3.0 has no due time: its request's plus the deadline here */
	v3 = rt_sql_objects_at_least("0.3.0");
	values[1] = CStringGetTextDatum(rt_erasure_deadline);
	rt_catalog_exec(psprintf("INSERT INTO retention.erasure_ledger (erasure_id, kind, subject_hash, key_fingerprint,"
							 " requested_at, requested_by, status, completed_at, rows, applied_here%s)"
							 " SELECT (e OPERATOR(pg_catalog.->>) 'erasure_id')::pg_catalog.uuid, e OPERATOR(pg_catalog.->>) 'kind',"
							 " pg_catalog.decode(e OPERATOR(pg_catalog.->>) 'subject_hash', 'hex'),"
							 " e OPERATOR(pg_catalog.->>) 'key_fingerprint',"
							 " (e OPERATOR(pg_catalog.->>) 'requested_at')::pg_catalog.timestamptz,"
							 " (e OPERATOR(pg_catalog.->>) 'requested_by')::pg_catalog.name,"
							 " e OPERATOR(pg_catalog.->>) 'status',"
							 " (e OPERATOR(pg_catalog.->>) 'completed_at')::pg_catalog.timestamptz,"
							 " (e OPERATOR(pg_catalog.->>) 'rows')::pg_catalog.int8, NULL%s"
							 " FROM pg_catalog.jsonb_array_elements($1) e"
		/* an entry imported while pending where it was made takes on its later outcome */
							 " ON CONFLICT (erasure_id) DO UPDATE SET status = EXCLUDED.status,"
							 " completed_at = EXCLUDED.completed_at, rows = EXCLUDED.rows"
							 " WHERE erasure_ledger.status OPERATOR(pg_catalog.=) 'pending'"
							 " AND erasure_ledger.waiting_for IS NULL AND EXCLUDED.status OPERATOR(pg_catalog.=) 'done'",
							 v3 ? ", due_at" : "",
							 v3 ? ", COALESCE((e OPERATOR(pg_catalog.->>) 'due_at')::pg_catalog.timestamptz,"
							 " (e OPERATOR(pg_catalog.->>) 'requested_at')::pg_catalog.timestamptz"
							 " OPERATOR(pg_catalog.+) $2::pg_catalog.interval)" : ""),
					v3 ? 2 : 1, types, values, NULL, false, SPI_OK_INSERT);
	added = (int64) SPI_processed;
	rt_audit_append("erasures_imported", InvalidOid, added, NULL);
	SPI_finish();
	PG_RETURN_INT64(added);
}
