/*
 * category.h
 *    The fixed vocabulary of personal-data categories (docs/reference.md#classification):
 *    each category's default mask and whether it is sensitive.
 */
#ifndef RT_CATEGORY_H
#define RT_CATEGORY_H

#include "postgres.h"

typedef struct RtCategory
{
	const char *name;			/* category name, lower case */
	const char *default_mask;	/* mask used when a tag names none */
	bool		sensitive;		/* special category of personal data */
	const char *description;	/* one line for the reference view */
} RtCategory;

/* Returns the category called name, or NULL when the vocabulary lacks it. */
extern const RtCategory *rt_category_lookup(const char *name);

/* Returns the comma-separated list of every category name, for hints. */
extern const char *rt_category_names(void);

/* Returns the i-th category of the vocabulary (0-based), or NULL past its end. */
extern const RtCategory *rt_category_nth(int i);

#endif							/* RT_CATEGORY_H */
