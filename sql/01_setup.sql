-- pg_retention: installation, the category vocabulary
CREATE EXTENSION pg_retention;
SELECT extversion, extrelocatable, n.nspname AS schema
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE extname = 'pg_retention';
-- the vocabulary of docs/reference.md#classification, with default masks and the sensitive flag
SELECT category, default_mask, sensitive FROM retention.categories ORDER BY category;
SELECT count(*) AS sensitive_categories FROM retention.categories WHERE sensitive;
-- every public function and view is documented
SELECT p.oid::regprocedure AS undocumented
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'retention' AND obj_description(p.oid, 'pg_proc') IS NULL;
SELECT c.relname AS undocumented
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'retention' AND c.relkind IN ('r', 'v')
   AND obj_description(c.oid, 'pg_class') IS NULL;
-- no function is SECURITY DEFINER without a pinned search_path
SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'retention' AND p.prosecdef
   AND NOT coalesce(p.proconfig, '{}') @> '{"search_path=pg_catalog, pg_temp"}';
-- settings and their defaults
SELECT name, setting, unit, context FROM pg_settings WHERE name LIKE 'retention.%' ORDER BY name;
