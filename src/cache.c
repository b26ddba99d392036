/*
 * cache.c
 *    What the engine keeps across calls (see cache.h): SPI plans by their
 *    SQL text, and the catalog generation that tells when what was built
 *    from the catalogs must be built again.
 *
 * An erasure runs the same few statements for every subject of a kind,
 * the subject's key a parameter: parsing and planning each of them again,
 * and asking the catalogs again for the graph, the foreign keys and the
 * tags, cost several times the statements themselves
 * (docs/benchmarks.md, erasures).  Plans are kept per backend, keyed by
 * their text and argument types (at most RT_KEPT_PLANS_MAX; beyond, all are
 * dropped and kept again as they are used).  PostgreSQL's plan cache takes
 * care of their validity; the generation takes care of the texts: a
 * relcache invalidation of any relation (which every ALTER, CREATE INDEX,
 * foreign key, GRANT, rename, VACUUM or ANALYZE sends), a change of a
 * schema, and a change of pg_retention's catalogs (policies, kinds of data
 * subjects and their links: statement triggers on them call
 * retention.catalog_changed(); tags: the label provider) move it on, in
 * every backend once the change commits.
 */
#include "postgres.h"

#include "commands/extension.h"
#include "commands/trigger.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "nodes/parsenodes.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "cache.h"
#include "safe_spi.h"

/* plans kept at most; beyond, all are dropped and kept again as they are used */
#define RT_KEPT_PLANS_MAX 512

/* A plan kept for one SQL text and argument types. */
typedef struct RtKeptPlan
{
	uint64		key;			/* hash of the text and the argument types */
	char	   *sql;
	int			nargs;
	Oid		   *argtypes;
	SPIPlanPtr	plan;
} RtKeptPlan;

static HTAB *rt_kept_plans = NULL;
static MemoryContext rt_cache_cxt = NULL;
static uint64 rt_generation = 1;
static bool rt_callbacks_registered = false;

/* Moves the catalog generation on (a relcache invalidation of any relation). */
static void
rt_cache_relcache_callback(Datum arg, Oid relid)
{
	(void) arg;
	(void) relid;
	rt_generation++;
}

/* Moves the catalog generation on (a schema changed). */
static void
rt_cache_syscache_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	(void) arg;
	(void) cacheid;
	(void) hashvalue;
	rt_generation++;
}

/* Registers the invalidation callbacks, once per backend. */
static void
rt_cache_register(void)
{
	if (rt_callbacks_registered)
		return;
	CacheRegisterRelcacheCallback(rt_cache_relcache_callback, (Datum) 0);
	CacheRegisterSyscacheCallback(NAMESPACEOID, rt_cache_syscache_callback, (Datum) 0);
	/* what a role may read decides which foreign keys a test leaves out (fk_guard.c) */
	CacheRegisterSyscacheCallback(AUTHOID, rt_cache_syscache_callback, (Datum) 0);
	CacheRegisterSyscacheCallback(AUTHMEMMEMROLE, rt_cache_syscache_callback, (Datum) 0);
	rt_callbacks_registered = true;
}

/* Returns the catalog generation; see cache.h. */
uint64
rt_catalog_generation(void)
{
	rt_cache_register();
	return rt_generation;
}

/* Creates the table of kept plans, or empties it when it has grown too big. */
static void
rt_kept_plans_ready(void)
{
	HASHCTL		ctl;

	if (rt_kept_plans != NULL && hash_get_num_entries(rt_kept_plans) < RT_KEPT_PLANS_MAX)
		return;
	if (rt_kept_plans != NULL)
	{
		HASH_SEQ_STATUS status;
		RtKeptPlan *p;

		hash_seq_init(&status, rt_kept_plans);
		while ((p = hash_seq_search(&status)) != NULL)
			if (p->plan != NULL)
				SPI_freeplan(p->plan);
		hash_destroy(rt_kept_plans);
		MemoryContextDelete(rt_cache_cxt);
	}
	rt_cache_cxt = AllocSetContextCreate(TopMemoryContext, "pg_retention kept plans",
										 ALLOCSET_DEFAULT_SIZES);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(uint64);
	ctl.entrysize = sizeof(RtKeptPlan);
	ctl.hcxt = rt_cache_cxt;
	rt_kept_plans = hash_create("pg_retention kept plans", 64, &ctl,
								HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/* Returns the plan kept for sql and its argument types, preparing and keeping it the first time; NULL when it cannot be prepared (SPI_result says why). */
static SPIPlanPtr
rt_kept_plan(const char *sql, int nargs, Oid *argtypes)
{
	uint64		key = hash_bytes_extended((const unsigned char *) sql, strlen(sql), 0);
	RtKeptPlan *p;
	bool		found;

	if (nargs > 0)
		key = hash_bytes_extended((const unsigned char *) argtypes, sizeof(Oid) * nargs, key);
	rt_kept_plans_ready();
	p = hash_search(rt_kept_plans, &key, HASH_ENTER, &found);
	if (found && (p->plan == NULL || p->nargs != nargs || strcmp(p->sql, sql) != 0 ||
				  (nargs > 0 && memcmp(p->argtypes, argtypes, sizeof(Oid) * nargs) != 0)))
	{
		/* two texts of one hash, or a preparation that failed: start again */
		if (p->plan != NULL)
			SPI_freeplan(p->plan);
		if (p->sql)
			pfree(p->sql);
		if (p->argtypes)
			pfree(p->argtypes);
		found = false;
	}
	if (!found)
	{
		SPIPlanPtr	plan;

		/* an entry whose preparation fails below is found with no plan next time */
		p->plan = NULL;
		p->sql = NULL;
		p->argtypes = NULL;
		p->nargs = nargs;
		p->sql = MemoryContextStrdup(rt_cache_cxt, sql);
		if (nargs > 0)
		{
			p->argtypes = MemoryContextAlloc(rt_cache_cxt, sizeof(Oid) * nargs);
			memcpy(p->argtypes, argtypes, sizeof(Oid) * nargs);
		}
		/* generic: planned once; a custom plan per call would plan every call again */
		plan = rt_spi_prepare_cursor(sql, nargs, argtypes, CURSOR_OPT_GENERIC_PLAN);
		if (plan == NULL)
			return NULL;
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "could not keep the plan of: %s", sql);
		p->plan = plan;
	}
	return p->plan;
}

/*
 * Returns whether Citus is installed in this database, read once per
 * catalog generation.  Citus cannot plan every parameterized statement as a
 * generic plan (a parameter's field in a multi-shard query): there, no plan
 * is kept and each statement is planned with its values.
 */
static bool
rt_cache_citus_present(void)
{
	static uint64 generation = 0;
	static bool present = false;

	if (generation != rt_catalog_generation())
	{
		present = OidIsValid(get_extension_oid("citus", true));
		generation = rt_catalog_generation();
	}
	return present;
}

/* Runs sql through a plan kept across calls; see cache.h. */
int
rt_spi_execute_kept(const char *sql, int nargs, Oid *argtypes, Datum *values,
					const char *nulls, bool read_only, long count)
{
	SPIPlanPtr	plan;

	if (rt_cache_citus_present())
		return rt_spi_execute(sql, nargs, argtypes, values, nulls, read_only, count);
	plan = rt_kept_plan(sql, nargs, argtypes);

	if (plan == NULL)
		return SPI_result;
	return rt_spi_execute_plan(plan, values, nulls, read_only, count);
}

/* Runs sql through a plan kept across calls, in the caller's safe-settings level; see cache.h. */
int
rt_spi_execute_kept_in_level(const char *sql, int nargs, Oid *argtypes, Datum *values,
							 const char *nulls, bool read_only, long count)
{
	MemoryContext old = CurrentMemoryContext;
	SPIPlanPtr	plan;
	int			rc;

	if (rt_cache_citus_present())
	{
		rc = SPI_execute_with_args(sql, nargs, argtypes, values, nulls, read_only, count);
		MemoryContextSwitchTo(old);
		return rc;
	}
	plan = rt_kept_plan(sql, nargs, argtypes);
	if (plan == NULL)
		return SPI_result;
	rc = SPI_execute_plan(plan, values, nulls, read_only, count);
	MemoryContextSwitchTo(old);
	return rc;
}

/* A text remembered under a key (see rt_memo_get). */
typedef struct RtMemo
{
	uint64		hash;			/* of the key */
	char	   *key;
	char	   *value;			/* NULL: remembered as none */
} RtMemo;

static HTAB *rt_memos = NULL;
static MemoryContext rt_memo_cxt = NULL;
static uint64 rt_memo_generation = 0;

/* Returns the table of remembered texts of this generation, emptied when the generation moved on. */
static HTAB *
rt_memos_now(void)
{
	uint64		generation = rt_catalog_generation();
	HASHCTL		ctl;

	if (rt_memos != NULL && rt_memo_generation == generation)
		return rt_memos;
	if (rt_memo_cxt != NULL)
		MemoryContextDelete(rt_memo_cxt);
	rt_memo_cxt = AllocSetContextCreate(TopMemoryContext, "pg_retention remembered texts",
										ALLOCSET_DEFAULT_SIZES);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(uint64);
	ctl.entrysize = sizeof(RtMemo);
	ctl.hcxt = rt_memo_cxt;
	rt_memos = hash_create("pg_retention remembered texts", 64, &ctl,
						   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	rt_memo_generation = generation;
	return rt_memos;
}

/* Returns the text remembered under key in this generation; see cache.h. */
char *
rt_memo_get(const char *key, bool *found)
{
	uint64		hash = hash_bytes_extended((const unsigned char *) key, strlen(key), 0);
	RtMemo	   *m = hash_search(rt_memos_now(), &hash, HASH_FIND, NULL);

	*found = m != NULL && m->key != NULL && strcmp(m->key, key) == 0;
	return *found && m->value != NULL ? pstrdup(m->value) : NULL;
}

/* Remembers value under key for this generation; see cache.h. */
const char *
rt_memo_put(const char *key, const char *value)
{
	uint64		hash = hash_bytes_extended((const unsigned char *) key, strlen(key), 0);
	RtMemo	   *m;
	bool		found;

	m = hash_search(rt_memos_now(), &hash, HASH_ENTER, &found);
	/* the newer of two keys of one hash is remembered */
	m->key = NULL;
	m->value = NULL;
	m->key = MemoryContextStrdup(rt_memo_cxt, key);
	m->value = value != NULL ? MemoryContextStrdup(rt_memo_cxt, value) : NULL;
	return value;
}

PG_FUNCTION_INFO_V1(retention_catalog_changed);

/*
 * SQL: retention.catalog_changed(), a statement trigger on pg_retention's
 * catalogs: tells every backend, once the change commits, that what it
 * built from them must be built again (a relcache invalidation of the
 * catalog table, which moves rt_catalog_generation() on).
 */
Datum
retention_catalog_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("retention.catalog_changed() must be called as a trigger")));
	CacheInvalidateRelcacheByRelid(RelationGetRelid(trigdata->tg_relation));
	return PointerGetDatum(NULL);
}
