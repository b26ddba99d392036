/*
 * mask_text.h
 *    The text masks (docs/reference.md#masks-and-the-pseudonymization-key):
 *    mask_partial, mask_email, mask_phone, mask_national_id and mask_card
 *    as plain C over the bytes of a value in a given encoding, and the
 *    decimal digits they recognize.  Everything here calls nothing of the
 *    server but palloc and the encoding tables of src/common, so that
 *    tests/fuzz can build it alone (RT_FUZZ_STANDALONE) for UTF-8.
 */
#ifndef RT_MASK_TEXT_H
#define RT_MASK_TEXT_H

#include "postgres.h"

#include "mb/pg_wchar.h"

/*
 * Returns the value (0 to 9) of Unicode code point cp when it is a decimal
 * digit (general category Nd of Unicode 15.0: ASCII, full-width,
 * Arabic-Indic, Devanagari, Thai ... 68 scripts), or -1.
 */
extern int	rt_unicode_digit_value(pg_wchar cp);

/*
 * Returns the value (0 to 9) of the character of clen bytes at s, a
 * character of encoding, when it is a decimal digit, or -1.  In UTF-8 every
 * Unicode decimal digit counts; in another server encoding (not in the
 * standalone build) a non-ASCII character counts when its default
 * conversion to UTF-8 is one such digit.
 */
extern int	rt_mask_char_digit(const char *s, int clen, int encoding);

/*
 * The masks themselves: each returns a new palloc'd value for the len bytes
 * at s (a valid string of encoding) and sets *outlen to its length in
 * bytes.  mask_partial takes one fill character of flen bytes; its
 * arguments are checked by its SQL function.
 */
extern char *rt_mask_partial_text(const char *s, int len, int keep_start, int keep_end,
								  const char *fill, int flen, int encoding, int *outlen);
extern char *rt_mask_email_text(const char *s, int len, int encoding, int *outlen);
extern char *rt_mask_phone_text(const char *s, int len, int encoding, int *outlen);
extern char *rt_mask_national_id_text(const char *s, int len, int encoding, int *outlen);
extern char *rt_mask_card_text(const char *s, int len, int encoding, int *outlen);

#endif							/* RT_MASK_TEXT_H */
