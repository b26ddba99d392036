/*
 * pseudonym.c
 *    retention.pseudonym(value, context) and retention.is_pseudonym(value).
 *
 * A pseudonym is BLAKE2b (libsodium crypto_generichash) of the value's
 * bytes, keyed with the subkey of the context (see key.c), cut to 96 bits
 * and written as "ps:" followed by 24 lowercase hexadecimal digits.  The
 * same value gives the same pseudonym for one key and one context, so
 * joins and uniqueness survive (two of a billion distinct values collide
 * with a probability near 6e-12); without the key nobody can compute or
 * check one, so they cannot be reversed by guessing.
 *
 * The fixed, recognizable form makes the mask idempotent: a value that
 * already is a pseudonym (of any key or context) is returned unchanged,
 * so a rerun or a retried batch changes nothing.  The one cost is that a
 * genuine value of exactly that form is taken for a pseudonym.
 *
 * Who may compute pseudonyms.  Anyone who can compute pseudonym(x) can
 * test a guess against a stored pseudonym, which the reference rules out
 * ("not reversible without the key",
 * docs/reference.md#masks-and-the-pseudonymization-key), so
 * retention.pseudonym() is not executable by PUBLIC: superusers, members
 * of retention_officer and roles a DBA grants it to may call it.  The anonymize engine applies the mask
 * through retention.mask_pseudonym(), which any role may name in SQL (a
 * batch runs as the table's owner, whoever that is) but which computes
 * only while the engine acts as that owner, or for a caller that may
 * execute retention.pseudonym().
 *
 * The function is called once per row by the anonymize engine and by
 * users over whole tables, so it does no work per call beyond the hash:
 * the subkey is cached per context (and the last context is compared
 * first), the arguments are read in place, and the only allocation is the
 * result.
 */
#include "postgres.h"

#include <sodium.h>

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "utils/acl.h"
#include "utils/builtins.h"

#include "compat.h"
#include "extension.h"
#include "key.h"
#include "mask.h"
#include "privilege.h"

/* Returns true when the len bytes at s have the exact form of a pseudonym. */
bool
rt_is_pseudonym(const char *s, int len)
{
	if (len != RT_PSEUDONYM_LEN || memcmp(s, RT_PSEUDONYM_PREFIX, RT_PSEUDONYM_PREFIX_LEN) != 0)
		return false;
	for (int i = RT_PSEUDONYM_PREFIX_LEN; i < RT_PSEUDONYM_LEN; i++)
	{
		char		c = s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return true;
}

/* Returns the keyed pseudonym of value in context; a value that already is a pseudonym is returned as it is. */
text *
rt_pseudonym_of(text *value, text *context)
{
	static const char hexdigits[] = "0123456789abcdef";
	const char *data = VARDATA_ANY(value);
	int			len = VARSIZE_ANY_EXHDR(value);
	const unsigned char *subkey;
	unsigned char hash[crypto_generichash_BYTES_MIN];
	text	   *result;
	char	   *out;

	if (rt_is_pseudonym(data, len))
		return value;

	subkey = rt_key_pseudonym_subkey(VARDATA_ANY(context), VARSIZE_ANY_EXHDR(context));
	crypto_generichash(hash, sizeof(hash), (const unsigned char *) data, len,
					   subkey, RT_KEY_BYTES);

	result = (text *) palloc(VARHDRSZ + RT_PSEUDONYM_LEN);
	SET_VARSIZE(result, VARHDRSZ + RT_PSEUDONYM_LEN);
	out = VARDATA(result);
	memcpy(out, RT_PSEUDONYM_PREFIX, RT_PSEUDONYM_PREFIX_LEN);
	out += RT_PSEUDONYM_PREFIX_LEN;
	for (int i = 0; i < RT_PSEUDONYM_HEX_LEN / 2; i++)
	{
		*out++ = hexdigits[hash[i] >> 4];
		*out++ = hexdigits[hash[i] & 0x0f];
	}
	sodium_memzero(hash, sizeof(hash));
	return result;
}

PG_FUNCTION_INFO_V1(retention_pseudonym);

/* SQL: retention.pseudonym(value text, context text DEFAULT '') returns the keyed pseudonym of value. */
Datum
retention_pseudonym(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(rt_pseudonym_of(PG_GETARG_TEXT_PP(0), PG_GETARG_TEXT_PP(1)));
}

/* Returns true when the current user may execute retention.pseudonym(text, text). */
bool
rt_may_call_pseudonym(void)
{
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Oid			fn = LookupFuncName(list_make2(makeString(RT_SCHEMA_NAME), makeString("pseudonym")),
									2, argtypes, true);

	return OidIsValid(fn) && rt_proc_aclcheck(fn, GetUserId(), ACL_EXECUTE) == ACLCHECK_OK;
}

PG_FUNCTION_INFO_V1(retention_mask_pseudonym);

/*
 * SQL: retention.mask_pseudonym(value text, context text DEFAULT '') is the
 * pseudonym mask as the anonymize engine applies it: the same result as
 * retention.pseudonym(), computed only inside the engine's statements or
 * for a caller that may execute retention.pseudonym().
 */
Datum
retention_mask_pseudonym(PG_FUNCTION_ARGS)
{
	/* the privilege lookup is remembered for the rest of the statement */
	if (!rt_engine_acting_as(GetUserId()) && fcinfo->flinfo->fn_extra == NULL)
	{
		if (!rt_may_call_pseudonym())
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied for function %s.mask_pseudonym", RT_SCHEMA_NAME),
					 errdetail("It computes pseudonyms only in the statements of the anonymize engine, or for roles that may execute %s.pseudonym(text, text).",
							   RT_SCHEMA_NAME),
					 errhint("A superuser can GRANT EXECUTE ON FUNCTION %s.pseudonym(text, text) to the role that needs pseudonyms, or GRANT retention_officer to it.",
							 RT_SCHEMA_NAME)));
		fcinfo->flinfo->fn_extra = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, 1);
	}
	PG_RETURN_TEXT_P(rt_pseudonym_of(PG_GETARG_TEXT_PP(0), PG_GETARG_TEXT_PP(1)));
}

PG_FUNCTION_INFO_V1(retention_is_pseudonym);

/* SQL: retention.is_pseudonym(value text) tells whether value has the form of a pseudonym. */
Datum
retention_is_pseudonym(PG_FUNCTION_ARGS)
{
	text	   *value = PG_GETARG_TEXT_PP(0);

	PG_RETURN_BOOL(rt_is_pseudonym(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value)));
}
