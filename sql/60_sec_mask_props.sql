-- Hostile values through the masks: thousands of generated strings (digits, the
-- hiding '*', '@', '+86', blanks, multi-byte characters, empty strings) and
-- numbers, times and addresses at their limits.  Every text mask keeps the
-- length in characters and changes nothing the second time; every generalize()
-- is idempotent and never moves a value up.  (The C parsers are fuzzed by
-- scripts/fuzz; these functions need the server, so they are tried here.)
SELECT setseed(0.4242);
CREATE TEMP TABLE sec_texts AS
SELECT i, string_agg(substr(a.chars, 1 + floor(random() * char_length(a.chars))::int, 1), '' ORDER BY g) AS v
  FROM generate_series(1, 4000) i
 CROSS JOIN (SELECT '0123456789*@+-. ()xX中é😀' || E'\t' AS chars) a
 CROSS JOIN LATERAL generate_series(1, (i % 41)) g
 GROUP BY i;
INSERT INTO sec_texts VALUES (4001, ''), (4002, '*'), (4003, '@'), (4004, '+86'), (4005, '0086 138 1234 5678'),
  (4006, '11010519491231002X'), (4007, '4111 1111 1111 1234'), (4008, 'a@b@c'), (4009, repeat('9', 1000)),
  (4010, '中文@例子.中国'), (4011, '+86-138-****-5678'), (4012, ' ');
SELECT count(*) AS texts, count(DISTINCT v) AS distinct_texts, max(char_length(v)) AS longest FROM sec_texts;
SELECT m.mask,
       count(*) AS tried,
       count(*) FILTER (WHERE char_length(m.once) <> char_length(t.v)) AS length_changed,
       count(*) FILTER (WHERE m.twice IS DISTINCT FROM m.once) AS not_idempotent
  FROM sec_texts t
 CROSS JOIN LATERAL (VALUES
       ('email', retention.mask_email(t.v), retention.mask_email(retention.mask_email(t.v))),
       ('phone', retention.mask_phone(t.v), retention.mask_phone(retention.mask_phone(t.v))),
       ('national_id', retention.mask_national_id(t.v), retention.mask_national_id(retention.mask_national_id(t.v))),
       ('card', retention.mask_card(t.v), retention.mask_card(retention.mask_card(t.v))),
       ('partial', retention.mask_partial(t.v, t.i % 5, t.i % 7),
                   retention.mask_partial(retention.mask_partial(t.v, t.i % 5, t.i % 7), t.i % 5, t.i % 7)),
       ('partial_fill', retention.mask_partial(t.v, 1, 1, '中'),
                        retention.mask_partial(retention.mask_partial(t.v, 1, 1, '中'), 1, 1, '中'))
     ) AS m(mask, once, twice)
 GROUP BY m.mask ORDER BY m.mask;

-- numbers: random values and steps, and the extremes of numeric
CREATE TEMP TABLE sec_numbers AS
SELECT i, round(((random() - 0.5) * 10 ^ (i % 30))::numeric, i % 7) AS v,
       (ARRAY[1, 0.5, 10, 7, 0.001, 1000000, 3.3])[1 + i % 7]::numeric AS step
  FROM generate_series(1, 3000) i;
INSERT INTO sec_numbers VALUES (3001, 'NaN', 10), (3002, 'Infinity', 10), (3003, '-Infinity', 10),
  (3004, 0, 10), (3005, -0.0000001, 10), (3006, 1e100, 1e-10), (3007, -17, 10);
SELECT count(*) AS tried,
       count(*) FILTER (WHERE g.once IS DISTINCT FROM retention.generalize(g.once, n.step)) AS not_idempotent,
       count(*) FILTER (WHERE n.v <> 'NaN' AND n.v > -1e300 AND n.v < 1e300 AND (g.once > n.v OR n.v - g.once >= n.step))
         AS outside_its_bucket
  FROM sec_numbers n CROSS JOIN LATERAL (SELECT retention.generalize(n.v, n.step) AS once) g;
SELECT retention.generalize(-17::numeric, 10) AS minus_17, retention.generalize('NaN'::numeric, 10) AS nan,
       retention.generalize('Infinity'::numeric, 10) AS inf;
SELECT retention.generalize(1::numeric, 'NaN');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.generalize(1::numeric, '-Infinity');
\echo :LAST_ERROR_SQLSTATE

-- times: random instants over four millennia, every unit, the session zone and two others
CREATE TEMP TABLE sec_times AS
SELECT i, timestamptz '0001-01-01 00:00+00' + random() * interval '3000 years' AS v,
       (ARRAY['decade', 'year', 'quarter', 'month', 'week', 'day', 'hour'])[1 + i % 7] AS unit
  FROM generate_series(1, 2000) i;
INSERT INTO sec_times VALUES (2001, 'infinity', 'year'), (2002, '-infinity', 'month'), (2003, '2024-02-29 23:59:59.999999+00', 'day');
SET timezone = 'Asia/Kathmandu';
SELECT count(*) AS tried,
       count(*) FILTER (WHERE retention.generalize(g.once, t.unit) IS DISTINCT FROM g.once) AS not_idempotent,
       count(*) FILTER (WHERE g.once > t.v) AS moved_up,
       count(*) FILTER (WHERE retention.generalize(g.zoned, t.unit, 'America/St_Johns') IS DISTINCT FROM g.zoned) AS zoned_not_idempotent,
       count(*) FILTER (WHERE t.unit <> 'hour' AND retention.generalize(g.day, t.unit) IS DISTINCT FROM g.day) AS date_not_idempotent
  FROM sec_times t
 CROSS JOIN LATERAL (SELECT retention.generalize(t.v, t.unit) AS once,
                            retention.generalize(t.v, t.unit, 'America/St_Johns') AS zoned,
                            CASE WHEN t.unit <> 'hour' THEN retention.generalize(t.v::date, t.unit) END AS day) g;
RESET timezone;

-- addresses: random IPv4, IPv6 and IPv4-mapped addresses with their own netmasks, every prefix
CREATE TEMP TABLE sec_addrs AS
SELECT i, CASE i % 3
            WHEN 0 THEN (host(('0.0.0.0'::inet + (random() * 4294967295)::bigint)) || '/' || (8 + i % 25))::inet
            WHEN 1 THEN ('2001:db8::'::inet + (random() * 1e15)::bigint)
            ELSE ('::ffff:' || host('0.0.0.0'::inet + (random() * 4294967295)::bigint))::inet END AS v,
       i % 33 AS prefix
  FROM generate_series(1, 3000) i;
SELECT count(*) AS tried,
       count(*) FILTER (WHERE retention.generalize(g.once, a.prefix) IS DISTINCT FROM g.once) AS not_idempotent,
       count(*) FILTER (WHERE masklen(g.once) > masklen(a.v)) AS narrowed,
       count(*) FILTER (WHERE NOT (g.once >>= a.v OR g.once = a.v)) AS does_not_contain_value
  FROM sec_addrs a CROSS JOIN LATERAL (SELECT retention.generalize(a.v, a.prefix) AS once) g;
SELECT retention.generalize('192.0.2.77'::inet, 33);
\echo :LAST_ERROR_SQLSTATE
SELECT retention.generalize('192.0.2.77'::inet, -1);
\echo :LAST_ERROR_SQLSTATE
DROP TABLE sec_texts, sec_numbers, sec_times, sec_addrs;
