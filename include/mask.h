/*
 * mask.h
 *    The masks of SQL-callable retention.* functions
 *    (docs/reference.md#masks-and-the-pseudonymization-key):
 *    what the anonymize engine and the declaration-time checks need to
 *    know about their output.
 */
#ifndef RT_MASK_H
#define RT_MASK_H

#include "postgres.h"

/* A pseudonym is "ps:" and 24 lowercase hexadecimal digits (96 bits). */
#define RT_PSEUDONYM_PREFIX "ps:"
#define RT_PSEUDONYM_PREFIX_LEN 3
#define RT_PSEUDONYM_HEX_LEN 24
#define RT_PSEUDONYM_LEN (RT_PSEUDONYM_PREFIX_LEN + RT_PSEUDONYM_HEX_LEN)

/* Returns true when the len bytes at s have the exact form of a pseudonym. */
extern bool rt_is_pseudonym(const char *s, int len);

/* Returns the keyed pseudonym of value in context (pseudonym.c); a pseudonym is returned as it is. */
extern struct varlena *rt_pseudonym_of(struct varlena *value, struct varlena *context);

/* Returns true when the current user may execute retention.pseudonym(text, text) (pseudonym.c). */
extern bool rt_may_call_pseudonym(void);

/*
 * Returns true when unit is a unit retention.generalize() accepts for a
 * date (is_date) or a timestamp: decade, year, quarter, month, week, day,
 * and hour for timestamps only.  Case-insensitive.
 */
extern bool rt_generalize_unit_valid(const char *unit, bool is_date);

/* The units of retention.generalize() for dates and times, for hints. */
#define RT_GENERALIZE_UNITS_HINT "Use decade, year, quarter, month, week, day or (for timestamps) hour."

/* Largest prefix length retention.generalize(inet, prefix) takes (IPv4 bits). */
#define RT_GENERALIZE_MAX_PREFIX 32

#endif							/* RT_MASK_H */
