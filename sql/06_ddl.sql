-- DDL around policies: renames on a partition tree, type changes, drops
SET timezone = 'UTC';
-- policy ids of this file start at 601, whatever the files before it did
SELECT setval('retention.policy_catalog_policy_id_seq', 600) IS NOT NULL AS ids_pinned;
CREATE TABLE ledger (id bigint, booked timestamptz NOT NULL, memo text) PARTITION BY RANGE (booked);
CREATE TABLE ledger_2021 PARTITION OF ledger FOR VALUES FROM ('2021-01-01') TO ('2022-01-01');
CREATE TABLE ledger_2022 PARTITION OF ledger FOR VALUES FROM ('2022-01-01') TO ('2023-01-01');
SELECT retention.add_policy('ledger', '1 year', 'booked') AS parent \gset
SELECT retention.add_policy('ledger_2021', '6 months', 'booked') AS child \gset
-- renaming the column on the parent renames it on the partitions: both policies follow
ALTER TABLE ledger RENAME COLUMN booked TO booked_at;
SELECT tbl, after FROM retention.policies ORDER BY policy_id;
-- a type change that keeps a timestamp type is allowed
ALTER TABLE ledger ALTER COLUMN booked_at TYPE timestamp;
SELECT tbl, after FROM retention.policies ORDER BY policy_id;
-- other columns can be dropped freely
ALTER TABLE ledger DROP COLUMN memo;
-- renaming the table: the policy follows by OID
ALTER TABLE ledger RENAME TO journal;
SELECT tbl FROM retention.policies WHERE policy_id = :parent;
-- dropping a partition drops its own policy only
DROP TABLE ledger_2021;
SELECT tbl FROM retention.policies ORDER BY policy_id;
SELECT event, tbl, details->>'policy_id' = :'child' AS the_child
  FROM retention.audit WHERE event = 'policy_dropped_with_table' ORDER BY seq DESC LIMIT 1;
DROP TABLE journal;
SELECT count(*) AS policies_left FROM retention.policies;
