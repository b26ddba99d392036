/*
 * throttle.c
 *    How fast a run goes (docs/operations.md#protecting-the-workload).
 *
 * Fixed mode, the default: batches of the policy's batch size, with
 * retention.batch_pause between them.  Adaptive mode (retention.throttle =
 * adaptive, or retention.set_throttle() for one policy) measures after every
 * batch, and against the limits the DBA sets:
 *  - the batch's own time, against retention.max_batch_time: a batch that
 *    took longer halves the next one (its locks, its share of the CPU and
 *    I/O, last that long); one that took under half of it lets the next
 *    grow by half, up to the policy's batch size;
 *  - sessions waiting for a lock the batch held (counted before it
 *    commits): the next batch is halved, and the run pauses for as long as
 *    the batch took;
 *  - the WAL the batch wrote, against retention.max_wal_rate: the run
 *    pauses until its rate is under the limit;
 *  - the replay lag of the standbys (pg_stat_replication), against
 *    retention.max_replica_lag: the run pauses until the lag is back under
 *    half the limit, and halves the next batch.  The lag is the age of the
 *    WAL a standby has replayed: the run keeps the time at which its WAL
 *    reached each position, and takes pg_stat_replication.replay_lag when
 *    that says more.
 * It never stops: batches keep at least min_batch rows (100, or the
 * policy's batch size when smaller), and no pause makes a batch and its
 * pause together slower than retention.min_purge_rate rows per second.  A
 * due row is therefore gone within (rows due before it) /
 * retention.min_purge_rate seconds of run time, whatever the limits say
 * (a run that reaches retention.max_run_time goes on at the next pass).
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "replication/syncrep.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/pg_lsn.h"
#include "utils/timestamp.h"

#include "extension.h"
#include "privilege.h"
#include "throttle.h"

/* Values of retention.throttle. */
typedef enum RtThrottleMode
{
	RT_THROTTLE_FIXED,
	RT_THROTTLE_ADAPTIVE
} RtThrottleMode;

static const struct config_enum_entry rt_throttle_options[] = {
	{"fixed", RT_THROTTLE_FIXED, false},
	{"adaptive", RT_THROTTLE_ADAPTIVE, false},
	{NULL, 0, false}
};

static int	rt_throttle_mode = RT_THROTTLE_FIXED;	/* retention.throttle */
static int	rt_max_batch_time_ms = 100;		/* retention.max_batch_time */
static int	rt_max_wal_rate_kb = 0;			/* retention.max_wal_rate, kB a second; 0: none */
static int	rt_max_replica_lag_ms = 0;		/* retention.max_replica_lag; 0: none */
static int	rt_min_purge_rate = 100;		/* retention.min_purge_rate, rows a second */

/* the fewest rows an adaptive batch takes (or the policy's batch size, when smaller) */
#define RT_THROTTLE_MIN_BATCH 100
/* how often a pause for a standby looks at its lag again */
#define RT_THROTTLE_LAG_POLL_MS 100
/* how often a run looks whether the standbys have replayed its last batch (ms) */
#define RT_THROTTLE_REPLAY_POLL_MS 5

/* Defines retention.throttle and the adaptive mode's limits (called by _PG_init). */
void
rt_throttle_define_gucs(void)
{
	DefineCustomEnumVariable("retention.throttle",
							 "How fast runs delete or anonymize: fixed batches and pauses, or adaptive.",
							 "fixed: batches of the policy's batch size, retention.batch_pause between them. "
							 "adaptive: batches and pauses shrink and grow with the batch time, lock waits, WAL rate "
							 "and replica lag against retention.max_batch_time, max_wal_rate and max_replica_lag, "
							 "never slower than retention.min_purge_rate. retention.set_throttle() sets it for one policy.",
							 &rt_throttle_mode, RT_THROTTLE_FIXED, rt_throttle_options,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("retention.max_batch_time",
							"Longest time an adaptive run's batch should take.",
							"A longer batch halves the next one.",
							&rt_max_batch_time_ms, 100, 1, 3600000,
							PGC_USERSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("retention.max_wal_rate",
							"Most WAL an adaptive run writes a second (kB); 0 sets no limit.",
							"The run pauses after a batch until its rate is under the limit.",
							&rt_max_wal_rate_kb, 0, 0, INT_MAX,
							PGC_USERSET, GUC_UNIT_KB, NULL, NULL, NULL);
	DefineCustomIntVariable("retention.max_replica_lag",
							"Longest replay lag of a standby an adaptive run lets grow; 0 sets no limit.",
							"Over it, the run pauses until the lag is under half of it, and halves its batches.",
							&rt_max_replica_lag_ms, 0, 0, 3600000,
							PGC_USERSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("retention.min_purge_rate",
							"Fewest rows a second an adaptive run deletes or anonymizes, whatever its limits say.",
							"Bounds how long the adaptive mode can hold a due row back.",
							&rt_min_purge_rate, 100, 1, INT_MAX,
							PGC_USERSET, 0, NULL, NULL, NULL);
}

/* Returns the throttle a policy has of its own (retention.set_throttle()), or -1 for none. */
static int
rt_throttle_of_policy(int64 policy_id)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(policy_id)};
	bool		isnull;
	char	   *mode;

	if (!rt_sql_objects_at_least("0.3.0"))
		return -1;
	rt_catalog_exec_kept("SELECT throttle FROM retention.policy_throttle WHERE policy_id OPERATOR(pg_catalog.=) $1",
						 1, types, values, NULL, true, SPI_OK_SELECT);
	if (SPI_processed == 0)
		return -1;
	mode = TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	return strcmp(mode, "adaptive") == 0 ? RT_THROTTLE_ADAPTIVE : RT_THROTTLE_FIXED;
}

/* Adds an (LSN, time) sample to the run's history. */
static void
rt_throttle_sample(RtThrottle *t, XLogRecPtr lsn, TimestampTz at)
{
	t->hist_lsn[t->hist_next] = lsn;
	t->hist_at[t->hist_next] = at;
	t->hist_next = (t->hist_next + 1) % RT_THROTTLE_HISTORY;
	if (t->nhist < RT_THROTTLE_HISTORY)
		t->nhist++;
}

/* Sets up the throttle of a run; see throttle.h. */
void
rt_throttle_init(RtThrottle *t, const RtPolicy *policy, bool commits, int fixed_pause_ms,
				 TimestampTz deadline)
{
	int			own = rt_throttle_of_policy(policy->policy_id);

	memset(t, 0, sizeof(*t));
	t->adaptive = commits && (own >= 0 ? own : rt_throttle_mode) == RT_THROTTLE_ADAPTIVE;
	t->max_batch = rt_policy_batch_size(policy);
	t->min_batch = Min(t->max_batch, RT_THROTTLE_MIN_BATCH);
	t->batch = t->max_batch;
	t->fixed_pause_ms = fixed_pause_ms;
	t->deadline = deadline;
	/* with a lag limit, it starts small: a first full batch could put the standbys over it at once */
	if (t->adaptive && rt_max_replica_lag_ms > 0)
		t->batch = t->min_batch;
	t->smallest = t->max_batch;
	if (t->adaptive)
		rt_throttle_sample(t, GetXLogInsertRecPtr(), GetCurrentTimestamp());
}

/* Returns the rows the next batch may take; see throttle.h. */
int
rt_throttle_batch_rows(const RtThrottle *t)
{
	return t->adaptive ? t->batch : t->max_batch;
}

/* Marks the start of a batch; see throttle.h. */
void
rt_throttle_batch_begins(RtThrottle *t)
{
	t->batch_start = GetCurrentTimestamp();
	t->batch_start_lsn = GetXLogInsertRecPtr();
	t->waiters = 0;
}

/*
 * Returns whether a batch may commit with synchronous_commit = remote_apply
 * without waiting where it would not have waited: always when no
 * synchronous standby is named (remote_apply then only asks the standbys
 * to report their replay at once), otherwise only when the commit waits
 * for the synchronous standbys already (remote_write or more).  A session
 * set to local or off with synchronous_standby_names set would otherwise
 * wait for a synchronous standby, for ever when none is connected.
 */
static bool
rt_throttle_may_ask_apply(void)
{
	return SyncRepStandbyNames == NULL || SyncRepStandbyNames[0] == '\0' ||
		synchronous_commit >= SYNCHRONOUS_COMMIT_REMOTE_WRITE;
}

/* Counts the sessions waiting for the batch's locks, before its commit; see throttle.h. */
void
rt_throttle_before_commit(RtThrottle *t)
{
	bool		isnull;

	if (!t->adaptive)
		return;
	rt_catalog_exec_kept("SELECT pg_catalog.count(*) FROM pg_catalog.pg_locks l WHERE NOT l.granted"
						 " AND pg_catalog.pg_backend_pid() OPERATOR(pg_catalog.=) ANY (pg_catalog.pg_blocking_pids(l.pid))",
						 0, NULL, NULL, NULL, true, SPI_OK_SELECT);
	t->waiters = (int) DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));

	/*
	 * Watching the standbys: the batch's commit record asks each of them to
	 * report as soon as it has replayed it.  Otherwise a standby reports
	 * its replay position only when more WAL comes (or every
	 * wal_receiver_status_interval), and a run that pauses for the lag
	 * would read its own pause as lag.  A synchronous standby then also
	 * holds the commit until it has replayed the batch.
	 */
	if (rt_max_replica_lag_ms > 0 && rt_throttle_may_ask_apply())
		(void) set_config_option("synchronous_commit", "remote_apply", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_LOCAL, true, 0, false);
}

/*
 * Returns the replay lag of the standby furthest behind, in milliseconds
 * (0 without standbys): how long the oldest WAL it has not replayed has
 * existed, from the run's own (LSN, time) samples, or
 * pg_stat_replication.replay_lag when that says more.  That WAL was
 * written after the newest sample the standby has replayed and by the
 * oldest sample it has not; the latter is the bound taken, so that a run
 * waiting between samples never reads its own wait as lag.  A sample of
 * now is taken first (when WAL moved since the last one).  *replayed_out
 * is the replay position of that standby (InvalidXLogRecPtr: none).
 */
static double
rt_throttle_replica_lag(RtThrottle *t, XLogRecPtr *replayed_out)
{
	bool		null_lsn;
	bool		null_lag;
	Datum		replay;
	Datum		reported;
	XLogRecPtr	replayed;
	XLogRecPtr	insert = GetXLogInsertRecPtr();
	TimestampTz now = GetCurrentTimestamp();
	int			last = (t->hist_next + RT_THROTTLE_HISTORY - 1) % RT_THROTTLE_HISTORY;
	TimestampTz first_unreplayed = 0;
	double		lag = 0;

	if (t->nhist == 0 || t->hist_lsn[last] != insert)
		rt_throttle_sample(t, insert, now);
	rt_catalog_exec_kept("SELECT pg_catalog.min(r.replay_lsn),"
						 " pg_catalog.max(pg_catalog.date_part('epoch', r.replay_lag)) OPERATOR(pg_catalog.*) 1000"
						 " FROM pg_catalog.pg_stat_replication r",
						 0, NULL, NULL, NULL, true, SPI_OK_SELECT);
	replay = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &null_lsn);
	reported = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &null_lag);
	if (!null_lag)
		lag = DatumGetFloat8(reported);
	*replayed_out = InvalidXLogRecPtr;
	if (null_lsn)
		return lag;
	replayed = DatumGetLSN(replay);
	*replayed_out = replayed;
	for (int i = 0; i < t->nhist; i++)
		if (t->hist_lsn[i] > replayed && (first_unreplayed == 0 || t->hist_at[i] < first_unreplayed))
			first_unreplayed = t->hist_at[i];
	if (first_unreplayed != 0)
		lag = Max(lag, (double) (now - first_unreplayed) / 1000.0);
	return lag;
}

/* Returns a halved batch size, never under the minimum. */
static int
rt_throttle_halve(const RtThrottle *t)
{
	return Max(t->min_batch, t->batch / 2);
}

/* Sleeps for ms through sleep, never past the run's deadline, and counts it. */
static void
rt_throttle_sleep(RtThrottle *t, int ms, void (*sleep) (int ms))
{
	/* a pause never takes a run past its deadline: the run stops there instead */
	if (t->deadline != 0)
		ms = (int) Min((long) ms, TimestampDifferenceMilliseconds(GetCurrentTimestamp(), t->deadline));
	if (ms <= 0)
		return;
	sleep(ms);
	t->paused_ms += ms;
}

/* Measures a batch, adapts the next one and pauses; see throttle.h. */
void
rt_throttle_after_batch(RtThrottle *t, int64 rows, int64 skipped_locked, void (*sleep) (int ms))
{
	TimestampTz now = GetCurrentTimestamp();
	XLogRecPtr	lsn = GetXLogInsertRecPtr();
	double		batch_ms = (double) (now - t->batch_start) / 1000.0;
	double		wal = lsn > t->batch_start_lsn ? (double) (lsn - t->batch_start_lsn) : 0;
	int			done = t->batch;
	bool		held = false;
	bool		grow;
	double		pause = 0;
	double		cap;

	if (!t->adaptive)
	{
		rt_throttle_sleep(t, t->fixed_pause_ms, sleep);
		return;
	}
	if (rows > 0)
		t->batches++;
	t->smallest = Min(t->smallest, done);
	t->largest = Max(t->largest, done);
	rt_throttle_sample(t, lsn, now);

	/* its own time: its locks and its share of the machine last that long */
	if (batch_ms > rt_max_batch_time_ms)
	{
		t->batch = rt_throttle_halve(t);
		t->by_time++;
		held = true;
	}
	/* others waited for its locks (or it for theirs): smaller batches, and room for them */
	if (t->waiters > 0 || skipped_locked > 0)
	{
		t->batch = rt_throttle_halve(t);
		pause = Max(pause, batch_ms);
		t->by_locks++;
		held = true;
	}
	/* the WAL it wrote: pause until its rate is under the limit */
	if (rt_max_wal_rate_kb > 0)
	{
		double		need_ms = wal * 1000.0 / ((double) rt_max_wal_rate_kb * 1024.0) - batch_ms;

		if (need_ms > 0)
		{
			pause = Max(pause, need_ms);
			t->by_wal++;
		}
	}
	grow = !held && batch_ms < rt_max_batch_time_ms / 2.0;

	/* never slower than retention.min_purge_rate: the batch and its pause together */
	cap = Max(0.0, (double) Max(rows, 1) * 1000.0 / rt_min_purge_rate - batch_ms);
	pause = Min(pause, cap);
	rt_throttle_sleep(t, (int) ceil(pause), sleep);

	/* the standbys: the lag this batch causes, seen whole; then back under half the limit; within the same bound */
	if (rt_max_replica_lag_ms > 0)
	{
		XLogRecPtr	replayed;
		double		lag = rt_throttle_replica_lag(t, &replayed);
		double		waited = pause;
		double		peak = lag;

		/* until they have replayed this batch (its commit asked them to say so at once) */
		while (!XLogRecPtrIsInvalid(replayed) && replayed < lsn && lag <= rt_max_replica_lag_ms && waited < cap)
		{
			int			step = (int) Min((double) RT_THROTTLE_REPLAY_POLL_MS, cap - waited);

			rt_throttle_sleep(t, Max(step, 1), sleep);
			waited += Max(step, 1);
			lag = rt_throttle_replica_lag(t, &replayed);
			peak = Max(peak, lag);
		}
		if (peak > rt_max_replica_lag_ms)
		{
			t->by_lag++;
			t->batch = rt_throttle_halve(t);
			grow = false;
			while (lag > rt_max_replica_lag_ms / 2.0 && waited < cap)
			{
				int			step = (int) Min((double) RT_THROTTLE_LAG_POLL_MS, cap - waited);

				rt_throttle_sleep(t, Max(step, 1), sleep);
				waited += Max(step, 1);
				lag = rt_throttle_replica_lag(t, &replayed);
				peak = Max(peak, lag);
			}
		}
		else if (peak > rt_max_replica_lag_ms / 2.0)
			grow = false;		/* near the limit: no bigger batches */
		t->max_lag_ms = Max(t->max_lag_ms, peak);
		pause = waited;
	}
	if (grow)
		t->batch = Min(t->max_batch, t->batch + t->batch / 2 + 1);
	t->longest_pause = Max(t->longest_pause, (int) ceil(pause));
}

/* Returns what the adaptive mode did and why; see throttle.h. */
char *
rt_throttle_summary(const RtThrottle *t)
{
	StringInfoData buf;

	if (!t->adaptive || t->batches == 0)
		return NULL;
	initStringInfo(&buf);
	appendStringInfo(&buf, "adaptive throttle: " INT64_FORMAT " batch%s of %d to %d rows (of at most %d), paused "
					 INT64_FORMAT " ms in all, at most %d ms at once",
					 t->batches, t->batches == 1 ? "" : "es", t->smallest, t->largest, t->max_batch,
					 t->paused_ms, t->longest_pause);
	if (t->by_time + t->by_locks + t->by_wal + t->by_lag == 0)
		appendStringInfoString(&buf, "; no limit held it back");
	else
	{
		appendStringInfoString(&buf, "; held back by");
		if (t->by_time > 0)
			appendStringInfo(&buf, " batch time (" INT64_FORMAT "x, retention.max_batch_time %d ms)",
							 t->by_time, rt_max_batch_time_ms);
		if (t->by_locks > 0)
			appendStringInfo(&buf, " lock waits (" INT64_FORMAT "x)", t->by_locks);
		if (t->by_wal > 0)
			appendStringInfo(&buf, " WAL rate (" INT64_FORMAT "x, retention.max_wal_rate %d kB/s)",
							 t->by_wal, rt_max_wal_rate_kb);
		if (t->by_lag > 0)
			appendStringInfo(&buf, " replica lag (" INT64_FORMAT "x, retention.max_replica_lag %d ms)",
							 t->by_lag, rt_max_replica_lag_ms);
	}
	if (rt_max_replica_lag_ms > 0)
		appendStringInfo(&buf, "; largest replica lag seen %.0f ms", t->max_lag_ms);
	return buf.data;
}
