-- Faults in the middle of a run: an error of the statement (a disk that is full,
-- simulated by a trigger raising 53100; an I/O error; a cancel) rolls back the
-- batch it hit and nothing before it; the run is recorded with the error; the
-- next run takes up what is left.  One row that refuses to go is left alone.
SET timezone = 'UTC';
SELECT setval('retention.policy_catalog_policy_id_seq', 6200) IS NOT NULL AS ids_pinned;
CREATE TABLE sec_events (id int PRIMARY KEY, note text, at timestamptz NOT NULL);
INSERT INTO sec_events SELECT g, 'event ' || g, timestamptz '2022-01-01' + g * interval '1 minute'
  FROM generate_series(1, 500) g;
-- the fault: armed for one row, with the SQLSTATE it raises
CREATE TABLE sec_fault (armed boolean NOT NULL, at_id int NOT NULL, code text NOT NULL, message text NOT NULL);
INSERT INTO sec_fault VALUES (false, 0, '00000', '');
CREATE FUNCTION sec_fault_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE f record;
BEGIN
    SELECT * INTO f FROM public.sec_fault;
    IF f.armed AND OLD.id = f.at_id THEN
        RAISE EXCEPTION USING ERRCODE = f.code, MESSAGE = f.message;
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER fault BEFORE DELETE OR UPDATE ON sec_events FOR EACH ROW EXECUTE FUNCTION sec_fault_trigger();
SELECT retention.add_policy('sec_events', '30 days', 'at', batch_size => 100) AS pol \gset

-- disk full in the third batch: batches 1 and 2 stay done, the third rolls back whole
UPDATE sec_fault SET armed = true, at_id = 250, code = '53100',
       message = 'could not extend file "base/16384/16385": No space left on device';
CALL retention.run('sec_events', '2022-06-01');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS left_rows, min(id) AS first_left FROM sec_events;
SELECT rows, batches, status, error FROM retention.runs WHERE policy_id = :pol ORDER BY run_id;
-- the disk has room again: the next run takes up the rest
UPDATE sec_fault SET armed = false;
CALL retention.run('sec_events', '2022-06-01');
SELECT count(*) AS left_rows FROM sec_events;
SELECT rows, batches, status, error FROM retention.runs WHERE policy_id = :pol ORDER BY run_id;

-- an I/O error and an out-of-memory error behave the same
INSERT INTO sec_events SELECT g, 'event ' || g, timestamptz '2022-01-01' + g * interval '1 minute'
  FROM generate_series(1, 300) g;
UPDATE sec_fault SET armed = true, at_id = 150, code = '58030', message = 'could not read block 7: Input/output error';
CALL retention.run('sec_events', '2022-06-01');
\echo :LAST_ERROR_SQLSTATE
UPDATE sec_fault SET at_id = 250, code = '53200', message = 'out of memory';
CALL retention.run('sec_events', '2022-06-01');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS left_rows FROM sec_events;
-- a cancel in the middle of a batch: the run is recorded as interrupted, the cancel goes on
UPDATE sec_fault SET at_id = 280, code = '57014', message = 'canceling statement due to user request';
CALL retention.run('sec_events', '2022-06-01');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS left_rows FROM sec_events;
UPDATE sec_fault SET armed = false;
CALL retention.run('sec_events', '2022-06-01');
SELECT count(*) AS left_rows FROM sec_events;
SELECT rows, batches, status, error FROM retention.runs WHERE policy_id = :pol AND run_id >
       (SELECT min(run_id) + 1 FROM retention.runs WHERE policy_id = :pol) ORDER BY run_id;

-- one row a trigger refuses (an ordinary exception): it stays, every other row goes
INSERT INTO sec_events SELECT g, 'event ' || g, timestamptz '2022-01-01' + g * interval '1 minute'
  FROM generate_series(1, 300) g;
UPDATE sec_fault SET armed = true, at_id = 123, code = 'P0001', message = 'row 123 is special';
CALL retention.run('sec_events', '2022-06-01');
\echo :LAST_ERROR_SQLSTATE
SELECT id FROM sec_events;
SELECT rows, status, error FROM retention.runs WHERE policy_id = :pol ORDER BY run_id DESC LIMIT 1;
UPDATE sec_fault SET armed = false;
CALL retention.run('sec_events', '2022-06-01');
SELECT count(*) AS left_rows FROM sec_events;
SELECT retention.drop_policy(:pol);

-- the same for an anonymize run: the batch that failed is not half masked
INSERT INTO sec_events SELECT g, 'event ' || g, timestamptz '2022-01-01' + g * interval '1 minute'
  FROM generate_series(1, 300) g;
SELECT retention.tag('sec_events', 'note', 'free_text', 'constant(gone)');
SELECT retention.add_policy('sec_events', '30 days', 'at', 'anonymize', batch_size => 100) AS anon \gset
UPDATE sec_fault SET armed = true, at_id = 150, code = '53100', message = 'No space left on device';
CALL retention.run('sec_events', '2022-06-01');
\echo :LAST_ERROR_SQLSTATE
SELECT note = 'gone' AS masked, count(*), min(id), max(id) FROM sec_events GROUP BY 1 ORDER BY 1;
UPDATE sec_fault SET armed = false;
CALL retention.run('sec_events', '2022-06-01');
SELECT note = 'gone' AS masked, count(*) FROM sec_events GROUP BY 1 ORDER BY 1;
SELECT rows, batches, status, error FROM retention.runs WHERE policy_id = :anon ORDER BY run_id;

-- one failing policy does not stop the others of the same call
CREATE TABLE sec_other (id int PRIMARY KEY, at timestamptz NOT NULL);
INSERT INTO sec_other SELECT g, timestamptz '2022-01-01' FROM generate_series(1, 10) g;
SELECT retention.add_policy('sec_other', '30 days', 'at') AS other \gset
SELECT retention.alter_policy(:anon, action => 'delete', columns => '{}');
UPDATE sec_fault SET armed = true, at_id = 10, code = '53100', message = 'No space left on device';
CALL retention.run(NULL, '2022-06-01');
\echo :LAST_ERROR_SQLSTATE
SELECT (SELECT count(*) FROM sec_other) AS other_left, (SELECT count(*) FROM sec_events) AS events_left;
-- the audit trail recorded every run, and still verifies
SELECT details->>'status' AS status, count(*) FROM retention.audit
 WHERE event = 'run' AND (details->>'policy_id')::bigint IN (:pol, :anon, :other) GROUP BY 1 ORDER BY 1;
-- (07_audit tampered with the trail on purpose: the entries from here on still chain)
SELECT bool_and(b.prev_hash = a.hash) AS chained FROM retention.audit a JOIN retention.audit b ON b.seq = a.seq + 1
 WHERE a.seq >= (SELECT min(seq) FROM retention.audit WHERE event = 'policy_added' AND (details->>'policy_id')::bigint = :pol);

SELECT retention.drop_policy(:anon);
SELECT retention.drop_policy(:other);
SELECT retention.untag('sec_events', 'note');
DROP TABLE sec_events, sec_other, sec_fault;
DROP FUNCTION sec_fault_trigger();
