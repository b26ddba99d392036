/* pg_retention--0.2.0--0.3.0.sql: from 0.2.0 to 0.3.0 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pg_retention UPDATE TO '0.3.0'" to load this file. \quit

-- CREATE EXTENSION runs pg_retention--0.1.0.sql, then the 0.1.0--0.2.0 script
-- and this one, in one transaction; ALTER EXTENSION ... UPDATE runs what a
-- database lacks.  Every SQL change after 0.2.0 goes here, so that a database
-- created with 0.1.0 or 0.2.0 reaches the same objects as a new one
-- (tests/t/603_upgrade.pl compares them).

------------------------------------------------------------------------
-- The guards hold in every session_replication_role, and the schema keeps its name
------------------------------------------------------------------------

-- With session_replication_role = replica, PostgreSQL fires only the triggers
-- and event triggers marked ENABLE REPLICA or ENABLE ALWAYS: a session (or a
-- role or database set to replica) could otherwise drop a policy's anchor
-- column, drop a table without its policies going, or rewrite the audit trail.
ALTER EVENT TRIGGER retention_sql_drop ENABLE ALWAYS;
ALTER EVENT TRIGGER retention_ddl_end ENABLE ALWAYS;
ALTER TABLE retention.audit ENABLE ALWAYS TRIGGER audit_append_only;
ALTER TABLE retention.audit ENABLE ALWAYS TRIGGER audit_no_truncate;

CREATE FUNCTION retention.on_ddl_start()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'retention_on_ddl_start'
LANGUAGE C;

COMMENT ON FUNCTION retention.on_ddl_start() IS
'Event trigger on ddl_command_start: refuses renaming schema retention or an object in it and moving such an object to another schema (SQLSTATE 0A000; the extension names them in its code, and the event triggers every ALTER TABLE fires read them), and giving the schema or its objects to a role that is not a superuser, or granting such a role CREATE on the schema (42501).';

REVOKE ALL ON FUNCTION retention.on_ddl_start() FROM PUBLIC;

CREATE EVENT TRIGGER retention_ddl_start ON ddl_command_start
    WHEN TAG IN ('ALTER SCHEMA', 'ALTER TABLE', 'ALTER VIEW', 'ALTER SEQUENCE', 'ALTER INDEX',
                 'ALTER FUNCTION', 'ALTER PROCEDURE', 'ALTER ROUTINE', 'ALTER TRIGGER', 'ALTER TYPE',
                 'GRANT')
    EXECUTE FUNCTION retention.on_ddl_start();
ALTER EVENT TRIGGER retention_ddl_start ENABLE ALWAYS;
