/*
 * quote.h
 *    Quoting: names of relations, operators and collations as SQL that a
 *    hostile search_path cannot redirect, text as a JSON string literal, and bytes
 *    as hexadecimal text.
 *
 * Ground floor: includes only PostgreSQL's headers.
 */
#ifndef RT_QUOTE_H
#define RT_QUOTE_H

#include "postgres.h"

/*
 * Returns the schema-qualified, quoted name of a relation ("s"."t"); the
 * session's own temporary schema is spelled pg_temp, and a relation that
 * no longer exists is named "(dropped relation OID)".
 */
extern char *rt_relation_name(Oid relid);

/* Returns "OPERATOR(schema.name)" for an operator OID, the schema quoted. */
extern char *rt_operator_sql(Oid oproid);

/*
 * Returns " COLLATE schema.name" for a collation OID (names quoted), or ""
 * for InvalidOid: appended to a column in a comparison, it makes the
 * comparison use that collation whatever the other side's.
 */
extern char *rt_collation_sql(Oid collid);

/* Returns s as a JSON string literal, quoted and escaped. */
extern char *rt_json_quote(const char *s);

/* Returns the hexadecimal text of len bytes (lower case, no prefix). */
extern char *rt_hex(const unsigned char *bytes, int len);

#endif							/* RT_QUOTE_H */
