/* pg_retention--0.2.0--0.3.0.sql: from 0.2.0 to 0.3.0 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pg_retention UPDATE TO '0.3.0'" to load this file. \quit

-- CREATE EXTENSION runs pg_retention--0.1.0.sql, then the 0.1.0--0.2.0 script
-- and this one, in one transaction; ALTER EXTENSION ... UPDATE runs what a
-- database lacks.  Every SQL change after 0.2.0 goes here, so that a database
-- created with 0.1.0 or 0.2.0 reaches the same objects as a new one
-- (tests/t/603_upgrade.pl compares them).

-- Truthful erasures (docs/reference.md#erasure): an erasure is done only when the subject is
-- really gone, a replay says 'incomplete' when it is not, and an access request never
-- answers with rows row-level security hid.  Only the functions' comments change.
COMMENT ON FUNCTION retention.erase_subject(text, text) IS
'Erases one data subject from every table of its graph in one transaction, children first: rows are deleted, or anonymized where a table''s anonymize policy says they must be kept, and where other rows still reference them (a deletion never cascades into kept, held or other subjects'' rows; a shared row such as an address goes only when nothing references it). Rows triggers copy into tables of the graph (a linked history table) are erased in further passes. Afterwards the subject''s rows are counted again: anything left but masked kept rows fails the erasure, which then changes and records nothing. Returns what was done per table; an unknown id gives zero rows. A subject under a legal hold, or sharing a row with a held subject of any kind, or in a held table, is not touched: the erasure is recorded as pending and carried out when the holds end. Recorded in the erasure ledger by a keyed hash. For superusers and members of retention_officer. Errors: 42501, 42704 unknown kind, 22P02 invalid id, 55000 the erasure would be pending but neither a key nor a hold on the subject itself could find the subject again, or track_counts is off while the graph has triggers, RTE01 rows of the subject are left (a soft-delete trigger, a DO INSTEAD rule, row-level security), RTE02 a trigger copied rows out of the graph, RTE03 triggers keep copying rows into it.';

COMMENT ON FUNCTION retention.replay_erasures() IS
'Applies the ledger entries not applied in this database yet (after a restore and import_erasures) and the pending ones whose holds ended: finds each subject again by hashing the keys of its table, and erases it. result: erased, held, absent, incomplete (the subject is still there after the erasure: WARNING with the cause, the entry stays waiting), wrong_key (recorded with another key: WARNING, the entry stays waiting), pending_elsewhere (imported while still pending where it was made), unknown_kind (no such kind here: WARNING, the entry stays waiting). rows is NULL for subjects erased together in one pass (no hold active; one audit entry erasures_replayed). Errors: 42501, 55000 no key (the key the erasures were recorded with is needed).';

COMMENT ON FUNCTION retention.subject_data(text, text) IS
'Everything the database holds about one data subject, as one jsonb document grouped by table, with each table''s personal columns and their categories: the answer to an access or portability request. Never partial: rows row-level security hides from the owners the tables are read as fail the request. For superusers and members of retention_officer. Errors: 42501 not allowed, 42704 unknown kind, 22P02 id not a valid key, RTA01 the document would lack rows row-level security hides.';
