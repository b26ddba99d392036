/*
 * subject.h
 *    Data subjects (docs/reference.md#data-subjects): a kind of subject is a table and its
 *    key column ('customer' = customer.customer_id); the rows that belong
 *    to one subject are found by following foreign keys from that table,
 *    and links declared by hand where there is no foreign key.
 */
#ifndef RT_SUBJECT_H
#define RT_SUBJECT_H

#include "postgres.h"

#include "fmgr.h"
#include "nodes/pg_list.h"
#include "utils/errcodes.h"

/*
 * The SQLSTATE of an access request whose answer would lack rows of the
 * subject that row-level security hides from the tables' owners
 * (docs/reference.md#retentionsubject_datakind-text-id-text--jsonb).
 */
#define RT_ERRCODE_ACCESS_INCOMPLETE MAKE_SQLSTATE('R','T','A','0','1')

/* Returns true when kind is a valid name of a kind of subject: 1 to 63 bytes, no blank at either end. */
extern bool rt_subject_kind_name_ok(const char *kind);

/* How a table of the subject graph relates to the subject's own table. */
typedef enum RtSubjectRole
{
	RT_SUBJECT_ROOT,			/* the subject's table: one row per subject */
	RT_SUBJECT_OWNED,			/* rows that reference the subject, directly or in a chain */
	RT_SUBJECT_REFERENCED		/* a row the subject's row references, holding personal data */
} RtSubjectRole;

/* One table of a subject's graph. */
typedef struct RtSubjectTable
{
	Oid			relid;
	RtSubjectRole role;
	int			depth;			/* hops from the subject's table (owned: >= 1) */
	char	   *via;			/* how it was reached, for people: "rental.customer_id -> customer" */
	char	   *belongs;		/* SQL predicate on alias t: the row belongs to subject $1 */
	List	   *link_columns;	/* columns (char *) of this table that tie it to the subject */
	/* a referenced table: its columns the subject's row points at, and the subject table's columns that do */
	List	   *ref_columns;
	List	   *subject_columns;
} RtSubjectTable;

/* A kind of data subject with its resolved graph. */
typedef struct RtSubjectKind
{
	char	   *kind;
	Oid			relid;			/* the subject's table */
	char	   *key;			/* its key column (the first of a composite key) */
	Oid			key_type;		/* type of the key column; $1 of belongs is of this type */
	List	   *key_columns;	/* a composite key: its columns (char *), key_type the row type of them; else NIL */
	List	   *tables;			/* RtSubjectTable *, deepest owned first, root, referenced last */
	char	   *key_eq;			/* equality operator of the key type, as OPERATOR(s.=) */
	Oid			key_coll;		/* collation of the key column (InvalidOid: none); every comparison
								 * with the key uses it, whatever the other column's */
	bool		user_code;		/* a membership test calls an operator or cast that is not built in */
	List	   *graph;			/* private: the graph's nodes, to build other predicates */
} RtSubjectKind;

/*
 * Returns the kind with its graph, or raises undefined_object when no such
 * kind is declared.  SPI must be connected.
 */
extern RtSubjectKind *rt_subject_kind(const char *kind);

/*
 * rt_subject_kind, kept across calls for as long as the catalog generation
 * (cache.h) stays the same: the same kind's graph is not built again for
 * every erasure.  The result is shared: read it, never change it.
 */
extern const RtSubjectKind *rt_subject_kind_kept(const char *kind);

/*
 * Returns the membership predicate of table t on alias with the subject's
 * key written as keyref: "$1" for one subject, "ANY ($3)" for an array of
 * them (keyref must be SQL of the key type or an array of it).
 */
extern char *rt_subject_belongs(const RtSubjectKind *kind, const RtSubjectTable *t,
								const char *alias, const char *keyref);

/*
 * Returns the SQL of a row's key on alias: "alias.key", or for a composite
 * key "ROW(alias.c1, alias.c2)::type" (docs/reference.md#data-subjects).
 */
extern char *rt_subject_key_sql(const RtSubjectKind *kind, const char *alias);

/*
 * Returns the subject's key value of type kind->key_type read from text id
 * (raising on bad input): with typed, an id the caller typed, read in the
 * caller's DateStyle, IntervalStyle and TimeZone as a cast would read it;
 * without, a canonical id the engine printed (rt_subject_canonical_id).
 */
extern Datum rt_subject_key_datum(const RtSubjectKind *kind, const char *id, bool typed);

/* Returns the canonical text of a subject's key (so that '007' and '7' are one subject). */
extern char *rt_subject_canonical_id(const RtSubjectKind *kind, Datum key);

/* Returns the graph table of kind for relid (or one of its ancestors), or NULL. */
extern RtSubjectTable *rt_subject_table_for(const RtSubjectKind *kind, Oid relid);

/*
 * Returns the tables of kind's graph and their partitions (Oid) whose
 * row-level security may hide rows of a subject from an owner that reads
 * or changes them: forced on the table's own owner, or enabled and binding
 * the owner of another graph table (membership tests read other tables);
 * owners that are superusers or BYPASSRLS are never bound.  NIL when every
 * owner sees every row.
 */
extern List *rt_subject_row_security_tables(const RtSubjectKind *kind);

/*
 * Counts the rows of relid (ONLY relid when only) that satisfy belongs (a
 * membership test on alias t with the key, of type keytype, as $1) with
 * full visibility, as no row-level security hides them; -1 when the test
 * calls an operator or cast that is not built in (kind->user_code), which
 * is never run with those rights.  SPI must be connected.
 */
extern int64 rt_subject_count_all_rows(const RtSubjectKind *kind, Oid relid, bool only,
									   const char *belongs, Oid keytype, Datum key);

/*
 * Returns the cause of n rows of the subject in relid that row-level
 * security hides from the table's owner, as one clause naming the policies
 * of relid, or else the tables of rls_tables (from
 * rt_subject_row_security_tables).
 */
extern char *rt_subject_hidden_cause(List *rls_tables, Oid relid, int64 n);

/*
 * Returns why rows row-level security may hide cannot be counted (the
 * membership test is not built-in code only), naming rls_tables.
 */
extern char *rt_subject_uncountable_cause(List *rls_tables);

/*
 * Returns the table of kind as the catalog names it, without resolving the
 * kind's graph (the table may have been dropped behind the event trigger's
 * back), and in *composite_type (if not NULL) the row type of a composite
 * key, or InvalidOid; raises undefined_object for an unknown kind.  SPI
 * must be connected.
 */
extern Oid	rt_subject_kind_relid(const char *kind, Oid *composite_type);

/* Returns the names of every declared kind (char *). SPI must be connected. */
extern List *rt_subject_kind_names(void);

/*
 * Reads the kind and id arguments (0 and 1) of a SQL request about one
 * subject, refusing NULLs, after checking that the caller may do what
 * (superusers and members of retention_officer).
 */
extern void rt_subject_request_args(FunctionCallInfo fcinfo, const char *what, char **kind, char **id);

#endif							/* RT_SUBJECT_H */
