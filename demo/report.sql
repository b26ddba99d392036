-- pg_retention demo: what the policies will do, and what they have done.
-- Variables: as_of (timestamptz text), stage (before / after).
\set ON_ERROR_STOP on
\pset footer off
\echo
\echo '-- personal columns (retention.personal_columns)'
SELECT schema_name || '.' || table_name AS "table", column_name, category, sensitive, mask
  FROM retention.personal_columns ORDER BY 1, 2;
\echo '-- policies (retention.policies)'
SELECT policy_id AS id, tbl, keep, after, action, basis FROM retention.policies ORDER BY policy_id;
\echo '-- what is due as of' :'as_of' '(retention.preview)'
SELECT policy_id AS id, tbl, action, cutoff, rows_due, rows_blocked, rows_undated
  FROM retention.preview(:'as_of') ORDER BY policy_id;
