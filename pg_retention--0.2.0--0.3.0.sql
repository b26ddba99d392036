/* pg_retention--0.2.0--0.3.0.sql: from 0.2.0 to 0.3.0 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pg_retention UPDATE TO '0.3.0'" to load this file. \quit

-- CREATE EXTENSION runs pg_retention--0.1.0.sql, then the 0.1.0--0.2.0 script
-- and this one, in one transaction; ALTER EXTENSION ... UPDATE runs what a
-- database lacks.  Every SQL change after 0.2.0 goes here, so that a database
-- created with 0.1.0 or 0.2.0 reaches the same objects as a new one
-- (tests/t/603_upgrade.pl compares them).
