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

#include "mb/pg_wchar.h"
#include "pgtime.h"

#include "category.h"
#include "cutoff.h"
#include "key.h"
#include "mask.h"
#include "mask_spec.h"
#include "mask_text.h"
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

/* Digit zeros of a few scripts the text-mask target writes digits in (full-width, Arabic-Indic, ...). */
static const pg_wchar rt_fuzz_zeros[] = {
	0x0030, 0xFF10, 0x0660, 0x06F0, 0x0966, 0x09E6, 0x0E50, 0x0F20, 0x1040, 0x17E0,
	0xABF0, 0x104A0, 0x11F50, 0x1D7CE, 0x1D7F6, 0x1E4F0, 0x1FBF0
};

/* The characters of a UTF-8 value: byte offsets, n + 1 of them (the last is the length). */
static int *
rt_fuzz_utf8_chars(const char *s, int len, int *n)
{
	int		   *offs = palloc(sizeof(int) * (len + 2));
	int			k = 0;

	for (int off = 0; off < len; off += pg_utf_mblen((const unsigned char *) s + off))
		offs[k++] = off;
	offs[k] = len;
	*n = k;
	return offs;
}

/*
 * Returns the digit value of the UTF-8 character of clen bytes at s, or -1:
 * the harness's own reading, through the table that rt_fuzz_digit_table
 * checks, so that a mask that reads digits wrongly cannot agree with it.
 */
static int
rt_fuzz_digit(const char *s, int clen)
{
	if (clen == 1)
		return s[0] >= '0' && s[0] <= '9' ? s[0] - '0' : -1;
	return rt_unicode_digit_value(utf8_to_unicode((const unsigned char *) s));
}

/* Returns s with each digit of any script written as the ASCII digit of the same value. */
static char *
rt_fuzz_ascii_spelling(const char *s, int len)
{
	char	   *out = palloc(len + 1);
	int			o = 0;
	int			n;
	int		   *offs = rt_fuzz_utf8_chars(s, len, &n);

	for (int i = 0; i < n; i++)
	{
		int			clen = offs[i + 1] - offs[i];
		int			d = rt_fuzz_digit(s + offs[i], clen);

		if (d >= 0)
			out[o++] = '0' + d;
		else
		{
			memcpy(out + o, s + offs[i], clen);
			o += clen;
		}
	}
	out[o] = '\0';
	return out;
}

/* Returns s with ASCII digits written in the script of zero: all of them, or every other one with mix. */
static char *
rt_fuzz_script_spelling(const char *s, int len, pg_wchar zero, bool mix)
{
	char	   *out = palloc(len * 4 + 1);
	int			o = 0;
	int			k = 0;

	for (int i = 0; i < len; i++)
	{
		if (s[i] >= '0' && s[i] <= '9' && (!mix || k++ % 2 == 0))
			o += pg_utf_mblen(unicode_to_utf8(zero + (s[i] - '0'), (unsigned char *) out + o));
		else
			out[o++] = s[i];
	}
	out[o] = '\0';
	return out;
}

/* Returns true when character i of a (offsets ao) and character i of b (offsets bo) are the same bytes. */
static bool
rt_fuzz_same_char(const char *a, const int *ao, const char *b, const int *bo, int i)
{
	int			alen = ao[i + 1] - ao[i];

	return alen == bo[i + 1] - bo[i] && memcmp(a + ao[i], b + bo[i], alen) == 0;
}

typedef char *(*RtFuzzTextMask) (const char *s, int len, int encoding, int *outlen);

/*
 * One digit mask on value v: it keeps the length in characters, is
 * idempotent, hides exactly the characters that it hides in the ASCII
 * spelling of v (so no digit survives that an ASCII digit in its place
 * would not), leaves the others as they were, and lets at most max_readable
 * digits through.
 */
static void
rt_fuzz_digit_mask(RtFuzzTextMask mask, const char *name, const char *v, int max_readable)
{
	int			len = strlen(v);
	char	   *ascii = rt_fuzz_ascii_spelling(v, len);
	int			mlen;
	int			alen;
	int			again_len;
	char	   *masked = mask(v, len, PG_UTF8, &mlen);
	char	   *masked_ascii = mask(ascii, strlen(ascii), PG_UTF8, &alen);
	char	   *again = mask(masked, mlen, PG_UTF8, &again_len);
	int			nv;
	int			nm;
	int			na;
	int			nma;
	int		   *vo = rt_fuzz_utf8_chars(v, len, &nv);
	int		   *mo = rt_fuzz_utf8_chars(masked, mlen, &nm);
	int		   *mao = rt_fuzz_utf8_chars(masked_ascii, alen, &nma);
	int			readable = 0;
	char		what[96];

	(void) rt_fuzz_utf8_chars(ascii, strlen(ascii), &na);
	snprintf(what, sizeof(what), "%s keeps the length in characters", name);
	rt_fuzz_require(nm == nv && nma == na && na == nv, what, v);
	snprintf(what, sizeof(what), "%s is idempotent", name);
	rt_fuzz_require(again_len == mlen && memcmp(again, masked, mlen) == 0, what, v);
	for (int i = 0; i < nv; i++)
	{
		bool		hidden = mo[i + 1] - mo[i] == 1 && masked[mo[i]] == '*';
		bool		hidden_ascii = mao[i + 1] - mao[i] == 1 && masked_ascii[mao[i]] == '*';

		snprintf(what, sizeof(what), "%s hides what it hides in the ASCII spelling", name);
		rt_fuzz_require(hidden == hidden_ascii, what, v);
		snprintf(what, sizeof(what), "%s changes only what it hides", name);
		rt_fuzz_require(hidden || rt_fuzz_same_char(masked, mo, v, vo, i), what, v);
		if (rt_fuzz_digit(masked + mo[i], mo[i + 1] - mo[i]) >= 0)
			readable++;
	}
	snprintf(what, sizeof(what), "%s lets at most %d digits through", name, max_readable);
	rt_fuzz_require(readable <= max_readable, what, v);
}

/* Characters that are neither blank nor hyphen and not hidden, for mask_national_id's bound. */
static int
rt_fuzz_id_readable(const char *masked)
{
	int			n = 0;

	for (const char *p = masked; *p; p += pg_utf_mblen((const unsigned char *) p))
		if (*p != '*' && *p != ' ' && *p != '-')
			n++;
	return n;
}

/* The other text masks: length in characters kept, idempotent. */
static void
rt_fuzz_char_mask(const char *v, int keep_start, int keep_end, const char *fill)
{
	int			len = strlen(v);
	int			n;
	int			nm;
	int			olen;
	int			again_len;
	char	   *once;
	char	   *again;

	(void) rt_fuzz_utf8_chars(v, len, &n);
	once = rt_mask_partial_text(v, len, keep_start, keep_end, fill, strlen(fill), PG_UTF8, &olen);
	again = rt_mask_partial_text(once, olen, keep_start, keep_end, fill, strlen(fill), PG_UTF8, &again_len);
	(void) rt_fuzz_utf8_chars(once, olen, &nm);
	rt_fuzz_require(nm == n, "mask_partial keeps the length in characters", v);
	rt_fuzz_require(again_len == olen && memcmp(once, again, olen) == 0, "mask_partial is idempotent", v);

	once = rt_mask_email_text(v, len, PG_UTF8, &olen);
	again = rt_mask_email_text(once, olen, PG_UTF8, &again_len);
	(void) rt_fuzz_utf8_chars(once, olen, &nm);
	rt_fuzz_require(nm == n, "mask_email keeps the length in characters", v);
	rt_fuzz_require(again_len == olen && memcmp(once, again, olen) == 0, "mask_email is idempotent", v);
}

/* Checks the table of Unicode decimal digits once: 680 digits, each in a run of ten from its zero. */
static void
rt_fuzz_digit_table(void)
{
	static bool checked = false;
	int			digits = 0;

	if (checked)
		return;
	checked = true;
	for (pg_wchar cp = 0; cp <= 0x10FFFF; cp++)
	{
		int			d = rt_unicode_digit_value(cp);

		if (d < 0)
			continue;
		digits++;
		rt_fuzz_require(d <= 9 && rt_unicode_digit_value(cp - d) == 0, "a digit is its zero plus its value", "");
	}
	rt_fuzz_require(digits == 680, "Unicode 15.0 has 680 decimal digits", "");
	rt_fuzz_require(rt_unicode_digit_value(0xFF19) == 9 && rt_unicode_digit_value(0x0663) == 3 &&
					rt_unicode_digit_value(0x0BE6) == 0 && rt_unicode_digit_value(0x1E4F9) == 9 &&
					rt_unicode_digit_value(0x00B2) == -1 && rt_unicode_digit_value(0x2460) == -1 &&
					rt_unicode_digit_value(0x4E00) == -1, "known digits and non-digits", "");
}

/*
 * Text masks: the first byte picks a script (and whether to write every
 * digit or every other one in it), the rest is a UTF-8 value; the value,
 * and the value with its ASCII digits written in that script, go through
 * every text mask.
 */
static void
rt_fuzz_text_mask(const uint8_t *data, size_t size)
{
	const char *v;
	int			len;
	char	   *variants[2];

	rt_fuzz_digit_table();
	if (size < 1)
		return;
	v = rt_fuzz_string(data + 1, size - 1);
	len = strlen(v);
	if (pg_encoding_verifymbstr(PG_UTF8, v, len) != len)
		return;					/* a stored text is valid in its encoding */
	variants[0] = (char *) v;
	variants[1] = rt_fuzz_script_spelling(v, len, rt_fuzz_zeros[(data[0] & 0x7F) % lengthof(rt_fuzz_zeros)],
										  (data[0] & 0x80) != 0);
	for (int i = 0; i < 2; i++)
	{
		char	   *x = variants[i];
		int			olen;

		rt_fuzz_digit_mask(rt_mask_card_text, "mask_card", x, 4);
		rt_fuzz_digit_mask(rt_mask_phone_text, "mask_phone", x, 4 + 7);
		rt_fuzz_digit_mask(rt_mask_national_id_text, "mask_national_id", x, 6);
		rt_fuzz_require(rt_fuzz_id_readable(rt_mask_national_id_text(x, strlen(x), PG_UTF8, &olen)) <= 6,
						"mask_national_id shows at most 6 characters", x);
		rt_fuzz_char_mask(x, data[0] % 5, data[0] % 7, (data[0] & 1) ? "＊" : "*");
	}
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
#elif defined(RT_FUZZ_TARGET_TEXT_MASK)
	rt_fuzz_text_mask(data, size);
#else
#error "define one RT_FUZZ_TARGET_<NAME>"
#endif
	(void) text;
	rt_fuzz_free_all();
	return 0;
}
