-- retention.generalize(timestamptz, unit[, time_zone]) around clock changes:
-- never later than its input, idempotent, and on the zone's wall clock.
SET timezone = 'UTC';

-- Europe/London, autumn 2024: 01:00-02:00 local happens twice (BST, then GMT).
-- 00:xx UTC is 01:xx BST: its hour starts at 00:00 UTC, not at 01:00 UTC (GMT).
SELECT ts, retention.generalize(ts, 'hour', 'Europe/London') AS g,
       retention.generalize(ts, 'hour', 'Europe/London') <= ts AS not_later
  FROM generate_series(timestamptz '2024-10-26 23:30+00', '2024-10-27 02:00+00', '30 minutes') AS ts;
-- the same in the session's zone (two-argument form)
SET timezone = 'Europe/London';
SELECT ts, retention.generalize(ts, 'hour') AS g
  FROM generate_series(timestamptz '2024-10-27 00:00+00', '2024-10-27 01:30+00', '30 minutes') AS ts;
SET timezone = 'UTC';

-- Europe/London, spring 2024: 01:00-02:00 local does not exist
SELECT ts, retention.generalize(ts, 'hour', 'Europe/London') AS g
  FROM generate_series(timestamptz '2024-03-31 00:30+00', '2024-03-31 01:30+00', '30 minutes') AS ts;

-- America/New_York, autumn and spring 2024
SELECT ts, retention.generalize(ts, 'hour', 'America/New_York') AS g
  FROM generate_series(timestamptz '2024-11-03 05:00+00', '2024-11-03 06:30+00', '30 minutes') AS ts;
SELECT ts, retention.generalize(ts, 'hour', 'America/New_York') AS g
  FROM generate_series(timestamptz '2024-03-10 06:30+00', '2024-03-10 07:30+00', '30 minutes') AS ts;

-- Australia/Lord_Howe moves its clock by 30 minutes: autumn (April) repeats
-- 01:30-02:00, spring (October) skips 02:00-02:30 (the 02:00 hour starts at the change)
SELECT ts, retention.generalize(ts, 'hour', 'Australia/Lord_Howe') AS g
  FROM generate_series(timestamptz '2024-04-06 14:30+00', '2024-04-06 15:30+00', '15 minutes') AS ts;
SELECT ts, retention.generalize(ts, 'hour', 'Australia/Lord_Howe') AS g
  FROM generate_series(timestamptz '2024-10-05 15:00+00', '2024-10-05 16:00+00', '15 minutes') AS ts;

-- America/Havana falls back from 01:00 to 00:00: midnight itself happens twice, so
-- the first hour of 2023-11-05 is a day bucket of its own (the later midnight is
-- after it); in spring midnight is skipped and the day starts at 01:00 (05:00 UTC)
SELECT ts, retention.generalize(ts, 'day', 'America/Havana') AS g
  FROM generate_series(timestamptz '2023-11-05 03:30+00', '2023-11-05 05:30+00', '30 minutes') AS ts;
SELECT ts, retention.generalize(ts, 'day', 'America/Havana') AS g
  FROM generate_series(timestamptz '2024-03-10 04:30+00', '2024-03-10 05:30+00', '30 minutes') AS ts;

-- Sweep: every clock change of these zones and years, every 15 minutes from 26 hours
-- before to 26 hours after it, every unit.  Counts what must never happen.
CREATE TEMP TABLE zone_year(zone text, year int);
INSERT INTO zone_year VALUES
  ('Europe/London', 2024), ('America/New_York', 2024), ('Australia/Lord_Howe', 2024),
  ('America/Havana', 2023), ('America/Havana', 2024), ('America/Sao_Paulo', 2018),
  ('Europe/Dublin', 2024), ('Australia/Adelaide', 2024), ('Asia/Beirut', 2024),
  ('Pacific/Apia', 2011), ('America/St_Johns', 2024), ('Asia/Kolkata', 2024);
CREATE TEMP TABLE change AS
  SELECT zy.zone, h AS at
    FROM zone_year zy,
         generate_series(make_timestamptz(zy.year, 1, 1, 0, 0, 0, 'UTC'),
                         make_timestamptz(zy.year, 12, 31, 23, 0, 0, 'UTC'), '1 hour') AS h
   WHERE (h AT TIME ZONE zy.zone) - (h AT TIME ZONE 'UTC')
         IS DISTINCT FROM ((h - interval '1 hour') AT TIME ZONE zy.zone) - ((h - interval '1 hour') AT TIME ZONE 'UTC');
-- the zones changed their clocks as expected (Kolkata never does)
SELECT zone, count(*) AS changes FROM change GROUP BY zone ORDER BY zone;
CREATE TEMP TABLE sweep AS
  SELECT c.zone, u.unit, ts, retention.generalize(ts, u.unit, c.zone) AS g
    FROM change c,
         generate_series(c.at - interval '26 hours', c.at + interval '26 hours', '15 minutes') AS ts,
         (VALUES ('hour'), ('day'), ('week'), ('month'), ('year')) AS u(unit);
SELECT count(*) > 20000 AS enough_values,
       count(*) FILTER (WHERE g > ts) AS later_than_input,
       count(*) FILTER (WHERE retention.generalize(g, unit, zone) <> g) AS not_idempotent,
       -- on the wall clock, the result is the start of the value's unit, unless a clock
       -- change skipped that start (then the result is the change itself)
       count(*) FILTER (WHERE (g AT TIME ZONE zone) <> date_trunc(unit, ts AT TIME ZONE zone)
                          AND (g - interval '1 microsecond') AT TIME ZONE zone
                              >= date_trunc(unit, ts AT TIME ZONE zone)) AS not_the_bucket_start,
       -- and no later instant, up to the value, shows that start (hours and days)
       count(*) FILTER (WHERE unit IN ('hour', 'day') AND g < ts
                          AND (g AT TIME ZONE zone) = date_trunc(unit, ts AT TIME ZONE zone)
                          AND EXISTS (SELECT 1 FROM generate_series(g + interval '15 minutes', ts, '15 minutes') AS o
                                       WHERE (o AT TIME ZONE zone) = (g AT TIME ZONE zone))) AS a_later_pass
  FROM sweep;

-- the session-zone form agrees with the three-argument form
SET timezone = 'America/New_York';
SELECT count(*) FILTER (WHERE retention.generalize(ts, unit) <> g) AS differ
  FROM sweep WHERE zone = 'America/New_York';
RESET timezone;
