/*
 * category.c
 *    The fixed vocabulary of personal-data categories.
 *
 * The list is docs/reference.md#classification.  The sensitive flag marks the special
 * categories of personal data of GDPR art. 9 and of PIPL art. 28 /
 * GB/T 35273 ("sensitive personal information"): biometric data,
 * identification documents, financial accounts, precise location and
 * birth dates.  The default mask is the one applied by an anonymize policy
 * when a tag names none; it is chosen to keep the column's format and
 * constraints where it can (a pseudonym keeps distinct values distinct).
 * The vocabulary and its lookup are pure C, built alone by tests/fuzz
 * (RT_FUZZ_STANDALONE leaves out the rest of the file).
 */
#include "postgres.h"

#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"

#include "category.h"
#include "srf.h"

static const RtCategory rt_categories[] = {
	{"name", "pseudonym", false, "a person's name, in full or in part"},
	{"email", "email", false, "an e-mail address"},
	{"phone", "phone", false, "a telephone number"},
	{"address", "constant(***)", false, "a postal address or part of one"},
	{"postal_code", "partial(3,0)", false, "a postal code"},
	{"national_id", "national_id", true, "a national identity number, such as an 18-character resident ID"},
	{"passport", "pseudonym", true, "a passport or other travel-document number"},
	{"biometric", "null", true, "biometric data: a face image, fingerprint or voice print"},
	{"bank_account", "partial(0,4)", true, "a bank account number or IBAN"},
	{"payment_card", "card", true, "a payment card number"},
	{"ip_address", "generalize(24)", false, "an IP address"},
	{"device_id", "pseudonym", false, "a device identifier (IMEI, advertising ID, serial number)"},
	{"cookie_id", "pseudonym", false, "a cookie or session identifier"},
	{"browsing_history", "null", false, "pages visited, searches, referrers"},
	{"location", "null", true, "a precise geographic location"},
	{"birth_date", "generalize(year)", true, "a date of birth"},
	{"free_text", "null", false, "free text that may hold personal data"},
	{"other", "null", false, "personal data of no other category"},
};

#define RT_NUM_CATEGORIES lengthof(rt_categories)

/* Returns the category called name, or NULL when the vocabulary lacks it. */
const RtCategory *
rt_category_lookup(const char *name)
{
	for (size_t i = 0; i < RT_NUM_CATEGORIES; i++)
	{
		if (strcmp(rt_categories[i].name, name) == 0)
			return &rt_categories[i];
	}
	return NULL;
}

/* Returns the i-th category of the vocabulary (0-based), or NULL past its end. */
const RtCategory *
rt_category_nth(int i)
{
	return (i >= 0 && i < (int) RT_NUM_CATEGORIES) ? &rt_categories[i] : NULL;
}

#ifndef RT_FUZZ_STANDALONE

/* Returns the comma-separated list of every category name, for hints. */
const char *
rt_category_names(void)
{
	static char *names = NULL;

	if (names == NULL)
	{
		StringInfoData buf;
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		initStringInfo(&buf);
		for (size_t i = 0; i < RT_NUM_CATEGORIES; i++)
			appendStringInfo(&buf, "%s%s", i > 0 ? ", " : "", rt_categories[i].name);
		names = buf.data;
		MemoryContextSwitchTo(old);
	}
	return names;
}

PG_FUNCTION_INFO_V1(retention_category_list);

/* SQL: retention.category_list() returns the vocabulary as rows. */
Datum
retention_category_list(PG_FUNCTION_ARGS)
{
	RtSrf		srf;

	rt_srf_begin(fcinfo, &srf);
	for (size_t i = 0; i < RT_NUM_CATEGORIES; i++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		values[0] = CStringGetTextDatum(rt_categories[i].name);
		values[1] = CStringGetTextDatum(rt_categories[i].default_mask);
		values[2] = BoolGetDatum(rt_categories[i].sensitive);
		values[3] = CStringGetTextDatum(rt_categories[i].description);
		rt_srf_put(&srf, values, nulls);
	}
	return (Datum) 0;
}

#endif							/* RT_FUZZ_STANDALONE */
