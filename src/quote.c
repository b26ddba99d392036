/*
 * quote.c
 *    Quoting: names of relations, operators and collations as SQL that a
 *    hostile search_path cannot redirect, text as a JSON string literal, and bytes
 *    as hexadecimal text.
 *
 * Every statement pg_retention builds names its objects through these, so
 * that a name is quoted once, the same way, everywhere (docs/security.md).
 * Ground floor: includes only PostgreSQL's headers and quote.h.
 */
#include "postgres.h"

#include <sodium.h>

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_operator.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "quote.h"

/* Returns the schema-qualified, quoted name of a relation ("s"."t"). */
char *
rt_relation_name(Oid relid)
{
	char	   *relname = get_rel_name(relid);
	Oid			nsp;

	if (relname == NULL)
		return psprintf("(dropped relation %u)", relid);
	nsp = get_rel_namespace(relid);
	/* the session's own temporary schema is spelled as users spell it */
	return quote_qualified_identifier(isTempNamespace(nsp) ? "pg_temp" : get_namespace_name(nsp),
									  relname);
}

/* Returns "OPERATOR(schema.name)" for an operator OID, the schema quoted. */
char *
rt_operator_sql(Oid oproid)
{
	HeapTuple	tuple = SearchSysCache1(OPEROID, ObjectIdGetDatum(oproid));
	Form_pg_operator op;
	char	   *result;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for operator %u", oproid);
	op = (Form_pg_operator) GETSTRUCT(tuple);
	result = psprintf("OPERATOR(%s.%s)", quote_identifier(get_namespace_name(op->oprnamespace)),
					  NameStr(op->oprname));
	ReleaseSysCache(tuple);
	return result;
}

/* Returns " COLLATE schema.name" for a collation OID, the names quoted; "" for InvalidOid. */
char *
rt_collation_sql(Oid collid)
{
	HeapTuple	tuple;
	Form_pg_collation coll;
	char	   *result;

	if (!OidIsValid(collid))
		return "";
	tuple = SearchSysCache1(COLLOID, ObjectIdGetDatum(collid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for collation %u", collid);
	coll = (Form_pg_collation) GETSTRUCT(tuple);
	result = psprintf(" COLLATE %s", quote_qualified_identifier(get_namespace_name(coll->collnamespace),
																NameStr(coll->collname)));
	ReleaseSysCache(tuple);
	return result;
}

/* Returns s as a JSON string literal, quoted and escaped. */
char *
rt_json_quote(const char *s)
{
	StringInfoData buf;

	initStringInfo(&buf);
	escape_json(&buf, s);
	return buf.data;
}

/* Returns the hexadecimal text of len bytes (lower case, no prefix). */
char *
rt_hex(const unsigned char *bytes, int len)
{
	char	   *hex = palloc(len * 2 + 1);

	sodium_bin2hex(hex, len * 2 + 1, bytes, len);
	return hex;
}
