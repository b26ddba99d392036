/*
 * erasure.c
 *    retention.erase_subject(kind, id): the erasure itself, and the entry
 *    it writes to the erasure ledger (replaying the ledger is
 *    erasure_ledger.c's).
 *
 * An erasure removes one data subject from every table of its graph (see
 * subject.c), in one transaction, children before parents:
 *  - where a table must keep rows (an enabled anonymize policy says so,
 *    e.g. payments kept for the tax authority) the subject's rows are
 *    anonymized instead: every tagged column gets its mask;
 *  - elsewhere the rows are deleted, except rows that other kept rows
 *    still reference (a RESTRICT / NO ACTION foreign key): those are
 *    anonymized too, or reported as kept when they hold no tagged column;
 *  - a row the subject references (its address) is deleted once nothing
 *    else references it, and left alone while it is shared.
 * Each table is changed as its owner, with a safe search_path.
 *
 * The ledger records every erasure by a keyed hash of the subject (BLAKE2b
 * keyed with a subkey of the pseudonymization key, over the kind and the
 * key's canonical text), never by the id itself.  A subject under a legal
 * hold is not erased: the erasure is recorded as pending, and
 * erasure_ledger.c carries it out when its holds have ended.
 */
#include "postgres.h"

#include <sodium.h>

#include "access/relation.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
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
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "anonymize.h"
#include "audit.h"
#include "citus.h"
#include "citus_erasure.h"
#include "cutoff.h"
#include "erasure.h"
#include "extension.h"
#include "fk_guard.h"
#include "hold.h"
#include "key.h"
#include "policy.h"
#include "privilege.h"
#include "quote.h"
#include "safe_spi.h"
#include "srf.h"
#include "subject.h"
#include "tag.h"

#define RT_LEDGER_KDF_CONTEXT "erasure_"	/* eight characters, for crypto_kdf */
#define RT_LEDGER_SUBKEY_ID 1

/* What an erasure did to one table. */
typedef struct RtErasureStep
{
	Oid			relid;
	const char *action;			/* delete, anonymize, kept, held */
	int64		rows;
} RtErasureStep;

/*
 * Returns true when a pending erasure of subject id without a hash can find
 * its subject again through holds: always on the 0.2.0 catalog (the ledger
 * names the subject's own hold); on 0.1.0 only when no other subject of
 * the same kind is held among holds.
 */
static bool
rt_holds_name_only(List *holds, const char *kind, const char *id)
{
	Oid			types[3] = {INT8ARRAYOID, TEXTOID, TEXTOID};
	Datum		values[3];

	if (rt_sql_objects_at_least("0.2.0"))
		return true;
	values[0] = rt_int8_array(holds);
	values[1] = CStringGetTextDatum(kind);
	values[2] = CStringGetTextDatum(id);
	rt_catalog_exec("SELECT 1 FROM retention.hold_catalog WHERE hold_id OPERATOR(pg_catalog.=) ANY ($1)"
					" AND kind OPERATOR(pg_catalog.=) $2 AND subject_id OPERATOR(pg_catalog.<>) $3 LIMIT 1",
					3, types, values, NULL, false, SPI_OK_SELECT);
	return SPI_processed == 0;
}

/* Derives the ledger's subkey of the pseudonymization key into subkey; false when no key is configured. */
bool
rt_erasure_ledger_subkey(unsigned char *subkey)
{
	if (rt_key_problem() != NULL)
		return false;
	rt_key_derive(RT_LEDGER_SUBKEY_ID, RT_LEDGER_KDF_CONTEXT, subkey, RT_KEY_BYTES);
	return true;
}

/* Computes the hash of a subject keyed with the ledger's subkey into out. */
void
rt_erasure_subject_hash_keyed(const unsigned char *subkey, const char *kind, const char *canonical_id,
					  unsigned char *out)
{
	crypto_generichash_state state;

	crypto_generichash_init(&state, subkey, RT_KEY_BYTES, RT_SUBJECT_HASH_BYTES);
	/* the NUL after the kind separates it from the id */
	crypto_generichash_update(&state, (const unsigned char *) kind, strlen(kind) + 1);
	crypto_generichash_update(&state, (const unsigned char *) canonical_id, strlen(canonical_id));
	crypto_generichash_final(&state, out, RT_SUBJECT_HASH_BYTES);
	sodium_memzero(&state, sizeof(state));
}

/* Computes the keyed hash of a subject into out; false when no key is configured. */
static bool
rt_subject_hash(const char *kind, const char *canonical_id, unsigned char *out)
{
	unsigned char subkey[RT_KEY_BYTES];

	if (!rt_erasure_ledger_subkey(subkey))
		return false;
	rt_erasure_subject_hash_keyed(subkey, kind, canonical_id, out);
	sodium_memzero(subkey, sizeof(subkey));
	return true;
}

/*
 * Returns the ledger token of a subject for an audit entry, or NULL without
 * a key.  A key file that is there but cannot be used (malformed, open to
 * others) gives NULL too, with a WARNING: a legal hold, an access request or
 * the end of a hold must not fail for want of a name in the audit trail.
 */
char *
rt_erasure_subject_token(const char *kind, const char *id)
{
	unsigned char hash[RT_SUBJECT_HASH_BYTES];
	const char *problem;

	if (rt_key_problem() != NULL)
		return NULL;
	problem = rt_key_load_problem();
	if (problem != NULL)
	{
		ereport(WARNING,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("the pseudonymization key cannot be used: %s", problem),
				 errdetail("The audit entry names the data subject by no keyed hash; the action itself goes ahead."),
				 errhint("Fix the key file that retention.key_file names; pseudonyms and erasures wait for it.")));
		return NULL;
	}
	if (!rt_subject_hash(kind, id, hash))
		return NULL;
	return rt_hex(hash, sizeof(hash));
}

/* Returns true when relid, a partition of it or a table it belongs to has an enabled policy of action. */
static bool
rt_table_has_policy(Oid relid, RtAction action)
{
	Oid			types[2] = {OIDARRAYOID, TEXTOID};
	Datum		values[2];

	values[0] = rt_oid_array(find_all_inheritors(relid, NoLock, NULL));
	values[1] = CStringGetTextDatum(rt_action_name(action));
	rt_catalog_exec("SELECT 1 FROM retention.policy_catalog WHERE enabled"
					" AND action OPERATOR(pg_catalog.=) $2"
					" AND relid::pg_catalog.oid OPERATOR(pg_catalog.=) ANY ($1) LIMIT 1",
					2, types, values, NULL, false, SPI_OK_SELECT);
	return SPI_processed > 0;
}

/* Returns keys of one subject. */
RtErasureKeys
rt_erasure_one_key(const RtSubjectKind *k, Datum key)
{
	RtErasureKeys keys = {k->key_type, key, false};

	return keys;
}

/* Returns the membership test of table t for keys: t->belongs, or its form for an array of keys. */
static const char *
rt_keys_belongs(const RtSubjectKind *k, const RtSubjectTable *t, const RtErasureKeys *keys)
{
	return keys->many ? rt_subject_belongs(k, t, "t", "ANY ($1)") : t->belongs;
}

/* Runs one statement on a table as its owner with a safe search_path; returns rows processed. */
static int64
rt_exec_as_owner(Oid relid, const char *sql, const RtErasureKeys *keys, Datum tids)
{
	Oid			types[2] = {keys->type, TIDARRAYOID};
	Datum		values[2] = {keys->value, tids};
	RtSavedUser saved;
	int			rc;

	rt_become_table_owner(relid, &saved);
	rc = rt_spi_execute(sql, tids == (Datum) 0 ? 1 : 2, types, values, NULL, false, 0);
	rt_restore_user(&saved);
	if (rc < 0)
		elog(ERROR, "could not erase rows of %s: %s", rt_relation_name(relid), SPI_result_code_string(rc));
	if (rc == SPI_OK_SELECT)
	{
		bool		isnull;

		return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	}
	return (int64) SPI_processed;
}

/* Masks every tagged column of the rows of relid matching where; returns how many rows changed. */
static int64
rt_anonymize_rows(Oid relid, bool only, const char *where, const RtErasureKeys *keys, Datum tids)
{
	RtPolicy	masking;
	RtAnonSql  *anon;

	memset(&masking, 0, sizeof(masking));
	masking.relid = relid;
	masking.action = RT_ACTION_ANONYMIZE;
	masking.anchor = "";
	masking.time_zone = rt_session_time_zone();
	masking.enabled = true;
	anon = rt_anon_sql(&masking, relid, "t");
	return rt_exec_as_owner(relid,
							psprintf("UPDATE %s%s t SET %s WHERE (%s) AND %s", only ? "ONLY " : "",
									 rt_relation_name(relid),
									 rt_citus_table(relid, NULL) != RT_CITUS_NONE ?
									 rt_citus_erasure_set_list(relid, anon->set_list_node, anon->uses_key) :
									 anon->set_list,
									 where, anon->pending),
							keys, tids);
}

/* Adds a step to the list unless it did nothing and another step covers the table. */
static List *
rt_add_step(List *steps, Oid relid, const char *action, int64 rows)
{
	RtErasureStep *s = palloc(sizeof(RtErasureStep));

	s->relid = relid;
	s->action = action;
	s->rows = rows;
	return lappend(steps, s);
}

/* Erases an owned table's or the subject table's rows of one subject: delete or anonymize. */
static List *
rt_erase_table(List *steps, const RtSubjectKind *k, const RtSubjectTable *t, const RtErasureKeys *keys)
{
	List	   *leaves;
	ListCell   *lc;
	int64		deleted = 0;
	int64		masked = 0;
	int64		kept = 0;
	bool		tagged = rt_tag_any_column(t->relid, false, NULL, InvalidOid);

	if (rt_table_has_policy(t->relid, RT_ACTION_ANONYMIZE))
	{
		/* the table keeps its rows: anonymize the subject's */
		int64		count = rt_exec_as_owner(t->relid,
											 psprintf("SELECT pg_catalog.count(*) FROM %s t WHERE %s",
													  rt_relation_name(t->relid), rt_keys_belongs(k, t, keys)),
											 keys, (Datum) 0);

		if (!tagged)
			return rt_add_step(steps, t->relid, "kept", count);
		masked = rt_anonymize_rows(t->relid, false, rt_keys_belongs(k, t, keys), keys, (Datum) 0);
		return rt_add_step(steps, t->relid, "anonymize", masked);
	}

	leaves = find_all_inheritors(t->relid, AccessShareLock, NULL);
	foreach(lc, leaves)
	{
		Oid			leaf = lfirst_oid(lc);
		char	   *blocked;
		const char *leaf_belongs;

		if (get_rel_relkind(leaf) != RELKIND_RELATION)
			continue;
		/*
		 * A row still referenced stays (masked): deleting it would fail, or
		 * cascade into, or null a column of, a row that stays (kept by a
		 * policy, or another person's, perhaps under a hold).  The subject's
		 * own referencing rows went before it.
		 */
		blocked = rt_citus_table(leaf, NULL) != RT_CITUS_NONE ? rt_citus_erasure_referenced_expr(leaf) :
			rt_fk_referenced_expr(leaf, "t", RT_FK_ANY);
		leaf_belongs = rt_keys_belongs(k, t, keys);
		for (;;)
		{
			/* once more after rows went: the subject's own rows may have referenced each other */
			int64		n = rt_exec_as_owner(leaf,
											 psprintf("DELETE FROM ONLY %s t WHERE (%s)%s%s", rt_relation_name(leaf),
													  leaf_belongs, blocked ? " AND NOT " : "",
													  blocked ? blocked : ""),
											 keys, (Datum) 0);

			deleted += n;
			if (n == 0 || blocked == NULL)
				break;
		}
		if (blocked == NULL)
			continue;
		/* rows that kept rows still reference stay: anonymized if they can be */
		if (tagged)
			masked += rt_anonymize_rows(leaf, true, leaf_belongs, keys, (Datum) 0);
		kept += rt_exec_as_owner(leaf,
								 psprintf("SELECT pg_catalog.count(*) FROM ONLY %s t WHERE %s",
										  rt_relation_name(leaf), leaf_belongs),
								 keys, (Datum) 0);
	}
	steps = rt_add_step(steps, t->relid, "delete", deleted);
	if (masked > 0)
		steps = rt_add_step(steps, t->relid, "anonymize", masked);
	else if (kept > 0)
		steps = rt_add_step(steps, t->relid, "kept", kept);
	return steps;
}

/* A referenced table's rows of the subject, remembered before the subject's row goes. */
typedef struct RtReferencedRows
{
	const RtSubjectTable *table;
	List	   *leaves;			/* Oid of each leaf holding such rows */
	List	   *tids;			/* tid[] Datum per leaf */
	bool		citus;			/* a Citus table: remembered by value (citus_erasure.c) */
	List	   *values;			/* the referenced columns' values, an array per column */
	List	   *types;			/* their array types */
} RtReferencedRows;

/* Remembers the rows of a referenced table that the subject's row points at. */
static RtReferencedRows *
rt_remember_referenced(const RtSubjectKind *k, const RtSubjectTable *t, const RtErasureKeys *keys)
{
	RtReferencedRows *r = palloc0(sizeof(RtReferencedRows));
	List	   *leaves = find_all_inheritors(t->relid, AccessShareLock, NULL);
	ListCell   *lc;
	Oid			types[1] = {keys->type};
	Datum		values[1] = {keys->value};

	r->table = t;
	if (rt_citus_table(t->relid, NULL) != RT_CITUS_NONE)
	{
		/* a ctid names a row of one shard or placement only: remember the referenced values */
		r->citus = true;
		r->values = rt_citus_remember_referenced(k, t, keys->many ? "ANY ($1)" : "$1", keys->type,
												 keys->value, &r->types);
		return r;
	}
	foreach(lc, leaves)
	{
		Oid			leaf = lfirst_oid(lc);
		RtSavedUser saved;
		bool		isnull;
		Datum		arr;

		if (get_rel_relkind(leaf) != RELKIND_RELATION)
			continue;
		rt_become_table_owner(leaf, &saved);
		if (rt_spi_execute(psprintf("SELECT pg_catalog.array_agg(t.ctid) FROM ONLY %s t WHERE %s",
										   rt_relation_name(leaf), rt_keys_belongs(k, t, keys)),
								  1, types, values, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not read %s", rt_relation_name(leaf));
		rt_restore_user(&saved);
		arr = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		if (isnull)
			continue;
		r->leaves = lappend_oid(r->leaves, leaf);
		r->tids = lappend(r->tids, DatumGetPointer(datumCopy(arr, false, -1)));
	}
	return r;
}

/* Deletes remembered referenced rows that nothing references any more. */
static List *
rt_erase_referenced(List *steps, RtReferencedRows *r, const RtErasureKeys *keys)
{
	int64		deleted = 0;
	int64		shared = 0;

	if (r->citus)
		deleted = rt_citus_erase_referenced(r->table, r->values, r->types, &shared);
	for (int i = 0; i < list_length(r->leaves); i++)
	{
		Oid			leaf = list_nth_oid(r->leaves, i);
		Datum		tids = PointerGetDatum(list_nth(r->tids, i));
		/* a shared row goes only when nothing at all references it: a cascade or SET NULL would reach others */
		char	   *blocked = rt_fk_referenced_expr(leaf, "t", RT_FK_ANY);
		int64		total = ArrayGetNItems(ARR_NDIM(DatumGetArrayTypeP(tids)), ARR_DIMS(DatumGetArrayTypeP(tids)));
		int64		n;

		n = rt_exec_as_owner(leaf,
							 psprintf("DELETE FROM ONLY %s t WHERE t.ctid OPERATOR(pg_catalog.=) ANY ($2)%s%s",
									  rt_relation_name(leaf), blocked ? " AND NOT " : "", blocked ? blocked : ""),
							 keys, tids);
		deleted += n;
		shared += total - n;
	}
	if (deleted > 0 || shared == 0)
		steps = rt_add_step(steps, r->table->relid, "delete", deleted);
	if (shared > 0)
		steps = rt_add_step(steps, r->table->relid, "kept", shared);
	return steps;
}

/* Erases one subject now, children first; returns the steps. */
List *
rt_erase_now(const RtSubjectKind *k, const RtErasureKeys *keys)
{
	List	   *steps = NIL;
	List	   *referenced = NIL;
	ListCell   *lc;
	int			citus = rt_citus_erasure_begin(k);

	foreach(lc, k->tables)
	{
		RtSubjectTable *t = lfirst(lc);

		if (t->role == RT_SUBJECT_REFERENCED)
			referenced = lappend(referenced, rt_remember_referenced(k, t, keys));
	}
	foreach(lc, k->tables)
	{
		RtSubjectTable *t = lfirst(lc);

		if (t->role != RT_SUBJECT_REFERENCED)
			steps = rt_erase_table(steps, k, t, keys);
	}
	foreach(lc, referenced)
		steps = rt_erase_referenced(steps, lfirst(lc), keys);
	rt_citus_erasure_end(citus);
	return steps;
}

/* Counts the subject's rows per table without changing them (for a held erasure). */
static List *
rt_count_subject(const RtSubjectKind *k, const RtErasureKeys *keys)
{
	List	   *steps = NIL;
	ListCell   *lc;

	foreach(lc, k->tables)
	{
		RtSubjectTable *t = lfirst(lc);

		steps = rt_add_step(steps, t->relid, "held",
							rt_exec_as_owner(t->relid,
											 psprintf("SELECT pg_catalog.count(*) FROM %s t WHERE %s",
													  rt_relation_name(t->relid), rt_keys_belongs(k, t, keys)),
											 keys, (Datum) 0));
	}
	return steps;
}

/* Returns the sum of rows of steps, and their JSON summary in *json. */
int64
rt_erasure_steps_summary(List *steps, char **json)
{
	StringInfoData buf;
	ListCell   *lc;
	int64		total = 0;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	foreach(lc, steps)
	{
		RtErasureStep *s = lfirst(lc);

		if (lc != list_head(steps))
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, "{\"table\": ");
		escape_json(&buf, rt_relation_name(s->relid));
		appendStringInfo(&buf, ", \"action\": \"%s\", \"rows\": " INT64_FORMAT "}", s->action, s->rows);
		if (strcmp(s->action, "delete") == 0 || strcmp(s->action, "anonymize") == 0)
			total += s->rows;
	}
	appendStringInfoChar(&buf, ']');
	*json = buf.data;
	return total;
}

/*
 * Appends an entry to the erasure ledger and returns its id as text.  A
 * pending entry names subject_hold, the hold on the subject itself through
 * which its key is found when the holds end (0: none; then by its hash).
 */
static char *
rt_ledger_insert(const char *kind, const unsigned char *hash, bool hashed, bool pending,
				 List *holds, int64 rows, int64 subject_hold)
{
	Oid			types[7] = {TEXTOID, BYTEAOID, TEXTOID, NAMEOID, INT8ARRAYOID, INT8OID, INT8OID};
	Datum		values[7];
	char		nulls[7] = "       ";
	bool		v2 = rt_sql_objects_at_least("0.2.0");
	NameData	requester;
	bool		isnull;
	bytea	   *h = palloc(VARHDRSZ + RT_SUBJECT_HASH_BYTES);

	SET_VARSIZE(h, VARHDRSZ + RT_SUBJECT_HASH_BYTES);
	if (hashed)
		memcpy(VARDATA(h), hash, RT_SUBJECT_HASH_BYTES);
	namestrcpy(&requester, GetUserNameFromId(GetUserId(), false));
	values[0] = CStringGetTextDatum(kind);
	values[1] = PointerGetDatum(h);
	nulls[1] = hashed ? ' ' : 'n';
	values[2] = hashed ? CStringGetTextDatum(rt_key_fingerprint()) : (Datum) 0;
	nulls[2] = hashed ? ' ' : 'n';
	values[3] = NameGetDatum(&requester);
	values[4] = rt_int8_array(holds);
	nulls[4] = pending ? ' ' : 'n';
	values[5] = Int64GetDatum(rows);
	values[6] = Int64GetDatum(subject_hold);
	nulls[6] = subject_hold > 0 ? ' ' : 'n';
	rt_catalog_exec(pending ?
					psprintf("INSERT INTO retention.erasure_ledger (kind, subject_hash, key_fingerprint, requested_by,"
							 " status, waiting_for, rows%s) VALUES ($1, $2, $3, $4, 'pending', $5, $6%s)"
							 " RETURNING erasure_id::pg_catalog.text",
							 v2 ? ", subject_hold" : "", v2 ? ", $7" : "") :
					"INSERT INTO retention.erasure_ledger (kind, subject_hash, key_fingerprint, requested_by,"
					" status, waiting_for, rows, completed_at, applied_here)"
					" VALUES ($1, $2, $3, $4, 'done', $5, $6, pg_catalog.now(), pg_catalog.now())"
					" RETURNING erasure_id::pg_catalog.text",
					pending && v2 ? 7 : 6, types, values, nulls, false, SPI_OK_INSERT_RETURNING);
	return TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/* Puts the steps of an erasure into the result set. */
static void
rt_put_steps(RtSrf *srf, List *steps)
{
	ListCell   *lc;

	foreach(lc, steps)
	{
		RtErasureStep *s = lfirst(lc);
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = ObjectIdGetDatum(s->relid);
		values[1] = CStringGetTextDatum(s->action);
		values[2] = Int64GetDatum(s->rows);
		rt_srf_put(srf, values, nulls);
	}
}

PG_FUNCTION_INFO_V1(retention_erase_subject);

/* SQL: retention.erase_subject(kind, id) erases one data subject from every table, in one transaction. */
Datum
retention_erase_subject(PG_FUNCTION_ARGS)
{
	RtSrf		srf;
	char	   *kind;
	char	   *id;
	RtSubjectKind *k;
	Datum		key;
	List	   *holds;
	List	   *steps;
	unsigned char hash[RT_SUBJECT_HASH_BYTES];
	bool		hashed;
	char	   *summary;
	int64		total;
	char	   *erasure_id;
	char	   *token;

	rt_subject_request_args(fcinfo, "erase a data subject", &kind, &id);
	rt_srf_begin(fcinfo, &srf);

	SPI_connect();
	k = rt_subject_kind(kind);
	key = rt_subject_key_datum(k, id);
	id = rt_subject_canonical_id(k, key);
	hashed = rt_subject_hash(kind, id, hash);
	token = hashed ? rt_json_quote(rt_hex(hash, sizeof(hash))) : "null";
	rt_holds_lock_shared();
	holds = rt_holds_blocking_erasure(k, id, key);
	if (holds != NIL)
	{
		int64		subject_hold = rt_subject_hold(kind, id);

		/* without a key only the subject's own hold can find it again when the holds end */
		if (!hashed && (subject_hold == 0 || !rt_holds_name_only(holds, kind, id)))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("cannot record a pending erasure of a data subject of kind \"%s\" without a pseudonymization key", kind),
					 errdetail("A legal hold on a table or on another data subject covers the subject's rows; the erasure would have to wait for it, and without a key the ledger could not find the subject again."),
					 errhint("Set retention.key_file and create a key with retention.create_key(), or place a hold on the subject itself with retention.hold()%s.",
							 rt_sql_objects_at_least("0.2.0") ? "" : ", or update the extension (ALTER EXTENSION pg_retention UPDATE)")));
		{
			RtErasureKeys one = rt_erasure_one_key(k, key);

			steps = rt_count_subject(k, &one);
		}
		total = rt_erasure_steps_summary(steps, &summary);
		erasure_id = rt_ledger_insert(kind, hash, hashed, true, holds, 0, subject_hold);
		rt_audit_append("erasure_pending", k->relid, 0,
						psprintf("{\"erasure_id\": \"%s\", \"kind\": %s, \"subject\": %s, \"held\": %s}",
								 erasure_id, rt_json_quote(kind), token, summary));
		ereport(NOTICE,
				(errmsg("data subject of kind \"%s\" is under a legal hold: the erasure is pending", kind),
				 errdetail("It is carried out when the hold ends (retention.release or its until time)."),
				 errhint("See retention.holds and retention.erasures.")));
	}
	else
	{
		RtErasureKeys one = rt_erasure_one_key(k, key);

		steps = rt_erase_now(k, &one);
		total = rt_erasure_steps_summary(steps, &summary);
		erasure_id = rt_ledger_insert(kind, hash, hashed, false, NIL, total, 0);
		rt_audit_append("erasure", k->relid, total,
						psprintf("{\"erasure_id\": \"%s\", \"kind\": %s, \"subject\": %s, \"steps\": %s}",
								 erasure_id, rt_json_quote(kind), token, summary));
	}
	if (!hashed)
		ereport(WARNING,
				(errmsg("no pseudonymization key is configured: this erasure cannot be replayed after a restore"),
				 errhint("Set retention.key_file and create a key with retention.create_key(); the ledger names subjects by a keyed hash.")));
	rt_put_steps(&srf, steps);
	SPI_finish();
	return (Datum) 0;
}
