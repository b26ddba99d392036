/*
 * fuzz_targets.c
 *    libFuzzer entry points for every parser of pg_retention's C code.
 *
 * Each parser is built without the server (RT_FUZZ_STANDALONE leaves the
 * server-side half of its file out; palloc and friends come from
 * fuzz_shim.c, the rest from PostgreSQL's libpgport).  scripts/fuzz compiles this file once
 * per target, choosing the target with -DRT_FUZZ_TARGET_<NAME>, and links
 * it with AddressSanitizer and UndefinedBehaviorSanitizer, so a crash, an
 * out-of-bounds access or undefined behaviour fails the run.  Besides not
 * crashing, every target checks a property of its parser (a round trip, an
 * agreement with a reference, a bound) and aborts when it does not hold.
 */
#include "postgres.h"

#include <ctype.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>

#include "pgtime.h"

#include "category.h"
#include "cutoff.h"
#include "key.h"
#include "mask.h"
#include "mask_spec.h"
#include "subject.h"
#include "tag.h"
#include "version.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Frees what the parsers allocated for one input (tests/fuzz/fuzz_shim.c). */
extern void rt_fuzz_free_all(void);

/* Aborts with a message when a property of a parser does not hold. */
static void
rt_fuzz_require(bool ok, const char *what, const char *input)
{
	if (ok)
		return;
	fprintf(stderr, "property violated: %s (input \"%s\")\n", what, input);
	abort();
}

/* Returns the fuzz input as a NUL-terminated string (it ends at its first NUL, as SQL text would). */
static char *
rt_fuzz_string(const uint8_t *data, size_t size)
{
	char	   *s = palloc(size + 1);

	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Returns true when two parsed masks are the same. */
static bool
rt_fuzz_same_spec(const RtMaskSpec *a, const RtMaskSpec *b)
{
	if (a->kind != b->kind || a->keep_start != b->keep_start || a->keep_end != b->keep_end)
		return false;
	/* partial() means its two numbers; its text may spell them otherwise (07) */
	if (a->kind == RT_MASK_PARTIAL)
		return true;
	if ((a->arg == NULL) != (b->arg == NULL))
		return false;
	return a->arg == NULL || strcmp(a->arg, b->arg) == 0;
}

/* Mask texts: a mask that parses deparses to a text that parses to the same mask. */
static void
rt_fuzz_mask(const char *text)
{
	RtMaskSpec	spec;
	RtMaskSpec	again;
	char	   *canonical;

	if (rt_mask_parse(text, &spec) != NULL)
		return;
	if (spec.kind == RT_MASK_PARTIAL)
		rt_fuzz_require(spec.keep_start >= 0 && spec.keep_start <= 1000 &&
						spec.keep_end >= 0 && spec.keep_end <= 1000, "partial() bounds", text);
	canonical = rt_mask_deparse(&spec);
	rt_fuzz_require(rt_mask_parse(canonical, &again) == NULL, "canonical text parses", text);
	rt_fuzz_require(rt_fuzz_same_spec(&spec, &again), "canonical text means the same mask", text);
	rt_fuzz_require(strcmp(rt_mask_deparse(&again), canonical) == 0, "canonical text is stable", text);
}

/* Labels: the split is exact, and a known category's default mask parses. */
static void
rt_fuzz_label(const char *label)
{
	char	   *category;
	char	   *mask;
	const RtCategory *cat;
	RtMaskSpec	spec;

	rt_tag_label_split(label, &category, &mask);
	rt_fuzz_require(strchr(category, ':') == NULL, "category holds no colon", label);
	if (mask == NULL)
		rt_fuzz_require(strcmp(category, label) == 0, "a label without mask is its category", label);
	else
	{
		size_t		n = strlen(category);

		rt_fuzz_require(strncmp(label, category, n) == 0 && label[n] == ':' &&
						strcmp(label + n + 1, mask) == 0, "category:mask is the label", label);
	}
	cat = rt_category_lookup(category);
	if (cat == NULL)
		return;
	rt_fuzz_require(strcmp(cat->name, category) == 0, "lookup finds the category named", label);
	rt_fuzz_require(rt_mask_parse(cat->default_mask, &spec) == NULL, "a default mask parses", label);
	if (mask != NULL)
		rt_fuzz_mask(mask);
}

/* Small integers: agree with strtol on the digits between the blanks. */
static void
rt_fuzz_small_int(const uint8_t *data, size_t size)
{
	int			max = size > 0 ? data[0] * 8 : 0;
	const char *s = size > 0 ? (const char *) data + 1 : "";
	size_t		len = size > 0 ? size - 1 : 0;
	char	   *copy = rt_fuzz_string((const uint8_t *) s, len);
	int			value = -1;

	if (!rt_mask_parse_small_int(s, len, max, &value))
		return;
	rt_fuzz_require(value >= 0 && value <= max, "value within 0..max", copy);
	{
		const char *p = copy;
		char	   *end;
		long		ref;

		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		rt_fuzz_require(isdigit((unsigned char) *p), "a digit after the blanks", copy);
		ref = strtol(p, &end, 10);
		while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
			end++;
		rt_fuzz_require(ref == value && (size_t) (end - copy) == len, "same as strtol", copy);
	}
}

/* Steps: only positive finite numbers. */
static void
rt_fuzz_step(const char *text)
{
	double		step;

	if (rt_mask_parse_step(text, &step))
		rt_fuzz_require(step > 0 && step < HUGE_VAL, "a positive finite step", text);
}

/* Units: accepted exactly when they are one of the units, in any case. */
static void
rt_fuzz_unit(const uint8_t *data, size_t size)
{
	static const char *const units[] = {"decade", "year", "quarter", "month", "week", "day", "hour"};
	bool		is_date = size > 0 && (data[0] & 1);
	char	   *unit = rt_fuzz_string(size > 0 ? data + 1 : data, size > 0 ? size - 1 : 0);
	bool		expected = false;

	for (size_t i = 0; i < lengthof(units); i++)
		if (strcasecmp(units[i], unit) == 0)
			expected = !(is_date && strcmp(units[i], "hour") == 0);
	rt_fuzz_require(rt_generalize_unit_valid(unit, is_date) == expected, "the units and only them", unit);
}

/* Time zone names: no POSIX offset slips through. */
static void
rt_fuzz_time_zone(const char *tz)
{
	if (!rt_time_zone_syntax_ok(tz))
		return;
	rt_fuzz_require(strlen(tz) > 0 && strlen(tz) < TZ_STRLEN_MAX, "length", tz);
	rt_fuzz_require(strchr("+-0123456789", tz[0]) == NULL, "no leading sign or digit", tz);
	rt_fuzz_require(strpbrk(tz, "+-") == NULL || strchr(tz, '/') != NULL, "a sign only in an area/city name", tz);
}

/* Key files: a key that parses is the hexadecimal text, and only that text. */
static void
rt_fuzz_key(const uint8_t *data, size_t size)
{
	unsigned char key[RT_KEY_BYTES];
	char		hex[RT_KEY_BYTES * 2 + 1];
	char	   *text = rt_fuzz_string(data, size);

	memset(key, 0xA5, sizeof(key));
	if (!rt_key_text_parse((const char *) data, size, key))
	{
		for (size_t i = 0; i < sizeof(key); i++)
			rt_fuzz_require(key[i] == 0, "a refused key leaves zeroes", text);
		return;
	}
	rt_fuzz_require(size == 64 || (size == 65 && data[64] == '\n') ||
					(size == 66 && data[64] == '\r' && data[65] == '\n'), "64 digits and a line end", text);
	sodium_bin2hex(hex, sizeof(hex), key, sizeof(key));
	rt_fuzz_require(strncasecmp(hex, (const char *) data, 64) == 0, "the key is the digits", text);
}

/* Versions: comparison is reflexive and antisymmetric. */
static void
rt_fuzz_version(const char *text)
{
	const char *bar = strchr(text, '|');
	char	   *a;
	const char *b;
	bool		valid_ab;
	bool		valid_ba;
	int			ab;
	int			ba;

	if (bar == NULL)
		return;
	a = strndup(text, bar - text);
	b = bar + 1;
	ab = rt_version_compare(a, b, &valid_ab);
	ba = rt_version_compare(b, a, &valid_ba);
	rt_fuzz_require(valid_ab == valid_ba, "validity does not depend on the order", text);
	rt_fuzz_require(!valid_ab || ab == -ba, "antisymmetric", text);
	rt_fuzz_require(!valid_ab || rt_version_compare(a, a, &valid_ba) == 0, "reflexive", text);
	free(a);
}

/* Kind names: accepted exactly when 1 to 63 bytes without a blank at either end. */
static void
rt_fuzz_kind(const char *kind)
{
	size_t		len = strlen(kind);
	bool		expected = len > 0 && len < NAMEDATALEN && !isspace((unsigned char) kind[0]) &&
		!isspace((unsigned char) kind[len - 1]);

	rt_fuzz_require(rt_subject_kind_name_ok(kind) == expected, "the rule for kind names", kind);
}

/* libFuzzer entry point: runs the target this binary was built for. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *text = rt_fuzz_string(data, size);

#if defined(RT_FUZZ_TARGET_MASK)
	rt_fuzz_mask(text);
#elif defined(RT_FUZZ_TARGET_LABEL)
	rt_fuzz_label(text);
#elif defined(RT_FUZZ_TARGET_SMALL_INT)
	rt_fuzz_small_int(data, size);
#elif defined(RT_FUZZ_TARGET_STEP)
	rt_fuzz_step(text);
#elif defined(RT_FUZZ_TARGET_UNIT)
	rt_fuzz_unit(data, size);
#elif defined(RT_FUZZ_TARGET_TIME_ZONE)
	rt_fuzz_time_zone(text);
#elif defined(RT_FUZZ_TARGET_KEY)
	rt_fuzz_key(data, size);
#elif defined(RT_FUZZ_TARGET_VERSION)
	rt_fuzz_version(text);
#elif defined(RT_FUZZ_TARGET_KIND)
	rt_fuzz_kind(text);
#else
#error "define one RT_FUZZ_TARGET_<NAME>"
#endif
	(void) text;
	rt_fuzz_free_all();
	return 0;
}
