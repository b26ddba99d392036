-- pg_retention demo on the Pagila sample database: rentals are deleted 90 days
-- after their return, unless payments (tax records) still reference them;
-- payments are anonymized after a year and deleted after seven.

\set ON_ERROR_STOP on
SET client_min_messages = warning;  -- quiet when scripts/demo created the extension first
CREATE EXTENSION IF NOT EXISTS pg_retention;
RESET client_min_messages;

SELECT retention.tag('customer', 'first_name', 'name');
SELECT retention.tag('customer', 'last_name', 'name');
SELECT retention.tag('customer', 'email', 'email');
SELECT retention.tag('address', 'address', 'address');
SELECT retention.tag('address', 'postal_code', 'postal_code');
SELECT retention.tag('address', 'phone', 'phone');
SELECT retention.tag('staff', 'email', 'email');

-- payments are tax records: kept 7 years, but anonymized after a year: their link to the
-- customer and the rental is cut (the columns become nullable and masked with null)
ALTER TABLE payment ALTER COLUMN customer_id DROP NOT NULL, ALTER COLUMN rental_id DROP NOT NULL;
SELECT retention.tag('payment', 'customer_id', 'other', 'null');
SELECT retention.tag('payment', 'rental_id', 'other', 'null');

SET client_min_messages = warning;
SELECT retention.add_policy('rental', '90 days', 'return_date',
       basis => 'rentals: 90 days after return');
SELECT retention.add_policy('payment', '1 year', 'payment_date', 'anonymize',
       basis => 'tax records: kept 7 years, anonymized after one');
SELECT retention.add_policy('payment', '7 years', 'payment_date',
       basis => 'accounting records: 7 years');
RESET client_min_messages;
