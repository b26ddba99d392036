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
 * The erasure never trusts its own statements (docs/operations.md#erasures):
 * the transaction's insert counts around each DELETE and UPDATE tell where
 * triggers or rules copied rows (into the graph: another pass; elsewhere:
 * the erasure fails), and afterwards the subject's rows are counted again,
 * the way subject_data() finds them and with full visibility where
 * row-level security could hide some.  What is left but masked kept rows
 * fails the erasure, naming the table, the count and the cause: the
 * transaction rolls back, and neither the ledger nor the audit records a
 * "done" that is not.
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
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "anonymize.h"
#include "audit.h"
#include "cache.h"
#include "cdc.h"
#include "citus.h"
#include "citus_erasure.h"
#include "cutoff.h"
#include "diagnose.h"
#include "erasure.h"
#include "extension.h"
#include "fk_guard.h"
#include "guc.h"
#include "hold.h"
#include "horizon.h"
#include "key.h"
#include "ledger_file.h"
#include "policy.h"
#include "privilege.h"
#include "publication.h"
#include "quote.h"
#include "safe_spi.h"
#include "srf.h"
#include "subject.h"
#include "tag.h"

#define RT_LEDGER_KDF_CONTEXT "erasure_"	/* eight characters, for crypto_kdf */
#define RT_LEDGER_SUBKEY_ID 1
#define RT_ERASURE_MAX_PASSES 8		/* passes over the graph while triggers copy rows into it */

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

/*
 * Returns true when relid, a partition of it or a table it belongs to has
 * an enabled policy of action; remembered for the catalog generation
 * (cache.h: the policy catalog's trigger moves it on).
 */
static bool
rt_table_has_policy(Oid relid, RtAction action)
{
	Oid			types[2] = {OIDARRAYOID, TEXTOID};
	Datum		values[2];
	char	   *key = psprintf("erasure has_policy %u %d", relid, (int) action);
	bool		found;
	char	   *memo = rt_memo_get(key, &found);

	if (found)
		return memo != NULL;
	values[0] = rt_oid_array(find_all_inheritors(relid, NoLock, NULL));
	values[1] = CStringGetTextDatum(rt_action_name(action));
	rt_catalog_exec_kept("SELECT 1 FROM retention.policy_catalog WHERE enabled"
						 " AND action OPERATOR(pg_catalog.=) $2"
						 " AND relid::pg_catalog.oid OPERATOR(pg_catalog.=) ANY ($1) LIMIT 1",
						 2, types, values, NULL, false, SPI_OK_SELECT);
	return rt_memo_put(key, SPI_processed > 0 ? "t" : NULL) != NULL;
}

/* Returns rt_tag_any_column(relid, false, NULL, InvalidOid), remembered for the catalog generation. */
static bool
rt_erasure_tagged(Oid relid)
{
	char	   *key = psprintf("erasure tagged %u", relid);
	bool		found;
	char	   *memo = rt_memo_get(key, &found);

	if (found)
		return memo != NULL;
	return rt_memo_put(key, rt_tag_any_column(relid, false, NULL, InvalidOid) ? "t" : NULL) != NULL;
}

/*
 * Returns true when a statement of cmd on relid (or its partitions) can
 * put rows elsewhere: a user trigger or a rule fires on it, or a foreign
 * key's CASCADE, SET NULL or SET DEFAULT action that it may set off (whose
 * changes fire the other table's triggers).  Only then does the erasure
 * read the transaction's insert counts around it (rt_exec_as_owner).
 * Remembered for the catalog generation.
 */
static bool
rt_erasure_may_copy(Oid relid, CmdType cmd)
{
	char	   *key = psprintf("erasure may_copy %u %d", relid, (int) cmd);
	bool		found;
	char	   *memo = rt_memo_get(key, &found);
	bool		may = false;
	ListCell   *lc;

	if (found)
		return memo != NULL;
	foreach(lc, find_all_inheritors(relid, AccessShareLock, NULL))
	{
		Oid			leaf = lfirst_oid(lc);
		Relation	rel;

		if (rt_user_triggers(leaf, cmd) != NIL || rt_table_has_rules(leaf))
			may = true;
		rel = relation_open(leaf, AccessShareLock);
		for (int i = 0; !may && rel->trigdesc != NULL && i < rel->trigdesc->numtriggers; i++)
		{
			Oid			fn = rel->trigdesc->triggers[i].tgfoid;

			may = cmd == CMD_DELETE ?
				(fn == F_RI_FKEY_CASCADE_DEL || fn == F_RI_FKEY_SETNULL_DEL || fn == F_RI_FKEY_SETDEFAULT_DEL) :
				(fn == F_RI_FKEY_CASCADE_UPD || fn == F_RI_FKEY_SETNULL_UPD || fn == F_RI_FKEY_SETDEFAULT_UPD);
		}
		relation_close(rel, AccessShareLock);
		if (may)
			break;
	}
	return rt_memo_put(key, may ? "t" : NULL) != NULL;
}

/* Returns true when rows of leaf reference rows of leaf (a foreign key to itself or to a table it is a partition of). */
static bool
rt_erasure_self_referencing(Oid leaf)
{
	Relation	rel = relation_open(leaf, AccessShareLock);
	List	   *targets = list_make1_oid(leaf);
	bool		self = false;
	ListCell   *lc;

	if (get_rel_relispartition(leaf))
		targets = list_concat(targets, get_partition_ancestors(leaf));
	foreach(lc, RelationGetFKeyList(rel))
		if (list_member_oid(targets, ((ForeignKeyCacheInfo *) lfirst(lc))->confrelid))
			self = true;
	relation_close(rel, AccessShareLock);
	return self;
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

/* Rows a trigger or rule inserted into another table while a statement of the erasure ran. */
typedef struct RtErasureCopy
{
	Oid			source;			/* the table the statement changed (a leaf) */
	CmdType		cmd;			/* CMD_DELETE or CMD_UPDATE */
	Oid			dest;			/* where the rows went */
	int64		rows;
} RtErasureCopy;

/* A referenced table's rows of the subject, remembered before the subject's row goes. */
typedef struct RtReferencedRows
{
	const RtSubjectTable *table;
	List	   *leaves;			/* Oid of each leaf holding such rows */
	List	   *tids;			/* tid[] Datum per leaf */
	int64		hidden;			/* rows row-level security hid from the owner (-1: could not count) */
	bool		citus;			/* a Citus table: remembered by value (citus_erasure.c) */
	List	   *values;			/* the referenced columns' values, an array per column */
	List	   *types;			/* their array types */
} RtReferencedRows;

/* One erasure under way: whom it is about, and what its statements did besides their own work. */
typedef struct RtErasure
{
	const RtSubjectKind *k;
	const RtErasureKeys *keys;
	List	   *rls_tables;		/* graph tables with row-level security (rt_subject_row_security_tables) */
	List	   *copies;			/* RtErasureCopy *, of the current pass */
	List	   *referenced;		/* RtReferencedRows *, of every pass */
} RtErasure;

/* What of the subject a table still holds after the erasure, and why (see rt_erasure_left). */
typedef struct RtErasureLeft
{
	Oid			relid;
	int64		rows;			/* -1: row-level security may hide some, and they could not be counted */
	CmdType		cmd;			/* the statement that left them: CMD_DELETE or CMD_UPDATE */
	char	   *cause;			/* NULL: nothing of the table explains it */
} RtErasureLeft;

/*
 * Refuses, with a message that says why, a DELETE or UPDATE (cmd) of an
 * erasure on relid that PostgreSQL would refuse anyway: a publication
 * publishes its deletes (updates) and it has no replica identity
 * (docs/operations.md#logical-replication-and-cdc).  PostgreSQL checks
 * before it looks for rows, so the erasure of every subject fails there.
 */
static void
rt_erasure_require_identity(RtErasure *er, CmdType cmd, Oid relid)
{
	char	   *key = psprintf("erasure identity %u %d", relid, (int) cmd);
	bool		found;
	char	   *memo = rt_memo_get(key, &found);
	char	   *table = NULL;
	char	   *publication = NULL;

	/* publications and replica identities change the table's relcache entry: the generation moves on */
	if (!found)
	{
		publication = rt_publication_refusing(relid, cmd, &table);
		memo = publication != NULL ? psprintf("%s\n%s", publication, table) : NULL;
		rt_memo_put(key, memo);
	}
	if (memo != NULL)
	{
		char	   *nl = strchr(memo, '\n');

		*nl = '\0';
		publication = memo;
		table = nl + 1;
	}
	if (publication != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("erasure of a data subject of kind \"%s\" cannot %s table %s: publication %s publishes its %s and it has no replica identity",
						er->k->kind, cmd == CMD_DELETE ? "delete from" : "anonymize rows of", table, publication,
						cmd == CMD_DELETE ? "deletes" : "updates"),
				 errdetail("PostgreSQL refuses every %s of such a table, since the subscribers could not tell which row it removes. The erasure was rolled back: nothing was changed or recorded.",
						   cmd == CMD_DELETE ? "DELETE" : "UPDATE"),
				 errhint("Give %s a primary key, or ALTER TABLE %s REPLICA IDENTITY USING INDEX (a unique index on NOT NULL columns) or REPLICA IDENTITY FULL.",
						 table, table)));
}

/*
 * Runs one statement on a table as its owner with a safe search_path;
 * returns rows processed (or the count a SELECT returns, and in *second,
 * when not NULL, its second column).  For a DELETE or an UPDATE (cmd) of
 * an erasure er, also one wrapped in a SELECT, the transaction's insert
 * counts before and after tell where triggers or rules copied rows
 * meanwhile: they are added to er->copies.
 */
static int64
rt_exec_as_owner_ext(RtErasure *er, CmdType cmd, Oid relid, const char *sql, const RtErasureKeys *keys,
					 Datum tids, int64 *second)
{
	Oid			types[2] = {keys->type, TIDARRAYOID};
	Datum		values[2] = {keys->value, tids};
	RtSavedUser saved;
	int			rc;
	int64		result;
	List	   *before = NIL;
	ListCell   *lc;

	/* a table PostgreSQL will not let go of: said in the erasure's words, before it refuses */
	if (er != NULL && cmd != CMD_SELECT)
		rt_erasure_require_identity(er, cmd, relid);
	/* where nothing can fire, nothing can copy: the counts are read only where something can */
	if (er != NULL && cmd != CMD_SELECT && !rt_erasure_may_copy(relid, cmd))
		er = NULL;
	if (er != NULL && cmd != CMD_SELECT)
		before = rt_inserts_now();
	rt_become_table_owner(relid, &saved);
	rc = rt_spi_execute_kept_in_level(sql, tids == (Datum) 0 ? 1 : 2, types, values, NULL, false, 0);
	rt_restore_user(&saved);
	if (rc < 0)
		elog(ERROR, "could not erase rows of %s: %s", rt_relation_name(relid), SPI_result_code_string(rc));
	if (rc == SPI_OK_SELECT)
	{
		bool		isnull;

		result = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		if (second != NULL)
			*second = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	}
	else
		result = (int64) SPI_processed;
	if (er == NULL || cmd == CMD_SELECT)
		return result;
	foreach(lc, rt_inserts_between(before, rt_inserts_now()))
	{
		RtInsertCount *grown = lfirst(lc);
		RtErasureCopy *c = palloc(sizeof(RtErasureCopy));

		c->source = relid;
		c->cmd = cmd;
		c->dest = grown->relid;
		c->rows = grown->inserted;
		er->copies = lappend(er->copies, c);
	}
	return result;
}

/* rt_exec_as_owner_ext for a statement of one result. */
static int64
rt_exec_as_owner(RtErasure *er, CmdType cmd, Oid relid, const char *sql, const RtErasureKeys *keys,
				 Datum tids)
{
	return rt_exec_as_owner_ext(er, cmd, relid, sql, keys, tids, NULL);
}

/*
 * Returns true when a statement since er->copies had ncopies entries
 * inserted rows into relid itself: a trigger that puts back what is
 * deleted.  Deleting again would never end; the pass ends, and the passes
 * are bounded (rt_erase_now).
 */
static bool
rt_copied_into(RtErasure *er, int ncopies, Oid relid)
{
	for (int i = ncopies; i < list_length(er->copies); i++)
		if (((RtErasureCopy *) list_nth(er->copies, i))->dest == relid)
			return true;
	return false;
}

/*
 * Returns a policy that masks every tagged column of relid (what an
 * erasure applies to rows that stay); its SQL is remembered for the
 * catalog generation and the session's time zone (the masks of dates
 * depend on it).
 */
static RtAnonSql *
rt_erasure_masking(Oid relid)
{
	RtPolicy	masking;
	RtAnonSql  *anon;
	char	   *time_zone = rt_session_time_zone();
	char	   *key = psprintf("erasure masking %u %s", relid, time_zone);
	char	   *key_pending = psprintf("%s pending", key);
	bool		found;
	bool		found_pending;
	char	   *set_list = rt_memo_get(key, &found);
	char	   *pending = rt_memo_get(key_pending, &found_pending);

	if (found && found_pending && set_list != NULL && pending != NULL)
	{
		anon = palloc0(sizeof(RtAnonSql));
		anon->set_list = set_list;
		anon->pending = pending;
		return anon;
	}
	memset(&masking, 0, sizeof(masking));
	masking.relid = relid;
	masking.action = RT_ACTION_ANONYMIZE;
	masking.anchor = "";
	masking.time_zone = time_zone;
	masking.enabled = true;
	anon = rt_anon_sql(&masking, relid, "t");
	rt_memo_put(key, anon->set_list);
	rt_memo_put(key_pending, anon->pending);
	return anon;
}

/* Masks every tagged column of the rows of relid matching where; returns how many rows changed. */
static int64
rt_anonymize_rows(RtErasure *er, Oid relid, bool only, const char *where, Datum tids)
{
	RtAnonSql  *anon = rt_erasure_masking(relid);

	return rt_exec_as_owner(er, CMD_UPDATE, relid,
							psprintf("UPDATE %s%s t SET %s WHERE (%s) AND %s", only ? "ONLY " : "",
									 rt_relation_name(relid),
									 rt_citus_table(relid, NULL) != RT_CITUS_NONE ?
									 rt_citus_erasure_set_list(relid, anon->set_list_node, anon->uses_key) :
									 anon->set_list,
									 where, anon->pending),
							er->keys, tids);
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
rt_erase_table(List *steps, RtErasure *er, const RtSubjectTable *t)
{
	const RtSubjectKind *k = er->k;
	const RtErasureKeys *keys = er->keys;
	List	   *leaves;
	ListCell   *lc;
	int64		deleted = 0;
	int64		masked = 0;
	int64		kept = 0;
	int64		belonged;
	int64		leaf_deleted;
	int			copies_before;
	bool		tagged = rt_erasure_tagged(t->relid);

	if (rt_table_has_policy(t->relid, RT_ACTION_ANONYMIZE))
	{
		/* the table keeps its rows: anonymize the subject's */
		int64		count = rt_exec_as_owner(er, CMD_SELECT, t->relid,
											 psprintf("SELECT pg_catalog.count(*) FROM %s t WHERE %s",
													  rt_relation_name(t->relid), rt_keys_belongs(k, t, keys)),
											 keys, (Datum) 0);

		if (!tagged)
			return rt_add_step(steps, t->relid, "kept", count);
		masked = rt_anonymize_rows(er, t->relid, false, rt_keys_belongs(k, t, keys), (Datum) 0);
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
		/*
		 * Where rows may stay, the first DELETE counts, in the same snapshot,
		 * the rows of the subject there were: when it took them all, nothing
		 * is left to mask or count (a rule on the table forbids the form).
		 */
		belonged = -1;
		leaf_deleted = 0;
		copies_before = list_length(er->copies);
		for (;;)
		{
			/* once more after rows went: the subject's own rows may have referenced each other */
			int			ncopies = list_length(er->copies);
			char	   *delete = psprintf("DELETE FROM ONLY %s t WHERE (%s)%s%s", rt_relation_name(leaf),
										  leaf_belongs, blocked ? " AND NOT " : "",
										  blocked ? blocked : "");
			int64		n;

			if (blocked != NULL && belonged < 0 && !rt_table_has_rules(leaf))
				n = rt_exec_as_owner_ext(er, CMD_DELETE, leaf,
										 psprintf("WITH d AS (%s RETURNING 1) SELECT (SELECT pg_catalog.count(*) FROM d),"
												  " (SELECT pg_catalog.count(*) FROM ONLY %s t WHERE %s)",
												  delete, rt_relation_name(leaf), leaf_belongs),
										 keys, (Datum) 0, &belonged);
			else
				n = rt_exec_as_owner(er, CMD_DELETE, leaf, delete, keys, (Datum) 0);
			deleted += n;
			leaf_deleted += n;
			/* only rows of the table itself, or a trigger's doing, can have freed more of them */
			if (n == 0 || blocked == NULL || rt_copied_into(er, ncopies, leaf) ||
				(!rt_erasure_self_referencing(leaf) && !rt_erasure_may_copy(leaf, CMD_DELETE)))
				break;
		}
		if (blocked == NULL)
			continue;
		if (belonged >= 0 && belonged == leaf_deleted && !rt_copied_into(er, copies_before, leaf))
			continue;
		/* rows that kept rows still reference stay: anonymized if they can be */
		if (tagged)
			masked += rt_anonymize_rows(er, leaf, true, leaf_belongs, (Datum) 0);
		kept += rt_exec_as_owner(er, CMD_SELECT, leaf,
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

/*
 * Remembers the rows of a referenced table that the subject's row points
 * at, and counts those row-level security hides from the table's owner:
 * the erasure cannot delete them, and once the subject's row is gone no
 * membership test finds them again.
 */
static RtReferencedRows *
rt_remember_referenced(RtErasure *er, const RtSubjectTable *t)
{
	const RtSubjectKind *k = er->k;
	const RtErasureKeys *keys = er->keys;
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
		int64		seen = 0;

		if (get_rel_relkind(leaf) != RELKIND_RELATION)
			continue;
		rt_become_table_owner(leaf, &saved);
		if (rt_spi_execute_kept_in_level(psprintf("SELECT pg_catalog.array_agg(t.ctid), pg_catalog.count(*) FROM ONLY %s t WHERE %s",
									rt_relation_name(leaf), rt_keys_belongs(k, t, keys)),
						   1, types, values, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not read %s", rt_relation_name(leaf));
		rt_restore_user(&saved);
		arr = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		seen = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
		if (er->rls_tables != NIL && r->hidden >= 0)
		{
			int64		all = rt_subject_count_all_rows(k, leaf, true, rt_keys_belongs(k, t, keys),
													   keys->type, keys->value);

			r->hidden = all < 0 ? -1 : r->hidden + (all - seen);
		}
		if (seen == 0)
			continue;
		r->leaves = lappend_oid(r->leaves, leaf);
		r->tids = lappend(r->tids, DatumGetPointer(datumCopy(arr, false, -1)));
	}
	return r;
}

/* Deletes remembered referenced rows that nothing references any more. */
static List *
rt_erase_referenced(List *steps, RtErasure *er, RtReferencedRows *r)
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

		n = rt_exec_as_owner(er, CMD_DELETE, leaf,
							 psprintf("DELETE FROM ONLY %s t WHERE t.ctid OPERATOR(pg_catalog.=) ANY ($2)%s%s",
									  rt_relation_name(leaf), blocked ? " AND NOT " : "", blocked ? blocked : ""),
							 er->keys, tids);
		deleted += n;
		shared += total - n;
	}
	if (deleted > 0 || shared == 0)
		steps = rt_add_step(steps, r->table->relid, "delete", deleted);
	if (shared > 0)
		steps = rt_add_step(steps, r->table->relid, "kept", shared);
	return steps;
}

/* One pass over the graph, children first; returns its steps. */
static List *
rt_erase_pass(RtErasure *er)
{
	List	   *steps = NIL;
	List	   *referenced = NIL;
	ListCell   *lc;

	foreach(lc, er->k->tables)
	{
		RtSubjectTable *t = lfirst(lc);

		if (t->role == RT_SUBJECT_REFERENCED)
			referenced = lappend(referenced, rt_remember_referenced(er, t));
	}
	foreach(lc, er->k->tables)
	{
		RtSubjectTable *t = lfirst(lc);

		if (t->role != RT_SUBJECT_REFERENCED)
			steps = rt_erase_table(steps, er, t);
	}
	foreach(lc, referenced)
		steps = rt_erase_referenced(steps, er, lfirst(lc));
	er->referenced = list_concat(er->referenced, referenced);
	return steps;
}

/*
 * Adds what a further pass deleted or anonymized to the steps of the first;
 * what it counted as kept the first pass counted already.
 */
static List *
rt_merge_steps(List *steps, List *more)
{
	ListCell   *lc;

	foreach(lc, more)
	{
		RtErasureStep *m = lfirst(lc);
		ListCell   *sc;
		bool		found = false;

		if (m->rows == 0 || (strcmp(m->action, "delete") != 0 && strcmp(m->action, "anonymize") != 0))
			continue;
		foreach(sc, steps)
		{
			RtErasureStep *s = lfirst(sc);

			if (s->relid == m->relid && strcmp(s->action, m->action) == 0)
			{
				s->rows += m->rows;
				found = true;
				break;
			}
		}
		if (!found)
			steps = lappend(steps, m);
	}
	return steps;
}

/* Returns "trigger t on s.r" for what copied rows out of source, or a plain description when none is named. */
static char *
rt_copier(Oid source, CmdType cmd)
{
	List	   *triggers = rt_user_triggers(source, cmd);

	if (triggers != NIL)
		return rt_describe_named("trigger", triggers, source);
	return psprintf("a trigger or rule reached by the %s on %s", cmd == CMD_DELETE ? "DELETE" : "UPDATE",
					rt_relation_name(source));
}

/*
 * Looks at where this pass's statements copied rows: into a table of the
 * graph is what a further pass erases (returns true); into a table outside
 * it with personal columns (tagged, or named like a tagged column of the
 * source: the rule a run applies too) is personal data the erasure cannot
 * find again, so the erasure fails (docs/reference.md#erasure, SQLSTATE
 * RTE02); into a log without such columns, nothing personal was copied.
 */
static bool
rt_copies_need_pass(RtErasure *er)
{
	bool		again = false;
	ListCell   *lc;

	foreach(lc, er->copies)
	{
		RtErasureCopy *c = lfirst(lc);
		char	   *dest;

		if (rt_subject_table_for(er->k, c->dest) != NULL)
		{
			again = true;
			continue;
		}
		/* a log of what happened (no column tagged, none named like a tagged one of the source) keeps no personal data */
		if (rt_tag_personal_columns_like(c->source, c->dest) == NIL)
			continue;
		dest = rt_relation_name(c->dest);
		ereport(ERROR,
				(errcode(RT_ERRCODE_ERASURE_COPIED),
				 errmsg("erasure of a data subject of kind \"%s\" copied " INT64_FORMAT " row%s into table %s, which is not part of the subject's graph",
						er->k->kind, c->rows, c->rows == 1 ? "" : "s", dest),
				 errdetail("%s inserted them while the erasure's %s ran on %s; the copies would keep what the erasure removes. The erasure was rolled back: nothing was changed or recorded.",
						   rt_copier(c->source, c->cmd), c->cmd == CMD_DELETE ? "DELETE" : "UPDATE",
						   rt_relation_name(c->source)),
				 errhint("Make %s part of the graph with retention.link_subject('%s', '%s', column), naming its column that holds the subject's key, so that the erasure removes the copies too; or change the trigger so that it keeps no personal data.",
						 dest, er->k->kind, dest)));
	}
	return again;
}

/* Appends to left what of the subject leaf (of graph table t) holds that the erasure should have removed. */
static List *
rt_left_in_leaf(List *left, RtErasure *er, const RtSubjectTable *t, Oid leaf, bool policy_keeps, bool tagged)
{
	const char *belongs = rt_keys_belongs(er->k, t, er->keys);
	const char *pending = tagged ? psprintf("COALESCE(%s, true)", rt_erasure_masking(leaf)->pending) : "false";
	char	   *blocked = policy_keeps ? NULL : rt_fk_referenced_expr(leaf, "t", RT_FK_ANY);
	RtSavedUser saved;
	Oid			types[1] = {er->keys->type};
	Datum		values[1] = {er->keys->value};
	int64		not_deleted;
	int64		not_masked;
	int64		seen;
	bool		isnull;
	bool		rls;

	/*
	 * Kept by a policy: every row masked.  Elsewhere: gone, or still
	 * referenced by a row that stays and masked.  Not read_only: a new
	 * snapshot sees what the erasure's statements did.
	 */
	rt_become_table_owner(leaf, &saved);
	if (rt_spi_execute_kept_in_level(psprintf("SELECT pg_catalog.count(*) FILTER (WHERE %s),"
								" pg_catalog.count(*) FILTER (WHERE %s AND %s), pg_catalog.count(*)"
								" FROM ONLY %s t WHERE %s",
								policy_keeps ? "false" : blocked ? psprintf("NOT %s", blocked) : "true",
								policy_keeps ? "true" : blocked ? blocked : "false", pending,
								rt_relation_name(leaf), belongs),
					   1, types, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not count what the erasure left in %s", rt_relation_name(leaf));
	/* rows the owner sees and could not remove: row security may let it see but not change them */
	rls = rt_row_security_binds_owner(leaf) && rt_instead_rules(leaf, CMD_DELETE) == NIL;
	rt_restore_user(&saved);
	not_deleted = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	not_masked = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	seen = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
	for (int i = 0; i < 2; i++)
	{
		CmdType		cmd = i == 0 ? CMD_DELETE : CMD_UPDATE;
		int64		n = i == 0 ? not_deleted : not_masked;
		RtErasureLeft *l;

		if (n == 0)
			continue;
		l = palloc0(sizeof(RtErasureLeft));
		l->relid = leaf;
		l->rows = n;
		l->cmd = cmd;
		l->cause = rls ? rt_diagnose_rls_refused(leaf, cmd, n) : rt_diagnose_left(leaf, cmd, n);
		/* the anonymize policy's UPDATE names the partitioned table: its rules and policies */
		if (l->cause == NULL && leaf != t->relid)
			l->cause = rt_diagnose_left(t->relid, cmd, n);
		left = lappend(left, l);
	}
	if (er->rls_tables != NIL)
	{
		int64		all = rt_subject_count_all_rows(er->k, leaf, true, belongs, er->keys->type, er->keys->value);

		if (all != seen)
		{
			RtErasureLeft *l = palloc0(sizeof(RtErasureLeft));

			l->relid = leaf;
			l->rows = all < 0 ? -1 : all - seen;
			l->cmd = CMD_DELETE;
			l->cause = all < 0 ? rt_subject_uncountable_cause(er->rls_tables) :
				rt_subject_hidden_cause(er->rls_tables, leaf, all - seen);
			left = lappend(left, l);
		}
	}
	return left;
}

/* Appends to left the remembered referenced rows that are still there although nothing references them. */
static List *
rt_left_referenced(List *left, RtErasure *er, RtReferencedRows *r)
{
	if (r->hidden != 0)
	{
		RtErasureLeft *l = palloc0(sizeof(RtErasureLeft));

		l->relid = r->table->relid;
		l->rows = r->hidden;
		l->cmd = CMD_DELETE;
		l->cause = r->hidden < 0 ? rt_subject_uncountable_cause(er->rls_tables) :
			rt_subject_hidden_cause(er->rls_tables, r->table->relid, r->hidden);
		left = lappend(left, l);
	}
	for (int i = 0; i < list_length(r->leaves); i++)
	{
		Oid			leaf = list_nth_oid(r->leaves, i);
		char	   *blocked = rt_fk_referenced_expr(leaf, "t", RT_FK_ANY);
		int64		n = rt_exec_as_owner(NULL, CMD_SELECT, leaf,
										 psprintf("SELECT pg_catalog.count(*) FROM ONLY %s t"
												  " WHERE t.ctid OPERATOR(pg_catalog.=) ANY ($2)%s%s",
												  rt_relation_name(leaf), blocked ? " AND NOT " : "",
												  blocked ? blocked : ""),
										 er->keys, PointerGetDatum(list_nth(r->tids, i)));

		if (n > 0)
		{
			RtErasureLeft *l = palloc0(sizeof(RtErasureLeft));

			l->relid = leaf;
			l->rows = n;
			l->cmd = CMD_DELETE;
			l->cause = rt_diagnose_left(leaf, CMD_DELETE, n);
			left = lappend(left, l);
		}
	}
	return left;
}

/* Returns a hint for rows left for the cause the table gives (the order of rt_diagnose_left). */
static const char *
rt_left_hint(const RtErasureLeft *l)
{
	if (l->rows < 0)
		return "Let the owners see every row (ALTER TABLE ... NO FORCE ROW LEVEL SECURITY where row-level security is forced on the owner; tables of one owner, or an owner with BYPASSRLS, where it binds the owner of another table), or declare the subject with built-in types and operators.";
	if (l->cause == NULL)
		return "Look for what else changes these rows: triggers or rules on other tables, a foreign key's action. retention.subject_data() shows what is left.";
	if (rt_instead_rules(l->relid, l->cmd) != NIL)
		return "Drop the rule, or make it carry out the statement itself; or keep the rows with an anonymize policy on the table, so that the erasure masks them instead.";
	if (strncmp(l->cause, "row-level security", 18) == 0)
		return "Add a row-level security policy that lets the table's owner see and change every row, or ALTER TABLE ... NO FORCE ROW LEVEL SECURITY (where another table's owner reads it: give the tables one owner, or that owner BYPASSRLS).";
	if (l->cmd == CMD_UPDATE)
		return "Let the trigger pass the UPDATE that masks the rows (the erasure runs it as the table's owner).";
	return "Let the trigger pass the DELETE the erasure runs as the table's owner, or keep the rows with an anonymize policy on the table (retention.add_policy(..., action => 'anonymize')), so that the erasure masks them instead of deleting them.";
}

/*
 * The postcondition of an erasure (docs/reference.md#erasure): nothing of
 * the subject remains but rows kept by an anonymize policy and masked, rows
 * other rows still reference (masked where they hold a tagged column), and
 * referenced rows others still share.  Counted the way subject_data() finds
 * rows, and with full visibility where row-level security could hide some
 * from the owners.  Returns what else is left (RtErasureLeft *), NIL when
 * the postcondition holds.
 */
static List *
rt_erasure_left(RtErasure *er)
{
	List	   *left = NIL;
	ListCell   *lc;

	foreach(lc, er->k->tables)
	{
		RtSubjectTable *t = lfirst(lc);
		bool		policy_keeps;
		bool		tagged;
		ListCell   *leafc;

		if (t->role == RT_SUBJECT_REFERENCED)
			continue;
		policy_keeps = rt_table_has_policy(t->relid, RT_ACTION_ANONYMIZE);
		tagged = rt_erasure_tagged(t->relid);
		foreach(leafc, find_all_inheritors(t->relid, AccessShareLock, NULL))
			if (get_rel_relkind(lfirst_oid(leafc)) == RELKIND_RELATION)
				left = rt_left_in_leaf(left, er, t, lfirst_oid(leafc), policy_keeps, tagged);
	}
	foreach(lc, er->referenced)
		left = rt_left_referenced(left, er, lfirst(lc));
	return left;
}

/* Returns the owner of a relation (InvalidOid when it is gone). */
static Oid
rt_erasure_owner(Oid relid)
{
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner = InvalidOid;

	if (HeapTupleIsValid(tuple))
	{
		owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
		ReleaseSysCache(tuple);
	}
	return owner;
}

/* the parameters one statement of rt_erasure_nothing_left takes at most */
#define RT_LEFT_MAX_ARGS 32

/*
 * Returns true when one statement shows that the postcondition holds
 * (rt_erasure_left would find nothing): the counts of every leaf of the
 * graph, summed, as one role reads them.  False when it shows something
 * left, or cannot be asked that way (row-level security, leaves of
 * several owners, too many referenced partitions): rt_erasure_left then
 * counts and explains table by table.
 */
static bool
rt_erasure_nothing_left(RtErasure *er)
{
	StringInfoData sql;
	Oid			types[RT_LEFT_MAX_ARGS];
	Datum		values[RT_LEFT_MAX_ARGS];
	int			nargs = 1;
	Oid			owner = InvalidOid;
	Oid			as_leaf = InvalidOid;
	RtSavedUser saved;
	ListCell   *lc;
	bool		isnull;
	int64		total;

	if (er->rls_tables != NIL)
		return false;
	types[0] = er->keys->type;
	values[0] = er->keys->value;
	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT 0::pg_catalog.int8");
	foreach(lc, er->k->tables)
	{
		RtSubjectTable *t = lfirst(lc);
		const char *belongs = rt_keys_belongs(er->k, t, er->keys);
		bool		policy_keeps;
		bool		tagged;
		ListCell   *leafc;

		if (t->role == RT_SUBJECT_REFERENCED)
			continue;
		policy_keeps = rt_table_has_policy(t->relid, RT_ACTION_ANONYMIZE);
		tagged = rt_erasure_tagged(t->relid);
		foreach(leafc, find_all_inheritors(t->relid, AccessShareLock, NULL))
		{
			Oid			leaf = lfirst_oid(leafc);
			const char *pending;
			char	   *blocked;

			if (get_rel_relkind(leaf) != RELKIND_RELATION)
				continue;
			if (OidIsValid(owner) && rt_erasure_owner(leaf) != owner)
				return false;
			owner = rt_erasure_owner(leaf);
			as_leaf = leaf;
			/* the counts of rt_left_in_leaf */
			pending = tagged ? psprintf("COALESCE(%s, true)", rt_erasure_masking(leaf)->pending) : "false";
			blocked = policy_keeps ? NULL : rt_fk_referenced_expr(leaf, "t", RT_FK_ANY);
			appendStringInfo(&sql, " OPERATOR(pg_catalog.+) (SELECT pg_catalog.count(*) FILTER (WHERE %s)"
							 " OPERATOR(pg_catalog.+) pg_catalog.count(*) FILTER (WHERE %s AND %s)"
							 " FROM ONLY %s t WHERE %s)",
							 policy_keeps ? "false" : blocked ? psprintf("NOT %s", blocked) : "true",
							 policy_keeps ? "true" : blocked ? blocked : "false", pending,
							 rt_relation_name(leaf), belongs);
		}
	}
	foreach(lc, er->referenced)
	{
		RtReferencedRows *r = lfirst(lc);

		for (int i = 0; i < list_length(r->leaves); i++)
		{
			Oid			leaf = list_nth_oid(r->leaves, i);
			char	   *blocked = rt_fk_referenced_expr(leaf, "t", RT_FK_ANY);

			if (nargs == RT_LEFT_MAX_ARGS || (OidIsValid(owner) && rt_erasure_owner(leaf) != owner))
				return false;
			owner = rt_erasure_owner(leaf);
			as_leaf = leaf;
			/* the count of rt_left_referenced */
			types[nargs] = TIDARRAYOID;
			values[nargs++] = PointerGetDatum(list_nth(r->tids, i));
			appendStringInfo(&sql, " OPERATOR(pg_catalog.+) (SELECT pg_catalog.count(*) FROM ONLY %s t"
							 " WHERE t.ctid OPERATOR(pg_catalog.=) ANY ($%d)%s%s)",
							 rt_relation_name(leaf), nargs, blocked ? " AND NOT " : "", blocked ? blocked : "");
		}
	}
	if (!OidIsValid(as_leaf))
		return false;
	rt_become_table_owner(as_leaf, &saved);
	/* not read-only: a new snapshot sees what the erasure's statements did */
	if (rt_spi_execute_kept_in_level(sql.data, nargs, types, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not count what the erasure left");
	rt_restore_user(&saved);
	total = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	return !isnull && total == 0;
}

/* Fails the erasure (SQLSTATE RTE01) for what is left, naming each table, its count and its cause when known. */
static void
rt_erasure_fail(RtErasure *er, List *left)
{
	ListCell   *lc;
	StringInfoData detail;
	RtErasureLeft *first;
	int64		total = 0;

	initStringInfo(&detail);
	foreach(lc, left)
	{
		RtErasureLeft *l = lfirst(lc);

		if (l->rows > 0)
			total += l->rows;
		if (l->rows < 0)
			appendStringInfo(&detail, "%s: an unknown number of rows: %s. ", rt_relation_name(l->relid), l->cause);
		else
			appendStringInfo(&detail, "%s: " INT64_FORMAT " row%s %s: %s. ", rt_relation_name(l->relid), l->rows,
							 l->rows == 1 ? "" : "s", l->cmd == CMD_DELETE ? "not deleted" : "not masked",
							 l->cause ? l->cause : "nothing of the table explains it");
	}
	appendStringInfoString(&detail, "The erasure was rolled back: nothing was changed or recorded.");
	first = linitial(left);
	ereport(ERROR,
			(errcode(RT_ERRCODE_ERASURE_LEFT_DATA),
			 first->rows < 0 ?
			 errmsg("erasure of a data subject of kind \"%s\" cannot tell whether rows of it are left in table %s",
					er->k->kind, rt_relation_name(first->relid)) :
			 list_length(left) == 1 ?
			 errmsg("erasure of a data subject of kind \"%s\" left " INT64_FORMAT " row%s of it in table %s",
					er->k->kind, first->rows, first->rows == 1 ? "" : "s", rt_relation_name(first->relid)) :
			 errmsg("erasure of a data subject of kind \"%s\" left " INT64_FORMAT " rows of it in table %s and %d other%s",
					er->k->kind, total, rt_relation_name(first->relid), list_length(left) - 1,
					list_length(left) == 2 ? "" : "s"),
			 errdetail("%s", detail.data),
			 errhint("%s", rt_left_hint(first))));
}

/*
 * Raises object_not_in_prerequisite_state when the erasure could not tell
 * where triggers copy rows: the transaction's insert counts are kept only
 * with track_counts on (the default), and a table of the graph has a
 * trigger or rule that fires on DELETE or UPDATE.
 */
static void
rt_require_insert_counts(const RtSubjectKind *k)
{
	List	   *rels = NIL;
	ListCell   *lc;
	Oid			types[1] = {OIDARRAYOID};
	Datum		values[1];
	bool		isnull;

	if (pgstat_track_counts)
		return;
	foreach(lc, k->tables)
		rels = list_concat(rels, find_all_inheritors(((RtSubjectTable *) lfirst(lc))->relid, AccessShareLock, NULL));
	values[0] = rt_oid_array(rels);
	if (rt_spi_execute("SELECT c.oid FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) ANY ($1)"
					   " AND (EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g"
					   "   WHERE g.tgrelid OPERATOR(pg_catalog.=) c.oid AND NOT g.tgisinternal"
					   "   AND g.tgenabled OPERATOR(pg_catalog.=) ANY ('{O,A}'::pg_catalog.\"char\"[])"
					   "   AND (g.tgtype::pg_catalog.int4 OPERATOR(pg_catalog.&) 24) OPERATOR(pg_catalog.<>) 0)"
					   " OR EXISTS (SELECT 1 FROM pg_catalog.pg_rewrite r"
					   "   WHERE r.ev_class OPERATOR(pg_catalog.=) c.oid"
					   "   AND r.ev_type OPERATOR(pg_catalog.=) ANY ('{2,4}'::pg_catalog.\"char\"[])"
					   "   AND r.ev_enabled OPERATOR(pg_catalog.=) ANY ('{O,A}'::pg_catalog.\"char\"[])))"
					   " ORDER BY c.oid LIMIT 1",
					   1, types, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the triggers of the graph of data subject kind \"%s\"", k->kind);
	if (SPI_processed == 0)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("erasure of a data subject of kind \"%s\" cannot tell where triggers copy its rows: track_counts is off",
					k->kind),
			 errdetail("Table %s has a trigger or rule that fires on DELETE or UPDATE; the erasure finds the rows it copies by the transaction's insert counts, which PostgreSQL keeps only with track_counts on.",
					   rt_relation_name(DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)))),
			 errhint("Turn track_counts on (the default).")));
}

/* Returns true when steps deleted or anonymized any row. */
static bool
rt_steps_changed(List *steps)
{
	ListCell   *lc;

	foreach(lc, steps)
	{
		RtErasureStep *s = lfirst(lc);

		if (s->rows > 0 && (strcmp(s->action, "delete") == 0 || strcmp(s->action, "anonymize") == 0))
			return true;
	}
	return false;
}

/*
 * Erases the subjects of keys now; returns the steps.  Passes over the graph
 * are repeated, at most RT_ERASURE_MAX_PASSES, while triggers or rules copy
 * rows into tables of the graph (a history table linked to the subject), or
 * while the postcondition fails after a pass that changed rows (rows of the
 * subject another session added meanwhile); it holds after the last pass,
 * or the erasure fails.  An erasure that cannot be carried out truthfully
 * raises an error, and the caller's transaction rolls back.
 */
List *
rt_erase_now(const RtSubjectKind *k, const RtErasureKeys *keys)
{
	RtErasure	er;
	List	   *steps = NIL;
	int			citus = rt_citus_erasure_begin(k);

	memset(&er, 0, sizeof(er));
	er.k = k;
	er.keys = keys;
	er.rls_tables = rt_subject_row_security_tables(k);
	rt_require_insert_counts(k);
	for (int pass = 1;; pass++)
	{
		List	   *pass_steps;

		er.copies = NIL;
		pass_steps = rt_erase_pass(&er);
		steps = pass == 1 ? pass_steps : rt_merge_steps(steps, pass_steps);
		if (!rt_copies_need_pass(&er))
		{
			List	   *left = rt_erasure_nothing_left(&er) ? NIL : rt_erasure_left(&er);

			if (left == NIL)
				break;
			/* a pass that removed nothing more will not: what is left stays */
			if (!rt_steps_changed(pass_steps) || pass == RT_ERASURE_MAX_PASSES)
				rt_erasure_fail(&er, left);
			continue;
		}
		if (pass == RT_ERASURE_MAX_PASSES)
		{
			RtErasureCopy *c = linitial(er.copies);

			ereport(ERROR,
					(errcode(RT_ERRCODE_ERASURE_UNSETTLED),
					 errmsg("erasure of a data subject of kind \"%s\" did not settle after %d passes",
							k->kind, RT_ERASURE_MAX_PASSES),
					 errdetail("Each pass copied rows again: %s inserted " INT64_FORMAT " row%s into %s while the erasure's %s ran on %s. The erasure was rolled back: nothing was changed or recorded.",
							   rt_copier(c->source, c->cmd), c->rows, c->rows == 1 ? "" : "s",
							   rt_relation_name(c->dest), c->cmd == CMD_DELETE ? "DELETE" : "UPDATE",
							   rt_relation_name(c->source)),
					 errhint("A trigger that puts back what is deleted (or two that copy into each other's tables) keeps the personal data; change it.")));
		}
	}
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
							rt_exec_as_owner(NULL, CMD_SELECT, t->relid,
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

/* Returns the tables (Oid) where steps deleted or anonymized rows. */
List *
rt_erasure_steps_relids(List *steps)
{
	List	   *relids = NIL;
	ListCell   *lc;

	foreach(lc, steps)
	{
		RtErasureStep *s = lfirst(lc);

		if (s->rows > 0 && (strcmp(s->action, "delete") == 0 || strcmp(s->action, "anonymize") == 0))
			relids = list_append_unique_oid(relids, s->relid);
	}
	return relids;
}

/*
 * Returns the minor version the extension's SQL objects are at least (1, 2
 * or 3 of 0.x.0), read once per catalog generation: an update of the
 * extension alters its tables.
 */
static int
rt_erasure_objects_minor(void)
{
	static uint64 generation = 0;
	static int	minor = 1;

	if (generation != rt_catalog_generation())
	{
		minor = rt_sql_objects_at_least("0.3.0") ? 3 : rt_sql_objects_at_least("0.2.0") ? 2 : 1;
		generation = rt_catalog_generation();
	}
	return minor;
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
	Oid			types[8] = {TEXTOID, BYTEAOID, TEXTOID, NAMEOID, INT8ARRAYOID, INT8OID, INT8OID, TEXTOID};
	Datum		values[8];
	char		nulls[8] = "        ";
	bool		v2 = rt_erasure_objects_minor() >= 2;
	bool		v3 = rt_erasure_objects_minor() >= 3;
	NameData	requester;
	bool		isnull;
	bytea	   *h = palloc(VARHDRSZ + RT_SUBJECT_HASH_BYTES);
	/* the due time: the request's time plus retention.erasure_deadline (docs/reference.md#retentionerasures-view) */
	const char *due_col = v3 ? ", due_at" : "";
	const char *due_val = v3 ? ", pg_catalog.now() OPERATOR(pg_catalog.+) $8::pg_catalog.interval" : "";
	char	   *erasure_id;

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
	values[7] = CStringGetTextDatum(rt_erasure_deadline);
	rt_catalog_exec_kept(pending ?
					psprintf("INSERT INTO retention.erasure_ledger (kind, subject_hash, key_fingerprint, requested_by,"
							 " status, waiting_for, rows%s%s) VALUES ($1, $2, $3, $4, 'pending', $5, $6%s%s)"
							 " RETURNING erasure_id::pg_catalog.text, " RT_LEDGER_FILE_ENTRY_SQL,
							 v2 ? ", subject_hold" : "", due_col, v2 ? ", $7" : "", due_val) :
					psprintf("INSERT INTO retention.erasure_ledger (kind, subject_hash, key_fingerprint, requested_by,"
							 " status, waiting_for, rows, completed_at, applied_here%s)"
							 " VALUES ($1, $2, $3, $4, 'done', $5, $6, pg_catalog.now(), pg_catalog.now()%s)"
							 " RETURNING erasure_id::pg_catalog.text, " RT_LEDGER_FILE_ENTRY_SQL, due_col, due_val),
					v3 ? 8 : (pending && v2 ? 7 : 6), types, values, nulls, false, SPI_OK_INSERT_RETURNING);
	erasure_id = TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	/* also recorded outside the data directory when the transaction commits (docs/operations.md#backups-and-restores) */
	rt_ledger_file_queue(SPI_tuptable, SPI_processed, 2);
	return erasure_id;
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
	rt_require_read_write("erase a data subject",
						  "Erase it in a read-write transaction (BEGIN READ WRITE).");
	rt_srf_begin(fcinfo, &srf);

	SPI_connect();
	k = (RtSubjectKind *) rt_subject_kind_kept(kind);
	key = rt_subject_key_datum(k, id, true);
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
		rt_horizon_mark("erasure", erasure_id, rt_erasure_steps_relids(steps));
		rt_audit_append("erasure", k->relid, total,
						psprintf("{\"erasure_id\": \"%s\", \"kind\": %s, \"subject\": %s, \"steps\": %s}",
								 erasure_id, rt_json_quote(kind), token, summary));
		rt_cdc_erasure("erasure", kind, psprintf("[\"%s\"]", erasure_id), psprintf("[%s]", token),
					   total, summary);
	}
	if (!hashed)
		ereport(WARNING,
				(errmsg("no pseudonymization key is configured: this erasure cannot be replayed after a restore"),
				 errhint("Set retention.key_file and create a key with retention.create_key(); the ledger names subjects by a keyed hash.")));
	rt_put_steps(&srf, steps);
	SPI_finish();
	return (Datum) 0;
}
