/*
 * mask_text.c
 *    The text masks: retention.mask_partial, mask_email, mask_phone,
 *    mask_national_id and mask_card.
 *
 * Every one counts characters, never bytes, so a multi-byte character is
 * kept or hidden whole; every one keeps the length of its input in
 * characters (so a masked value fits wherever the value did), and every
 * one is idempotent: masking a masked value changes nothing, because the
 * hiding character '*' is counted in the positions it replaced (a masked
 * phone number still has the shape that decided which digits to keep).
 * NULL in gives NULL out (the functions are STRICT).  The exact formats
 * are documented in docs/reference.md#masks-and-the-pseudonymization-key.
 *
 * A digit is any decimal digit of Unicode (general category Nd), not only
 * ASCII: a card number written in full-width digits (４１１１…), or a
 * phone number in Arabic-Indic (٠١٢٣) or Devanagari (०१२३) digits, is
 * masked exactly as its ASCII spelling would be, each digit hidden where
 * the ASCII digit of the same value would be.  Otherwise such a value
 * would come out unchanged, equal to its own mask, and an anonymize run
 * would count it as masked already (docs/reference.md#the-anonymize-action).
 * In a UTF-8 database the code point is read directly; in another server
 * encoding a non-ASCII character is converted to UTF-8 with the default
 * conversion of pg_catalog first (docs/reference.md#masks-and-the-pseudonymization-key).
 *
 * The masks proper are plain C over the bytes of a value in an encoding
 * (include/mask_text.h); the SQL functions at the end wrap them.  Under
 * RT_FUZZ_STANDALONE only the plain C part is built, for tests/fuzz.
 */
#include "postgres.h"

#include "mb/pg_wchar.h"

#include "mask_text.h"

#ifndef RT_FUZZ_STANDALONE
#include "catalog/pg_conversion.h"
#include "catalog/pg_namespace.h"
#include "fmgr.h"
#include "utils/builtins.h"

#include "compat.h"
#endif

/*
 * The first code point (digit zero) of each run of ten decimal digits of
 * Unicode 15.0, general category Nd, in order; digit d of a run is its
 * zero plus d.  Unicode keeps every Nd character in such a run of 0 to 9,
 * so these 68 numbers stand for all 680 digits.  The Mathematical digits
 * (U+1D7CE...) are five runs that touch, listed one by one.
 */
static const pg_wchar rt_digit_zeros[] = {
	0x0030, 0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6,
	0x0C66, 0x0CE6, 0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0,
	0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620,
	0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10, 0x104A0, 0x10D30, 0x11066,
	0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650, 0x116C0, 0x11730,
	0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x11F50, 0x16A60, 0x16AC0, 0x16B50,
	0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E4F0, 0x1E950,
	0x1FBF0
};

/* One character of a value: where it is, how long, and its digit value (-1 for none). */
typedef struct RtMaskChar
{
	int			off;
	int			len;
	int			digit;
} RtMaskChar;

/* Returns the value of Unicode code point cp when it is a decimal digit (Nd), or -1. */
int
rt_unicode_digit_value(pg_wchar cp)
{
	int			lo = 0;
	int			hi = lengthof(rt_digit_zeros) - 1;

	if (cp < rt_digit_zeros[0])
		return -1;
	/* the last zero not above cp */
	while (lo < hi)
	{
		int			mid = (lo + hi + 1) / 2;

		if (rt_digit_zeros[mid] <= cp)
			lo = mid;
		else
			hi = mid - 1;
	}
	return cp - rt_digit_zeros[lo] < 10 ? (int) (cp - rt_digit_zeros[lo]) : -1;
}

#ifndef RT_FUZZ_STANDALONE

/*
 * Returns the digit value of one non-ASCII character of a server encoding
 * other than UTF-8 by converting it to UTF-8 with the default conversion
 * of pg_catalog (never one a search_path could put first), or -1 when it
 * is no digit, does not convert, or the encoding has no such conversion.
 */
static int
rt_converted_char_digit(const char *s, int clen, int encoding)
{
#if RT_HAS_CONVERSION_BUF
	static int	cached_encoding = -1;
	static Oid	proc = InvalidOid;
	unsigned char src[MAX_MULTIBYTE_CHAR_LEN];
	unsigned char utf8[MAX_MULTIBYTE_CHAR_LEN * MAX_CONVERSION_GROWTH + 1];
	int			converted;

	if (encoding != cached_encoding)
	{
		proc = FindDefaultConversion(PG_CATALOG_NAMESPACE, encoding, PG_UTF8);
		cached_encoding = encoding;
	}
	if (!OidIsValid(proc) || clen > MAX_MULTIBYTE_CHAR_LEN)
		return -1;
	memcpy(src, s, clen);
	converted = pg_do_encoding_conversion_buf(proc, encoding, PG_UTF8, src, clen,
											  utf8, sizeof(utf8), true);
	if (converted != clen || utf8[0] == '\0' ||
		pg_utf_mblen(utf8) != (int) strlen((char *) utf8))
		return -1;
	return rt_unicode_digit_value(utf8_to_unicode(utf8));
#else
	return -1;
#endif
}

#endif							/* RT_FUZZ_STANDALONE */

/* Returns the digit value of the character of clen bytes at s in encoding, or -1. */
int
rt_mask_char_digit(const char *s, int clen, int encoding)
{
	unsigned char c = (unsigned char) s[0];

	if (c < 0x80)
		return c >= '0' && c <= '9' ? c - '0' : -1;
	if (encoding == PG_UTF8)
	{
		if (clen != pg_utf_mblen((const unsigned char *) s) || clen > 4)
			return -1;
		return rt_unicode_digit_value(utf8_to_unicode((const unsigned char *) s));
	}
#ifndef RT_FUZZ_STANDALONE
	if (encoding != PG_SQL_ASCII)
		return rt_converted_char_digit(s, clen, encoding);
#endif
	return -1;
}

/*
 * Splits the len bytes at s into characters of encoding (a character cut
 * short by the end of the value ends there); with digits, also reads each
 * one's digit value.  Returns the characters and sets *nchars.
 */
static RtMaskChar *
rt_mask_chars(const char *s, int len, int encoding, bool digits, int *nchars)
{
	RtMaskChar *chars = palloc(sizeof(RtMaskChar) * (len + 1));
	int			n = 0;

	for (int off = 0; off < len;)
	{
		int			clen = pg_encoding_mblen(encoding, s + off);

		if (clen < 1)
			clen = 1;
		if (clen > len - off)
			clen = len - off;
		chars[n].off = off;
		chars[n].len = clen;
		chars[n].digit = digits ? rt_mask_char_digit(s + off, clen, encoding) : -1;
		n++;
		off += clen;
	}
	*nchars = n;
	return chars;
}

/* Returns true when character c of s is the ASCII character a. */
static inline bool
rt_mask_char_is(const char *s, const RtMaskChar *c, char a)
{
	return c->len == 1 && s[c->off] == a;
}

/* Returns true for the characters the digit masks work on: decimal digits and the hiding '*'. */
static inline bool
rt_is_digit_position(const char *s, const RtMaskChar *c)
{
	return c->digit >= 0 || rt_mask_char_is(s, c, '*');
}

/* Appends character c of s to out at *o. */
static inline void
rt_mask_copy_char(char *out, int *o, const char *s, const RtMaskChar *c)
{
	memcpy(out + *o, s + c->off, c->len);
	*o += c->len;
}

/*
 * Keeps the first keep_start and the last keep_end characters and writes
 * fill for each one between them; a value of keep_start + keep_end
 * characters or fewer is replaced whole.
 */
char *
rt_mask_partial_text(const char *s, int len, int keep_start, int keep_end,
					 const char *fill, int flen, int encoding, int *outlen)
{
	int			n;
	RtMaskChar *chars = rt_mask_chars(s, len, encoding, false, &n);
	char	   *out = palloc((Size) len + (Size) n * flen + 1);
	int			o = 0;
	int			first_hidden = 0;
	int			end_hidden = n;

	if ((int64) keep_start + keep_end < n)
	{
		first_hidden = keep_start;
		end_hidden = n - keep_end;
	}
	for (int i = 0; i < n; i++)
	{
		if (i >= first_hidden && i < end_hidden)
		{
			memcpy(out + o, fill, flen);
			o += flen;
		}
		else
			rt_mask_copy_char(out, &o, s, &chars[i]);
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

/*
 * Keeps the first character of the local part (before the last '@') and
 * the whole domain, and writes '*' for every other character of the local
 * part; a one-character local part is hidden too.
 */
char *
rt_mask_email_text(const char *s, int len, int encoding, int *outlen)
{
	int			at = len;
	int			nlocal;
	RtMaskChar *chars;
	char	   *out = palloc(len + 1);
	int			o = 0;

	/* '@' is ASCII, which no server encoding uses inside a multi-byte character */
	for (int i = len - 1; i >= 0; i--)
	{
		if (s[i] == '@')
		{
			at = i;
			break;
		}
	}
	chars = rt_mask_chars(s, at, encoding, false, &nlocal);
	for (int i = 0; i < nlocal; i++)
	{
		if (i == 0 && nlocal > 1)
			rt_mask_copy_char(out, &o, s, &chars[i]);
		else
			out[o++] = '*';
	}
	memcpy(out + o, s + at, len - at);
	o += len - at;
	out[o] = '\0';
	*outlen = o;
	return out;
}

/*
 * Writes '*' for the middle digits of a phone number, keeping every other
 * character in place: of a number of 11 or more digits (after a +86 / 0086
 * country code, which is kept) the first 3 and the last 4 stay, of 7 to 10
 * digits the last 2, of fewer none.
 */
char *
rt_mask_phone_text(const char *s, int len, int encoding, int *outlen)
{
	int			n;
	RtMaskChar *c = rt_mask_chars(s, len, encoding, true, &n);
	char	   *out = palloc(len + 1);
	int			o = 0;
	int			first = 0;
	int			country = 0;
	int			positions = 0;
	int			national;
	int			keep_start;
	int			keep_end;
	int			k = 0;

	while (first < n && rt_mask_char_is(s, &c[first], ' '))
		first++;
	/* the country code in any digits: +86, or 0086 */
	if (n - first >= 3 && rt_mask_char_is(s, &c[first], '+') &&
		c[first + 1].digit == 8 && c[first + 2].digit == 6)
		country = 2;
	else if (n - first >= 4 && c[first].digit == 0 && c[first + 1].digit == 0 &&
			 c[first + 2].digit == 8 && c[first + 3].digit == 6)
		country = 4;

	for (int i = 0; i < n; i++)
		if (rt_is_digit_position(s, &c[i]))
			positions++;
	national = positions - country;
	if (national >= 11)
	{
		keep_start = 3;
		keep_end = 4;
	}
	else if (national >= 7)
	{
		keep_start = 0;
		keep_end = 2;
	}
	else
		keep_start = keep_end = 0;

	for (int i = 0; i < n; i++)
	{
		int			j;

		if (rt_is_digit_position(s, &c[i]))
		{
			j = k++ - country;
			if (j >= 0 && j >= keep_start && j < national - keep_end)
			{
				out[o++] = '*';
				continue;
			}
		}
		rt_mask_copy_char(out, &o, s, &c[i]);
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

/*
 * Masks an identity number: of an 18- or 15-character resident ID whose
 * first 6 characters are digits those 6 stay and every other character
 * becomes '*'; of anything else every character becomes '*'.  Spaces and
 * hyphens stay and do not count.
 */
char *
rt_mask_national_id_text(const char *s, int len, int encoding, int *outlen)
{
	int			n;
	RtMaskChar *c = rt_mask_chars(s, len, encoding, true, &n);
	char	   *out = palloc(len + 1);
	int			o = 0;
	int			idchars = 0;
	int			leading_digits = 0;
	bool		keep_region;
	int			q = 0;

	for (int i = 0; i < n; i++)
	{
		if (rt_mask_char_is(s, &c[i], ' ') || rt_mask_char_is(s, &c[i], '-'))
			continue;
		if (idchars == leading_digits && c[i].digit >= 0)
			leading_digits++;
		idchars++;
	}
	keep_region = (idchars == 18 || idchars == 15) && leading_digits >= 6;

	for (int i = 0; i < n; i++)
	{
		if (rt_mask_char_is(s, &c[i], ' ') || rt_mask_char_is(s, &c[i], '-') ||
			(keep_region && q++ < 6))
			rt_mask_copy_char(out, &o, s, &c[i]);
		else
			out[o++] = '*';
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

/*
 * Keeps the last 4 digits of a payment card number (12 digits or more) and
 * writes '*' for every other digit, keeping every other character; a
 * shorter number is hidden entirely.
 */
char *
rt_mask_card_text(const char *s, int len, int encoding, int *outlen)
{
	int			n;
	RtMaskChar *c = rt_mask_chars(s, len, encoding, true, &n);
	char	   *out = palloc(len + 1);
	int			o = 0;
	int			positions = 0;
	int			keep;
	int			k = 0;

	for (int i = 0; i < n; i++)
		if (rt_is_digit_position(s, &c[i]))
			positions++;
	keep = positions >= 12 ? 4 : 0;
	for (int i = 0; i < n; i++)
	{
		if (rt_is_digit_position(s, &c[i]) && k++ < positions - keep)
			out[o++] = '*';
		else
			rt_mask_copy_char(out, &o, s, &c[i]);
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

#ifndef RT_FUZZ_STANDALONE

/*
 * Returns the encoding to read a value of len bytes at s in: the
 * database's, except that in a SQL_ASCII database (bytes without a
 * declared encoding) a value that is valid UTF-8 is read as UTF-8, what
 * such databases mostly hold, so that its characters are kept or hidden
 * whole and its digits are seen.
 */
static int
rt_value_encoding(const char *s, int len)
{
	int			encoding = GetDatabaseEncoding();

	if (encoding == PG_SQL_ASCII && pg_encoding_verifymbstr(PG_UTF8, s, len) == len)
		return PG_UTF8;
	return encoding;
}

/* Returns a text of the outlen bytes at out. */
static text *
rt_text_result(const char *out, int outlen)
{
	return cstring_to_text_with_len(out, outlen);
}

PG_FUNCTION_INFO_V1(retention_mask_partial);

/*
 * SQL: retention.mask_partial(value, keep_start, keep_end, fill) keeps the
 * first keep_start and the last keep_end characters and replaces each
 * character between them by fill; a value too short to hide anything
 * while keeping that many is replaced entirely.
 */
Datum
retention_mask_partial(PG_FUNCTION_ARGS)
{
	text	   *value = PG_GETARG_TEXT_PP(0);
	int32		keep_start = PG_GETARG_INT32(1);
	int32		keep_end = PG_GETARG_INT32(2);
	text	   *fill = PG_GETARG_TEXT_PP(3);
	const char *s = VARDATA_ANY(value);
	int			len = VARSIZE_ANY_EXHDR(value);
	const char *f = VARDATA_ANY(fill);
	int			flen = VARSIZE_ANY_EXHDR(fill);
	char	   *out;
	int			outlen;

	if (keep_start < 0 || keep_end < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("keep_start and keep_end of retention.mask_partial must not be negative"),
				 errhint("They count the characters kept at the start and at the end.")));
	if (flen == 0 || pg_mbstrlen_with_len(f, flen) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("fill of retention.mask_partial must be exactly one character"),
				 errhint("Each hidden character is replaced by one fill character, so that the length is kept.")));

	out = rt_mask_partial_text(s, len, keep_start, keep_end, f, flen,
							   rt_value_encoding(s, len), &outlen);
	PG_RETURN_TEXT_P(rt_text_result(out, outlen));
}

PG_FUNCTION_INFO_V1(retention_mask_email);

/* SQL: retention.mask_email(value): see rt_mask_email_text. */
Datum
retention_mask_email(PG_FUNCTION_ARGS)
{
	text	   *value = PG_GETARG_TEXT_PP(0);
	const char *s = VARDATA_ANY(value);
	int			len = VARSIZE_ANY_EXHDR(value);
	int			outlen;
	char	   *out = rt_mask_email_text(s, len, rt_value_encoding(s, len), &outlen);

	PG_RETURN_TEXT_P(rt_text_result(out, outlen));
}

PG_FUNCTION_INFO_V1(retention_mask_phone);

/* SQL: retention.mask_phone(value): see rt_mask_phone_text. */
Datum
retention_mask_phone(PG_FUNCTION_ARGS)
{
	text	   *value = PG_GETARG_TEXT_PP(0);
	const char *s = VARDATA_ANY(value);
	int			len = VARSIZE_ANY_EXHDR(value);
	int			outlen;
	char	   *out = rt_mask_phone_text(s, len, rt_value_encoding(s, len), &outlen);

	PG_RETURN_TEXT_P(rt_text_result(out, outlen));
}

PG_FUNCTION_INFO_V1(retention_mask_national_id);

/* SQL: retention.mask_national_id(value): see rt_mask_national_id_text. */
Datum
retention_mask_national_id(PG_FUNCTION_ARGS)
{
	text	   *value = PG_GETARG_TEXT_PP(0);
	const char *s = VARDATA_ANY(value);
	int			len = VARSIZE_ANY_EXHDR(value);
	int			outlen;
	char	   *out = rt_mask_national_id_text(s, len, rt_value_encoding(s, len), &outlen);

	PG_RETURN_TEXT_P(rt_text_result(out, outlen));
}

PG_FUNCTION_INFO_V1(retention_mask_card);

/* SQL: retention.mask_card(value): see rt_mask_card_text. */
Datum
retention_mask_card(PG_FUNCTION_ARGS)
{
	text	   *value = PG_GETARG_TEXT_PP(0);
	const char *s = VARDATA_ANY(value);
	int			len = VARSIZE_ANY_EXHDR(value);
	int			outlen;
	char	   *out = rt_mask_card_text(s, len, rt_value_encoding(s, len), &outlen);

	PG_RETURN_TEXT_P(rt_text_result(out, outlen));
}

#endif							/* RT_FUZZ_STANDALONE */
