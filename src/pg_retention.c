/*
 * pg_retention.c
 *    Entry point of the pg_retention library: _PG_init, settings (GUCs)
 *    and the registration of the security-label provider.
 *
 * The SQL functions work in any session that loads the library (CREATE
 * EXTENSION and the first call of any function load it); the background
 * workers need the library in shared_preload_libraries.
 */
#include "postgres.h"

#include <sodium.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "key.h"
#include "pg_retention.h"
#include "tag.h"

PG_MODULE_MAGIC;

/* retention.batch_size: rows a batch deletes or anonymizes, one transaction each */
int			rt_batch_size = 10000;

/* retention.lock_timeout: how long a batch waits for a lock before stepping around it */
int			rt_lock_timeout_ms = 1000;

/* retention.min_keep: shortest retention period add_policy accepts */
int			rt_min_keep_seconds = 3600;

void		_PG_init(void);

/* Defines the settings any session may use. */
static void
rt_define_session_gucs(void)
{
	DefineCustomIntVariable("retention.batch_size",
							"Rows a retention batch deletes or anonymizes in one transaction.",
							"A policy's own batch_size overrides it.",
							&rt_batch_size, 10000, 1, 1000000,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("retention.lock_timeout",
							"How long a retention batch waits for a lock before it steps around locked rows.",
							"Applied as lock_timeout to each batch; locked rows are skipped and retried by a later run.",
							&rt_lock_timeout_ms, 1000, 1, 600000,
							PGC_USERSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("retention.min_keep",
							"Shortest retention period retention.add_policy() accepts.",
							"Guards against a bare number such as '10' read as 10 seconds; only a superuser may lower it.",
							&rt_min_keep_seconds, 3600, 1, INT_MAX,
							PGC_SUSET, GUC_UNIT_S, NULL, NULL, NULL);
}

/* Library initialization: settings, label provider, libsodium. */
void
_PG_init(void)
{
	if (sodium_init() < 0)
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("could not initialize libsodium")));

	rt_define_session_gucs();
	rt_key_define_gucs();
	rt_tag_register_label_provider();

#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("retention");
#else
	EmitWarningsOnPlaceholders("retention");
#endif
}
