/*
 * mask_spec.h
 *    Parsing and declaration-time checking of mask specifications, the
 *    text that says how a tagged column is anonymized
 *    (docs/reference.md#masks-and-the-pseudonymization-key): null, constant(TEXT), pseudonym, pseudonym(CONTEXT),
 *    partial(KEEP_START,KEEP_END), email, phone, national_id, card,
 *    generalize(ARG), function(SCHEMA.NAME).
 */
#ifndef RT_MASK_SPEC_H
#define RT_MASK_SPEC_H

#include "postgres.h"

#include "access/attnum.h"
#include "catalog/pg_attribute.h"
#include "utils/relcache.h"

typedef enum RtMaskKind
{
	RT_MASK_NULL,
	RT_MASK_CONSTANT,
	RT_MASK_PSEUDONYM,
	RT_MASK_PARTIAL,
	RT_MASK_EMAIL,
	RT_MASK_PHONE,
	RT_MASK_NATIONAL_ID,
	RT_MASK_CARD,
	RT_MASK_GENERALIZE,
	RT_MASK_FUNCTION
} RtMaskKind;

typedef struct RtMaskSpec
{
	RtMaskKind	kind;
	char	   *arg;			/* text inside the parentheses, or NULL */
	int			keep_start;		/* partial(): characters kept at the start */
	int			keep_end;		/* partial(): characters kept at the end */
} RtMaskSpec;

/*
 * Parses text into *spec.  Returns NULL on success or a static message
 * saying what is wrong; never raises an error, so it can be fuzzed alone.
 */
extern const char *rt_mask_parse(const char *text, RtMaskSpec *spec);

/* Returns the canonical text of a parsed mask (keyword in lower case). */
extern char *rt_mask_deparse(const RtMaskSpec *spec);

/*
 * Parses the len bytes at s, blanks around them allowed, as a decimal
 * integer from 0 to max into *out; false when they are not one.
 */
extern bool rt_mask_parse_small_int(const char *s, size_t len, int max, int *out);

/* Parses the step of generalize(STEP) into *step; false unless a positive finite number. */
extern bool rt_mask_parse_step(const char *arg, double *step);

/*
 * Raises an error when the mask cannot be applied to column attnum of rel:
 * wrong data type, a pseudonym longer than a varchar(n) or char(n) holds,
 * or a mask that would break the column's NOT NULL, CHECK (those on this
 * column alone, tried with the mask's constant output or a sample
 * pseudonym), unique index or primary key (also through expression
 * indexes), or a foreign key on either side.  masktext is the text the
 * user wrote, for messages.
 */
extern void rt_mask_check_column(const RtMaskSpec *spec, Relation rel,
								 AttrNumber attnum, const char *masktext);

/* Runs rt_mask_check_column on the same-named column of every table inheriting from rel. */
extern void rt_mask_check_inheritors(const RtMaskSpec *spec, Relation rel,
									 const char *colname, const char *masktext);

/*
 * Returns the function a function(SCHEMA.NAME) mask names for a column of
 * att's type, raising an error when there is none that fits.
 */
extern Oid	rt_mask_function(const RtMaskSpec *spec, Form_pg_attribute att,
							 const char *masktext, const char *coldesc);

/* Returns the default equality operator of a type (through domains), or InvalidOid. */
extern Oid	rt_mask_equality_operator(Oid typid);

/*
 * Returns SQL comparing a and b with the equality operator of typid,
 * schema-qualified, or as text when the type has none.
 */
extern char *rt_mask_equal_sql(Oid typid, const char *a, const char *b);

#endif							/* RT_MASK_SPEC_H */
