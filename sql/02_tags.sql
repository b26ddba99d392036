-- Tags on personal columns: retention.tag / untag, SECURITY LABEL, personal_columns
SET timezone = 'UTC';
CREATE SCHEMA "Shop Floor";
CREATE TABLE "Shop Floor"."Kunden ÄÖ" (
    id int PRIMARY KEY,
    "E-Mail" text NOT NULL,
    "Name ""quoted""" text,
    phone varchar(20),
    birth date,
    ip inet,
    balance numeric,
    note text,
    shout text GENERATED ALWAYS AS (upper("E-Mail")) STORED,
    serial_no int GENERATED ALWAYS AS IDENTITY,
    code text UNIQUE
);
SELECT retention.tag('"Shop Floor"."Kunden ÄÖ"', 'E-Mail', 'email');
SELECT retention.tag('"Shop Floor"."Kunden ÄÖ"', 'Name "quoted"', 'name');
SELECT retention.tag('"Shop Floor"."Kunden ÄÖ"', 'phone', 'phone', ' Partial( 3 , 4 ) ');
SELECT retention.tag('"Shop Floor"."Kunden ÄÖ"', 'birth', 'birth_date');
SELECT retention.tag('"Shop Floor"."Kunden ÄÖ"', 'ip', 'ip_address');
SELECT retention.tag('"Shop Floor"."Kunden ÄÖ"', 'code', 'cookie_id');
SELECT * FROM retention.personal_columns ORDER BY column_name;
-- the tag is a security label; the mask is stored in canonical form
SELECT label FROM pg_seclabels WHERE provider = 'retention' ORDER BY objname;
-- tagging again replaces the tag
SELECT retention.tag('"Shop Floor"."Kunden ÄÖ"', 'phone', 'phone');
SELECT column_name, category, mask FROM retention.personal_columns WHERE column_name = 'phone';
-- the second way to tag: SECURITY LABEL, with the same checks
SECURITY LABEL FOR retention ON COLUMN "Shop Floor"."Kunden ÄÖ".note IS 'free_text';
SECURITY LABEL FOR retention ON COLUMN "Shop Floor"."Kunden ÄÖ".balance IS 'bank_account:generalize(100)';
SELECT column_name, category, sensitive, mask FROM retention.personal_columns
 WHERE column_name IN ('note', 'balance') ORDER BY 1;
SECURITY LABEL FOR retention ON COLUMN "Shop Floor"."Kunden ÄÖ".note IS 'favourite_colour';
\echo :LAST_ERROR_SQLSTATE
SECURITY LABEL FOR retention ON TABLE "Shop Floor"."Kunden ÄÖ" IS 'email';
\echo :LAST_ERROR_SQLSTATE
-- renames are followed: table, column, schema
ALTER TABLE "Shop Floor"."Kunden ÄÖ" RENAME COLUMN "E-Mail" TO email_address;
ALTER TABLE "Shop Floor"."Kunden ÄÖ" RENAME TO customers;
ALTER TABLE "Shop Floor".customers SET SCHEMA public;
SELECT schema_name, table_name, column_name, category FROM retention.personal_columns ORDER BY column_name;
-- a dropped column takes its tag with it
ALTER TABLE customers DROP COLUMN note;
SELECT count(*) AS note_tags FROM retention.personal_columns WHERE column_name = 'note';
-- untag
SELECT retention.untag('customers', 'ip');
SELECT count(*) AS ip_tags FROM retention.personal_columns WHERE column_name = 'ip';
-- a partitioned table is tagged on its parent
CREATE TABLE visits (id bigint, at timestamptz NOT NULL, ip inet) PARTITION BY RANGE (at);
CREATE TABLE visits_2022 PARTITION OF visits FOR VALUES FROM ('2022-01-01') TO ('2023-01-01');
SELECT retention.tag('visits', 'ip', 'ip_address');
SELECT table_name, column_name, mask FROM retention.personal_columns WHERE table_name LIKE 'visits%';
-- a dropped table takes its tags with it
CREATE TABLE scratch (email text);
SELECT retention.tag('scratch', 'email', 'email');
DROP TABLE scratch;
SELECT count(*) AS scratch_tags FROM retention.personal_columns WHERE table_name = 'scratch';
