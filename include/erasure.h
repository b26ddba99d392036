/*
 * erasure.h
 *    Erasure of data subjects (docs/reference.md#erasure): the erasure
 *    itself, and the keyed hash that names a subject in the erasure ledger
 *    and the audit trail.  Replaying the ledger is erasure_ledger.h's.
 */
#ifndef RT_ERASURE_H
#define RT_ERASURE_H

#include "postgres.h"

#include "nodes/pg_list.h"
#include "utils/errcodes.h"

struct RtSubjectKind;

/*
 * SQLSTATEs of an erasure that cannot be carried out truthfully
 * (docs/reference.md#erasure), class RT (pg_retention's own):
 * RTE01 rows of the subject are left (a soft-delete trigger, a DO INSTEAD
 * rule, row-level security), RTE02 a trigger copied rows out of the graph,
 * RTE03 triggers kept copying rows into the graph, pass after pass.
 */
#define RT_ERRCODE_ERASURE_LEFT_DATA	MAKE_SQLSTATE('R','T','E','0','1')
#define RT_ERRCODE_ERASURE_COPIED		MAKE_SQLSTATE('R','T','E','0','2')
#define RT_ERRCODE_ERASURE_UNSETTLED	MAKE_SQLSTATE('R','T','E','0','3')

/* Length of the keyed hash of a subject, in bytes. */
#define RT_SUBJECT_HASH_BYTES 32

/* Whom an erasure's statements are about: one subject's key ($1), or an array of keys. */
typedef struct RtErasureKeys
{
	Oid			type;			/* the key's type, or its array type */
	Datum		value;
	bool		many;
} RtErasureKeys;

/* Returns the keys of one subject: its key value key, of kind k's key type. */
extern RtErasureKeys rt_erasure_one_key(const struct RtSubjectKind *k, Datum key);

/*
 * Erases the subjects of keys from every table of kind k's graph, children
 * before parents, as each table's owner; returns the steps taken
 * (what was deleted, anonymized or kept where).  Passes are repeated while
 * triggers copy rows into tables of the graph; then the postcondition is
 * checked: an erasure that leaves rows of the subjects, or whose triggers
 * copied rows out of the graph, raises one of the errors above.  SPI must
 * be connected.
 */
extern List *rt_erase_now(const struct RtSubjectKind *k, const RtErasureKeys *keys);

/* Returns the tables (Oid) where steps deleted or anonymized rows. */
extern List *rt_erasure_steps_relids(List *steps);

/* Returns the rows deleted or anonymized by steps, and their JSON summary in *json. */
extern int64 rt_erasure_steps_summary(List *steps, char **json);

/*
 * Derives the ledger's subkey of the pseudonymization key into subkey
 * (RT_KEY_BYTES bytes, to be zeroed by the caller); false when no key is
 * configured.
 */
extern bool rt_erasure_ledger_subkey(unsigned char *subkey);

/* Computes the hash of a subject (kind, canonical id) keyed with the ledger's subkey into out. */
extern void rt_erasure_subject_hash_keyed(const unsigned char *subkey, const char *kind,
										  const char *canonical_id, unsigned char *out);

/*
 * Returns the ledger token of a subject: hexadecimal keyed BLAKE2b of kind
 * and id (with a subkey of the pseudonymization key), or NULL when no key
 * is configured, or (with a WARNING) when the key file cannot be used.
 * This is how the ledger and the audit trail name a subject without its id.
 */
extern char *rt_erasure_subject_token(const char *kind, const char *id);

#endif							/* RT_ERASURE_H */
