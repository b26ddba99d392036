/* pg_retention--0.2.0--0.3.0.sql: from 0.2.0 to 0.3.0 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pg_retention UPDATE TO '0.3.0'" to load this file. \quit

-- CREATE EXTENSION runs pg_retention--0.1.0.sql, then the 0.1.0--0.2.0 script
-- and this one, in one transaction; ALTER EXTENSION ... UPDATE runs what a
-- database lacks.  Every SQL change after 0.2.0 goes here, so that a database
-- created with 0.1.0 or 0.2.0 reaches the same objects as a new one
-- (tests/t/603_upgrade.pl compares them).

-- ---------------------------------------------------------------------------
-- 0.3.0: the text masks see the decimal digits of every script
-- (docs/reference.md#masks-and-the-pseudonymization-key).  An index whose
-- expressions or predicate call one of them -- above all the partial index
-- retention.index_advice() gives for an anonymize policy, which holds the rows
-- still to anonymize -- was built by the library before, which took a value in
-- full-width or other non-ASCII digits for masked already and left such rows
-- out of it.  Each is rebuilt here (REINDEX locks its table against writes
-- while it runs); one the updating role does not own is named in a WARNING
-- with the statement to run (docs/operations.md#masks).
-- ---------------------------------------------------------------------------
DO $$
DECLARE
    idx record;
BEGIN
    FOR idx IN
        SELECT DISTINCT i.oid::pg_catalog.regclass AS name, i.relowner
          FROM pg_catalog.pg_depend d
          JOIN pg_catalog.pg_class i ON i.oid OPERATOR(pg_catalog.=) d.objid
         WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
           AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
           AND i.relkind OPERATOR(pg_catalog.=) 'i'
           AND d.refobjid OPERATOR(pg_catalog.=) ANY (ARRAY[
                 'retention.mask_phone(pg_catalog.text)'::pg_catalog.regprocedure,
                 'retention.mask_card(pg_catalog.text)'::pg_catalog.regprocedure,
                 'retention.mask_national_id(pg_catalog.text)'::pg_catalog.regprocedure,
                 'retention.mask_email(pg_catalog.text)'::pg_catalog.regprocedure,
                 'retention.mask_partial(pg_catalog.text, pg_catalog.int4, pg_catalog.int4, pg_catalog.text)'::pg_catalog.regprocedure
               ]::pg_catalog.oid[])
    LOOP
        IF pg_catalog.pg_has_role(idx.relowner, 'USAGE') THEN
            EXECUTE pg_catalog.format('REINDEX INDEX %s', idx.name);
        ELSE
            RAISE WARNING 'index % calls a text mask of pg_retention and was built by an older library', idx.name
                USING DETAIL = 'It may leave out rows whose digits are not ASCII, which runs would then not anonymize.',
                      HINT = pg_catalog.format('Its owner should run: REINDEX INDEX CONCURRENTLY %s;', idx.name);
        END IF;
    END LOOP;
END
$$;
