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
 * are documented in docs/reference.md.
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

/* Returns the byte offset of character k (0-based) of the len bytes at s. */
static int
rt_char_offset(const char *s, int len, int k)
{
	int			off = 0;

	while (k-- > 0 && off < len)
		off += pg_mblen(s + off);
	return Min(off, len);
}

/* Returns a new text of len bytes copied from s. */
static text *
rt_text_from(const char *s, int len)
{
	return cstring_to_text_with_len(s, len);
}

/* Returns true for the ASCII characters the digit masks work on: digits and the hiding '*'. */
static inline bool
rt_is_digit_position(char c)
{
	return (c >= '0' && c <= '9') || c == '*';
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
	int			nchars;
	int			head;
	int			tail;
	int			hidden;
	StringInfoData buf;

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

	nchars = pg_mbstrlen_with_len(s, len);
	if ((int64) keep_start + keep_end >= nchars)
	{
		head = 0;
		tail = len;
		hidden = nchars;
	}
	else
	{
		head = rt_char_offset(s, len, keep_start);
		tail = rt_char_offset(s, len, nchars - keep_end);
		hidden = nchars - keep_start - keep_end;
	}

	initStringInfo(&buf);
	appendBinaryStringInfo(&buf, s, head);
	for (int i = 0; i < hidden; i++)
		appendBinaryStringInfo(&buf, f, flen);
	appendBinaryStringInfo(&buf, s + tail, len - tail);
	PG_RETURN_TEXT_P(rt_text_from(buf.data, buf.len));
}

PG_FUNCTION_INFO_V1(retention_mask_email);

/*
 * SQL: retention.mask_email(value) keeps the first character of the local
 * part and the whole domain, and hides the rest of the local part with
 * '*' (a one-character local part is hidden too).
 */
Datum
retention_mask_email(PG_FUNCTION_ARGS)
{
	text	   *value = PG_GETARG_TEXT_PP(0);
	const char *s = VARDATA_ANY(value);
	int			len = VARSIZE_ANY_EXHDR(value);
	int			at = len;
	int			nlocal;
	StringInfoData buf;

	/* '@' is ASCII, which no server encoding uses inside a multi-byte character */
	for (int i = len - 1; i >= 0; i--)
	{
		if (s[i] == '@')
		{
			at = i;
			break;
		}
	}
	nlocal = pg_mbstrlen_with_len(s, at);

	initStringInfo(&buf);
	if (nlocal == 1)
		appendStringInfoChar(&buf, '*');
	else if (nlocal > 1)
	{
		appendBinaryStringInfo(&buf, s, pg_mblen(s));
		for (int i = 1; i < nlocal; i++)
			appendStringInfoChar(&buf, '*');
	}
	appendBinaryStringInfo(&buf, s + at, len - at);
	PG_RETURN_TEXT_P(rt_text_from(buf.data, buf.len));
}

PG_FUNCTION_INFO_V1(retention_mask_phone);

/*
 * SQL: retention.mask_phone(value) hides the middle digits of a phone
 * number with '*', keeping every other character in place: of a number
 * of 11 or more digits (after a +86 / 0086 country code, which is kept)
 * the first 3 and the last 4 stay (138****1234), of 7 to 10 digits the
 * last 2, of fewer none.
 */
Datum
retention_mask_phone(PG_FUNCTION_ARGS)
{
	text	   *value = PG_GETARG_TEXT_PP(0);
	int			len = VARSIZE_ANY_EXHDR(value);
	char	   *s = pnstrdup(VARDATA_ANY(value), len);
	int			first = 0;
	int			country = 0;
	int			positions = 0;
	int			national;
	int			keep_start;
	int			keep_end;
	int			k = 0;

	while (first < len && s[first] == ' ')
		first++;
	if (len - first >= 3 && strncmp(s + first, "+86", 3) == 0)
		country = 2;
	else if (len - first >= 4 && strncmp(s + first, "0086", 4) == 0)
		country = 4;

	for (int i = 0; i < len; i++)
		if (rt_is_digit_position(s[i]))
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

	/* digits are ASCII, so replacing them in place keeps every other character intact */
	for (int i = 0; i < len; i++)
	{
		int			j;

		if (!rt_is_digit_position(s[i]))
			continue;
		j = k++ - country;
		if (j >= 0 && j >= keep_start && j < national - keep_end)
			s[i] = '*';
	}
	PG_RETURN_TEXT_P(rt_text_from(s, len));
}

PG_FUNCTION_INFO_V1(retention_mask_national_id);

/*
 * SQL: retention.mask_national_id(value) masks an identity number: of an
 * 18- or 15-character resident ID whose first 6 characters are digits
 * (the administrative division code) those 6 stay and the birth date,
 * sequence number and check character become '*'; of anything else every
 * character becomes '*'.  Spaces and hyphens stay and do not count.
 */
Datum
retention_mask_national_id(PG_FUNCTION_ARGS)
{
	text	   *value = PG_GETARG_TEXT_PP(0);
	const char *s = VARDATA_ANY(value);
	int			len = VARSIZE_ANY_EXHDR(value);
	int			idchars = 0;
	int			leading_digits = 0;
	bool		keep_region;
	int			q = 0;
	StringInfoData buf;

	for (int i = 0; i < len; i += pg_mblen(s + i))
	{
		if (s[i] == ' ' || s[i] == '-')
			continue;
		if (idchars == leading_digits && s[i] >= '0' && s[i] <= '9')
			leading_digits++;
		idchars++;
	}
	keep_region = (idchars == 18 || idchars == 15) && leading_digits >= 6;

	initStringInfo(&buf);
	for (int i = 0; i < len; i += pg_mblen(s + i))
	{
		if (s[i] == ' ' || s[i] == '-')
			appendStringInfoChar(&buf, s[i]);
		else if (keep_region && q++ < 6)
			appendStringInfoChar(&buf, s[i]);
		else
			appendStringInfoChar(&buf, '*');
	}
	PG_RETURN_TEXT_P(rt_text_from(buf.data, buf.len));
}

PG_FUNCTION_INFO_V1(retention_mask_card);

/*
 * SQL: retention.mask_card(value) keeps the last 4 digits of a payment
 * card number (12 digits or more) and replaces every other digit by '*',
 * keeping spaces and hyphens; a shorter number is hidden entirely.
 */
Datum
retention_mask_card(PG_FUNCTION_ARGS)
{
	text	   *value = PG_GETARG_TEXT_PP(0);
	int			len = VARSIZE_ANY_EXHDR(value);
	char	   *s = pnstrdup(VARDATA_ANY(value), len);
	int			positions = 0;
	int			keep;
	int			k = 0;

	for (int i = 0; i < len; i++)
		if (rt_is_digit_position(s[i]))
			positions++;
	keep = positions >= 12 ? 4 : 0;
	for (int i = 0; i < len; i++)
	{
		if (rt_is_digit_position(s[i]) && k++ < positions - keep)
			s[i] = '*';
	}
	PG_RETURN_TEXT_P(rt_text_from(s, len));
}
