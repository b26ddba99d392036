-- retention.generalize: inet (IPv4, IPv6, IPv4-mapped), dates and times, numbers.
SET timezone = 'UTC';
\pset null '(null)'

-- inet: the prefix is in IPv4 bits; IPv6 keeps twice as many, IPv4-mapped 96 + prefix
SELECT v, p, retention.generalize(v, p) AS generalized
  FROM (VALUES ('192.0.2.77'::inet, 24), ('192.0.2.77', 16), ('192.0.2.77', 32), ('192.0.2.77', 0),
               ('192.0.2.77/20', 24), ('10.1.2.3/8', 24), ('192.0.2.0/24', 24),
               ('2001:db8:85a3::8a2e:370:7334', 24), ('2001:db8:85a3::8a2e:370:7334', 32),
               ('2001:db8:85a3::8a2e:370:7334', 16), ('2001:db8::1', 0), ('::1', 32),
               ('::ffff:192.0.2.77', 24), ('fe80::1', 32), (NULL, 24)) AS t(v, p);
-- cidr values go through inet
SELECT retention.generalize('192.0.2.0/26'::cidr, 24) AS cidr_in,
       retention.generalize('192.0.2.0/26'::cidr, 24)::cidr AS cidr_out;
-- idempotent
SELECT count(*) FILTER (WHERE retention.generalize(retention.generalize(v, p), p) = retention.generalize(v, p)) AS ok,
       count(*) AS total
  FROM (VALUES ('192.0.2.77'::inet), ('10.1.2.3/8'), ('2001:db8:85a3::8a2e:370:7334'), ('::ffff:192.0.2.77'), ('::1')) AS a(v),
       generate_series(0, 32, 8) AS p;
SELECT retention.generalize('192.0.2.77'::inet, 33);
\echo :LAST_ERROR_SQLSTATE
SELECT retention.generalize('192.0.2.77'::inet, -1);
\echo :LAST_ERROR_SQLSTATE

-- date: first day of the decade, year, quarter, month, week (Monday) or the day itself
SELECT d, u, retention.generalize(d, u) AS generalized
  FROM (VALUES (date '2024-02-29'), ('2023-12-31'), ('2024-03-31'), ('2021-01-03'), ('1969-07-20')) AS a(d),
       (VALUES ('decade'), ('year'), ('quarter'), ('month'), ('week'), ('day')) AS b(u)
 ORDER BY d, u;
SELECT retention.generalize(date 'infinity', 'year') AS inf,
       retention.generalize(date '-infinity', 'month') AS minus_inf,
       retention.generalize(date '0044-03-15 BC', 'year') AS bc,
       retention.generalize(date '2024-02-29', 'YEAR') AS upper_case_unit,
       retention.generalize(NULL::date, 'year') IS NULL AS null_in;
SELECT retention.generalize(date '2024-02-29', 'hour');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.generalize(date '2024-02-29', 'fortnight');
\echo :LAST_ERROR_SQLSTATE

-- timestamp without time zone
SELECT u, retention.generalize(timestamp '2024-02-29 23:59:59.999', u) AS generalized
  FROM (VALUES ('decade'), ('year'), ('quarter'), ('month'), ('week'), ('day'), ('hour')) AS b(u);

-- timestamptz: in the session's zone, or in a given zone (the wall clock of that zone)
SELECT retention.generalize(timestamptz '2024-02-29 20:30:00+00', 'day') AS utc_day,
       retention.generalize(timestamptz '2024-02-29 20:30:00+00', 'day', 'Asia/Shanghai') AS shanghai_day,
       retention.generalize(timestamptz '2024-02-29 20:30:00+00', 'month', 'Asia/Shanghai') AS shanghai_month,
       retention.generalize(timestamptz '2024-03-31 01:30:00+00', 'day', 'Europe/Berlin') AS berlin_dst_day,
       retention.generalize(timestamptz '2024-03-31 01:30:00+00', 'hour', 'Europe/Berlin') AS berlin_dst_hour;
SET timezone = 'Asia/Shanghai';
SELECT retention.generalize(timestamptz '2024-02-29 20:30:00+00', 'day') AS session_zone_day;
RESET timezone;
SET timezone = 'UTC';
SELECT retention.generalize(timestamptz 'infinity', 'year', 'UTC') AS inf;
SELECT retention.generalize(timestamptz '2024-02-29 20:30:00+00', 'day', 'Mars/Olympus');
\echo :LAST_ERROR_SQLSTATE
-- idempotent, also across zones of the same policy
SELECT count(*) FILTER (WHERE retention.generalize(retention.generalize(ts, u, z), u, z) = retention.generalize(ts, u, z)) AS ok,
       count(*) AS total
  FROM (VALUES (timestamptz '2024-02-29 20:30:00+00'), ('2024-03-31 01:30:00+00'), ('2023-12-31 23:59:59+00')) AS a(ts),
       (VALUES ('decade'), ('year'), ('quarter'), ('month'), ('week'), ('day'), ('hour')) AS b(u),
       (VALUES ('UTC'), ('Asia/Shanghai'), ('Europe/Berlin'), ('America/Sao_Paulo')) AS c(z);

-- numeric: down to a multiple of step (floor), negative numbers too
SELECT v, s, retention.generalize(v, s) AS generalized
  FROM (VALUES (37::numeric, 10::numeric), (30, 10), (0, 10), (-17, 10), (-20, 10), (-0.5, 10),
               (37.25, 10), (37.25, 0.5), (37.25, 2.5), (1234567890123456789.99, 1000),
               (0.29, 0.1), ('NaN', 10), (NULL, 10)) AS t(v, s);
SELECT count(*) FILTER (WHERE retention.generalize(retention.generalize(v, s), s) = retention.generalize(v, s)) AS ok,
       count(*) AS total
  FROM generate_series(-25, 25) AS v, (VALUES (1::numeric), (3), (10), (0.7)) AS b(s);
SELECT retention.generalize(37, 0);
\echo :LAST_ERROR_SQLSTATE
SELECT retention.generalize(37, -5);
\echo :LAST_ERROR_SQLSTATE
SELECT retention.generalize(37, 'NaN');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.generalize(37, 'Infinity');
\echo :LAST_ERROR_SQLSTATE

-- volatility: only the form that reads the session's TimeZone is not immutable
SELECT p.oid::regprocedure AS function, p.provolatile
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'retention' AND p.proname = 'generalize'
 ORDER BY p.oid::regprocedure::text;
