-- Decimal digits of every script (Unicode category Nd) are digits for mask_phone,
-- mask_card and mask_national_id: masked exactly where the ASCII digit of the same
-- value would be, so that no value still readable equals its own mask (and an
-- anonymize run never counts it as masked already).  mask_partial and mask_email
-- count characters of any script.  A database of its own for stable policy ids.
\set regress_db :DBNAME
CREATE DATABASE regress_rt_unicode_digits;
\c regress_rt_unicode_digits
CREATE EXTENSION pg_retention;
SET timezone = 'UTC';
SET retention.key_file = '';
\pset null '(null)'

-- mask_phone: full-width, Arabic-Indic (+86 country code in them), Extended
-- Arabic-Indic (0086), Devanagari, Bengali, Thai, mixed with ASCII, Mathematical
-- bold (4 bytes each); characters that are not decimal digits stay as they are
SELECT v, retention.mask_phone(v) AS masked
  FROM (VALUES ('１３８１２３４５６７８'), ('+٨٦ ١٣٨ ١٢٣٤ ٥٦٧٨'), ('۰۰۸۶ ۱۳۸۱۲۳۴۵۶۷۸'),
               ('०१०-६२३४५६७८'), ('(৫৫৫) ১২৩-৪৫৬৭'), ('๕๕๕-๑๒๓๔'), ('138１２３４5678'),
               ('𝟏𝟑𝟖𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖'), ('¹²³ ①②③ 一三八')) AS t(v);

-- mask_card: the last 4 digits of 12 or more stay, in whatever script
SELECT v, retention.mask_card(v) AS masked
  FROM (VALUES ('４１１１１１１１１１１１１２３４'), ('４１１１ １１１１ １１１１ １２３４'),
               ('٥٥٠٠-٠٠٠٠-٠٠٠٠-٠٠٠٤'), ('६२१२३४५६७८९०१२३४५६७'), ('๑๒๓๔๕๖๗๘๙๐๑'),
               ('4111 １１１１ ١١١١ 1234')) AS t(v);

-- mask_national_id: 6 leading digits of any script are a division code
SELECT v, retention.mask_national_id(v) AS masked
  FROM (VALUES ('１１０１０５１９４９１２３１００２Ｘ'), ('११०१०५१९४९१२३१००२१'),
               ('১১০১০৫ ১৯৪৯১২৩১ ০০২X'), ('١١٠١٠٥٤٩١٢٣١٠٠٢'), ('Ｅ１２３４５６７８')) AS t(v);

-- mask_partial and mask_email count characters, not bytes, in any script
SELECT retention.mask_partial('١٢٣٤٥٦٧٨٩٠', 2, 3) AS arabic_partial,
       retention.mask_partial('𝟏𝟐𝟑𝟒', 1, 1) AS four_byte_partial,
       retention.mask_partial('नमस्ते', 1, 1) AS devanagari_partial,
       retention.mask_email('محمد.علي@مثال.مصر') AS arabic_email,
       retention.mask_email('１２３４５＠example.com') AS fullwidth_at_is_no_at,
       retention.mask_email('用户１２３@例子.中国') AS cjk_email;

-- every decimal digit of Unicode 15.0 (68 scripts of ten): writing the ASCII digits
-- of a value in another script and masking gives the mask of the ASCII value written
-- in that script, character for character; and masking twice changes nothing
CREATE TEMP TABLE scripts AS
SELECT z.zero, (SELECT string_agg(chr(z.zero + d), '' ORDER BY d) FROM generate_series(0, 9) d) AS digits
  FROM (SELECT ('x' || lpad(h, 8, '0'))::bit(32)::int AS zero
          FROM unnest(ARRAY['30', '660', '6F0', '7C0', '966', '9E6', 'A66', 'AE6', 'B66', 'BE6',
        'C66', 'CE6', 'D66', 'DE6', 'E50', 'ED0', 'F20', '1040', '1090', '17E0',
        '1810', '1946', '19D0', '1A80', '1A90', '1B50', '1BB0', '1C40', '1C50', 'A620',
        'A8D0', 'A900', 'A9D0', 'A9F0', 'AA50', 'ABF0', 'FF10', '104A0', '10D30', '11066',
        '110F0', '11136', '111D0', '112F0', '11450', '114D0', '11650', '116C0', '11730',
        '118E0', '11950', '11C50', '11D50', '11DA0', '11F50', '16A60', '16AC0', '16B50',
        '1D7CE', '1D7D8', '1D7E2', '1D7EC', '1D7F6', '1E140', '1E2F0', '1E4F0', '1E950',
        '1FBF0']) AS h) AS z;
SELECT count(*) AS scripts, string_agg(digits, ' ' ORDER BY zero) FILTER (WHERE zero IN (x'FF10'::int, x'660'::int, x'966'::int, x'E50'::int, x'1E4F0'::int)) AS some
  FROM scripts;
CREATE TEMP TABLE ascii_samples(v) AS
VALUES ('13812345678'), ('138 1234 5678'), ('+86 138 1234 5678'), ('0086 13812345678'), ('010-62345678'),
       ('(555) 123-4567'), ('555-1234'), ('12345'), ('+44 20 7946 0958'), ('4111 1111 1111 1234'),
       ('5500-0000-0000-0004'), ('6212345678901234567'), ('123456789012'), ('12345678901'),
       ('11010519491231002X'), ('110105 19491231 002X'), ('110105491231002'), ('E12345678'),
       ('138****5678'), ('**** **** **** 1234'), ('110105************');
SELECT count(DISTINCT s.zero) AS scripts, count(*) AS tried,
       count(*) FILTER (WHERE retention.mask_phone(translate(a.v, '0123456789', s.digits))
                              <> translate(retention.mask_phone(a.v), '0123456789', s.digits)) AS phone_differs,
       count(*) FILTER (WHERE retention.mask_card(translate(a.v, '0123456789', s.digits))
                              <> translate(retention.mask_card(a.v), '0123456789', s.digits)) AS card_differs,
       count(*) FILTER (WHERE retention.mask_national_id(translate(a.v, '0123456789', s.digits))
                              <> translate(retention.mask_national_id(a.v), '0123456789', s.digits)) AS national_id_differs,
       count(*) FILTER (WHERE retention.mask_phone(retention.mask_phone(translate(a.v, '0123456789', s.digits)))
                              <> retention.mask_phone(translate(a.v, '0123456789', s.digits))
                           OR retention.mask_card(retention.mask_card(translate(a.v, '0123456789', s.digits)))
                              <> retention.mask_card(translate(a.v, '0123456789', s.digits))
                           OR retention.mask_national_id(retention.mask_national_id(translate(a.v, '0123456789', s.digits)))
                              <> retention.mask_national_id(translate(a.v, '0123456789', s.digits))) AS not_idempotent
  FROM ascii_samples a CROSS JOIN scripts s;
-- no card number of 12 digits or more, in any script, is its own mask
SELECT count(*) AS card_numbers,
       count(*) FILTER (WHERE retention.mask_card(v) = v) AS taken_for_masked
  FROM (SELECT translate('4111 1111 1111 1234', '0123456789', digits) AS v FROM scripts) AS c;

-- other types refuse such digits at input, so generalize() never meets them
SELECT '１２３'::numeric;
\echo :LAST_ERROR_SQLSTATE
SELECT '２０２４-01-01'::date;
\echo :LAST_ERROR_SQLSTATE

-- an anonymize policy masks them, and a rerun finds nothing left
CREATE TABLE accounts (id int PRIMARY KEY, phone text, card text, national_id text, closed_at timestamptz);
INSERT INTO accounts VALUES
  (1, '１３８１２３４５６７８', '４１１１ １１１１ １１１１ １２３４', '１１０１０５１９４９１２３１００２Ｘ', '2024-01-01'),
  (2, '+٨٦ ١٣٨ ١٢٣٤ ٥٦٧٨', '٥٥٠٠-٠٠٠٠-٠٠٠٠-٠٠٠٤', '١١٠١٠٥٤٩١٢٣١٠٠٢', '2024-01-01'),
  (3, '०१०-६२३४५६७८', '६२१२३४५६७८९०१२३४५६७', '११०१०५१९४९१२३१००२१', '2024-01-01'),
  (4, '13812345678', '4111 1111 1111 1234', '11010519491231002X', '2024-01-01'),
  (5, '１３８****５６７８', '**** **** **** １２３４', '１１０１０５************', '2024-01-01'),
  (6, '１３９８７６５４３２１', '４０００ ０５６６ ５５６６ ５５５６', '１１０１０５２０００１２３１００２Ｘ', '2026-06-01'),
  (7, '๕๕๕-๑๒๓๔', '4111 １１１１ ١١١١ 1234', NULL, '2024-01-01');
SELECT retention.tag('accounts', 'phone', 'phone');
SELECT retention.tag('accounts', 'card', 'payment_card');
SELECT retention.tag('accounts', 'national_id', 'national_id');
SET client_min_messages = warning;
SELECT retention.add_policy('accounts', interval '1 year', 'closed_at', 'anonymize', batch_size => 2) AS p \gset
RESET client_min_messages;
-- the advised partial index holds exactly the rows still to anonymize
SELECT retention.index_advice(:p) AS advice \gset
:advice;
SET enable_seqscan = off;
CREATE TEMP VIEW pending AS SELECT * FROM accounts
 WHERE closed_at < '2025-07-01' AND NOT ((phone IS NULL OR (phone COLLATE "C") = retention.mask_phone(phone))
   AND (card IS NULL OR (card COLLATE "C") = retention.mask_card(card))
   AND (national_id IS NULL OR (national_id COLLATE "C") = retention.mask_national_id(national_id)));
EXPLAIN (COSTS OFF) SELECT count(*) FROM pending;
SELECT count(*) AS pending_rows_through_index FROM pending;
RESET enable_seqscan;
-- rows 1, 2, 3, 4 and 7 are due; row 5 is masked already, row 6 not expired
SELECT policy_id, action, rows_due FROM retention.preview('2026-07-01');
CALL retention.run('accounts', '2026-07-01');
SELECT id, phone, card, national_id FROM accounts ORDER BY id;
SELECT policy_id, action, rows, batches, status FROM retention.runs ORDER BY run_id;
SELECT policy_id, action, rows_due FROM retention.preview('2026-07-01');
CREATE TABLE before_rerun AS SELECT * FROM accounts;
CALL retention.run('accounts', '2026-07-01');
SELECT count(*) AS changed_rows FROM (SELECT * FROM accounts EXCEPT SELECT * FROM before_rerun) AS d;
SELECT policy_id, action, rows, status FROM retention.runs ORDER BY run_id DESC LIMIT 1;
-- a late row in full-width digits is caught by the next run, and only it
INSERT INTO accounts VALUES (8, '１５０ ０００ ０１２３', '６２２２ ０２１２ ３４５６ ７８９０', NULL, '2023-01-01');
SELECT policy_id, action, rows_due FROM retention.preview('2026-07-01');
CALL retention.run('accounts', '2026-07-01');
SELECT id, phone, card FROM accounts WHERE id = 8;
SELECT policy_id, action, rows, status FROM retention.runs ORDER BY run_id DESC LIMIT 1;

-- a database in another encoding: a non-ASCII character counts when its
-- conversion to UTF-8 is a decimal digit (full-width digits in EUC_JP)
\c :regress_db
DROP DATABASE regress_rt_unicode_digits;
CREATE DATABASE regress_rt_digits_eucjp ENCODING 'EUC_JP' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
\c regress_rt_digits_eucjp
SET client_encoding = 'UTF8';
CREATE EXTENSION pg_retention;
SELECT retention.mask_phone('１３８１２３４５６７８') AS phone, retention.mask_card('４１１１ １１１１ １１１１ １２３４') AS card,
       retention.mask_national_id('１１０１０５１９４９１２３１００２Ｘ') AS national_id,
       retention.mask_partial('東京都千代田区', 1, 1) AS partial, retention.mask_email('山田@例え.日本') AS email;
-- ... and in SQL_ASCII, a value that is valid UTF-8 is read as UTF-8
\c :regress_db
DROP DATABASE regress_rt_digits_eucjp;
CREATE DATABASE regress_rt_digits_sqlascii ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
\c regress_rt_digits_sqlascii
SET client_encoding = 'UTF8';
CREATE EXTENSION pg_retention;
SELECT retention.mask_phone('１３８１２３４５６７８') AS phone, retention.mask_card('٥٥٠٠-٠٠٠٠-٠٠٠٠-٠٠٠٤') AS card,
       retention.mask_partial('张伟明先生', 1, 1) AS partial;
\c :regress_db
DROP DATABASE regress_rt_digits_sqlascii;
