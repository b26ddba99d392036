/*
 * horizon.c
 *    The erasure horizon: when the data an erasure or a purge run removed
 *    stops being recoverable from this cluster, and what holds it until
 *    then (docs/operations.md "Backups and restores", "The erasure
 *    horizon").
 *
 * A deleted row (or the old version of an anonymized one) is not gone
 * when its transaction commits:
 *  - its dead tuple stays in the table, its index entries in the indexes,
 *    until VACUUM removes them (retention.vacuum_after_erasure has the
 *    worker vacuum the tables an erasure touched);
 *  - the WAL written up to the change (the inserts and updates that wrote
 *    the data, full-page images of its pages) stays in pg_wal until a
 *    checkpoint removes the segments before its redo point, unless
 *    wal_keep_size, a replication slot (up to max_slot_wal_keep_size) or
 *    WAL archiving still needs them;
 *  - base backups and archived WAL taken before that hold it for as long
 *    as the operator keeps them, which only the operator knows
 *    (retention.backup_retention).
 * Each erasure and run records the WAL position after its change and the
 * tables it changed (retention.horizon_marks); retention.erasure_horizon
 * compares them with the cluster as it is now.  A time the view reports is
 * an upper bound (the data was gone by then, perhaps earlier); the worker
 * records the first time it sees a component gone, so that later vacuums
 * and checkpoints do not move it.
 *
 * Known limits: a VACUUM leaves dead tuples that an older snapshot could
 * still see (a transaction open across the erasure), and full-page images
 * written after the erasure and before that VACUUM can copy a dead tuple
 * into later WAL; the view takes the vacuum and the erasure's own WAL
 * position as they are.  A recycled WAL segment keeps its old bytes under
 * a new name until WAL overwrites it (wal_recycle = off removes them).
 */
#include "postgres.h"

#include <sys/stat.h>

#include "access/xact.h"
#include "access/xlog.h"
#include "access/xlog_internal.h"
#include "catalog/pg_class.h"
#include "catalog/pg_control.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "commands/vacuum.h"
#include "common/controldata_utils.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_node.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/pg_lsn.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "extension.h"
#include "horizon.h"
#include "privilege.h"
#include "quote.h"
#include "safe_spi.h"
#include "srf.h"

/* retention.backup_retention, s: how long backups and archived WAL are kept; -1: not declared */
static int	rt_backup_retention_s = -1;

/* retention.vacuum_after_erasure: the worker vacuums the tables an erasure touched */
static bool rt_vacuum_after_erasure = false;

/* Defines retention.backup_retention and retention.vacuum_after_erasure (called by _PG_init). */
void
rt_horizon_define_gucs(void)
{
	DefineCustomIntVariable("retention.backup_retention",
							"How long base backups and archived WAL are kept, for retention.erasure_horizon.",
							"As the operator declares it: -1 (the default) says it is not known, and the horizon then stays open; 0 says no backups or archives are kept.",
							&rt_backup_retention_s, -1, -1, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomBoolVariable("retention.vacuum_after_erasure",
							 "Whether the scheduler vacuums the tables an erasure changed, so that its dead tuples go at once.",
							 "Each table once per pass, as a plain VACUUM; autovacuum gets there too, later.",
							 &rt_vacuum_after_erasure, false,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
}

/* Records where an erasure or run left its change; see horizon.h. */
void
rt_horizon_mark(const char *source, const char *source_id, List *relids)
{
	Oid			types[4] = {TEXTOID, TEXTOID, LSNOID, OIDARRAYOID};
	Datum		values[4];

	if (relids == NIL || !rt_sql_objects_at_least("0.3.0"))
		return;
	values[0] = CStringGetTextDatum(source);
	values[1] = CStringGetTextDatum(source_id);
	values[2] = LSNGetDatum(GetXLogInsertRecPtr());
	values[3] = rt_oid_array(relids);
	rt_catalog_exec("INSERT INTO retention.horizon_marks (source, source_id, at, lsn, relids)"
					" VALUES ($1, $2, pg_catalog.clock_timestamp(), $3, $4)"
					" ON CONFLICT (source, source_id) DO UPDATE SET at = EXCLUDED.at, lsn = EXCLUDED.lsn,"
					" relids = EXCLUDED.relids, dead_tuples_gone = NULL, wal_gone = NULL",
					4, types, values, NULL, false, SPI_OK_INSERT);
}

/* The cluster's WAL as the horizon sees it, read once per call. */
typedef struct RtWalNow
{
	XLogSegNo	oldest;			/* oldest segment still in pg_wal (0: none found) */
	XLogSegNo	current;		/* segment being written (or replayed) */
	XLogSegNo	redo;			/* segment of the last checkpoint's redo point */
	TimestampTz checkpoint_at;	/* when the last checkpoint removed segments, at the latest */
	XLogSegNo	oldest_ready;	/* oldest segment waiting to be archived (0: none) */
	List	   *slots;			/* RtSlot */
} RtWalNow;

/* A replication slot that holds WAL back. */
typedef struct RtSlot
{
	char	   *name;
	XLogRecPtr	restart_lsn;
} RtSlot;

/* Returns the segment number of a WAL file name, or 0 when name is not one. */
static XLogSegNo
rt_wal_segno(const char *name)
{
	TimeLineID	tli;
	XLogSegNo	segno;

	if (strlen(name) < 24 || strspn(name, "0123456789ABCDEF") < 24)
		return 0;
	XLogFromFileName(name, &tli, &segno, wal_segment_size);
	return segno;
}

/* Reads the state of pg_wal, the control file and the replication slots. */
static void
rt_wal_now(RtWalNow *w)
{
	DIR		   *dir;
	struct dirent *de;
	ControlFileData *control;
	bool		crc_ok;
	XLogRecPtr	position = RecoveryInProgress() ? GetXLogReplayRecPtr(NULL) : GetXLogInsertRecPtr();

	memset(w, 0, sizeof(*w));
	XLByteToSeg(position, w->current, wal_segment_size);
	/* segments named after the current one are recycled files waiting to be written */
	dir = AllocateDir(XLOGDIR);
	while ((de = ReadDir(dir, XLOGDIR)) != NULL)
	{
		XLogSegNo	s;

		if (!IsXLogFileName(de->d_name))
			continue;
		s = rt_wal_segno(de->d_name);
		if (s <= w->current && (w->oldest == 0 || s < w->oldest))
			w->oldest = s;
	}
	FreeDir(dir);
	dir = AllocateDir(XLOGDIR "/archive_status");
	while ((de = ReadDir(dir, XLOGDIR "/archive_status")) != NULL)
	{
		size_t		n = strlen(de->d_name);
		XLogSegNo	s;

		if (n != 30 || strcmp(de->d_name + 24, ".ready") != 0)
			continue;
		s = rt_wal_segno(de->d_name);
		if (s > 0 && (w->oldest_ready == 0 || s < w->oldest_ready))
			w->oldest_ready = s;
	}
	FreeDir(dir);
	control = get_controlfile(DataDir, &crc_ok);
	XLByteToSeg(control->checkPointCopy.redo, w->redo, wal_segment_size);
	/*
	 * A checkpoint removes segments just after it updates the control file,
	 * whose time has whole seconds: one more is an upper bound of the
	 * removal, and so is now.
	 */
	w->checkpoint_at = Min(GetCurrentTimestamp(), time_t_to_timestamptz(control->time + 1));
	pfree(control);

	rt_catalog_exec("SELECT slot_name::pg_catalog.text, restart_lsn FROM pg_catalog.pg_replication_slots"
					" WHERE restart_lsn IS NOT NULL AND wal_status IS DISTINCT FROM 'lost'"
					" ORDER BY slot_name",
					0, NULL, NULL, NULL, true, SPI_OK_SELECT);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		RtSlot	   *slot = palloc(sizeof(RtSlot));
		bool		isnull;

		slot->name = TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		slot->restart_lsn = DatumGetLSN(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));
		w->slots = lappend(w->slots, slot);
	}
}

/* Returns the name of WAL segment segno on the current timeline. */
static char *
rt_wal_name(XLogSegNo segno)
{
	char		name[MAXFNAMELEN];

	XLogFileName(name, RecoveryInProgress() ? 1 : rt_wal_insertion_timeline(), segno, wal_segment_size);
	return pstrdup(name);
}

/*
 * Returns NULL when the WAL up to lsn has left pg_wal, else what still
 * keeps it: replication slots (named), WAL archiving, wal_keep_size, or
 * the next checkpoint.
 */
static char *
rt_wal_holder(const RtWalNow *w, XLogRecPtr lsn)
{
	XLogSegNo	seg;
	StringInfoData slots;
	ListCell   *lc;
	uint64		keep_segs;

	XLByteToSeg(lsn, seg, wal_segment_size);
	if (w->oldest > seg)
		return NULL;
	initStringInfo(&slots);
	foreach(lc, w->slots)
	{
		RtSlot	   *slot = lfirst(lc);
		XLogSegNo	slot_seg;

		XLByteToSeg(slot->restart_lsn, slot_seg, wal_segment_size);
		if (slot_seg <= seg)
			appendStringInfo(&slots, "%s\"%s\"", slots.len ? ", " : "", slot->name);
	}
	if (slots.len > 0)
		return max_slot_wal_keep_size_mb >= 0 ?
			psprintf("replication slot %s (WAL segment %s; until the slot moves on, or max_slot_wal_keep_size = %d MB invalidates it)",
					 slots.data, rt_wal_name(seg), max_slot_wal_keep_size_mb) :
			psprintf("replication slot %s (WAL segment %s; until the slot moves on or is dropped)",
					 slots.data, rt_wal_name(seg));
	if (w->oldest_ready != 0 && w->oldest_ready <= seg)
		return psprintf("WAL archiving (segment %s is not archived yet)", rt_wal_name(w->oldest_ready));
	keep_segs = (uint64) wal_keep_size_mb * 1024 * 1024 / wal_segment_size;
	if (keep_segs > 0 && w->current < seg + 1 + keep_segs)
		return psprintf("wal_keep_size (%d MB: segment %s is kept until %d MB more WAL is written)",
						wal_keep_size_mb, rt_wal_name(seg),
						(int) ((seg + 1 + keep_segs - w->current) * (wal_segment_size / (1024 * 1024))));
	return psprintf("the next checkpoint (WAL segment %s%s)", rt_wal_name(seg),
					w->redo <= seg ? ", which the last checkpoint's redo point has not passed" : "");
}

/*
 * Returns when the dead tuples of the tables relids left at `at` were
 * vacuumed (the latest of their leaves' last vacuum, an upper bound), or 0
 * when a leaf has not been vacuumed since; *holders then names those
 * leaves.  A table dropped since holds nothing.
 */
static TimestampTz
rt_dead_tuples_gone(List *relids, TimestampTz at, List **holders)
{
	List	   *leaves = NIL;
	ListCell   *lc;
	TimestampTz gone = at;
	Oid			types[1] = {OIDARRAYOID};
	Datum		values[1];

	*holders = NIL;
	foreach(lc, relids)
	{
		Oid			relid = lfirst_oid(lc);
		ListCell   *leaf;

		if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
			continue;
		foreach(leaf, find_all_inheritors(relid, NoLock, NULL))
		{
			char		kind = get_rel_relkind(lfirst_oid(leaf));

			if (kind == RELKIND_RELATION || kind == RELKIND_MATVIEW)
				leaves = list_append_unique_oid(leaves, lfirst_oid(leaf));
		}
	}
	if (leaves == NIL)
		return gone;
	values[0] = rt_oid_array(leaves);
	rt_catalog_exec("SELECT r, GREATEST(pg_catalog.pg_stat_get_last_vacuum_time(r),"
					" pg_catalog.pg_stat_get_last_autovacuum_time(r))"
					" FROM pg_catalog.unnest($1::pg_catalog.oid[]) r",
					1, types, values, NULL, true, SPI_OK_SELECT);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Oid			leaf = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		Datum		v = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull);

		if (isnull || DatumGetTimestampTz(v) < at)
			*holders = lappend_oid(*holders, leaf);
		else if (DatumGetTimestampTz(v) > gone)
			gone = DatumGetTimestampTz(v);
	}
	return *holders == NIL ? gone : 0;
}

/* One erasure's or run's horizon. */
typedef struct RtHorizon
{
	char	   *source;
	char	   *id;
	TimestampTz at;
	XLogRecPtr	lsn;
	Datum		relids;			/* oid[] */
	TimestampTz dead_gone;		/* 0: not yet */
	TimestampTz wal_gone;		/* 0: not yet */
	bool		dead_stored;	/* dead_gone as recorded, not computed now */
	bool		wal_stored;
	List	   *dead_holders;	/* Oid */
	char	   *wal_holder;
} RtHorizon;

/* Reads the marks and computes each one's horizon against the cluster now (w). */
static List *
rt_horizons(const RtWalNow *w, bool only_open)
{
	List	   *result = NIL;
	SPITupleTable *marks;
	uint64		n;

	rt_catalog_exec(psprintf("SELECT source, source_id, at, lsn, relids, dead_tuples_gone, wal_gone"
							 " FROM retention.horizon_marks%s ORDER BY at, source, source_id",
							 only_open ? " WHERE dead_tuples_gone IS NULL OR wal_gone IS NULL" : ""),
					0, NULL, NULL, NULL, true, SPI_OK_SELECT);
	marks = SPI_tuptable;
	n = SPI_processed;
	for (uint64 i = 0; i < n; i++)
	{
		HeapTuple	t = marks->vals[i];
		TupleDesc	d = marks->tupdesc;
		RtHorizon  *h = palloc0(sizeof(RtHorizon));
		bool		isnull;
		Datum		v;
		Datum	   *oids;
		int			noids;
		List	   *relids = NIL;

		h->source = TextDatumGetCString(SPI_getbinval(t, d, 1, &isnull));
		h->id = TextDatumGetCString(SPI_getbinval(t, d, 2, &isnull));
		h->at = DatumGetTimestampTz(SPI_getbinval(t, d, 3, &isnull));
		h->lsn = DatumGetLSN(SPI_getbinval(t, d, 4, &isnull));
		h->relids = PointerGetDatum(DatumGetArrayTypePCopy(SPI_getbinval(t, d, 5, &isnull)));
		deconstruct_array(DatumGetArrayTypeP(h->relids), OIDOID, sizeof(Oid), true, TYPALIGN_INT,
						  &oids, NULL, &noids);
		for (int j = 0; j < noids; j++)
			relids = lappend_oid(relids, DatumGetObjectId(oids[j]));
		v = SPI_getbinval(t, d, 6, &isnull);
		h->dead_stored = !isnull;
		h->dead_gone = isnull ? 0 : DatumGetTimestampTz(v);
		v = SPI_getbinval(t, d, 7, &isnull);
		h->wal_stored = !isnull;
		h->wal_gone = isnull ? 0 : DatumGetTimestampTz(v);
		if (!h->dead_stored)
			h->dead_gone = rt_dead_tuples_gone(relids, h->at, &h->dead_holders);
		if (!h->wal_stored)
		{
			h->wal_holder = rt_wal_holder(w, h->lsn);
			if (h->wal_holder == NULL)
				h->wal_gone = Max(w->checkpoint_at, h->at);
		}
		result = lappend(result, h);
	}
	return result;
}

/* Returns a number of seconds as people write it: "30 days", "12 h", "90 min", "45 s". */
static char *
rt_duration_text(int s)
{
	if (s > 0 && s % 86400 == 0)
		return psprintf("%d day%s", s / 86400, s == 86400 ? "" : "s");
	if (s > 0 && s % 3600 == 0)
		return psprintf("%d h", s / 3600);
	if (s > 0 && s % 60 == 0)
		return psprintf("%d min", s / 60);
	return psprintf("%d s", s);
}

/* Returns an oid[] as the regclass[] the view shows. */
static Datum
rt_regclass_array(Datum oids)
{
	ArrayType  *a = DatumGetArrayTypePCopy(oids);

	ARR_ELEMTYPE(a) = REGCLASSOID;
	return PointerGetDatum(a);
}

/* Names tables as "a, b" for held_by. */
static char *
rt_table_names(List *relids)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, relids)
		appendStringInfo(&buf, "%s%s", buf.len ? ", " : "", rt_relation_name(lfirst_oid(lc)));
	return buf.data;
}

/* Records first sightings of gone components and lists what the worker should vacuum; see horizon.h. */
List *
rt_horizon_settle(void)
{
	RtWalNow	w;
	List	   *horizons;
	List	   *to_vacuum = NIL;
	ListCell   *lc;

	if (!rt_sql_objects_at_least("0.3.0"))
		return NIL;
	/* a run's row goes with its record (retention.run_history_keep); erasures keep theirs, as the ledger does */
	rt_catalog_exec("DELETE FROM retention.horizon_marks m WHERE m.source OPERATOR(pg_catalog.=) 'run'"
					" AND NOT EXISTS (SELECT 1 FROM retention.run_history h"
					"   WHERE h.run_id::pg_catalog.text OPERATOR(pg_catalog.=) m.source_id)",
					0, NULL, NULL, NULL, false, SPI_OK_DELETE);
	rt_wal_now(&w);
	horizons = rt_horizons(&w, true);
	foreach(lc, horizons)
	{
		RtHorizon  *h = lfirst(lc);
		Oid			types[4] = {TEXTOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
		Datum		values[4];
		char		nulls[4] = "    ";

		if ((h->dead_gone != 0 && !h->dead_stored) || (h->wal_gone != 0 && !h->wal_stored))
		{
			values[0] = CStringGetTextDatum(h->source);
			values[1] = CStringGetTextDatum(h->id);
			values[2] = TimestampTzGetDatum(h->dead_gone);
			nulls[2] = h->dead_gone != 0 ? ' ' : 'n';
			values[3] = TimestampTzGetDatum(h->wal_gone);
			nulls[3] = h->wal_gone != 0 ? ' ' : 'n';
			rt_catalog_exec("UPDATE retention.horizon_marks SET dead_tuples_gone = COALESCE(dead_tuples_gone, $3),"
							" wal_gone = COALESCE(wal_gone, $4)"
							" WHERE source OPERATOR(pg_catalog.=) $1 AND source_id OPERATOR(pg_catalog.=) $2",
							4, types, values, nulls, false, SPI_OK_UPDATE);
		}
		if (rt_vacuum_after_erasure && strcmp(h->source, "erasure") == 0)
		{
			ListCell   *leaf;

			foreach(leaf, h->dead_holders)
				to_vacuum = list_append_unique_oid(to_vacuum, lfirst_oid(leaf));
		}
	}
	return to_vacuum;
}

/* Runs VACUUM on one table as a top-level command; see horizon.h. */
void
rt_horizon_vacuum(Oid relid)
{
	VacuumStmt *stmt = makeNode(VacuumStmt);

	stmt->options = NIL;
	stmt->rels = list_make1(makeVacuumRelation(NULL, relid, NIL));
	stmt->is_vacuumcmd = true;
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	/* vacuum() commits this transaction, runs one of its own for the table, and starts one for us */
	ExecVacuum(make_parsestate(NULL), stmt, true);
	CommitTransactionCommand();
}

PG_FUNCTION_INFO_V1(retention_horizon);

/* SQL: retention.horizon() backs the view retention.erasure_horizon. */
Datum
retention_horizon(PG_FUNCTION_ARGS)
{
	RtSrf		srf;
	RtWalNow	w;
	List	   *horizons;
	ListCell   *lc;
	TimestampTz now;

	rt_srf_begin(fcinfo, &srf);
	SPI_connect();
	rt_wal_now(&w);
	horizons = rt_horizons(&w, false);
	/* after the times above, which may be "now" themselves */
	now = GetCurrentTimestamp();
	foreach(lc, horizons)
	{
		RtHorizon  *h = lfirst(lc);
		Datum		values[10];
		bool		nulls[10];
		TimestampTz left_cluster = 0;
		TimestampTz backups = 0;
		char	   *held_by = NULL;

		memset(nulls, 0, sizeof(nulls));
		values[0] = CStringGetTextDatum(h->source);
		values[1] = CStringGetTextDatum(h->id);
		values[2] = TimestampTzGetDatum(h->at);
		values[3] = LSNGetDatum(h->lsn);
		values[4] = rt_regclass_array(h->relids);
		values[5] = TimestampTzGetDatum(h->dead_gone);
		nulls[5] = h->dead_gone == 0;
		values[6] = TimestampTzGetDatum(h->wal_gone);
		nulls[6] = h->wal_gone == 0;
		/* the cluster's own copies go first: dead tuples (whose pages WAL may copy), then WAL */
		if (h->dead_gone != 0 && h->wal_gone != 0)
			left_cluster = Max(h->dead_gone, h->wal_gone);
		if (left_cluster != 0 && rt_backup_retention_s >= 0)
			backups = left_cluster + (TimestampTz) rt_backup_retention_s * USECS_PER_SEC;
		values[7] = TimestampTzGetDatum(backups);
		nulls[7] = backups == 0;
		values[8] = TimestampTzGetDatum(backups);
		nulls[8] = backups == 0;
		if (h->dead_gone == 0)
			held_by = psprintf("dead tuples in %s (not vacuumed since)", rt_table_names(h->dead_holders));
		else if (h->wal_gone == 0)
			held_by = h->wal_holder ? h->wal_holder : "WAL";
		else if (rt_backup_retention_s < 0)
			held_by = "backups and WAL archives (retention.backup_retention is not set)";
		else if (backups > now)
			held_by = psprintf("backups and WAL archives (retention.backup_retention = %s)",
							   rt_duration_text(rt_backup_retention_s));
		values[9] = held_by ? CStringGetTextDatum(held_by) : (Datum) 0;
		nulls[9] = held_by == NULL;
		rt_srf_put(&srf, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}
