-- pg_retention demo: the privacy policy of the generated shop, made executable.
--
-- "We keep your data only as long as needed, then anonymize or delete it; we
-- keep data longer only where law requires."  Each policy names its legal basis.

\set ON_ERROR_STOP on
SET client_min_messages = warning;  -- quiet when scripts/demo created the extension first
CREATE EXTENSION IF NOT EXISTS pg_retention;
RESET client_min_messages;

-- 1. Classification: which columns hold personal data, and of what kind
SELECT retention.tag('shop.accounts', 'full_name', 'name');
SELECT retention.tag('shop.accounts', 'email', 'email', 'pseudonym');   -- unique column: pseudonyms stay distinct
SELECT retention.tag('shop.accounts', 'phone', 'phone');
SELECT retention.tag('shop.accounts', 'national_id', 'national_id');
SELECT retention.tag('shop.accounts', 'birth_date', 'birth_date');
SELECT retention.tag('shop.accounts', 'address', 'address');
SELECT retention.tag('shop.accounts', 'postal_code', 'postal_code');
SELECT retention.tag('shop.orders', 'ship_name', 'name');
SELECT retention.tag('shop.orders', 'ship_phone', 'phone');
SELECT retention.tag('shop.orders', 'ship_address', 'address');
SELECT retention.tag('shop.payments', 'card_number', 'payment_card');
SELECT retention.tag('shop.payments', 'payer_ip', 'ip_address');
SELECT retention.tag('shop.access_log', 'ip', 'ip_address');
SELECT retention.tag('shop.access_log', 'user_agent', 'device_id', 'constant(-)');  -- NOT NULL column
SELECT retention.tag('shop.access_log', 'path', 'browsing_history', 'constant(/)');

-- 2. Retention periods (SET client_min_messages hides the index advice)
SET client_min_messages = warning;
-- web logs: at least six months (Cybersecurity Law of the PRC, art. 21), no longer
SELECT retention.add_policy('shop.access_log', '6 months', 'at',
       basis => 'web access logs: 6 months (Cybersecurity Law art. 21), then deleted');
-- payments are tax records: kept 7 years after payment, then deleted
SELECT retention.add_policy('shop.payments', '7 years', 'paid_at',
       basis => 'accounting records: 7 years');
-- orders go 7 years after ordering, once their payments are gone (payments reference them)
SELECT retention.add_policy('shop.orders', '7 years', 'ordered_at',
       basis => 'order history: 7 years');
-- closed accounts: deleted 2 years after closing; open accounts (closed_at NULL) never expire
SELECT retention.add_policy('shop.accounts', '2 years', 'closed_at',
       basis => 'closed accounts: 2 years after closing (disputes, refunds)');

-- 3. Anonymization stages before the deletes: the row stays, its personal columns are
--    replaced by their masks (the pseudonymization key was created by scripts/demo)
-- closed accounts: anonymized 30 days after closing, deleted 2 years after (above)
SELECT retention.add_policy('shop.accounts', '30 days', 'closed_at', 'anonymize',
       basis => 'closed accounts: personal data masked 30 days after closing');
-- shipping details: masked a year after the order; the order stays for 7 years
SELECT retention.add_policy('shop.orders', '1 year', 'ordered_at', 'anonymize',
       basis => 'shipping details: 1 year after ordering');
-- card numbers and payer IPs: masked after 90 days (chargebacks), payments stay 7 years
SELECT retention.add_policy('shop.payments', '90 days', 'paid_at', 'anonymize', '{card_number,payer_ip}',
       basis => 'card numbers: 90 days for chargebacks');
-- web logs: IP addresses coarsened to /24 (/48 for IPv6) after 30 days, rows deleted after 6 months
SELECT retention.add_policy('shop.access_log', '30 days', 'at', 'anonymize', '{ip}',
       basis => 'web access logs: IP addresses coarsened after 30 days');
RESET client_min_messages;
