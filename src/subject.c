/*
 * subject.c
 *    Kinds of data subjects and the graph of tables that hold their rows.
 *
 * retention.add_subject('customer', 'customer', 'customer_id') declares a
 * kind.  The rows of one customer are then found from the catalog, not from
 * a list kept by hand:
 *  - owned rows: tables whose foreign keys reference the customer table,
 *    directly (rental.customer_id) or in a chain (payment.rental_id ->
 *    rental.customer_id), up to RT_SUBJECT_MAX_DEPTH hops; a row reached
 *    by several paths belongs to whoever its nearest link that is set
 *    names (see rt_belongs_sql);
 *  - manual links: retention.link_subject('customer', 'weblog', 'cust')
 *    for a column that holds the key without a foreign key;
 *  - referenced rows: a row the customer row references through a foreign
 *    key and that holds tagged (personal) columns, such as its address.
 * As in fk_guard.c, foreign keys declared on partitions count for the whole
 * partitioned table.  Every membership test is SQL on alias "t" with the
 * subject's key as parameter $1, with quoted identifiers and the
 * constraints' own operators.
 *
 * Declaring kinds and links (add_subject, link_subject, drop_subject) and
 * the retention.subject_graph view are subjectcmds.c's; this file never
 * calls them.
 *
 * The check of a kind's name is pure C, built alone by tests/fuzz
 * (RT_FUZZ_STANDALONE leaves out the rest of the file).
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/transam.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_am.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_coerce.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "cache.h"
#include "diagnose.h"
#include "citus.h"
#include "extension.h"
#include "fk_guard.h"
#include "privilege.h"
#include "quote.h"
#include "safe_spi.h"
#include "subject.h"
#include "tag.h"

/* Returns true when kind is a valid name of a kind of subject: 1 to 63 bytes, no blank at either end. */
bool
rt_subject_kind_name_ok(const char *kind)
{
	size_t		len = strlen(kind);

	return len > 0 && len < NAMEDATALEN && !isspace((unsigned char) kind[0]) &&
		!isspace((unsigned char) kind[len - 1]);
}

#ifndef RT_FUZZ_STANDALONE

#define RT_SUBJECT_MAX_DEPTH 5

/* How a link_subject column of another type than the key is compared with it. */
typedef enum RtLinkCompare
{
	RT_LINK_EQUAL,				/* an equality operator takes both types as they are */
	RT_LINK_COLUMN_TO_KEY,		/* the column casts to the key's type implicitly (int4 to numeric) or
								 * without a function (text to citext): the key's own equality */
	RT_LINK_KEY_TO_COLUMN,		/* the key casts implicitly to the column's type (int4 to int8) */
	RT_LINK_TEXT				/* neither: both as text, so a value that is no key matches nobody */
} RtLinkCompare;

/* An edge of the graph: rows of "to" reference rows of "from". */
typedef struct RtSubjectEdge
{
	Oid			from;			/* the referenced table (nearer the subject) */
	List	   *from_cols;		/* its columns (char *) */
	List	   *to_cols;		/* the referencing columns of the owned table */
	List	   *ops;			/* equality operators as SQL: OPERATOR(s.=) */
	List	   *from_colls;		/* per column, the collation a join compares under (Oid) */
	List	   *to_colls;		/* per column, the collation put on the "to" side of a direct comparison */
	bool		user_code;		/* an operator or cast of the comparison is not built in */
	bool		manual;			/* declared with link_subject, not a foreign key */
	RtLinkCompare compare;		/* how a manual link's column meets the key */
	char	   *col_type;		/* the column's type, qualified (for RT_LINK_KEY_TO_COLUMN) */
	List	   *only_rels;		/* NIL, or the partitions whose rows alone the link covers */
} RtSubjectEdge;

/* A table of the graph while it is being built. */
typedef struct RtGraphNode
{
	RtSubjectTable *table;
	List	   *edges;			/* RtSubjectEdge * */
} RtGraphNode;

/* Returns the table a constraint's relation stands for: the root of its partition tree. */
static Oid
rt_logical_table(Oid relid)
{
	if (get_rel_relispartition(relid))
		return llast_oid(get_partition_ancestors(relid));
	return relid;
}

/* Returns the node of relid in nodes, or NULL. */
static RtGraphNode *
rt_graph_find(List *nodes, Oid relid)
{
	ListCell   *lc;

	foreach(lc, nodes)
	{
		RtGraphNode *n = lfirst(lc);

		if (n->table->relid == relid)
			return n;
	}
	return NULL;
}

static void rt_belongs_sql(StringInfo buf, List *nodes, RtGraphNode *node, const char *alias,
						   int level, const RtSubjectKind *kind, const char *keyref);

/* Returns the fewest foreign-key hops from the subject's table to node (a large number past the depth limit). */
static int
rt_min_hops(List *nodes, RtGraphNode *node, int level)
{
	ListCell   *lc;
	int			best = RT_SUBJECT_MAX_DEPTH + 1;

	if (node->table->role == RT_SUBJECT_ROOT)
		return 0;
	if (level > RT_SUBJECT_MAX_DEPTH)
		return best;
	foreach(lc, node->edges)
	{
		RtGraphNode *from = rt_graph_find(nodes, ((RtSubjectEdge *) lfirst(lc))->from);

		if (from != NULL)
			best = Min(best, 1 + rt_min_hops(nodes, from, level + 1));
	}
	return best;
}

/* Returns keyref ("$1", "ANY ($3::int4[])", "rt_held.id") cast to type (to type[] under ANY). */
static char *
rt_keyref_cast(const char *keyref, const char *type)
{
	size_t		len = strlen(keyref);

	if (strncmp(keyref, "ANY (", 5) == 0 && len > 6 && keyref[len - 1] == ')')
		return psprintf("ANY ((%.*s)::%s[])", (int) (len - 6), keyref + 5, type);
	return psprintf("(%s)::%s", keyref, type);
}

static bool rt_same_names(List *a, List *b);

/*
 * Appends the test that the columns cols of the row on alias hold the
 * composite key keyref of kind (docs/reference.md#data-subjects): column by
 * column against the key's fields, with the operators ops (NIL: each
 * column type's equality), so that Citus can route a test on one subject to
 * its shard; against an array of keys ("ANY (...)"), as a row.
 */
static void
rt_composite_key_sql(StringInfo buf, const RtSubjectKind *kind, Oid relid, const char *alias,
					 List *cols, List *ops, const char *keyref)
{
	if (strncmp(keyref, "ANY (", 5) == 0)
	{
		appendStringInfoString(buf, "ROW(");
		for (int i = 0; i < list_length(cols); i++)
			appendStringInfo(buf, "%s%s.%s", i > 0 ? ", " : "", alias, quote_identifier(list_nth(cols, i)));
		appendStringInfo(buf, ")::%s %s %s", format_type_be_qualified(kind->key_type), kind->key_eq, keyref);
		return;
	}
	appendStringInfoChar(buf, '(');
	for (int i = 0; i < list_length(cols); i++)
	{
		const char *op = ops != NIL ? (const char *) list_nth(ops, i) : NULL;

		if (op == NULL)
		{
			TypeCacheEntry *tc = lookup_type_cache(get_atttype(relid, get_attnum(relid, list_nth(cols, i))),
												   TYPECACHE_EQ_OPR);

			if (!OidIsValid(tc->eq_opr))
				elog(ERROR, "column %s has no equality operator", quote_identifier(list_nth(cols, i)));
			op = rt_operator_sql(tc->eq_opr);
		}
		appendStringInfo(buf, "%s%s.%s %s (%s).%s", i > 0 ? " AND " : "", alias,
						 quote_identifier(list_nth(cols, i)), op, keyref,
						 quote_identifier(list_nth(kind->key_columns, i)));
	}
	appendStringInfoChar(buf, ')');
}

/* Appends the test that the row on alias belongs to the subject through edge e. */
static void
rt_edge_sql(StringInfo buf, List *nodes, RtSubjectEdge *e, const char *alias,
			int level, const RtSubjectKind *kind, const char *keyref)
{
	RtGraphNode *from = rt_graph_find(nodes, e->from);
	char		sub[16];

	if (e->only_rels != NIL)
	{
		/* a partition's own key: its rows only */
		StringInfoData oids;
		ListCell   *lc;

		initStringInfo(&oids);
		foreach(lc, e->only_rels)
			appendStringInfo(&oids, "%s%u", oids.len > 0 ? "," : "", lfirst_oid(lc));
		appendStringInfo(buf, "(%s.tableoid OPERATOR(pg_catalog.=) ANY ('{%s}'::pg_catalog.oid[]) AND ",
						 alias, oids.data);
	}
	if (from->table->role == RT_SUBJECT_ROOT && kind->key_columns != NIL &&
		rt_same_names(e->from_cols, kind->key_columns))
	{
		/* a direct reference to a composite key: compare with its fields, no join */
		rt_composite_key_sql(buf, kind, InvalidOid, alias, e->to_cols, e->ops, keyref);
		if (e->only_rels != NIL)
			appendStringInfoChar(buf, ')');
		return;
	}
	if (from->table->role == RT_SUBJECT_ROOT && kind->key_columns == NIL && list_length(e->from_cols) == 1 &&
		strcmp(linitial(e->from_cols), kind->key) == 0)
	{
		/*
		 * A direct reference to the key: compare with $1, no join.  A linked
		 * column of another type goes through an implicit cast that cannot
		 * fail, or else as text with the key's text: a cast of the column to
		 * the key's type could fail on the first value that is no key (and
		 * quote it in the error).
		 */
		const char *col = quote_identifier(linitial(e->to_cols));
		/* the key's collation, whatever the column's: see rt_collation_for_key */
		const char *coll = rt_collation_sql(linitial_oid(e->to_colls));

		switch (e->compare)
		{
			case RT_LINK_EQUAL:
				appendStringInfo(buf, "%s.%s%s %s %s", alias, col, coll, (char *) linitial(e->ops), keyref);
				break;
			case RT_LINK_COLUMN_TO_KEY:
				appendStringInfo(buf, "(%s.%s)::%s%s %s %s", alias, col,
								 format_type_be_qualified(kind->key_type), coll, kind->key_eq, keyref);
				break;
			case RT_LINK_KEY_TO_COLUMN:
				appendStringInfo(buf, "%s.%s%s %s %s", alias, col, coll, (char *) linitial(e->ops),
								 rt_keyref_cast(keyref, e->col_type));
				break;
			case RT_LINK_TEXT:
				appendStringInfo(buf, "(%s.%s)::pg_catalog.text%s OPERATOR(pg_catalog.=) %s", alias, col, coll,
								 rt_keyref_cast(keyref, "pg_catalog.text"));
				break;
		}
		if (e->only_rels != NIL)
			appendStringInfoChar(buf, ')');
		return;
	}
	snprintf(sub, sizeof(sub), "s%d", level);
	appendStringInfo(buf, "EXISTS (SELECT 1 FROM %s %s WHERE ", rt_relation_name(e->from), sub);
	/* under the referenced column's collation, as the foreign key itself compares */
	for (int i = 0; i < list_length(e->from_cols); i++)
		appendStringInfo(buf, "%s.%s%s %s %s.%s AND ", sub,
						 quote_identifier(list_nth(e->from_cols, i)),
						 rt_collation_sql(list_nth_oid(e->from_colls, i)),
						 (char *) list_nth(e->ops, i), alias,
						 quote_identifier(list_nth(e->to_cols, i)));
	rt_belongs_sql(buf, nodes, from, sub, level + 1, kind, keyref);
	appendStringInfoChar(buf, ')');
	if (e->only_rels != NIL)
		appendStringInfoChar(buf, ')');
}

/* Appends "(e1 OR e2 ...)": the row belongs through one of node's links at distance rank. */
static void
rt_rank_sql(StringInfo buf, List *nodes, RtGraphNode *node, const int *hops, int rank,
			const char *alias, int level, const RtSubjectKind *kind, const char *keyref)
{
	ListCell   *lc;
	bool		first = true;

	appendStringInfoChar(buf, '(');
	foreach(lc, node->edges)
	{
		if (hops[foreach_current_index(lc)] != rank)
			continue;
		if (!first)
			appendStringInfoString(buf, " OR ");
		first = false;
		rt_edge_sql(buf, nodes, lfirst(lc), alias, level, kind, keyref);
	}
	appendStringInfoChar(buf, ')');
}

/* Appends "(cols of e1 set OR cols of e2 set ...)" for node's links at distance rank. */
static void
rt_rank_set_sql(StringInfo buf, RtGraphNode *node, const int *hops, int rank, const char *alias)
{
	ListCell   *lc;
	bool		first = true;

	appendStringInfoChar(buf, '(');
	foreach(lc, node->edges)
	{
		RtSubjectEdge *e = lfirst(lc);

		if (hops[foreach_current_index(lc)] != rank)
			continue;
		appendStringInfoString(buf, first ? "(" : " OR (");
		for (int i = 0; i < list_length(e->to_cols); i++)
			appendStringInfo(buf, "%s%s.%s IS NOT NULL", i > 0 ? " AND " : "", alias,
							 quote_identifier(list_nth(e->to_cols, i)));
		appendStringInfoChar(buf, ')');
		first = false;
	}
	appendStringInfoChar(buf, ')');
}

/*
 * Builds the membership predicate of node for alias, nesting level deep.
 *
 * A row linked to the subject's table by several paths belongs to whoever
 * its nearest link that is set names: a payment names its customer
 * directly, so the customer of the rental it pays for does not make it
 * theirs (in Pagila some payments for one customer's rental were made by
 * another); only where the direct link is NULL does the longer path count.
 * Links equally near all count (a transfer between two customers belongs to
 * both).  So no row is at once one subject's by one path and another's by
 * another, and an access request or erasure reaches only the subject's own
 * rows.
 */
static void
rt_belongs_sql(StringInfo buf, List *nodes, RtGraphNode *node, const char *alias,
			   int level, const RtSubjectKind *kind, const char *keyref)
{
	ListCell   *lc;
	int			nedges = 0;
	int			nmanual = 0;
	int		   *hops;
	int			rank = -1;
	StringInfoData manual;

	if (node->table->role == RT_SUBJECT_ROOT)
	{
		if (kind->key_columns != NIL)
			rt_composite_key_sql(buf, kind, kind->relid, alias, kind->key_columns, NIL, keyref);
		else
			appendStringInfo(buf, "%s.%s%s %s %s", alias, quote_identifier(kind->key),
							 rt_collation_sql(kind->key_coll), kind->key_eq, keyref);
		return;
	}
	initStringInfo(&manual);
	hops = palloc(sizeof(int) * Max(1, list_length(node->edges)));
	foreach(lc, node->edges)
	{
		RtSubjectEdge *e = lfirst(lc);
		RtGraphNode *from = rt_graph_find(nodes, e->from);

		if (from == NULL || level >= RT_SUBJECT_MAX_DEPTH + 1)
			hops[foreach_current_index(lc)] = -1;
		else if (e->manual)
		{
			/*
			 * A link_subject column is a hint, not a constraint: its value may
			 * name nobody (an e-mail in a customer_ref column), so it never
			 * hides a foreign key's answer; it adds its own.
			 */
			hops[foreach_current_index(lc)] = -2;
			if (nmanual++ > 0)
				appendStringInfoString(&manual, " OR ");
			rt_edge_sql(&manual, nodes, e, alias, level, kind, keyref);
		}
		else
		{
			hops[foreach_current_index(lc)] = rt_min_hops(nodes, from, level);
			nedges++;
		}
	}
	if (nedges == 0)
	{
		appendStringInfo(buf, "(%s)", nmanual > 0 ? manual.data : "false");
		return;
	}
	if (nmanual > 0)
		appendStringInfo(buf, "((%s) OR ", manual.data);
	/* the distinct distances, nearest first */
	{
		int			nranks = 0;
		int		   *ranks = palloc(sizeof(int) * list_length(node->edges));

		for (;;)
		{
			int			next = INT_MAX;

			foreach(lc, node->edges)
				if (hops[foreach_current_index(lc)] > rank && hops[foreach_current_index(lc)] < next)
					next = hops[foreach_current_index(lc)];
			if (next == INT_MAX)
				break;
			ranks[nranks++] = rank = next;
		}
		if (nranks == 1)
		{
			/* links all equally near (the common case): any of them, as an index can serve */
			rt_rank_sql(buf, nodes, node, hops, ranks[0], alias, level, kind, keyref);
			if (nmanual > 0)
				appendStringInfoChar(buf, ')');
			return;
		}
		/*
		 * (nearest links name the subject) OR (none of them is set AND the
		 * next nearest name it) OR ...; never NULL, so that NOT of it is sound.
		 */
		appendStringInfoString(buf, "COALESCE((");
		for (int r = 0; r < nranks; r++)
		{
			if (r > 0)
				appendStringInfoString(buf, " OR (");
			for (int q = 0; q < r; q++)
			{
				appendStringInfoString(buf, "NOT ");
				rt_rank_set_sql(buf, node, hops, ranks[q], alias);
				appendStringInfoString(buf, " AND ");
			}
			rt_rank_sql(buf, nodes, node, hops, ranks[r], alias, level, kind, keyref);
			appendStringInfoChar(buf, ')');
		}
		appendStringInfoString(buf, ", false)");
		if (nmanual > 0)
			appendStringInfoChar(buf, ')');
	}
}

/* Reads a name list of attribute numbers of relid. */
static List *
rt_attnames(Oid relid, Datum attnums)
{
	Datum	   *elems;
	int			n;
	List	   *names = NIL;

	deconstruct_array(DatumGetArrayTypeP(attnums), INT2OID, 2, true, TYPALIGN_SHORT,
					  &elems, NULL, &n);
	for (int i = 0; i < n; i++)
		names = lappend(names, get_attname(relid, DatumGetInt16(elems[i]), false));
	return names;
}

/* Returns true when two lists of column names (char *) are equal. */
static bool
rt_same_names(List *a, List *b)
{
	if (list_length(a) != list_length(b))
		return false;
	for (int i = 0; i < list_length(a); i++)
		if (strcmp(list_nth(a, i), list_nth(b, i)) != 0)
			return false;
	return true;
}

/* Returns the collation of column col of relid (InvalidOid for a type without collations). */
static Oid
rt_column_collation(Oid relid, const char *col)
{
	Oid			typid;
	int32		typmod;
	Oid			coll;

	get_atttypetypmodcoll(relid, get_attnum(relid, col), &typid, &typmod, &coll);
	return coll;
}

/* Returns true when an object (operator, type) is one of PostgreSQL's own, created by initdb. */
static bool
rt_builtin(Oid objid)
{
	return objid < FirstNormalObjectId;
}

/*
 * Sets the operators and collations of a foreign key's edge: the key's
 * equality operators, and the referenced columns' collations on both sides
 * of a comparison, as the foreign key itself compares (a referencing
 * column under a case-insensitive collation must not make "bob" the row of
 * "Bob" when the referenced key tells them apart).  refrel/refcols are the
 * referenced side, fkrel/fkcols the referencing side.
 */
static void
rt_edge_set_fk(RtSubjectEdge *e, Datum conpfeqop, Oid refrel, List *refcols, Oid fkrel, List *fkcols)
{
	Datum	   *ops;
	int			nops;

	deconstruct_array(DatumGetArrayTypeP(conpfeqop), OIDOID, 4, true, TYPALIGN_INT, &ops, NULL, &nops);
	for (int k = 0; k < nops; k++)
	{
		Oid			op = DatumGetObjectId(ops[k]);
		Oid			coll = rt_column_collation(refrel, list_nth(refcols, k));
		Oid			fktype = get_atttype(fkrel, get_attnum(fkrel, list_nth(fkcols, k)));

		e->ops = lappend(e->ops, rt_operator_sql(op));
		e->user_code |= !rt_builtin(op);
		e->from_colls = lappend_oid(e->from_colls, coll);
		e->to_colls = lappend_oid(e->to_colls, type_is_collatable(fktype) ? coll : InvalidOid);
	}
}

/* Adds the tables whose foreign keys reference node's table to the graph. */
static void
rt_graph_expand(List **nodes, List **queue, RtGraphNode *node)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(node->table->relid)};
	SPITupleTable *tuptable;
	uint64		n;

	/* foreign keys on the table itself or on any of its partitions */
	if (rt_spi_execute("SELECT c.conrelid, c.conkey, c.confrelid, c.confkey, c.conpfeqop"
							  " FROM pg_catalog.pg_constraint c"
							  " WHERE c.contype OPERATOR(pg_catalog.=) 'f'"
							  " AND c.conparentid OPERATOR(pg_catalog.=) 0"
							  " AND (c.confrelid OPERATOR(pg_catalog.=) $1 OR c.confrelid OPERATOR(pg_catalog.=) ANY"
							  "      (SELECT relid FROM pg_catalog.pg_partition_tree($1::pg_catalog.regclass)))"
							  " ORDER BY c.oid",
							  1, argtypes, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read foreign keys referencing relation %u", node->table->relid);
	tuptable = SPI_tuptable;
	n = SPI_processed;
	for (uint64 i = 0; i < n; i++)
	{
		HeapTuple	t = tuptable->vals[i];
		TupleDesc	d = tuptable->tupdesc;
		bool		isnull;
		Oid			conrelid = DatumGetObjectId(SPI_getbinval(t, d, 1, &isnull));
		Oid			confrelid = DatumGetObjectId(SPI_getbinval(t, d, 3, &isnull));
		Oid			owner = rt_logical_table(conrelid);
		RtSubjectEdge *e = palloc0(sizeof(RtSubjectEdge));
		RtGraphNode *target;
		ListCell   *lc;
		bool		duplicate = false;

		e->from = node->table->relid;
		e->from_cols = rt_attnames(confrelid, SPI_getbinval(t, d, 4, &isnull));
		e->to_cols = rt_attnames(conrelid, SPI_getbinval(t, d, 2, &isnull));
		if (conrelid != owner && rt_partition_key_conflicts(owner, conrelid, node->table->relid, e->to_cols))
			e->only_rels = find_all_inheritors(conrelid, NoLock, NULL);
		rt_edge_set_fk(e, SPI_getbinval(t, d, 5, &isnull), confrelid, e->from_cols, conrelid, e->to_cols);

		target = rt_graph_find(*nodes, owner);
		if (target != NULL && target->table->role != RT_SUBJECT_OWNED)
			continue;			/* back to the subject's own table, or a referenced one */
		if (target == NULL)
		{
			if (node->table->depth >= RT_SUBJECT_MAX_DEPTH)
				continue;
			target = palloc0(sizeof(RtGraphNode));
			target->table = palloc0(sizeof(RtSubjectTable));
			target->table->relid = owner;
			target->table->role = RT_SUBJECT_OWNED;
			target->table->depth = node->table->depth + 1;
			target->table->via = psprintf("%s.%s -> %s", rt_relation_name(owner),
										  quote_identifier(linitial(e->to_cols)),
										  rt_relation_name(e->from));
			*nodes = lappend(*nodes, target);
			*queue = lappend(*queue, target);
		}
		else if (node->table->depth + 1 > target->table->depth)
			target->table->depth = node->table->depth + 1;
		/* partitions of one table give the same edge: keep one */
		foreach(lc, target->edges)
		{
			RtSubjectEdge *other = lfirst(lc);

			if (other->from == e->from && rt_same_names(other->to_cols, e->to_cols))
			{
				duplicate = true;
				/* partition-only keys add up; one that covers the whole table covers all */
				if (other->only_rels != NIL && e->only_rels != NIL)
					other->only_rels = list_concat_unique_oid(other->only_rels, e->only_rels);
				else
					other->only_rels = NIL;
			}
		}
		if (duplicate)
			continue;
		target->edges = lappend(target->edges, e);
		foreach(lc, e->to_cols)
			if (!list_member(target->table->link_columns, makeString(lfirst(lc))))
				target->table->link_columns = lappend(target->table->link_columns,
													  makeString(lfirst(lc)));
	}
}

/*
 * Returns the collation a link column's comparison with the key uses: the
 * key column's own, whatever the link column's.  So a link column under a
 * case-insensitive collation never makes "bob" the row of "Bob" when the
 * key tells them apart (then both may be subjects), and a key unique under
 * a case-insensitive collation finds its rows however they are written (no
 * other subject can be equal to it).  Compared as text, a key of a type
 * without collations compares byte for byte ("C").
 */
static Oid
rt_link_collation(RtLinkCompare compare, Oid coltype, const RtSubjectKind *kind)
{
	switch (compare)
	{
		case RT_LINK_EQUAL:
		case RT_LINK_KEY_TO_COLUMN:
			return type_is_collatable(coltype) ? kind->key_coll : InvalidOid;
		case RT_LINK_COLUMN_TO_KEY:
			return kind->key_coll;
		case RT_LINK_TEXT:
			break;
	}
	return OidIsValid(kind->key_coll) ? kind->key_coll : C_COLLATION_OID;
}

/* Adds the manual links of a kind (link_subject) as edges from the subject's table. */
static void
rt_graph_add_links(List **nodes, List **queue, RtGraphNode *root, const RtSubjectKind *kind)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(kind->kind)};
	SPITupleTable *tuptable;
	uint64		n;

	rt_catalog_exec("SELECT relid::pg_catalog.oid, column_name FROM retention.subject_link_catalog"
					" WHERE kind OPERATOR(pg_catalog.=) $1 ORDER BY relid, column_name",
					1, argtypes, values, NULL, false, SPI_OK_SELECT);
	tuptable = SPI_tuptable;
	n = SPI_processed;
	for (uint64 i = 0; i < n; i++)
	{
		bool		isnull;
		Oid			relid = DatumGetObjectId(SPI_getbinval(tuptable->vals[i], tuptable->tupdesc, 1, &isnull));
		char	   *col = pstrdup(NameStr(*DatumGetName(SPI_getbinval(tuptable->vals[i], tuptable->tupdesc, 2, &isnull))));
		RtSubjectEdge *e = palloc0(sizeof(RtSubjectEdge));
		RtGraphNode *target = rt_graph_find(*nodes, relid);
		Oid			coltype = get_atttype(relid, get_attnum(relid, col));
		Oid			eq = OpernameGetOprid(list_make2(makeString("pg_catalog"), makeString("=")),
										  coltype, kind->key_type);
		Oid			colEq;
		Oid			cast_func = InvalidOid;

		if (!OidIsValid(get_rel_namespace(relid)))
			continue;			/* the table is gone */
		if (target != NULL && target->table->role != RT_SUBJECT_OWNED)
			continue;

		e->from = root->table->relid;
		e->from_cols = list_make1(kind->key);
		e->to_cols = list_make1(col);
		e->manual = true;
		e->ops = list_make1(OidIsValid(eq) ? rt_operator_sql(eq) : "");
		/*
		 * The key's own equality where the column can take it: a cast that
		 * needs no function (text to citext) cannot fail, whatever its
		 * context; a domain key is left out, its CHECK could.
		 */
		if (OidIsValid(eq))
			e->compare = RT_LINK_EQUAL;
		else if (can_coerce_type(1, &coltype, (Oid *) &kind->key_type, COERCION_IMPLICIT) ||
				 (get_typtype(kind->key_type) != TYPTYPE_DOMAIN &&
				  find_coercion_pathway(kind->key_type, coltype, COERCION_EXPLICIT, &cast_func) ==
				  COERCION_PATH_RELABELTYPE))
			e->compare = RT_LINK_COLUMN_TO_KEY;
		else if (can_coerce_type(1, (Oid *) &kind->key_type, &coltype, COERCION_IMPLICIT) &&
				 OidIsValid(colEq = OpernameGetOprid(list_make2(makeString("pg_catalog"), makeString("=")),
													 coltype, coltype)))
		{
			e->compare = RT_LINK_KEY_TO_COLUMN;
			e->col_type = format_type_be_qualified(coltype);
			e->ops = list_make1(rt_operator_sql(colEq));
			eq = colEq;
		}
		else
			e->compare = RT_LINK_TEXT;
		/* built in: the operator, and for a cast both types (a cast may call either's functions) */
		e->user_code = (OidIsValid(eq) && !rt_builtin(eq)) ||
			(e->compare != RT_LINK_EQUAL && (!rt_builtin(coltype) || !rt_builtin(kind->key_type)));
		e->from_colls = list_make1_oid(kind->key_coll);
		e->to_colls = list_make1_oid(rt_link_collation(e->compare, coltype, kind));
		if (target == NULL)
		{
			target = palloc0(sizeof(RtGraphNode));
			target->table = palloc0(sizeof(RtSubjectTable));
			target->table->relid = relid;
			target->table->role = RT_SUBJECT_OWNED;
			target->table->depth = 1;
			target->table->via = psprintf("%s.%s -> %s (link_subject)", rt_relation_name(relid),
										  quote_identifier(col), rt_relation_name(root->table->relid));
			*nodes = lappend(*nodes, target);
			*queue = lappend(*queue, target);
		}
		target->edges = lappend(target->edges, e);
		target->table->link_columns = lappend(target->table->link_columns, makeString(col));
	}
}

/* Adds the tables the subject's row references and that hold tagged columns. */
static void
rt_graph_add_referenced(List **nodes, RtGraphNode *root)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(root->table->relid)};
	SPITupleTable *tuptable;
	uint64		n;

	if (rt_spi_execute("SELECT c.confrelid, c.conkey, c.confkey, c.conpfeqop"
							  " FROM pg_catalog.pg_constraint c"
							  " WHERE c.contype OPERATOR(pg_catalog.=) 'f' AND c.conrelid OPERATOR(pg_catalog.=) $1"
							  " AND c.conparentid OPERATOR(pg_catalog.=) 0 ORDER BY c.oid",
							  1, argtypes, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read foreign keys of relation %u", root->table->relid);
	tuptable = SPI_tuptable;
	n = SPI_processed;
	for (uint64 i = 0; i < n; i++)
	{
		HeapTuple	t = tuptable->vals[i];
		TupleDesc	d = tuptable->tupdesc;
		bool		isnull;
		Oid			parent = DatumGetObjectId(SPI_getbinval(t, d, 1, &isnull));
		List	   *child_cols = rt_attnames(root->table->relid, SPI_getbinval(t, d, 2, &isnull));
		List	   *parent_cols = rt_attnames(parent, SPI_getbinval(t, d, 3, &isnull));
		RtGraphNode *node;
		RtSubjectEdge *e;

		if (rt_graph_find(*nodes, parent) != NULL || !rt_tag_any_column(parent, false, NULL, InvalidOid))
			continue;
		e = palloc0(sizeof(RtSubjectEdge));
		e->from = root->table->relid;
		e->from_cols = child_cols;
		e->to_cols = parent_cols;
		/* the referenced table is the parent here: its columns' collations, on its side ("to") */
		rt_edge_set_fk(e, SPI_getbinval(t, d, 4, &isnull), parent, parent_cols, parent, parent_cols);

		node = palloc0(sizeof(RtGraphNode));
		node->table = palloc0(sizeof(RtSubjectTable));
		node->table->relid = parent;
		node->table->role = RT_SUBJECT_REFERENCED;
		node->table->depth = 1;
		node->table->via = psprintf("%s.%s -> %s", rt_relation_name(root->table->relid),
									quote_identifier(linitial(child_cols)), rt_relation_name(parent));
		node->table->ref_columns = parent_cols;
		node->table->subject_columns = child_cols;
		node->edges = list_make1(e);
		*nodes = lappend(*nodes, node);
	}
}

/* Orders graph tables: owned ones deepest first, then the subject's table, then referenced ones. */
static int
rt_subject_table_cmp(const ListCell *a, const ListCell *b)
{
	RtSubjectTable *x = lfirst(a);
	RtSubjectTable *y = lfirst(b);
	int			rx = x->role == RT_SUBJECT_OWNED ? 0 : x->role == RT_SUBJECT_ROOT ? 1 : 2;
	int			ry = y->role == RT_SUBJECT_OWNED ? 0 : y->role == RT_SUBJECT_ROOT ? 1 : 2;

	if (rx != ry)
		return rx - ry;
	if (x->depth != y->depth)
		return y->depth - x->depth;
	return (x->relid > y->relid) - (x->relid < y->relid);
}

/*
 * Reads the catalog row of a kind (relid, key_column, key_columns, key_type)
 * into SPI_tuptable;
 * undefined_object when the kind is not declared.
 */
static void
rt_subject_catalog_row(const char *kind)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(kind)};

	/* composite keys (key_columns, key_type) came with the 0.3.0 catalog */
	rt_catalog_exec(rt_sql_objects_at_least("0.3.0") ?
					"SELECT relid::pg_catalog.oid, key_column, key_columns::pg_catalog.text[], key_type::pg_catalog.oid"
					" FROM retention.subject_catalog WHERE kind OPERATOR(pg_catalog.=) $1" :
					"SELECT relid::pg_catalog.oid, key_column, NULL::pg_catalog.text[], NULL::pg_catalog.oid"
					" FROM retention.subject_catalog WHERE kind OPERATOR(pg_catalog.=) $1",
					1, argtypes, values, NULL, false, SPI_OK_SELECT);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("data subject kind \"%s\" does not exist", kind),
				 errhint("Declare it with retention.add_subject(kind, table, key column); see retention.subjects.")));
}

/* Returns the table of kind as the catalog names it (it may have been dropped); see subject.h. */
Oid
rt_subject_kind_relid(const char *kind, Oid *composite_type)
{
	bool		isnull;
	bool		no_columns;
	Datum		type;

	rt_subject_catalog_row(kind);
	if (composite_type != NULL)
	{
		(void) SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &no_columns);
		type = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4, &isnull);
		*composite_type = no_columns || isnull ? InvalidOid : DatumGetObjectId(type);
	}
	return DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/* Returns the kind with its graph; undefined_object when it is not declared. */
RtSubjectKind *
rt_subject_kind(const char *kind)
{
	RtSubjectKind *k;
	bool		isnull;
	List	   *nodes = NIL;
	List	   *queue = NIL;
	RtGraphNode *root;
	ListCell   *lc;
	TypeCacheEntry *tc;

	rt_subject_catalog_row(kind);
	k = palloc0(sizeof(RtSubjectKind));
	k->kind = pstrdup(kind);
	k->relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	k->key = pstrdup(NameStr(*DatumGetName(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull))));
	k->key_type = get_atttype(k->relid, get_attnum(k->relid, k->key));
	if (!OidIsValid(k->key_type))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("key column %s of data subject kind \"%s\" no longer exists in table %s",
						quote_identifier(k->key), kind, rt_relation_name(k->relid))));
	k->key_coll = rt_column_collation(k->relid, k->key);
	(void) SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull);
	if (!isnull)
	{
		/* a composite key: its columns, and the row type add_subject made of them */
		ArrayType  *cols = DatumGetArrayTypeP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
		Datum	   *elems;
		int			n;

		k->key_type = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4, &isnull));
		deconstruct_array(cols, TEXTOID, -1, false, TYPALIGN_INT, &elems, NULL, &n);
		for (int i = 0; i < n; i++)
		{
			char	   *col = TextDatumGetCString(elems[i]);

			if (get_attnum(k->relid, col) == InvalidAttrNumber)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("key column %s of data subject kind \"%s\" no longer exists in table %s",
								quote_identifier(col), kind, rt_relation_name(k->relid))));
			k->key_columns = lappend(k->key_columns, col);
		}
		if (isnull || !OidIsValid(k->key_type) || !SearchSysCacheExists1(TYPEOID, ObjectIdGetDatum(k->key_type)))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("the key type of data subject kind \"%s\" no longer exists", kind),
					 errhint("Drop the kind with retention.drop_subject('%s') and declare it again.", kind)));
	}
	tc = lookup_type_cache(k->key_type, TYPECACHE_EQ_OPR);
	if (!OidIsValid(tc->eq_opr))
		elog(ERROR, "type %s has no equality operator", format_type_be(k->key_type));
	k->key_eq = rt_operator_sql(tc->eq_opr);
	k->user_code = !rt_builtin(tc->eq_opr);

	root = palloc0(sizeof(RtGraphNode));
	root->table = palloc0(sizeof(RtSubjectTable));
	root->table->relid = k->relid;
	root->table->role = RT_SUBJECT_ROOT;
	root->table->via = pstrdup("");
	if (k->key_columns != NIL)
	{
		ListCell   *kc;

		foreach(kc, k->key_columns)
			root->table->link_columns = lappend(root->table->link_columns, makeString(lfirst(kc)));
	}
	else
		root->table->link_columns = list_make1(makeString(k->key));
	nodes = list_make1(root);
	queue = list_make1(root);
	rt_graph_add_links(&nodes, &queue, root, k);
	while (queue != NIL)
	{
		RtGraphNode *node = linitial(queue);

		queue = list_delete_first(queue);
		rt_graph_expand(&nodes, &queue, node);
	}
	rt_graph_add_referenced(&nodes, root);
	k->graph = nodes;

	foreach(lc, nodes)
	{
		RtGraphNode *node = lfirst(lc);
		ListCell   *ec;

		foreach(ec, node->edges)
			k->user_code |= ((RtSubjectEdge *) lfirst(ec))->user_code;
		if (node->table->belongs == NULL)
			node->table->belongs = rt_subject_belongs(k, node->table, "t", "$1");
		k->tables = lappend(k->tables, node->table);
	}
	list_sort(k->tables, rt_subject_table_cmp);
	return k;
}

/* A kind with its graph as rt_subject_kind built it, kept for one catalog generation. */
typedef struct RtKeptKind
{
	char	   *kind;
	uint64		generation;
	MemoryContext cxt;			/* holds k and everything it points to */
	RtSubjectKind *k;
} RtKeptKind;

static List *rt_kept_kinds = NIL;	/* RtKeptKind *, in TopMemoryContext */

/* Returns the kind with its graph, kept across calls; see subject.h. */
const RtSubjectKind *
rt_subject_kind_kept(const char *kind)
{
	uint64		generation = rt_catalog_generation();
	RtKeptKind *kept = NULL;
	MemoryContext cxt;
	MemoryContext old;
	ListCell   *lc;

	foreach(lc, rt_kept_kinds)
	{
		RtKeptKind *kk = lfirst(lc);

		if (strcmp(kk->kind, kind) == 0)
			kept = kk;
	}
	if (kept != NULL && kept->generation == generation)
		return kept->k;
	if (kept != NULL)
	{
		rt_kept_kinds = list_delete_ptr(rt_kept_kinds, kept);
		MemoryContextDelete(kept->cxt);
		pfree(kept->kind);
		pfree(kept);
	}

	/* built in a context of its own; an error on the way drops it */
	cxt = AllocSetContextCreate(TopMemoryContext, "pg_retention kind of data subject",
								ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		RtSubjectKind *k = rt_subject_kind(kind);

		MemoryContextSwitchTo(TopMemoryContext);
		kept = palloc(sizeof(RtKeptKind));
		kept->kind = pstrdup(kind);
		kept->generation = generation;
		kept->cxt = cxt;
		kept->k = k;
		rt_kept_kinds = lappend(rt_kept_kinds, kept);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(old);
		MemoryContextDelete(cxt);
		PG_RE_THROW();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
	return kept->k;
}

/* Returns the membership predicate of table t on alias, with the key written as keyref. */
char *
rt_subject_belongs(const RtSubjectKind *kind, const RtSubjectTable *t, const char *alias,
				   const char *keyref)
{
	RtGraphNode *node = rt_graph_find(kind->graph, t->relid);
	StringInfoData buf;

	initStringInfo(&buf);
	if (t->role == RT_SUBJECT_REFERENCED && rt_citus_table(kind->relid, NULL) != RT_CITUS_NONE)
	{
		/*
		 * On Citus, uncorrelated: Citus plans the subquery on its own, where
		 * it refuses a reference table correlated with a distributed one and
		 * two tests of one table joined off its distribution column
		 * (docs/operations.md#citus).  A NULL reference points at nothing.
		 */
		RtGraphNode *root = linitial(kind->graph);
		RtSubjectEdge *e = linitial(node->edges);

		appendStringInfoChar(&buf, '(');
		for (int i = 0; i < list_length(e->to_cols); i++)
			appendStringInfo(&buf, "%s%s.%s", i > 0 ? ", " : "", alias, quote_identifier(list_nth(e->to_cols, i)));
		appendStringInfoString(&buf, ") IN (SELECT ");
		for (int i = 0; i < list_length(e->from_cols); i++)
			appendStringInfo(&buf, "%sr.%s", i > 0 ? ", " : "", quote_identifier(list_nth(e->from_cols, i)));
		appendStringInfo(&buf, " FROM %s r WHERE %s", rt_relation_name(root->table->relid),
						 rt_subject_belongs(kind, root->table, "r", keyref));
		for (int i = 0; i < list_length(e->from_cols); i++)
			appendStringInfo(&buf, " AND r.%s IS NOT NULL", quote_identifier(list_nth(e->from_cols, i)));
		appendStringInfoChar(&buf, ')');
		return buf.data;
	}
	if (t->role == RT_SUBJECT_REFERENCED)
	{
		/* a referenced table: its row is one the subject's row points at */
		RtGraphNode *root = linitial(kind->graph);
		char	   *own = rt_subject_belongs(kind, root->table, "r", keyref);

		appendStringInfo(&buf, "EXISTS (SELECT 1 FROM %s r WHERE ", rt_relation_name(root->table->relid));
		for (int k = 0; k < list_length(node->edges); k++)
		{
			RtSubjectEdge *e = list_nth(node->edges, k);

			for (int i = 0; i < list_length(e->from_cols); i++)
				appendStringInfo(&buf, "%s.%s%s %s r.%s AND ", alias,
								 quote_identifier(list_nth(e->to_cols, i)),
								 rt_collation_sql(list_nth_oid(e->to_colls, i)),
								 (char *) list_nth(e->ops, i),
								 quote_identifier(list_nth(e->from_cols, i)));
		}
		appendStringInfo(&buf, "%s)", own);
		return buf.data;
	}
	rt_belongs_sql(&buf, kind->graph, node, alias, 1, kind, keyref);
	return buf.data;
}

/*
 * Returns true when equal values of a key type (under coll) are equal
 * bytes with one text form: the integers, uuid, and text under a
 * deterministic collation.  Their value read from an id is the value
 * stored.
 */
static bool
rt_key_type_canonical(Oid type, Oid coll)
{
	switch (type)
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case UUIDOID:
			return true;
		case TEXTOID:
		case VARCHAROID:
			return !OidIsValid(coll) || get_collation_isdeterministic(coll);
		default:
			return false;
	}
}

/*
 * Returns the subject's key value read from text id.  The key type's input
 * (a domain's CHECK may call any function) is the subject table owner's
 * code, so it runs as that owner in a SECURITY_RESTRICTED_OPERATION, never
 * as the officer or the background worker that asks.
 *
 * When the subject's row is there, its key as stored is returned: a key
 * type whose equal values print differently (numeric 7 and 7.00, citext)
 * must give one canonical text, the one a replay reads from the table.
 */
Datum
rt_subject_key_datum(const RtSubjectKind *kind, const char *id, bool typed)
{
	Oid			infunc;
	Oid			ioparam;
	RtSavedUser saved;
	RtReaderSettings reader;
	volatile Datum key = (Datum) 0;
	Oid			types[1] = {kind->key_type};
	Datum		values[1];

	getTypeInputInfo(kind->key_type, &infunc, &ioparam);
	if (typed)
		rt_reader_settings_save(&reader);
	rt_become_table_owner(kind->relid, &saved);
	PG_TRY();
	{
		if (typed)
		{
			/* as the caller's own cast reads it: '02/01/2024' is 2 January in DateStyle DMY */
			int			nest = rt_reader_settings_begin(&reader);

			key = OidInputFunctionCall(infunc, (char *) id, ioparam, -1);
			rt_safe_settings_end(nest);
		}
		else
			key = OidInputFunctionCall(infunc, (char *) id, ioparam, -1);
		values[0] = key;
		/* where equal values are equal bytes, the value read is the value stored */
		if (!rt_key_type_canonical(kind->key_type, kind->key_coll))
		{
			if (rt_spi_execute_kept(psprintf("SELECT %s FROM %s t WHERE %s LIMIT 1",
											 rt_subject_key_sql(kind, "t"), rt_relation_name(kind->relid),
											 rt_subject_belongs(kind, rt_subject_table_for(kind, kind->relid), "t", "$1")),
									1, types, values, NULL, true, 0) != SPI_OK_SELECT)
				elog(ERROR, "could not read the key of %s", rt_relation_name(kind->relid));
			if (SPI_processed > 0)
			{
				bool		isnull;
				int16		typlen;
				bool		typbyval;

				get_typlenbyval(kind->key_type, &typlen, &typbyval);
				key = datumCopy(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull),
								typbyval, typlen);
			}
		}
	}
	PG_FINALLY();
	{
		rt_restore_user(&saved);
	}
	PG_END_TRY();
	return key;
}

/* Returns the SQL of a row's key on alias; see subject.h. */
char *
rt_subject_key_sql(const RtSubjectKind *kind, const char *alias)
{
	StringInfoData buf;
	ListCell   *lc;

	if (kind->key_columns == NIL)
		return psprintf("%s.%s", alias, quote_identifier(kind->key));
	initStringInfo(&buf);
	appendStringInfoString(&buf, "ROW(");
	foreach(lc, kind->key_columns)
		appendStringInfo(&buf, "%s%s.%s", foreach_current_index(lc) > 0 ? ", " : "", alias,
						 quote_identifier(lfirst(lc)));
	appendStringInfo(&buf, ")::%s", format_type_be_qualified(kind->key_type));
	return buf.data;
}

/*
 * Returns the canonical text of a subject's key (so that '007' and '7' are
 * one subject), printed under the engine's pinned settings: a date,
 * timestamptz, float or bytea key gives the same text, and so the same
 * token, in every session.
 */
char *
rt_subject_canonical_id(const RtSubjectKind *kind, Datum key)
{
	Oid			outfunc;
	bool		varlena;
	int			nest;
	char	   *id;

	getTypeOutputInfo(kind->key_type, &outfunc, &varlena);
	nest = rt_safe_settings_begin(0);
	id = OidOutputFunctionCall(outfunc, key);
	rt_safe_settings_end(nest);
	return id;
}

/* Returns the graph table of kind for relid (or one of its partitioned ancestors), or NULL. */
RtSubjectTable *
rt_subject_table_for(const RtSubjectKind *kind, Oid relid)
{
	Oid			logical = rt_logical_table(relid);
	ListCell   *lc;

	foreach(lc, kind->tables)
	{
		RtSubjectTable *t = lfirst(lc);

		if (t->relid == relid || t->relid == logical)
			return t;
	}
	return NULL;
}

/* Returns the names of every declared kind. */
List *
rt_subject_kind_names(void)
{
	List	   *names = NIL;

	rt_catalog_exec("SELECT kind FROM retention.subject_catalog ORDER BY kind",
					0, NULL, NULL, NULL, false, SPI_OK_SELECT);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;

		names = lappend(names, TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[i],
																 SPI_tuptable->tupdesc, 1, &isnull)));
	}
	return names;
}

/* Returns true when row-level security never applies to role (a superuser, or BYPASSRLS). */
static bool
rt_bypasses_row_security(Oid role)
{
	return superuser_arg(role) || has_bypassrls_privilege(role);
}

/* Returns the tables of kind's graph and their partitions whose row-level security binds an owner; see subject.h. */
List *
rt_subject_row_security_tables(const RtSubjectKind *kind)
{
	List	   *result = NIL;
	List	   *owners = NIL;
	List	   *candidates = NIL;
	ListCell   *lc;

	/* the owners that read the graph: as them the erasure and the access request run */
	foreach(lc, kind->tables)
	{
		ListCell   *rc;

		foreach(rc, find_all_inheritors(((RtSubjectTable *) lfirst(lc))->relid, AccessShareLock, NULL))
		{
			HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(lfirst_oid(rc)));
			Form_pg_class form;

			if (!HeapTupleIsValid(tuple))
				continue;
			form = (Form_pg_class) GETSTRUCT(tuple);
			owners = list_append_unique_oid(owners, form->relowner);
			if (form->relrowsecurity)
				candidates = list_append_unique_oid(candidates, lfirst_oid(rc));
			ReleaseSysCache(tuple);
		}
	}
	/* forced on its own owner, or applying to the owner of another table whose tests read it */
	foreach(lc, candidates)
	{
		HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(lfirst_oid(lc)));
		Form_pg_class form;
		bool		binds = false;
		ListCell   *oc;

		if (!HeapTupleIsValid(tuple))
			continue;
		form = (Form_pg_class) GETSTRUCT(tuple);
		foreach(oc, owners)
		{
			Oid			reader = lfirst_oid(oc);

			if (!rt_bypasses_row_security(reader) &&
				(reader != form->relowner || form->relforcerowsecurity))
				binds = true;
		}
		if (binds)
			result = lappend_oid(result, lfirst_oid(lc));
		ReleaseSysCache(tuple);
	}
	return result;
}

/*
 * Counts the rows of relid (ONLY relid when only) that satisfy belongs, a
 * membership test with the key (of type keytype) as $1, seeing every row:
 * as the bootstrap superuser, whom row-level security never applies to
 * (privilege.c rt_become_all_seeing).  That identity runs no code of
 * anyone's: the test is made of built-in operators only, or nothing is
 * counted (-1).
 */
int64
rt_subject_count_all_rows(const RtSubjectKind *kind, Oid relid, bool only, const char *belongs,
						  Oid keytype, Datum key)
{
	Oid			types[1] = {keytype};
	Datum		values[1] = {key};
	RtSavedUser saved;
	bool		isnull;
	int			rc;

	if (kind->user_code)
		return -1;
	rt_become_all_seeing(&saved);
	/* not read_only: a new snapshot sees what the statements before it changed */
	rc = rt_spi_execute(psprintf("SELECT pg_catalog.count(*) FROM %s%s t WHERE %s", only ? "ONLY " : "",
								 rt_relation_name(relid), belongs),
						1, types, values, NULL, false, 0);
	rt_restore_user(&saved);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not count the rows of %s", rt_relation_name(relid));
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/* Says which row-level security hides n rows of relid from its owner; see subject.h. */
char *
rt_subject_hidden_cause(List *rls_tables, Oid relid, int64 n)
{
	List	   *policies = rt_row_security_policies(relid);
	StringInfoData names;
	ListCell   *lc;

	if (policies != NIL)
		return psprintf("row-level security %s hides " INT64_FORMAT " row%s of the subject from the table owner",
						rt_describe_named("policy", policies, relid), n, n == 1 ? "" : "s");
	initStringInfo(&names);
	foreach(lc, rls_tables)
		appendStringInfo(&names, "%s%s", names.len > 0 ? ", " : "", rt_relation_name(lfirst_oid(lc)));
	return psprintf("row-level security on %s hides from the owner of %s " INT64_FORMAT " row%s of the subject"
					" (or the rows that tie them to it)",
					names.data, rt_relation_name(relid), n, n == 1 ? "" : "s");
}

/* Says why rows of the subject cannot be counted with full visibility; see subject.h. */
char *
rt_subject_uncountable_cause(List *rls_tables)
{
	StringInfoData names;
	ListCell   *lc;

	initStringInfo(&names);
	foreach(lc, rls_tables)
		appendStringInfo(&names, "%s%s", names.len > 0 ? ", " : "", rt_relation_name(lfirst_oid(lc)));
	return psprintf("row-level security on %s may hide rows of the subject from the table owner, and they"
					" cannot be counted: the subject's membership test uses an operator or cast that is not"
					" built in, which pg_retention does not run with full visibility", names.data);
}

/* Reads the kind and id arguments (0 and 1) of a request about one subject; see subject.h. */
void
rt_subject_request_args(FunctionCallInfo fcinfo, const char *what, char **kind, char **id)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("kind and id must not be null")));
	*kind = text_to_cstring(PG_GETARG_TEXT_PP(0));
	*id = text_to_cstring(PG_GETARG_TEXT_PP(1));
	rt_require_role(RT_OFFICER_ROLE, what);
}

#endif							/* RT_FUZZ_STANDALONE */
