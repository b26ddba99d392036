-- Text masks: exact outputs on normal and edge values, idempotence, errors.
-- (The database is UTF8: multi-byte characters count as one character.)
\pset null '(null)'

-- mask_partial(value, keep_start, keep_end, fill DEFAULT '*')
SELECT v, retention.mask_partial(v, 2, 3) AS masked
  FROM (VALUES ('0123456789'), ('abcdef'), ('abcde'), ('abcd'), ('a'), (''),
               ('Zhāng Wěi'), ('张伟明先生'), ('😀😀😀😀😀😀'), (NULL)) AS t(v);
SELECT retention.mask_partial('6222021234567890', 0, 4) AS bank,
       retention.mask_partial('100080', 3, 0) AS postal,
       retention.mask_partial('secret', 0, 0) AS everything,
       retention.mask_partial('张伟明先生', 1, 1, '＊') AS wide_fill,
       retention.mask_partial('abcdef', 1, 1, '•') AS bullet,
       retention.mask_partial('abc', 1000, 1000) AS too_short;
-- length in characters is kept, also for multi-byte values
SELECT length(v) = length(retention.mask_partial(v, 1, 1)) AS same_length
  FROM (VALUES ('张伟明先生'), ('ab'), ('x')) AS t(v);
-- NULL anywhere gives NULL
SELECT retention.mask_partial(NULL, 1, 1) IS NULL AS null_value,
       retention.mask_partial('abc', NULL, 1) IS NULL AS null_keep,
       retention.mask_partial('abc', 1, 1, NULL) IS NULL AS null_fill;
-- errors
SELECT retention.mask_partial('abc', -1, 1);
\echo :LAST_ERROR_SQLSTATE
SELECT retention.mask_partial('abc', 1, 1, '');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.mask_partial('abc', 1, 1, '**');
\echo :LAST_ERROR_SQLSTATE

-- mask_email(value)
SELECT v, retention.mask_email(v) AS masked
  FROM (VALUES ('MARY.SMITH@sakilacustomer.org'), ('a@example.com'), ('ab@example.com'),
               ('first.last+tag@sub.example.co.uk'), ('"odd@local"@example.com'),
               ('王小明@例子.中国'), ('no-at-sign'), ('@example.com'), ('x'), (''), (NULL)) AS t(v);

-- mask_phone(value)
SELECT v, retention.mask_phone(v) AS masked
  FROM (VALUES ('13812345678'), ('138 1234 5678'), ('138-1234-5678'), ('+86 138 1234 5678'),
               ('+8613812345678'), ('0086 13812345678'), ('010-62345678'), ('(555) 123-4567'),
               ('555-1234'), ('12345'), ('unknown'), ('+44 20 7946 0958'), ('１３８'), (''), (NULL)) AS t(v);

-- mask_national_id(value): 18- and 15-character resident IDs keep the 6-digit division code
SELECT v, retention.mask_national_id(v) AS masked
  FROM (VALUES ('11010519491231002X'), ('110105194912310021'), ('110105 19491231 002X'),
               ('110105-491231-002'), ('110105491231002'), ('E12345678'), ('ABCDEF123456789012'),
               ('张'), (''), (NULL)) AS t(v);

-- mask_card(value): the last 4 digits of 12 or more
SELECT v, retention.mask_card(v) AS masked
  FROM (VALUES ('4111111111111111'), ('4111 1111 1111 1234'), ('5500-0000-0000-0004'),
               ('6212345678901234567'), ('123456789012'), ('12345678901'), ('1234'), (''), (NULL)) AS t(v);

-- idempotence: mask(mask(x)) = mask(x) for every mask and every sample above
WITH samples(v) AS (
    VALUES ('0123456789'), ('abcdef'), ('abc'), ('a'), (''), ('张伟明先生'), ('😀😀😀'),
           ('MARY.SMITH@sakilacustomer.org'), ('a@example.com'), ('no-at-sign'), ('@x'),
           ('13812345678'), ('+86 138 1234 5678'), ('0086 13812345678'), ('(555) 123-4567'),
           ('555-1234'), ('12345'), ('+44 20 7946 0958'),
           ('11010519491231002X'), ('110105491231002'), ('E12345678'), ('110105 19491231 002X'),
           ('4111 1111 1111 1234'), ('12345678901'), ('*'), ('****'), ('1*3'))
SELECT count(*) AS samples,
       count(*) FILTER (WHERE retention.mask_partial(retention.mask_partial(v, 2, 3), 2, 3)
                              = retention.mask_partial(v, 2, 3)) AS partial_ok,
       count(*) FILTER (WHERE retention.mask_partial(retention.mask_partial(v, 0, 4, '#'), 0, 4, '#')
                              = retention.mask_partial(v, 0, 4, '#')) AS partial_fill_ok,
       count(*) FILTER (WHERE retention.mask_email(retention.mask_email(v)) = retention.mask_email(v)) AS email_ok,
       count(*) FILTER (WHERE retention.mask_phone(retention.mask_phone(v)) = retention.mask_phone(v)) AS phone_ok,
       count(*) FILTER (WHERE retention.mask_national_id(retention.mask_national_id(v))
                              = retention.mask_national_id(v)) AS national_id_ok,
       count(*) FILTER (WHERE retention.mask_card(retention.mask_card(v)) = retention.mask_card(v)) AS card_ok,
       count(*) FILTER (WHERE length(retention.mask_email(v)) = length(v)
                          AND length(retention.mask_phone(v)) = length(v)
                          AND length(retention.mask_national_id(v)) = length(v)
                          AND length(retention.mask_card(v)) = length(v)) AS length_kept
  FROM samples;

-- the masks are immutable and strict, so they can serve in index predicates
SELECT p.oid::regprocedure AS function, p.provolatile, p.proisstrict
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'retention' AND p.proname LIKE 'mask\_%'
 ORDER BY p.oid::regprocedure::text;
