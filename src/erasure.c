/*
 * erasure.c
 *    retention.erase_subject(kind, id), the erasure ledger, and its replay.
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
 * key's canonical text), never by the id itself.  After a restore from an
 * older backup, the ledger of the newer database is brought over
 * (export_erasures / import_erasures) and replay_erasures() finds the
 * subjects again by hashing the keys of the subject table.  A subject under
 * a legal hold is not erased: the erasure is recorded as pending and is
 * carried out when its holds have ended, by release() or by the next
 * replay.  Without a key, erasures still happen but cannot be replayed.
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
#include "erasure.h"
#include "fk_guard.h"
#include "hold.h"
#include "key.h"
#include "policy.h"
#include "privilege.h"
#include "srf.h"
#include "subject.h"
#include "subxact.h"
#include "tag.h"
#include "version.h"

#define RT_OFFICER_ROLE "retention_officer"
#define RT_LEDGER_KDF_CONTEXT "erasure_"	/* eight characters, for crypto_kdf */
#define RT_LEDGER_SUBKEY_ID 1
#define RT_SUBJECT_HASH_BYTES 32

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
static bool
rt_ledger_subkey(unsigned char *subkey)
{
	if (rt_key_problem() != NULL)
		return false;
	rt_key_derive(RT_LEDGER_SUBKEY_ID, RT_LEDGER_KDF_CONTEXT, subkey, RT_KEY_BYTES);
	return true;
}

/* Computes the hash of a subject keyed with the ledger's subkey into out. */
static void
rt_subject_hash_keyed(const unsigned char *subkey, const char *kind, const char *canonical_id,
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

	if (!rt_ledger_subkey(subkey))
		return false;
	rt_subject_hash_keyed(subkey, kind, canonical_id, out);
	sodium_memzero(subkey, sizeof(subkey));
	return true;
}

/* Returns the hexadecimal text of len bytes. */
static char *
rt_hex(const unsigned char *bytes, int len)
{
	char	   *hex = palloc(len * 2 + 1);

	sodium_bin2hex(hex, len * 2 + 1, bytes, len);
	return hex;
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

/* Returns true when relid (or a table it belongs to) has a tagged column. */
static bool
rt_table_has_tags(Oid relid)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	bool		found = false;
	char	   *category;
	char	   *mask;

	for (int i = 0; i < desc->natts && !found; i++)
		if (!TupleDescAttr(desc, i)->attisdropped && rt_tag_lookup(relid, i + 1, &category, &mask))
			found = true;
	relation_close(rel, AccessShareLock);
	return found;
}

/* Whom an erasure's statements are about: one subject's key ($1), or an array of keys. */
typedef struct RtErasureKeys
{
	Oid			type;			/* the key's type, or its array type */
	Datum		value;
	bool		many;
} RtErasureKeys;

/* Returns keys of one subject. */
static RtErasureKeys
rt_one_key(const RtSubjectKind *k, Datum key)
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
									 rt_relation_name(relid), anon->set_list, where, anon->pending),
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
	bool		tagged = rt_table_has_tags(t->relid);

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
		blocked = rt_fk_referenced_expr(leaf, "t", RT_FK_ANY);
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
static List *
rt_erase_now(const RtSubjectKind *k, const RtErasureKeys *keys)
{
	List	   *steps = NIL;
	List	   *referenced = NIL;
	ListCell   *lc;

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
static int64
rt_steps_summary(List *steps, char **json)
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

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("kind and id must not be null")));
	kind = text_to_cstring(PG_GETARG_TEXT_PP(0));
	id = text_to_cstring(PG_GETARG_TEXT_PP(1));
	rt_require_role(RT_OFFICER_ROLE, "erase a data subject");
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
			RtErasureKeys one = rt_one_key(k, key);

			steps = rt_count_subject(k, &one);
		}
		total = rt_steps_summary(steps, &summary);
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
		RtErasureKeys one = rt_one_key(k, key);

		steps = rt_erase_now(k, &one);
		total = rt_steps_summary(steps, &summary);
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
					" WHERE erasure_id OPERATOR(pg_catalog.=) $1::pg_catalog.uuid",
					4, types, values, nulls, false, SPI_OK_UPDATE);
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
					" WHERE erasure_id OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.uuid[])",
					1, types, values, NULL, false, SPI_OK_UPDATE);
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

/* Erases one matched subject by itself (a pending entry, or while holds exist); puts its result. */
static void
rt_replay_one(const RtSubjectKind *k, RtLedgerEntry *e, RtSrf *srf)
{
	List	   *holds = rt_holds_blocking_erasure(k, e->subject_id, e->key);
	RtErasureKeys one = rt_one_key(k, e->key);
	List	   *steps;
	char	   *summary;
	int64		total = 0;
	const char *result = "held";

	if (holds != NIL)
		rt_ledger_applied(e, false, 0, holds);
	else
	{
		steps = rt_erase_now(k, &one);
		total = rt_steps_summary(steps, &summary);
		rt_ledger_applied(e, true, total, NIL);
		rt_audit_append(e->pending ? "erasure_completed" : "erasure_replayed", k->relid, total,
						psprintf("{\"erasure_id\": \"%s\", \"kind\": %s, \"subject\": %s, \"steps\": %s}",
								 e->erasure_id, rt_json_quote(k->kind),
								 rt_json_quote(rt_hex(e->hash, RT_SUBJECT_HASH_BYTES)), summary));
		result = "erased";
	}
	if (srf)
		rt_put_replay_result(srf, e, k->kind, result, total);
}

/*
 * Erases the matched subjects of entries (no hold being active anywhere) in
 * one set-based pass: every statement takes the array of their keys.  One
 * audit entry names every erasure and subject token with the pass's steps;
 * each entry's result has no row count of its own (NULL).
 */
static void
rt_replay_together(const RtSubjectKind *k, List *entries, RtSrf *srf)
{
	Datum	   *elems = palloc(sizeof(Datum) * list_length(entries));
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
	ListCell   *lc;

	get_typlenbyvalalign(k->key_type, &typlen, &typbyval, &typalign);
	initStringInfo(&ids);
	initStringInfo(&tokens);
	foreach(lc, entries)
	{
		RtLedgerEntry *e = lfirst(lc);

		elems[n++] = e->key;	/* a subject twice in the ledger is harmless in ANY () */
		appendStringInfo(&ids, "%s\"%s\"", ids.len > 0 ? ", " : "", e->erasure_id);
		appendStringInfo(&tokens, "%s\"%s\"", tokens.len > 0 ? ", " : "",
						 rt_hex(e->hash, RT_SUBJECT_HASH_BYTES));
	}
	many.type = get_array_type(k->key_type);
	many.value = PointerGetDatum(construct_array(elems, n, k->key_type, typlen, typbyval, typalign));
	many.many = true;
	steps = rt_erase_now(k, &many);
	total = rt_steps_summary(steps, &summary);
	rt_ledger_applied_together(entries);
	if (srf)
		foreach(lc, entries)
			rt_put_replay_result(srf, lfirst(lc), k->kind, "erased", -1);
	rt_audit_append("erasures_replayed", k->relid, total,
					psprintf("{\"erasure_ids\": [%s], \"kind\": %s, \"subjects\": [%s], \"steps\": %s}",
							 ids.data, rt_json_quote(k->kind), tokens.data, summary));
}

/*
 * Applies the entries of one kind: hashes every key of the subject table
 * once and looks the token up among the entries' (a hash table), then
 * erases the subjects found -- together in one pass when no hold is active
 * (the hold lock keeps it so), else one by one, each checked for holds.
 */
static void
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
	if (rt_spi_execute(psprintf("SELECT t.%s FROM %s t", quote_identifier(k->key), rt_relation_name(k->relid)),
					   0, NULL, NULL, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the keys of %s", rt_relation_name(k->relid));
	rt_restore_user(&saved);
	keys = SPI_tuptable;
	nkeys = SPI_processed;
	get_typlenbyval(k->key_type, &typlen, &typbyval);
	/* one derivation for all the keys (each would stat the key file again) */
	if (!rt_ledger_subkey(subkey))
		return;
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
		rt_subject_hash_keyed(subkey, kind, id, hash);
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
			rt_replay_one(k, e, srf);
		else
			together = lappend(together, e);
	}
	if (together != NIL)
		rt_replay_together(k, together, srf);

	/* entries whose subject is not (or no longer) here: nothing left to erase */
	foreach(lc, entries)
	{
		RtLedgerEntry *e = lfirst(lc);

		if (e->matched || !e->hashed)
			continue;
		rt_ledger_applied(e, true, 0, NIL);
		if (srf)
			rt_put_replay_result(srf, e, kind, "absent", 0);
	}
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
} RtPendingWork;

/* Carries out one pending erasure whose subject a hold on it names (an RtPendingWork). */
static void
rt_complete_by_id(void *arg)
{
	RtLedgerEntry *e = ((RtPendingWork *) arg)->entry;
	RtSubjectKind *k = rt_subject_kind(e->kind);
	Datum		key = rt_subject_key_datum(k, e->subject_id);
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
	one = rt_one_key(k, key);
	steps = rt_erase_now(k, &one);
	total = rt_steps_summary(steps, &summary);
	rt_ledger_applied(e, true, total, NIL);
	token = rt_erasure_subject_token(e->kind, e->subject_id);
	rt_audit_append("erasure_completed", k->relid, total,
					psprintf("{\"erasure_id\": \"%s\", \"kind\": %s, \"subject\": %s, \"steps\": %s}",
							 e->erasure_id, rt_json_quote(e->kind),
							 token ? rt_json_quote(token) : "null", summary));
}

/* Carries out the pending erasures of one kind found by their hash (an RtPendingWork). */
static void
rt_complete_by_hash(void *arg)
{
	RtPendingWork *w = arg;

	rt_replay_kind(w->kind, w->of_kind, NULL);
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
	ereport(WARNING,
			(errcode(edata->sqlerrcode),
			 errmsg("pending erasure %s%s could not be carried out now: %s", erasure_id,
					w->of_kind != NIL && list_length(w->of_kind) > 1 ? " and others of its kind" : "",
					edata->message),
			 errdetail("It stays pending; the next release, retention.replay_erasures() or the worker's next pass tries again."),
			 edata->hint ? errhint("%s", edata->hint) : 0));
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
					"   AND h.kind OPERATOR(pg_catalog.=) l.kind HAVING pg_catalog.count(DISTINCT h.subject_id) = 1)),"
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
		RtPendingWork w = {lfirst(lc), NULL, NIL};

		if (rt_pending_try(rt_complete_by_id, &w, ((RtLedgerEntry *) lfirst(lc))->erasure_id))
			done++;
	}
	foreach(lc, kinds)
	{
		RtPendingWork w = {NULL, strVal(lfirst(lc)), NIL};
		ListCell   *ec;

		foreach(ec, by_hash)
		{
			RtLedgerEntry *e = lfirst(ec);

			if (strcmp(e->kind, w.kind) == 0)
				w.of_kind = lappend(w.of_kind, e);
		}
		if (rt_key_problem() == NULL &&
			rt_pending_try(rt_complete_by_hash, &w, ((RtLedgerEntry *) linitial(w.of_kind))->erasure_id))
			done += list_length(w.of_kind);
	}
	/* the holds that ended keep no subject id once nothing waits on them */
	(void) rt_holds_forget_ended();
	return done;
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
	rt_catalog_exec("SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object("
					"'erasure_id', erasure_id, 'kind', kind,"
					" 'subject_hash', pg_catalog.encode(subject_hash, 'hex'), 'key_fingerprint', key_fingerprint,"
					" 'requested_at', requested_at, 'requested_by', requested_by, 'status', status,"
					" 'completed_at', completed_at, 'rows', rows) ORDER BY requested_at, erasure_id), '[]')"
					" FROM retention.erasure_ledger",
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
	Oid			types[1] = {JSONBOID};
	Datum		values[1];
	int64		added;

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
	rt_catalog_exec("INSERT INTO retention.erasure_ledger (erasure_id, kind, subject_hash, key_fingerprint,"
					" requested_at, requested_by, status, completed_at, rows, applied_here)"
					" SELECT (e OPERATOR(pg_catalog.->>) 'erasure_id')::pg_catalog.uuid, e OPERATOR(pg_catalog.->>) 'kind',"
					" pg_catalog.decode(e OPERATOR(pg_catalog.->>) 'subject_hash', 'hex'),"
					" e OPERATOR(pg_catalog.->>) 'key_fingerprint',"
					" (e OPERATOR(pg_catalog.->>) 'requested_at')::pg_catalog.timestamptz,"
					" (e OPERATOR(pg_catalog.->>) 'requested_by')::pg_catalog.name,"
					" e OPERATOR(pg_catalog.->>) 'status',"
					" (e OPERATOR(pg_catalog.->>) 'completed_at')::pg_catalog.timestamptz,"
					" (e OPERATOR(pg_catalog.->>) 'rows')::pg_catalog.int8, NULL"
					" FROM pg_catalog.jsonb_array_elements($1) e"
					/* an entry imported while pending where it was made takes on its later outcome */
					" ON CONFLICT (erasure_id) DO UPDATE SET status = EXCLUDED.status,"
					" completed_at = EXCLUDED.completed_at, rows = EXCLUDED.rows"
					" WHERE erasure_ledger.status OPERATOR(pg_catalog.=) 'pending'"
					" AND erasure_ledger.waiting_for IS NULL AND EXCLUDED.status OPERATOR(pg_catalog.=) 'done'",
					1, types, values, NULL, false, SPI_OK_INSERT);
	added = (int64) SPI_processed;
	rt_audit_append("erasures_imported", InvalidOid, added, NULL);
	SPI_finish();
	PG_RETURN_INT64(added);
}
