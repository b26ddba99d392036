/* pg_retention--0.1.0--0.2.0.sql: from 0.1.0 to 0.2.0 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pg_retention UPDATE TO '0.2.0'" to load this file. \quit

-- CREATE EXTENSION runs pg_retention--0.1.0.sql and then this script, in one
-- transaction; ALTER EXTENSION ... UPDATE runs this script alone.  Every SQL
-- change after 0.1.0 goes here, never into the 0.1.0 script, so that a
-- database created with 0.1.0 reaches the same objects as a new one.

------------------------------------------------------------------------
-- The schema retention must be changeable by superusers only
------------------------------------------------------------------------

-- A role that owns schema retention, or may create objects in it, could put
-- a function there that the extension's own SQL resolves (say a
-- retention.mask_partial taking exactly the arguments a run passes), and it
-- would run as whoever runs the policy: a superuser or a table owner.  A
-- schema of that name created beforehand by such a role is refused here,
-- which rolls the whole CREATE EXTENSION (or UPDATE) back.
DO $guard$
DECLARE
    roles text;
BEGIN
    SELECT pg_catalog.string_agg(pg_catalog.quote_ident(r.rolname), ', ' ORDER BY r.rolname)
      INTO roles
      FROM pg_catalog.pg_namespace n, pg_catalog.pg_roles r
     WHERE n.nspname OPERATOR(pg_catalog.=) 'retention'
       AND NOT r.rolsuper
       AND (r.oid OPERATOR(pg_catalog.=) n.nspowner
            OR pg_catalog.has_schema_privilege(r.oid, n.oid, 'CREATE'));
    IF roles IS NOT NULL THEN
        RAISE EXCEPTION 'schema retention can be changed by roles that are not superusers: %', roles
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'A function or operator such a role creates in the schema could run with the rights of whoever runs a policy.',
                  HINT = 'Drop the schema (or make a superuser its owner and revoke CREATE on it) and create the extension again.';
    END IF;
END
$guard$;

------------------------------------------------------------------------
-- The version of the library
------------------------------------------------------------------------

CREATE FUNCTION retention.library_version()
RETURNS text
AS 'MODULE_PATHNAME', 'retention_library_version'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION retention.library_version() IS
'The version of the SQL objects the loaded pg_retention library was built for (such as ''0.2.0''). When it differs from pg_extension.extversion, the library warns once per session and ALTER EXTENSION pg_retention UPDATE brings the SQL objects up to date.';

------------------------------------------------------------------------
-- The tables pg_dump keeps do not reference each other
------------------------------------------------------------------------

-- pg_restore -j loads the data of an extension's tables in any order, each in a
-- session of its own: with this foreign key, the links of retention.link_subject
-- failed to load about every other time (the kind they name not yet there), and
-- with them went the legal-hold cover of the linked tables.  drop_subject removes
-- a kind's links itself, and link_subject locks the kind while it adds one.
ALTER TABLE retention.subject_link_catalog DROP CONSTRAINT IF EXISTS subject_link_catalog_kind_fkey;
