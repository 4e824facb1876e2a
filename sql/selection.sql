-- select_scenarios: the reference platform's deterministic selection (SPEC 4.1).
--
-- Expected selections and hashes were computed independently of this
-- extension with test/reference_selection.js, a plain JavaScript
-- transcription of the reference algorithm run on node (JavaScript strings
-- are UTF-16, so charCodeAt yields surrogate units; its numbers are doubles),
-- and checked against the public values of SPEC 4.1.

-- Runs a statement and shows how it failed: SQLSTATE, message, hint.
CREATE FUNCTION pg_temp.try(query text)
RETURNS TABLE (sqlstate text, message text, hint text) LANGUAGE plpgsql AS $$
DECLARE
    s text; m text; h text;
BEGIN
    EXECUTE query;
    RETURN QUERY SELECT 'no error'::text, NULL::text, NULL::text;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, h = PG_EXCEPTION_HINT;
    RETURN QUERY SELECT s, m, NULLIF(h, '');
END
$$;

-- Ids a .. z, for the selections below.
SELECT array_agg(chr(96 + g) ORDER BY g)::text AS az FROM generate_series(1, 26) AS g \gset

-------------------------------------------------------------------------------
-- Public check values (SPEC 4.1).
-------------------------------------------------------------------------------
SELECT multisample.select_scenarios('{a,b,c,d,e,f,g,h,i,j}', 50, 'def-1') AS def_1_half;

-- The hash is not exposed; a definition id must select exactly what its
-- hash, given as the seed, selects (and a neighbouring seed must not).
-- hash('def-1') = 95460457, hash('cm5abc123') = 807018331.
SELECT multisample.select_scenarios(:'az', 50, 'def-1') AS by_definition,
       multisample.select_scenarios(:'az', 50, 'def-1')
         = multisample.select_scenarios(:'az', 50, 'other', 95460457) AS same_as_seed_95460457,
       multisample.select_scenarios(:'az', 50, 'def-1')
         = multisample.select_scenarios(:'az', 50, 'other', 95460458) AS same_as_seed_95460458;
SELECT multisample.select_scenarios(:'az', 50, 'cm5abc123') AS by_definition,
       multisample.select_scenarios(:'az', 50, 'cm5abc123')
         = multisample.select_scenarios(:'az', 50, 'other', 807018331) AS same_as_seed_807018331;

-------------------------------------------------------------------------------
-- Hashes over UTF-16 code units (expected values from the JavaScript above).
-------------------------------------------------------------------------------
-- Composed and decomposed forms are different ids (no normalisation):
--   'définition-é' (U+00E9)          hash -872587661   -> seed 872587661
--   'de' U+0301 'finition-e' U+0301  hash -121214345   -> seed 121214345
--   '評価セット-7' (BMP, CJK)          hash 1401747358
-- Outside the BMP every character counts as two surrogate units:
--   U+1F600 (emoji)                  hash 1772899 = 55357 * 31 + 56832
--   'a' U+1F600 'b'                  hash 57849694
--   U+1D4B9 U+212F U+1D4BB '-1'      hash 346365013
SELECT d.label, d.expected_seed,
       multisample.select_scenarios(:'az', 50, d.id) AS by_definition,
       multisample.select_scenarios(:'az', 50, d.id)
         = multisample.select_scenarios(:'az', 50, NULL, d.expected_seed) AS same_as_seed,
       multisample.select_scenarios(:'az', 50, d.id)
         = multisample.select_scenarios(:'az', 50, NULL, d.expected_seed + 1) AS same_as_next_seed
  FROM (VALUES ('composed é',   U&'d\00E9finition-\00E9',     872587661),
               ('decomposed é', U&'de\0301finition-e\0301',   121214345),
               ('CJK',          U&'\8A55\4FA1\30BB\30C3\30C8-7', 1401747358),
               ('emoji',        U&'\+01F600',                 1772899),
               ('a emoji b',    U&'a\+01F600b',               57849694),
               ('math letters', U&'\+01D4B9\212F\+01D4BB-1',  346365013))
       AS d (label, id, expected_seed);

-- The JavaScript reference's selections for those ids, element by element.
SELECT multisample.select_scenarios(:'az', 50, U&'d\00E9finition-\00E9') = '{g,x,b,l,d,u,e,h,j,o,s,p,a}' AS composed,
       multisample.select_scenarios(:'az', 50, U&'de\0301finition-e\0301') = '{b,o,t,d,n,i,l,y,x,m,k,a,j}' AS decomposed,
       multisample.select_scenarios(:'az', 50, U&'\8A55\4FA1\30BB\30C3\30C8-7') = '{l,c,m,g,y,e,v,w,x,u,s,i,n}' AS cjk,
       multisample.select_scenarios(:'az', 50, U&'\+01F600') = '{p,e,y,n,g,c,d,r,j,m,s,a,o}' AS emoji,
       multisample.select_scenarios(:'az', 50, U&'a\+01F600b') = '{h,r,j,l,k,f,i,m,g,e,b,v,x}' AS a_emoji_b,
       multisample.select_scenarios(:'az', 50, U&'\+01D4B9\212F\+01D4BB-1') = '{y,p,s,e,t,x,w,n,k,b,d,l,o}' AS math_letters;

-- The seed is |hash| in 64 bits: 'degenerate-craxfmd' hashes to -2^31, so
-- its seed is 2^31, which is 1 modulo 2147483647 and selects as seed 1 does.
SELECT multisample.select_scenarios(:'az', 50, 'degenerate-craxfmd') AS hash_minus_2_31,
       multisample.select_scenarios(:'az', 50, 'degenerate-craxfmd')
         = multisample.select_scenarios(:'az', 50, NULL, 2147483648) AS same_as_seed_2_31,
       multisample.select_scenarios(:'az', 50, 'degenerate-craxfmd')
         = multisample.select_scenarios(:'az', 50, NULL, 1) AS same_as_seed_1;

-------------------------------------------------------------------------------
-- Explicit seeds (expected values from the JavaScript reference).
-------------------------------------------------------------------------------
SELECT s.seed, multisample.select_scenarios(:'az', 50, 'ignored', s.seed) = s.expected::text[] AS as_reference,
       multisample.select_scenarios(:'az', 50, 'ignored', s.seed) AS selected
  FROM (VALUES (1::bigint,          '{j,b,u,w,o,c,i,y,n,q,f,r,t}'),
               (42,                 '{w,x,h,v,q,d,y,z,k,p,l,c,f}'),
               (2147483646,         '{y,n,a,o,u,p,s,e,i,d,r,l,w}'),
               (2147483648,         '{j,b,u,w,o,c,i,y,n,q,f,r,t}'),
               -- Largest seed whose first product seed * 16807 is below 2^53 ...
               (535919512985,       '{t,w,z,m,r,k,y,d,s,i,q,f,j}'),
               (535919512986,       '{e,z,c,d,m,u,o,g,q,l,v,t,n}'),
               -- ... above it the reference rounds the product to a double
               -- before the remainder (the exact Lehmer step would give
               -- {t,a,k,c,f,n,p,m,z,y,b,x,l} here), and so two seeds can
               -- select alike; this is what the reference does.
               (9007199254740990,   '{n,m,r,w,b,h,g,z,c,d,u,y,t}'),
               (9007199254740991,   '{n,m,r,w,b,h,g,z,c,d,u,y,t}'))
       AS s (seed, expected);

-------------------------------------------------------------------------------
-- 100 %: every id in the given order, no shuffle (and so no warning).
-------------------------------------------------------------------------------
SELECT multisample.select_scenarios('{z,y,x,a,b}', 100, 'def-1') AS all_in_order,
       multisample.select_scenarios('{z,y,x,a,b}', 100, '') AS empty_definition,
       multisample.select_scenarios('{z,y,x,a,b}', 100, 'x', 0) AS seed_zero,
       multisample.select_scenarios('[5:7]={p,q,r}', 100, 'def-1') AS lower_bound_5;

-------------------------------------------------------------------------------
-- Target count: max(1, floor(n * percentage / 100)).
-------------------------------------------------------------------------------
SELECT t.n, t.percentage, t.expected,
       cardinality(multisample.select_scenarios(
           ARRAY(SELECT 's' || g FROM generate_series(1, t.n) AS g), t.percentage, 'def-1')) AS selected
  FROM (VALUES (1, 1, 1), (1, 99, 1), (3, 1, 1), (3, 33, 1), (3, 34, 1), (3, 66, 1), (3, 67, 2),
               (3, 99, 2), (10, 9, 1), (10, 10, 1), (10, 19, 1), (10, 20, 2), (10, 99, 9),
               (200, 1, 2), (200, 99, 198), (7, 100, 7))
       AS t (n, percentage, expected)
 ORDER BY t.n, t.percentage;
-- n = 1: the only id, with no draw at all.
SELECT multisample.select_scenarios('{only}', 1, 'def-1') AS single;
-- Result is a one-dimensional text array with lower bound 1.
SELECT array_lower(s, 1), array_upper(s, 1), pg_typeof(s)
  FROM multisample.select_scenarios('[0:9]={a,b,c,d,e,f,g,h,i,j}', 50, 'def-1') AS s;

-------------------------------------------------------------------------------
-- Determinism: same inputs, same answer, in every call and every plan.
-------------------------------------------------------------------------------
SELECT count(DISTINCT multisample.select_scenarios(:'az', 30, 'def-' || (g % 3))) AS distinct_answers,
       count(*) AS calls
  FROM generate_series(1, 300) AS g;
-- Different percentages take prefixes of one and the same shuffle.
SELECT multisample.select_scenarios(:'az', 20, 'def-1') AS p20,
       multisample.select_scenarios(:'az', 40, 'def-1') AS p40,
       (multisample.select_scenarios(:'az', 40, 'def-1'))[1:5]
         = multisample.select_scenarios(:'az', 20, 'def-1') AS p20_is_prefix_of_p40;
SELECT provolatile, proparallel, proisstrict, prosecdef
  FROM pg_proc WHERE oid = 'multisample.select_scenarios'::regproc;

-------------------------------------------------------------------------------
-- Seeds that leave the generator at 0: the reference's fixed rotation, with
-- a WARNING (only when a shuffle is made).
-------------------------------------------------------------------------------
SELECT multisample.select_scenarios('{a,b,c,d,e,f,g,h,i,j}', 50, 'x', 0) AS seed_0;
SELECT multisample.select_scenarios('{a,b,c,d,e,f,g,h,i,j}', 50, 'x', 2147483647) AS seed_2147483647;
SELECT multisample.select_scenarios('{a,b,c,d,e,f,g,h,i,j}', 50, 'x', 4294967294) AS seed_2_times_2147483647;
SELECT multisample.select_scenarios('{a,b,c,d,e,f,g,h,i,j}', 50, '') AS empty_definition_id;
-- Definition ids whose hash is +2147483647 and -2147483647.
SELECT multisample.select_scenarios('{a,b,c,d,e,f,g,h,i,j}', 50, 'degenerate-craxfmc') AS hash_plus_2147483647;
SELECT multisample.select_scenarios('{a,b,c,d,e,f,g,h,i,j}', 50, 'degenerate-craxfme') AS hash_minus_2147483647;
-- The JavaScript reference agrees on the rotation: {b,c,...,n} of a .. z.
SELECT multisample.select_scenarios(:'az', 50, 'x', 0) = '{b,c,d,e,f,g,h,i,j,k,l,m,n}' AS as_reference;
-- No shuffle, no warning: a single id, or 100 %.
SELECT multisample.select_scenarios('{only}', 50, 'x', 0) AS single,
       multisample.select_scenarios('{a,b,c}', 100, 'x', 0) AS all_of_them;

-------------------------------------------------------------------------------
-- Bad input: SQLSTATE, message naming the parameter and the range, hint.
-------------------------------------------------------------------------------
SELECT * FROM pg_temp.try($$SELECT multisample.select_scenarios('{a,b}', 50, 'x', -1)$$);
SELECT * FROM pg_temp.try($$SELECT multisample.select_scenarios('{a,b}', 50, 'x', -9223372036854775808)$$);
SELECT * FROM pg_temp.try($$SELECT multisample.select_scenarios('{a,b}', 50, 'x', 9007199254740992)$$);
SELECT * FROM pg_temp.try($$SELECT multisample.select_scenarios('{a,b}', 0, 'x')$$);
SELECT * FROM pg_temp.try($$SELECT multisample.select_scenarios('{a,b}', 101, 'x')$$);
SELECT * FROM pg_temp.try($$SELECT multisample.select_scenarios('{a,b}', -50, 'x')$$);
SELECT * FROM pg_temp.try($$SELECT multisample.select_scenarios('{a,b}', NULL, 'x')$$);
SELECT * FROM pg_temp.try($$SELECT multisample.select_scenarios(NULL, 50, 'x')$$);
SELECT * FROM pg_temp.try($$SELECT multisample.select_scenarios((SELECT array_agg(x) FROM (SELECT 'a' WHERE false) AS n (x)), 50, 'x')$$);
SELECT * FROM pg_temp.try($$SELECT multisample.select_scenarios('{}', 50, 'x')$$);
SELECT * FROM pg_temp.try($$SELECT multisample.select_scenarios('{a,NULL,c}', 50, 'x')$$);
SELECT * FROM pg_temp.try($$SELECT multisample.select_scenarios('{a,"",c}', 50, 'x')$$);
SELECT * FROM pg_temp.try($$SELECT multisample.select_scenarios('{a,b,c,b,a}', 50, 'x')$$);
SELECT * FROM pg_temp.try($$SELECT multisample.select_scenarios('[0:3]={a,b,c,c}', 50, 'x')$$);
SELECT * FROM pg_temp.try($$SELECT multisample.select_scenarios(ARRAY[repeat('long-', 30), 'b', repeat('long-', 30)], 50, 'x')$$);
SELECT * FROM pg_temp.try($$SELECT multisample.select_scenarios('{{a,b},{c,d}}', 50, 'x')$$);
SELECT * FROM pg_temp.try($$SELECT multisample.select_scenarios('{a,b}', 50, NULL)$$);
-- Ids are compared byte for byte: case and normalisation forms differ.
SELECT multisample.select_scenarios(ARRAY['a', 'A', U&'\00E9', U&'e\0301'], 100, 'x') AS distinct_ids;
-- The same checks hold at 100 %, where the seed is not used.
SELECT * FROM pg_temp.try($$SELECT multisample.select_scenarios('{a,b,a}', 100, 'x')$$);
SELECT * FROM pg_temp.try($$SELECT multisample.select_scenarios('{a,b}', 100, 'x', -5)$$);
SELECT * FROM pg_temp.try($$SELECT multisample.select_scenarios('{a,b}', 100, NULL)$$);
-- With a seed, the definition id is not needed.
SELECT multisample.select_scenarios('{a,b,c,d}', 50, NULL, 7) AS no_definition_needed;
