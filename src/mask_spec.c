/*
 * mask_spec.c
 *    Parsing and declaration-time checks of mask specifications.
 *
 * A mask is declared as text (in a tag, or as a category default) and is
 * checked against its column when it is declared, so that a policy does
 * not discover at three in the morning that its mask cannot be stored:
 * the data type must fit, a null mask cannot go into a NOT NULL column,
 * and a mask that loses information cannot go into a column covered by a
 * unique index or primary key, where two masked values would collide.
 * The parser itself never raises an error, so it can be fuzzed on its own.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/index.h"
#include "catalog/pg_index.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "parser/parse_func.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/regproc.h"
#include "utils/syscache.h"

#include "mask_spec.h"

#define RT_MASK_MAX_LEN 1024
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
static bool
rt_parse_small_int(const char *s, size_t len, int max, int *out)
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
					!rt_parse_small_int(spec->arg, comma - spec->arg,
										RT_PARTIAL_MAX, &spec->keep_start) ||
					!rt_parse_small_int(comma + 1, strlen(comma + 1),
										RT_PARTIAL_MAX, &spec->keep_end))
					return "partial() takes two whole numbers from 0 to 1000: partial(KEEP_START,KEEP_END)";
				break;
			}
		case RT_MASK_GENERALIZE:
		case RT_MASK_FUNCTION:
			{
				bool		blank = true;

				for (const char *p = spec->arg; *p; p++)
					if (!rt_is_blank(*p))
						blank = false;
				if (blank)
					return "this mask needs a non-empty argument";
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

/* Returns true when a mask of this kind can make two different values equal. */
static bool
rt_mask_is_lossy(RtMaskKind kind)
{
	return kind != RT_MASK_PSEUDONYM && kind != RT_MASK_FUNCTION &&
		kind != RT_MASK_NULL;
}

/* Returns the first unique index or primary key whose key includes attnum, or InvalidOid. */
static Oid
rt_unique_index_on(Relation rel, AttrNumber attnum, bool null_collides_only)
{
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;
	Oid			found = InvalidOid;

	foreach(lc, indexes)
	{
		Oid			indexoid = lfirst_oid(lc);
		HeapTuple	tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
		Form_pg_index index;

		if (!HeapTupleIsValid(tuple))
			continue;
		index = (Form_pg_index) GETSTRUCT(tuple);
		if (index->indisunique)
		{
			bool		nulls_collide = false;

#if PG_VERSION_NUM >= 150000
			nulls_collide = index->indnullsnotdistinct;
#endif
			for (int i = 0; i < index->indnkeyatts; i++)
			{
				if (index->indkey.values[i] == attnum &&
					(!null_collides_only || nulls_collide))
					found = indexoid;
			}
		}
		ReleaseSysCache(tuple);
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

/* Context callback naming the mask whose constant is being checked. */
static void
rt_constant_error_context(void *arg)
{
	errcontext("checking the constant of mask %s", (const char *) arg);
}

/* Raises an error when the text of constant() is not a valid value of the column. */
static void
rt_check_constant(const RtMaskSpec *spec, Form_pg_attribute att, const char *masktext)
{
	ErrorContextCallback callback;
	Oid			infunc;
	Oid			ioparam;

	callback.callback = rt_constant_error_context;
	callback.arg = (void *) masktext;
	callback.previous = error_context_stack;
	error_context_stack = &callback;
	getTypeInputInfo(att->atttypid, &infunc, &ioparam);
	(void) OidInputFunctionCall(infunc, spec->arg, ioparam, att->atttypmod);
	error_context_stack = callback.previous;
}

/* Raises an error when function(SCHEMA.NAME) does not name a fitting function. */
static void
rt_check_function(const RtMaskSpec *spec, Form_pg_attribute att,
				  const char *masktext, const char *coldesc)
{
	List	   *names = stringToQualifiedNameList(spec->arg);
	Oid			argtype = att->atttypid;
	Oid			funcoid;

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
}

/* Raises an error when generalize(ARG) does not fit the column's type. */
static void
rt_check_generalize(const RtMaskSpec *spec, Oid basetype, char typcategory,
					const char *masktext, const char *coldesc)
{
	char	   *arg = spec->arg;

	if (basetype == INETOID || basetype == CIDROID)
	{
		int			prefix;

		if (!rt_parse_small_int(arg, strlen(arg), 128, &prefix))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("mask %s for %s needs a prefix length", masktext, coldesc),
					 errhint("Write generalize(N) with N from 0 to 32 for IPv4 (for example generalize(24)); IPv6 addresses keep twice as many bits.")));
		if (prefix > 32)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("prefix length %d of mask %s is larger than 32", prefix, masktext),
					 errhint("The prefix is given in IPv4 bits (0 to 32); IPv6 addresses keep twice as many bits.")));
	}
	else if (basetype == DATEOID || basetype == TIMESTAMPOID || basetype == TIMESTAMPTZOID)
	{
		static const char *const units[] = {"year", "quarter", "month", "week", "day", "hour"};
		bool		ok = false;

		for (size_t i = 0; i < lengthof(units); i++)
			if (pg_strcasecmp(units[i], arg) == 0)
				ok = true;
		if (!ok)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unit \"%s\" of mask %s is not supported", arg, masktext),
					 errhint("Use year, quarter, month, week, day or hour.")));
	}
	else if (typcategory == TYPCATEGORY_NUMERIC)
	{
		char	   *endp;
		double		step = strtod(arg, &endp);

		while (*endp && rt_is_blank(*endp))
			endp++;
		if (endp == arg || *endp != '\0' || !(step > 0))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("mask %s for %s needs a positive step", masktext, coldesc),
					 errhint("Write generalize(STEP), for example generalize(10) to round ages down to tens.")));
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("mask %s cannot be applied to %s of type %s",
						masktext, coldesc, format_type_be(basetype)),
				 errhint("generalize() applies to inet, cidr, date, timestamp, timestamptz and numeric columns.")));
}

/* Raises an error when the mask cannot be applied to column attnum of rel. */
void
rt_mask_check_column(const RtMaskSpec *spec, Relation rel, AttrNumber attnum,
					 const char *masktext)
{
	Form_pg_attribute att = TupleDescAttr(RelationGetDescr(rel), attnum - 1);
	Oid			basetype = getBaseType(att->atttypid);
	char		typcategory;
	bool		typpreferred;
	char	   *coldesc = rt_column_desc(rel, attnum);
	Oid			uniqueidx;

	get_type_category_preferred(basetype, &typcategory, &typpreferred);

	switch (spec->kind)
	{
		case RT_MASK_NULL:
			if (att->attnotnull)
				ereport(ERROR,
						(errcode(ERRCODE_NOT_NULL_VIOLATION),
						 errmsg("mask \"null\" would violate the NOT NULL constraint of %s", coldesc),
						 errhint("Choose a mask that keeps a value, such as constant(TEXT) or pseudonym.")));
			break;
		case RT_MASK_CONSTANT:
			rt_check_constant(spec, att, masktext);
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
			break;
		case RT_MASK_GENERALIZE:
			rt_check_generalize(spec, basetype, typcategory, masktext, coldesc);
			break;
		case RT_MASK_FUNCTION:
			rt_check_function(spec, att, masktext, coldesc);
			break;
	}

	uniqueidx = rt_unique_index_on(rel, attnum, spec->kind == RT_MASK_NULL);
	if (OidIsValid(uniqueidx) &&
		(rt_mask_is_lossy(spec->kind) || spec->kind == RT_MASK_NULL))
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("mask %s could give equal values in %s, which is covered by unique index %s",
						masktext, coldesc, quote_identifier(get_rel_name(uniqueidx))),
				 errhint("Use the pseudonym mask, which keeps distinct values distinct.")));
}
