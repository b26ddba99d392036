/*
 * mask_spec.c
 *    Parsing and declaration-time checks of mask specifications.
 *
 * A mask is declared as text (in a tag, or as a category default) and is
 * checked against its column when it is declared, so that a policy does
 * not discover at three in the morning that its mask cannot be stored:
 * the data type must fit, a null mask cannot go into a NOT NULL column,
 * and a mask that loses information cannot go into a column covered by a
 * unique index or primary key, where two masked values would collide --
 * also through an index expression or a stored generated column computed
 * from the column, which PostgreSQL computes again from the masked value.
 * The parsers (the mask itself, and the numbers and steps of its
 * arguments) never raise an error and call nothing of the server but
 * palloc, so that tests/fuzz can build them alone with RT_FUZZ_STANDALONE,
 * which leaves out the rest of the file.
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/index.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_index.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "lib/stringinfo.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/pg_list.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "parser/parse_func.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/regproc.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "compat.h"
#include "mask.h"
#include "mask_spec.h"
#include "privilege.h"
#include "quote.h"

#define RT_MASK_MAX_LEN 1024

/* a value of the form of a pseudonym, to try CHECK constraints with */
#define RT_PSEUDONYM_SAMPLE RT_PSEUDONYM_PREFIX "000000000000000000000000"
#define RT_PARTIAL_MAX 1000

typedef struct RtMaskKeyword
{
	const char *word;
	RtMaskKind	kind;
	char		arg;			/* 'n' none, 'o' optional, 'r' required */
} RtMaskKeyword;

static const RtMaskKeyword rt_mask_keywords[] = {
	{"null", RT_MASK_NULL, 'n'},
	{"constant", RT_MASK_CONSTANT, 'r'},
	{"pseudonym", RT_MASK_PSEUDONYM, 'o'},
	{"partial", RT_MASK_PARTIAL, 'r'},
	{"email", RT_MASK_EMAIL, 'n'},
	{"phone", RT_MASK_PHONE, 'n'},
	{"national_id", RT_MASK_NATIONAL_ID, 'n'},
	{"card", RT_MASK_CARD, 'n'},
	{"generalize", RT_MASK_GENERALIZE, 'r'},
	{"function", RT_MASK_FUNCTION, 'r'},
};

#define RT_MASK_HINT "A mask is one of: null, constant(TEXT), pseudonym, pseudonym(CONTEXT), partial(KEEP_START,KEEP_END), email, phone, national_id, card, generalize(ARG), function(SCHEMA.NAME)."

/* Returns true for the blanks the parser skips around a mask. */
static bool
rt_is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Parses a non-negative decimal integer no larger than max; false if s is not one. */
bool
rt_mask_parse_small_int(const char *s, size_t len, int max, int *out)
{
	int			v = 0;
	size_t		i = 0;

	while (i < len && rt_is_blank(s[i]))
		i++;
	while (len > i && rt_is_blank(s[len - 1]))
		len--;
	if (i >= len)
		return false;
	for (; i < len; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
		if (v > max)
			return false;
	}
	*out = v;
	return true;
}

/* Parses text into *spec; returns NULL on success or what is wrong. */
const char *
rt_mask_parse(const char *text, RtMaskSpec *spec)
{
	size_t		start = 0;
	size_t		end;
	size_t		wordlen = 0;
	char		word[32];
	const RtMaskKeyword *kw = NULL;

	memset(spec, 0, sizeof(*spec));
	if (text == NULL)
		return "the mask is empty";
	end = strlen(text);
	if (end > RT_MASK_MAX_LEN)
		return "the mask is longer than 1024 bytes";
	while (start < end && rt_is_blank(text[start]))
		start++;
	while (end > start && rt_is_blank(text[end - 1]))
		end--;
	if (start == end)
		return "the mask is empty";

	while (start + wordlen < end &&
		   ((text[start + wordlen] >= 'a' && text[start + wordlen] <= 'z') ||
			(text[start + wordlen] >= 'A' && text[start + wordlen] <= 'Z') ||
			text[start + wordlen] == '_'))
	{
		if (wordlen + 1 >= sizeof(word))
			return "unknown mask";
		word[wordlen] = pg_ascii_tolower((unsigned char) text[start + wordlen]);
		wordlen++;
	}
	word[wordlen] = '\0';
	for (size_t i = 0; i < lengthof(rt_mask_keywords); i++)
	{
		if (strcmp(rt_mask_keywords[i].word, word) == 0)
		{
			kw = &rt_mask_keywords[i];
			break;
		}
	}
	if (kw == NULL)
		return "unknown mask";
	spec->kind = kw->kind;

	start += wordlen;
	while (start < end && rt_is_blank(text[start]))
		start++;
	if (start == end)
	{
		if (kw->arg == 'r')
			return "this mask needs an argument in parentheses";
		return NULL;
	}
	if (text[start] != '(' || text[end - 1] != ')' || end - start < 2)
		return "expected an argument in parentheses after the mask name";
	if (kw->arg == 'n')
		return "this mask takes no argument";

	/* the argument runs from after '(' to before the final ')' */
	spec->arg = pnstrdup(text + start + 1, end - start - 2);

	switch (spec->kind)
	{
		case RT_MASK_PARTIAL:
			{
				char	   *comma = strchr(spec->arg, ',');

				if (comma == NULL ||
					!rt_mask_parse_small_int(spec->arg, comma - spec->arg,
										RT_PARTIAL_MAX, &spec->keep_start) ||
					!rt_mask_parse_small_int(comma + 1, strlen(comma + 1),
										RT_PARTIAL_MAX, &spec->keep_end))
					return "partial() takes two whole numbers from 0 to 1000: partial(KEEP_START,KEEP_END)";
				break;
			}
		case RT_MASK_GENERALIZE:
		case RT_MASK_FUNCTION:
			{
				char	   *arg = spec->arg;
				size_t		len;

				/* blanks around a unit, step or name mean nothing: drop them */
				while (rt_is_blank(*arg))
					arg++;
				len = strlen(arg);
				while (len > 0 && rt_is_blank(arg[len - 1]))
					len--;
				if (len == 0)
					return "this mask needs a non-empty argument";
				spec->arg = pnstrdup(arg, len);
				break;
			}
		case RT_MASK_PSEUDONYM:
			if (spec->arg[0] == '\0')
				return "pseudonym() needs a context; write pseudonym for the default context";
			break;
		default:
			break;
	}
	return NULL;
}

/* Returns the canonical text of a parsed mask (keyword in lower case). */
char *
rt_mask_deparse(const RtMaskSpec *spec)
{
	const char *word = NULL;

	for (size_t i = 0; i < lengthof(rt_mask_keywords); i++)
		if (rt_mask_keywords[i].kind == spec->kind)
			word = rt_mask_keywords[i].word;
	Assert(word != NULL);
	if (spec->kind == RT_MASK_PARTIAL)
		return psprintf("partial(%d,%d)", spec->keep_start, spec->keep_end);
	if (spec->arg != NULL)
		return psprintf("%s(%s)", word, spec->arg);
	return pstrdup(word);
}

/* Parses the step of generalize(STEP) for a number column; false unless a positive finite number. */
bool
rt_mask_parse_step(const char *arg, double *step)
{
	char	   *endp;

	*step = strtod(arg, &endp);
	while (*endp && rt_is_blank(*endp))
		endp++;
	return endp != arg && *endp == '\0' && *step > 0 && !isinf(*step);
}

#ifndef RT_FUZZ_STANDALONE

/* Returns true when a mask of this kind can make two different values equal. */
static bool
rt_mask_is_lossy(RtMaskKind kind)
{
	return kind != RT_MASK_PSEUDONYM && kind != RT_MASK_FUNCTION &&
		kind != RT_MASK_NULL;
}

/*
 * The columns a mask changes when it masks one column: the column itself
 * and every stored generated column computed from it (which PostgreSQL
 * computes again from the masked value), each with whether its value is
 * surely NULL once the column is NULL.
 */
typedef struct RtMaskedColumns
{
	AttrNumber	attnum;			/* the masked column */
	Bitmapset  *generated;		/* generated columns computed from it */
	Bitmapset  *nonstrict;		/* those whose expression may turn NULL into a value */
} RtMaskedColumns;

/* Collects the stored generated columns of rel computed from column attnum. */
static void
rt_masked_columns(Relation rel, AttrNumber attnum, RtMaskedColumns *cols)
{
	TupleConstr *constr = RelationGetDescr(rel)->constr;

	cols->attnum = attnum;
	cols->generated = NULL;
	cols->nonstrict = NULL;
	if (constr == NULL || !constr->has_generated_stored)
		return;
	/* the expression of a generated column is stored as its default */
	for (int i = 0; i < constr->num_defval; i++)
	{
		AttrNumber	genattnum = constr->defval[i].adnum;
		Node	   *expr;
		Bitmapset  *attrs = NULL;

		if (TupleDescAttr(RelationGetDescr(rel), genattnum - 1)->attgenerated != ATTRIBUTE_GENERATED_STORED)
			continue;
		expr = stringToNode(constr->defval[i].adbin);
		pull_varattnos(expr, 1, &attrs);
		if (!bms_is_member(attnum - FirstLowInvalidHeapAttributeNumber, attrs))
			continue;
		cols->generated = bms_add_member(cols->generated, genattnum);
		if (contain_nonstrict_functions(expr))
			cols->nonstrict = bms_add_member(cols->nonstrict, genattnum);
	}
}

/* How an index meets the masked column: through which key, and what a NULL makes of its keys. */
typedef struct RtIndexUse
{
	bool		uses;			/* some key is, or is computed from, a masked column */
	AttrNumber	via_generated;	/* the generated column it goes through, or 0 */
	bool		null_key;		/* some such key is surely NULL once the column is NULL */
	bool		nonstrict_key;	/* some such key may be a value, the same in every row */
} RtIndexUse;

/*
 * Notes in *use how one key of an index (column k, or expression expr when
 * k is 0) depends on the masked columns.
 */
static void
rt_index_key_use(const RtMaskedColumns *cols, AttrNumber k, Node *expr, RtIndexUse *use)
{
	if (k != 0)
	{
		if (k == cols->attnum)
		{
			use->uses = true;
			use->null_key = true;
		}
		else if (bms_is_member(k, cols->generated))
		{
			use->uses = true;
			if (use->via_generated == 0)
				use->via_generated = k;
			if (bms_is_member(k, cols->nonstrict))
				use->nonstrict_key = true;
			else
				use->null_key = true;
		}
		return;
	}
	{
		Bitmapset  *attrs = NULL;
		bool		nonstrict = contain_nonstrict_functions(expr);
		bool		found = false;
		int			x = -1;

		pull_varattnos(expr, 1, &attrs);
		while ((x = bms_next_member(attrs, x)) >= 0)
		{
			AttrNumber	a = x + FirstLowInvalidHeapAttributeNumber;

			if (a == cols->attnum)
				found = true;
			else if (bms_is_member(a, cols->generated))
			{
				found = true;
				if (use->via_generated == 0)
					use->via_generated = a;
				if (bms_is_member(a, cols->nonstrict))
					nonstrict = true;
			}
		}
		if (!found)
			return;
		use->uses = true;
		if (nonstrict)
			use->nonstrict_key = true;
		else
			use->null_key = true;
	}
}

/* Returns how the keys of an index (not its INCLUDE columns) meet the masked columns. */
static RtIndexUse
rt_index_use(Relation indexrel, Form_pg_index index, const RtMaskedColumns *cols)
{
	RtIndexUse	use = {false, 0, false, false};
	List	   *exprs = NIL;
	ListCell   *next;

	if (!heap_attisnull(indexrel->rd_indextuple, Anum_pg_index_indexprs, NULL))
		exprs = RelationGetIndexExpressions(indexrel);
	next = list_head(exprs);
	for (int i = 0; i < index->indnkeyatts; i++)
	{
		AttrNumber	k = index->indkey.values[i];
		Node	   *expr = NULL;

		if (k == 0 && next != NULL)
		{
			expr = (Node *) lfirst(next);
			next = lnext(exprs, next);
		}
		if (k != 0 || expr != NULL)
			rt_index_key_use(cols, k, expr, &use);
	}
	return use;
}

/*
 * Returns the first unique index, primary key or exclusion constraint of
 * rel that masking column attnum can make refuse rows, or InvalidOid; sets
 * *via_generated to the generated column (computed from attnum) its key
 * goes through, or 0.  Its keys include attnum, directly, in an expression
 * or through a stored generated column (docs/reference.md#classification).
 * With for_null (the null mask, which keeps the keys of distinct values
 * NULL and so distinct), only an index where NULLs collide (NULLS NOT
 * DISTINCT) counts, or one whose keys turn the NULL into a value that is
 * the same in every masked row (coalesce(), a CASE, a non-strict function).
 */
static Oid
rt_unique_index_on(Relation rel, AttrNumber attnum, bool for_null, AttrNumber *via_generated)
{
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;
	Oid			found = InvalidOid;
	RtMaskedColumns cols;

	rt_masked_columns(rel, attnum, &cols);
	*via_generated = 0;
	foreach(lc, indexes)
	{
		Relation	indexrel = index_open(lfirst_oid(lc), AccessShareLock);
		Form_pg_index index = indexrel->rd_index;

		/* an exclusion constraint refuses equal values as a unique index does */
		if (index->indisunique || index->indisexclusion)
		{
			RtIndexUse	use = rt_index_use(indexrel, index, &cols);
			bool		nulls_collide = index->indisunique && rt_index_nulls_not_distinct(index);

			if (use.uses &&
				(!for_null || nulls_collide || (use.nonstrict_key && !use.null_key)))
			{
				found = RelationGetRelid(indexrel);
				*via_generated = use.via_generated;
			}
		}
		index_close(indexrel, AccessShareLock);
		if (OidIsValid(found))
			break;
	}
	list_free(indexes);
	return found;
}

/* Describes the column for messages: column "c" of table "s"."t". */
static char *
rt_column_desc(Relation rel, AttrNumber attnum)
{
	return psprintf("column %s of table %s",
					quote_identifier(NameStr(TupleDescAttr(RelationGetDescr(rel), attnum - 1)->attname)),
					quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
											   RelationGetRelationName(rel)));
}

/* Context callback naming the mask being checked. */
static void
rt_constant_error_context(void *arg)
{
	errcontext("checking mask %s", (const char *) arg);
}

/* Raises an error when the text of constant() is not a valid value of the column; returns the value. */
static Datum
rt_check_constant(const RtMaskSpec *spec, Form_pg_attribute att, const char *masktext)
{
	ErrorContextCallback callback;
	Oid			infunc;
	Oid			ioparam;
	Datum		value;

	callback.callback = rt_constant_error_context;
	callback.arg = (void *) masktext;
	callback.previous = error_context_stack;
	error_context_stack = &callback;
	getTypeInputInfo(att->atttypid, &infunc, &ioparam);
	value = OidInputFunctionCall(infunc, spec->arg, ioparam, att->atttypmod);
	error_context_stack = callback.previous;
	return value;
}

/* Returns the equality operator of a type (looking through domains), or InvalidOid. */
Oid
rt_mask_equality_operator(Oid typid)
{
	TypeCacheEntry *typentry = lookup_type_cache(getBaseType(typid), TYPECACHE_EQ_OPR);

	return typentry->eq_opr;
}

/* Returns SQL comparing a and b with the equality operator of typid (as text when it has none). */
char *
rt_mask_equal_sql(Oid typid, const char *a, const char *b)
{
	Oid			eq = rt_mask_equality_operator(typid);

	if (OidIsValid(eq))
		return psprintf("%s %s %s", a, rt_operator_sql(eq), b);
	return psprintf("(%s)::pg_catalog.text OPERATOR(pg_catalog.=) (%s)::pg_catalog.text", a, b);
}

/* Raises an error when function(SCHEMA.NAME) does not name a fitting function; returns it. */
Oid
rt_mask_function(const RtMaskSpec *spec, Form_pg_attribute att,
				 const char *masktext, const char *coldesc)
{
	List	   *names;
	Oid			argtype = att->atttypid;
	Oid			funcoid;
	ErrorContextCallback callback;

	/* a malformed name is the parser's error; say which mask it came from */
	callback.callback = rt_constant_error_context;
	callback.arg = (void *) masktext;
	callback.previous = error_context_stack;
	error_context_stack = &callback;
	names = rt_qualified_name_list(spec->arg);
	error_context_stack = callback.previous;

	if (list_length(names) != 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("mask %s must name its function with a schema", masktext),
				 errhint("Write function(SCHEMA.NAME), for example function(public.mask_note).")));
	funcoid = LookupFuncName(names, 1, &argtype, true);
	if (!OidIsValid(funcoid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("function %s(%s) for mask %s does not exist",
						NameListToQuotedString(names), format_type_be(argtype), masktext),
				 errhint("A mask function takes one argument of the column's type and returns that type.")));
	if (get_func_rettype(funcoid) != att->atttypid)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("function %s returns %s, but %s is of type %s",
						format_procedure(funcoid), format_type_be(get_func_rettype(funcoid)),
						coldesc, format_type_be(att->atttypid)),
				 errhint("A mask function returns the type of the column it masks.")));
	if (get_func_retset(funcoid))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("function %s returns a set and cannot be a mask", format_procedure(funcoid))));
	if (get_func_prokind(funcoid) != PROKIND_FUNCTION)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s is not a plain function and cannot be a mask", format_procedure(funcoid)),
				 errhint("Aggregates, window functions and procedures cannot mask a value; write a function of one argument.")));
	return funcoid;
}

/* Raises an error when generalize(ARG) does not fit the column's type. */
static void
rt_check_generalize(const RtMaskSpec *spec, Oid basetype, char typcategory, int32 typmod,
					const char *masktext, const char *coldesc)
{
	char	   *arg = spec->arg;

	if (basetype == INETOID || basetype == CIDROID)
	{
		int			prefix;

		if (!rt_mask_parse_small_int(arg, strlen(arg), 128, &prefix))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("mask %s for %s needs a prefix length", masktext, coldesc),
					 errhint("Write generalize(N) with N from 0 to 32 IPv4 bits (for example generalize(24)); IPv6 addresses keep 2*N bits.")));
		if (prefix > RT_GENERALIZE_MAX_PREFIX)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("prefix length %d of mask %s is larger than 32", prefix, masktext),
					 errhint("The prefix is given in IPv4 bits (0 to 32); IPv6 addresses keep 2*N bits, so 24 keeps a /48.")));
	}
	else if (basetype == DATEOID || basetype == TIMESTAMPOID || basetype == TIMESTAMPTZOID)
	{
		char	   *unit = pstrdup(arg);
		size_t		len = strlen(unit);

		while (len > 0 && rt_is_blank(unit[len - 1]))
			unit[--len] = '\0';
		while (rt_is_blank(*unit))
			unit++;
		if (!rt_generalize_unit_valid(unit, basetype == DATEOID))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unit \"%s\" of mask %s is not supported for %s", arg, masktext, coldesc),
					 errhint(RT_GENERALIZE_UNITS_HINT)));
	}
	else if (typcategory == TYPCATEGORY_NUMERIC)
	{
		double		step;

		if (!rt_mask_parse_step(arg, &step))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("mask %s for %s needs a positive step", masktext, coldesc),
					 errhint("Write generalize(STEP), for example generalize(10) to round ages down to tens.")));
		if ((basetype == INT2OID || basetype == INT4OID || basetype == INT8OID) &&
			step != floor(step))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("step of mask %s for integer %s must be a whole number", masktext, coldesc),
					 errhint("An integer column holds only whole multiples; write for example generalize(5).")));
		if (basetype == NUMERICOID && typmod >= (int32) VARHDRSZ)
		{
			int			scale = rt_numeric_typmod_scale(typmod);
			double		units = step * pow(10.0, scale);

			/* numeric(p,s) rounds a multiple the column cannot hold: the mask would change nothing, or not stay put */
			if (fabs(units - rint(units)) > 1e-9 * Max(1.0, fabs(units)))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("step of mask %s is finer than %s, which keeps %d decimal digit%s", masktext, coldesc,
								scale, scale == 1 ? "" : "s"),
						 errdetail("The column rounds every multiple of the step it cannot hold back to its own scale: the value would come out as it went in."),
						 errhint("Choose a step that is a multiple of %s, for example generalize(1).",
								 scale > 0 ? psprintf("0.%0*d", scale, 1) : "1")));
		}
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("mask %s cannot be applied to %s of type %s",
						masktext, coldesc, format_type_be(basetype)),
				 errhint("generalize() applies to inet, cidr, date, timestamp, timestamptz and numeric columns.")));
}

/* Context of rt_replace_var: the column replaced and its constant. */
typedef struct RtReplaceVar
{
	AttrNumber	attnum;
	Const	   *value;
} RtReplaceVar;

/* Expression mutator: replaces references to one column by a constant. */
static Node *
rt_replace_var(Node *node, void *context)
{
	RtReplaceVar *ctx = (RtReplaceVar *) context;

	if (node == NULL)
		return NULL;
	if (IsA(node, Var) && ((Var *) node)->varattno == ctx->attnum &&
		((Var *) node)->varlevelsup == 0)
		return (Node *) copyObject(ctx->value);
	return expression_tree_mutator(node, rt_replace_var, context);
}

/* Returns true when a CHECK expression holds (is true or NULL) with the column set to value. */
static bool
rt_check_holds(Node *expr, AttrNumber attnum, Const *value)
{
	RtReplaceVar ctx = {attnum, value};
	EState	   *estate = CreateExecutorState();
	ExprState  *state;
	Datum		result;
	bool		isnull;

	expr = rt_replace_var(expr, &ctx);
	state = ExecPrepareExpr((Expr *) expr, estate);
	result = ExecEvalExprSwitchContext(state, GetPerTupleExprContext(estate), &isnull);
	FreeExecutorState(estate);
	return isnull || DatumGetBool(result);
}

/*
 * Raises an error when value (the one output of a null or constant mask,
 * or a sample pseudonym) fails a CHECK constraint that involves only
 * column attnum.  CHECKs over several columns are left to run time, where
 * a failing batch rolls back whole.
 */
static void
rt_check_constraints(Relation rel, AttrNumber attnum, Const *value,
					 const char *masktext, const char *coldesc, bool sample)
{
	TupleConstr *constr = RelationGetDescr(rel)->constr;

	if (constr == NULL)
		return;
	for (int i = 0; i < constr->num_check; i++)
	{
		ConstrCheck *check = &constr->check[i];
		Node	   *expr = stringToNode(check->ccbin);
		Bitmapset  *attrs = NULL;

		pull_varattnos(expr, 1, &attrs);
		if (bms_num_members(attrs) != 1 ||
			!bms_is_member(attnum - FirstLowInvalidHeapAttributeNumber, attrs))
			continue;
		if (!rt_check_holds(expr, attnum, value))
			ereport(ERROR,
					(errcode(ERRCODE_CHECK_VIOLATION),
					 errmsg("mask %s would violate check constraint %s of %s",
							masktext, quote_identifier(check->ccname), coldesc),
					 sample ?
					 errdetail("A value of the form the mask produces, %s, fails the check.",
							   RT_PSEUDONYM_SAMPLE) :
					 errdetail("The mask writes the same value into every row, and that value fails the check."),
					 errhint("Choose a mask whose output the constraint accepts, or change the constraint.")));
	}
}

/* Returns a Const of the column's type holding value (or NULL). */
static Const *
rt_column_const(Form_pg_attribute att, Datum value, bool isnull)
{
	return makeConst(att->atttypid, att->atttypmod, att->attcollation, att->attlen,
					 value, isnull, att->attbyval);
}

/* Raises an error when a mask would break a foreign key on either side of the column. */
static void
rt_check_foreign_keys(const RtMaskSpec *spec, Relation rel, AttrNumber attnum,
					  const char *masktext, const char *coldesc)
{
	List	   *fkeys = RelationGetFKeyList(rel);
	ListCell   *lc;
	Relation	conrel;
	SysScanDesc scan;
	HeapTuple	tuple;

	/* referencing side: only NULL keeps the reference valid */
	foreach(lc, fkeys)
	{
		ForeignKeyCacheInfo *fk = lfirst(lc);

		for (int i = 0; i < fk->nkeys; i++)
			if (fk->conkey[i] == attnum && spec->kind != RT_MASK_NULL)
				ereport(ERROR,
						(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
						 errmsg("mask %s would break foreign key constraint %s of %s",
								masktext, quote_identifier(get_constraint_name(fk->conoid)), coldesc),
						 errdetail("A masked value no longer matches a row of the referenced table."),
						 errhint("Mask the personal columns of the referenced table instead, or use the null mask on a nullable column.")));
	}

	/* referenced side: a changed key is refused unless the change cascades */
	conrel = table_open(ConstraintRelationId, AccessShareLock);
	scan = systable_beginscan(conrel, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tuple);
		bool		isnull;
		Datum		confkey;
		Datum	   *keys;
		int			nkeys;

		if (con->contype != CONSTRAINT_FOREIGN || con->confrelid != RelationGetRelid(rel) ||
			con->confupdtype == FKCONSTR_ACTION_CASCADE)
			continue;
		confkey = heap_getattr(tuple, Anum_pg_constraint_confkey, RelationGetDescr(conrel), &isnull);
		if (isnull)
			continue;
		deconstruct_array(DatumGetArrayTypeP(confkey), INT2OID, 2, true, TYPALIGN_SHORT,
						  &keys, NULL, &nkeys);
		for (int i = 0; i < nkeys; i++)
			if (DatumGetInt16(keys[i]) == attnum)
				ereport(ERROR,
						(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
						 errmsg("mask %s would break foreign key constraint %s of table %s, which references %s",
								masktext, quote_identifier(NameStr(con->conname)),
								quote_qualified_identifier(get_namespace_name(get_rel_namespace(con->conrelid)),
														   get_rel_name(con->conrelid)),
								coldesc),
						 errdetail("Rows of that table would keep pointing at the old value."),
						 errhint("Declare the foreign key ON UPDATE CASCADE, or mask another column.")));
	}
	systable_endscan(scan);
	table_close(conrel, AccessShareLock);
}

/* Returns the declared length limit of a varchar(n) or char(n) column (through domains), or -1. */
static int
rt_column_max_length(Form_pg_attribute att)
{
	int32		typmod = att->atttypmod;
	Oid			basetype = getBaseTypeAndTypmod(att->atttypid, &typmod);

	if ((basetype == VARCHAROID || basetype == BPCHAROID) && typmod >= (int32) VARHDRSZ)
		return typmod - VARHDRSZ;
	return -1;
}

/* Raises an error when the mask cannot be applied to column attnum of rel (run as rel's owner). */
static void
rt_mask_check_column_as_owner(const RtMaskSpec *spec, Relation rel, AttrNumber attnum,
							  const char *masktext)
{
	Form_pg_attribute att = TupleDescAttr(RelationGetDescr(rel), attnum - 1);
	Oid			basetype = getBaseType(att->atttypid);
	char		typcategory;
	bool		typpreferred;
	char	   *coldesc = rt_column_desc(rel, attnum);
	Oid			uniqueidx;
	int			maxlen;

	get_type_category_preferred(basetype, &typcategory, &typpreferred);

	switch (spec->kind)
	{
		case RT_MASK_NULL:
			if (att->attnotnull)
				ereport(ERROR,
						(errcode(ERRCODE_NOT_NULL_VIOLATION),
						 errmsg("mask \"null\" would violate the NOT NULL constraint of %s", coldesc),
						 errhint("Choose a mask that keeps a value, such as constant(TEXT) or pseudonym.")));
			if (get_typtype(att->atttypid) == TYPTYPE_DOMAIN)
			{
				ErrorContextCallback callback;

				callback.callback = rt_constant_error_context;
				callback.arg = (void *) masktext;
				callback.previous = error_context_stack;
				error_context_stack = &callback;
				domain_check((Datum) 0, true, att->atttypid, NULL, NULL);
				error_context_stack = callback.previous;
			}
			rt_check_constraints(rel, attnum, rt_column_const(att, (Datum) 0, true),
								 masktext, coldesc, false);
			break;
		case RT_MASK_CONSTANT:
			rt_check_constraints(rel, attnum,
								 rt_column_const(att, rt_check_constant(spec, att, masktext), false),
								 masktext, coldesc, false);
			break;
		case RT_MASK_PSEUDONYM:
		case RT_MASK_PARTIAL:
		case RT_MASK_EMAIL:
		case RT_MASK_PHONE:
		case RT_MASK_NATIONAL_ID:
		case RT_MASK_CARD:
			if (typcategory != TYPCATEGORY_STRING)
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("mask %s cannot be applied to %s of type %s",
								masktext, coldesc, format_type_be(att->atttypid)),
						 errhint("This mask works on text columns; for other types use null, constant(TEXT), generalize(ARG) or function(SCHEMA.NAME).")));
			maxlen = rt_column_max_length(att);
			if (spec->kind == RT_MASK_PSEUDONYM && maxlen >= 0 && maxlen < RT_PSEUDONYM_LEN)
				ereport(ERROR,
						(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
						 errmsg("mask %s writes %d characters, more than %s of type %s holds",
								masktext, RT_PSEUDONYM_LEN, coldesc,
								format_type_with_typemod(att->atttypid, att->atttypmod)),
						 errhint("Widen the column, or choose a mask that keeps the length, such as partial(KEEP_START,KEEP_END).")));
			if (spec->kind == RT_MASK_PSEUDONYM)
			{
				Oid			infunc;
				Oid			ioparam;

				getTypeInputInfo(att->atttypid, &infunc, &ioparam);
				rt_check_constraints(rel, attnum,
									 rt_column_const(att,
													 OidInputFunctionCall(infunc, RT_PSEUDONYM_SAMPLE,
																		  ioparam, att->atttypmod),
													 false),
									 masktext, coldesc, true);
			}
			break;
		case RT_MASK_GENERALIZE:
			rt_check_generalize(spec, basetype, typcategory, basetype == att->atttypid ? att->atttypmod : -1,
								masktext, coldesc);
			break;
		case RT_MASK_FUNCTION:
			(void) rt_mask_function(spec, att, masktext, coldesc);
			if (!OidIsValid(rt_mask_equality_operator(att->atttypid)))
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_FUNCTION),
						 errmsg("mask %s cannot be applied to %s: type %s has no equality operator",
								masktext, coldesc, format_type_be(att->atttypid)),
						 errhint("A run compares each value with its mask to skip rows already anonymized, which needs a default btree or hash operator class.")));
			break;
	}

	if (rt_mask_is_lossy(spec->kind) || spec->kind == RT_MASK_NULL)
	{
		AttrNumber	via_generated;

		uniqueidx = rt_unique_index_on(rel, attnum, spec->kind == RT_MASK_NULL, &via_generated);
		if (OidIsValid(uniqueidx) && via_generated == 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNIQUE_VIOLATION),
					 errmsg("mask %s could give equal values in %s, which is covered by unique index %s",
							masktext, coldesc, quote_identifier(get_rel_name(uniqueidx))),
					 errhint("Use the pseudonym mask, which keeps distinct values distinct.")));
		if (OidIsValid(uniqueidx))
			ereport(ERROR,
					(errcode(ERRCODE_UNIQUE_VIOLATION),
					 errmsg("mask %s could give equal values in generated column %s, computed from %s, which is covered by unique index %s",
							masktext,
							quote_identifier(NameStr(TupleDescAttr(RelationGetDescr(rel), via_generated - 1)->attname)),
							coldesc, quote_identifier(get_rel_name(uniqueidx))),
					 errdetail("PostgreSQL computes the generated column again from the masked value, so every masked row would collide in that index and every batch would fail."),
					 errhint("Use the pseudonym mask, which keeps distinct values distinct.")));
	}

	rt_check_foreign_keys(spec, rel, attnum, masktext, coldesc);
}

/*
 * Raises an error when the mask cannot be applied to column attnum of rel.
 * The checks evaluate the table owner's code (domain CHECKs, type input
 * functions, CHECK constraints), so they run as that owner in a
 * SECURITY_RESTRICTED_OPERATION, as CREATE INDEX does with its expressions:
 * a superuser running DDL on the table must not run that code as itself.
 */
void
rt_mask_check_column(const RtMaskSpec *spec, Relation rel, AttrNumber attnum,
					 const char *masktext)
{
	RtSavedUser saved;

	rt_become_table_owner(RelationGetRelid(rel), &saved);
	PG_TRY();
	{
		rt_mask_check_column_as_owner(spec, rel, attnum, masktext);
	}
	PG_FINALLY();
	{
		rt_restore_user(&saved);
	}
	PG_END_TRY();
}

/*
 * Checks the mask of column colname of a partitioned (or inheritance)
 * table against each table below it, whose own indexes and constraints
 * may refuse what the parent accepts.
 */
void
rt_mask_check_inheritors(const RtMaskSpec *spec, Relation rel, const char *colname,
						 const char *masktext)
{
	List	   *relids = find_all_inheritors(RelationGetRelid(rel), AccessShareLock, NULL);
	ListCell   *lc;

	foreach(lc, relids)
	{
		Oid			relid = lfirst_oid(lc);
		Relation	child;
		AttrNumber	attnum;

		if (relid == RelationGetRelid(rel))
			continue;
		child = relation_open(relid, NoLock);
		attnum = get_attnum(relid, colname);
		if (attnum > 0)
			rt_mask_check_column(spec, child, attnum, masktext);
		relation_close(child, NoLock);
	}
}

#endif							/* RT_FUZZ_STANDALONE */
