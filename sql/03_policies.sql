-- Policies: add_policy, alter_policy, drop_policy, the policies view
SET timezone = 'UTC';
-- policy ids of this file start at 301, whatever the files before it did
SELECT setval('retention.policy_catalog_policy_id_seq', 300) IS NOT NULL AS ids_pinned;
CREATE TABLE events (
    id bigint PRIMARY KEY,
    "Happened At" timestamptz,
    day date,
    local_time timestamp,
    payload text
);
CREATE INDEX events_happened ON events ("Happened At");
-- a delete policy; the time zone is the session's
SELECT retention.add_policy('events', interval '90 days', 'Happened At') AS p1 \gset
-- several policies per table; a date anchor; an explicit time zone and basis
SELECT retention.add_policy('events', '2 years', 'day', basis => 'tax law: 2 years',
                            time_zone => 'Asia/Shanghai', batch_size => 500) AS p2 \gset
-- a timestamp (without time zone) anchor; no index on it: a NOTICE says what that costs
SELECT retention.add_policy('events', '1 month', 'local_time') AS p3 \gset
SELECT policy_id = :p1 AS first, tbl, keep, after, action, columns, batch_size, basis, time_zone,
       enabled, created_by
  FROM retention.policies ORDER BY policy_id;
-- alter: NULL leaves a field as it is
SELECT retention.alter_policy(:p1, keep => '100 days');
SELECT retention.alter_policy(:p2, basis => '', batch_size => 0, enabled => false);
SELECT retention.alter_policy(:p3, time_zone => 'America/New_York');
SELECT policy_id - :p1 AS n, keep, after, batch_size, basis, time_zone, enabled
  FROM retention.policies ORDER BY policy_id;
-- a policy follows a column rename
ALTER TABLE events RENAME COLUMN "Happened At" TO happened;
SELECT policy_id - :p1 AS n, after FROM retention.policies ORDER BY policy_id;
-- a short period is refused unless retention.min_keep is lowered (superuser only)
SET retention.min_keep = '1min';
SELECT retention.add_policy('events', '10 minutes', 'happened') AS p4 \gset
RESET retention.min_keep;
SELECT keep FROM retention.policies WHERE policy_id = :p4;
-- dropping a policy removes nothing else: the index stays
SELECT retention.drop_policy(:p4);
SELECT retention.drop_policy(:p1);
SELECT count(*) AS policies, (SELECT count(*) FROM pg_indexes WHERE indexname = 'events_happened') AS index_kept
  FROM retention.policies;
-- a partitioned table: the policy is declared on the parent
CREATE TABLE metrics (at timestamptz NOT NULL, v int) PARTITION BY RANGE (at);
CREATE TABLE metrics_2022 PARTITION OF metrics FOR VALUES FROM ('2022-01-01') TO ('2023-01-01');
SELECT retention.add_policy('metrics', '1 year', 'at') > 0 AS added;
-- dropping a table drops its policies (recorded in the audit trail)
DROP TABLE metrics;
SELECT count(*) AS metrics_policies FROM retention.policies WHERE tbl::text LIKE 'metrics%';
-- clean up for the next file
SELECT retention.drop_policy(policy_id) FROM retention.policies;
DROP TABLE events;
