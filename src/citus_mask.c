/*
 * citus_mask.c
 *    The pseudonym mask on the shards of a Citus table: its node form,
 *    retention.mask_pseudonym_node(), and the grant that lets it compute
 *    for the engine's statements only (docs/operations.md#citus).
 *
 * Why a node form.  Citus refuses a STABLE function with column
 * references in an UPDATE of several shards ("STABLE functions used in
 * UPDATE queries cannot be called with column references"), and
 * retention.mask_pseudonym is STABLE: its result depends on the key file,
 * which may change between transactions.  mask_pseudonym_node is declared
 * IMMUTABLE so that Citus sends it to the shards, and it makes the promise
 * true where it can: it computes only under a grant that names the key,
 * by its fingerprint, and refuses (F0000) on a node whose key is another.
 * Every node computes the pseudonyms of its own shards with its own key,
 * so the key file must be the same on every node.
 *
 * Who may compute.  On one node, retention.mask_pseudonym computes only
 * inside the engine's statements (privilege.c remembers that the engine
 * acts as the table owner) or for roles that may call
 * retention.pseudonym(): anyone else could test guesses against stored
 * pseudonyms.  A shard's statement runs in a worker's backend, where the
 * engine is not; what the worker can check instead is a grant: the
 * coordinator's engine computes, keyed with a subkey of its key, a MAC of
 * Citus's distributed transaction id (initiator, number, timestamp), and
 * hands it to every node with SET LOCAL retention.node_grant, which Citus
 * forwards.  The worker computes the same MAC with its own key for the
 * distributed transaction it is in: it matches only there, only if the
 * keys are the same.  A role that reads the grant (from pg_stat_activity)
 * cannot use it in a transaction of its own, and cannot make one without
 * the key.
 */
#include "postgres.h"

#include <sodium.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "citus.h"
#include "citus_mask.h"
#include "extension.h"
#include "key.h"
#include "mask.h"
#include "privilege.h"
#include "quote.h"

/* the subkey of the pseudonymization key grants are keyed with */
#define RT_GRANT_KDF_CONTEXT "rtnodegr"	/* eight characters, for crypto_kdf */
#define RT_GRANT_SUBKEY_ID 1
#define RT_GRANT_MAC_BYTES 16

/* retention.node_grant: the coordinator's key fingerprint and grant, "fingerprint:mac" */
static char *rt_node_grant = NULL;

/* Defines the setting retention.node_grant (called by _PG_init). */
void
rt_citus_mask_define_gucs(void)
{
	DefineCustomStringVariable(RT_NODE_GRANT_SETTING,
							   "The coordinator's grant for the pseudonym mask on Citus shards (set by the engine).",
							   "Set with SET LOCAL by the anonymize engine on a Citus coordinator, which Citus forwards to the workers; "
							   "it is valid only inside the distributed transaction it was made for.",
							   &rt_node_grant, "", PGC_USERSET,
							   GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE,
							   NULL, NULL, NULL);
}

/* Computes the grant MAC of a distributed transaction with this node's key, as hex, into out. */
static void
rt_grant_mac(const RtCitusXid *xid, char *out)
{
	unsigned char subkey[RT_KEY_BYTES];
	unsigned char mac[RT_GRANT_MAC_BYTES];
	unsigned char msg[sizeof(int32) + sizeof(uint64) + sizeof(int64)];
	char	   *hex;

	memcpy(msg, &xid->initiator, sizeof(int32));
	memcpy(msg + sizeof(int32), &xid->number, sizeof(uint64));
	memcpy(msg + sizeof(int32) + sizeof(uint64), &xid->stamp, sizeof(int64));
	rt_key_derive(RT_GRANT_SUBKEY_ID, RT_GRANT_KDF_CONTEXT, subkey, sizeof(subkey));
	crypto_generichash(mac, sizeof(mac), msg, sizeof(msg), subkey, sizeof(subkey));
	sodium_memzero(subkey, sizeof(subkey));
	hex = rt_hex(mac, sizeof(mac));
	strlcpy(out, hex, RT_GRANT_MAC_BYTES * 2 + 1);
}

/* Hands the nodes of relid's shards the grant of this distributed transaction; see citus_mask.h. */
void
rt_citus_mask_grant(Oid relid)
{
	RtCitusXid	xid;
	char		mac[RT_GRANT_MAC_BYTES * 2 + 1];
	const char *names[1] = {RT_NODE_GRANT_SETTING};
	const char *values[1];
	const char *fingerprint = rt_key_fingerprint();

	rt_citus_begin_distributed(relid);
	rt_citus_transaction_id(&xid);
	if (xid.number == 0)
		elog(ERROR, "no distributed transaction to grant the pseudonym mask to on %s", rt_relation_name(relid));
	rt_grant_mac(&xid, mac);
	values[0] = psprintf("%s:%s", fingerprint, mac);
	rt_citus_set_local(1, names, values);
}

/*
 * Checks the grant of retention.node_grant before this node computes a
 * pseudonym for a shard: a grant naming another key than this node's is an
 * error whoever asks; a caller the engine does not act as and who may not
 * call retention.pseudonym() needs a grant made for the distributed
 * transaction it is in.
 */
static void
rt_node_grant_check(void)
{
	const char *grant = rt_node_grant ? rt_node_grant : "";
	const char *colon = strchr(grant, ':');
	const char *mine;
	RtCitusXid	xid;
	char		mac[RT_GRANT_MAC_BYTES * 2 + 1];

	if (colon != NULL)
	{
		char	   *theirs = pnstrdup(grant, colon - grant);

		mine = rt_key_fingerprint();
		if (strcmp(theirs, mine) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_CONFIG_FILE_ERROR),
					 errmsg("the pseudonymization key of node %s (fingerprint %s) is not the coordinator's (fingerprint %s)",
							rt_citus_node_name(), mine, theirs),
					 errdetail("Every node computes the pseudonyms of its own shards with its own key, so every node needs the same key; no row was changed."),
					 errhint("Copy the coordinator's key file to every node, at the path retention.key_file names there (see \"Citus\" in docs/operations.md).")));
	}
	if (rt_engine_acting_as(GetUserId()) || rt_may_call_pseudonym())
		return;
	if (colon != NULL && strlen(colon + 1) == RT_GRANT_MAC_BYTES * 2)
	{
		rt_citus_transaction_id(&xid);
		if (xid.number != 0)
		{
			rt_grant_mac(&xid, mac);
			if (sodium_memcmp(mac, colon + 1, RT_GRANT_MAC_BYTES * 2) == 0)
				return;
		}
	}
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied for function %s.mask_pseudonym_node", RT_SCHEMA_NAME),
			 errdetail("It computes pseudonyms only in the statements the anonymize engine sends to the shards of a Citus table, or for roles that may execute %s.pseudonym(text, text).",
					   RT_SCHEMA_NAME),
			 errhint("Anonymize the table with its retention policy or retention.erase_subject().")));
}

PG_FUNCTION_INFO_V1(retention_mask_pseudonym_node);

/*
 * SQL: retention.mask_pseudonym_node(value text, context text) is the
 * pseudonym mask as the shards of a Citus table compute it: the result of
 * retention.pseudonym(value, context) with this node's key, under the
 * coordinator's grant (see the file's header).
 */
Datum
retention_mask_pseudonym_node(PG_FUNCTION_ARGS)
{
	/* checked once per statement: the grant and the distributed transaction do not change within one */
	if (fcinfo->flinfo->fn_extra == NULL)
	{
		rt_node_grant_check();
		fcinfo->flinfo->fn_extra = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, 1);
	}
	PG_RETURN_TEXT_P(rt_pseudonym_of(PG_GETARG_TEXT_PP(0), PG_GETARG_TEXT_PP(1)));
}
