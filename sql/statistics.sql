-- Statistics aggregates: variance_stats(x), confidence_interval(x [, level]).
-- Exact reference values, agreement with PostgreSQL's own aggregates,
-- parallel plans, window frames, partitionwise combines, NaN/Infinity,
-- and every bad input.

-- a and b agree to a relative tolerance (both NULL, or both NaN, agree too).
CREATE FUNCTION pg_temp.close(a float8, b float8, tol float8) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN a IS NULL OR b IS NULL THEN a IS NULL AND b IS NULL
                WHEN a = b THEN true   -- also NaN = NaN, Infinity = Infinity
                ELSE abs(a - b) <= tol * greatest(abs(a), abs(b)) END
$$;
-- Runs a statement and returns its SQLSTATE and message, or 'no error'.
CREATE FUNCTION pg_temp.error_of(query text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE query;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

-------------------------------------------------------------------------------
-- The reference datasets (reference/datasets.md).
-------------------------------------------------------------------------------
CREATE TEMP TABLE ref_data (set_id int, x float8);
INSERT INTO ref_data VALUES
    (1, 2), (1, 4), (1, 4), (1, 4), (1, 5), (1, 5), (1, 7), (1, 9),
    (2, 1e9 + 4), (2, 1e9 + 7), (2, 1e9 + 13), (2, 1e9 + 16),
    (3, 42),
    (4, 3), (4, 7);
CREATE TEMP TABLE ref_expected (set_id int, n bigint, mean float8, variance float8,
                                std_dev float8, lower float8, upper float8);
INSERT INTO ref_expected VALUES
    (1, 8, 5, 4.5714285714285714, 2.1380899352993951, 3.2125120817637891, 6.7874879182362109),
    (2, 4, 1000000010, 30, 5.4772255750516611, 1000000001.2845119, 1000000018.7154881),
    (3, 1, 42, NULL, NULL, NULL, NULL),
    (4, 2, 5, 8, 2.8284271247461901, -20.412409472349409, 30.412409472349409);

SELECT set_id, (variance_stats).*
  FROM (SELECT set_id, multisample.variance_stats(x) FROM ref_data GROUP BY set_id) s
 ORDER BY set_id;
SELECT set_id, (ci).*
  FROM (SELECT set_id, multisample.confidence_interval(x) AS ci FROM ref_data GROUP BY set_id) s
 ORDER BY set_id;
-- The 1e9-offset set has variance exactly 30 (the textbook formula gives
-- -170.67), and every figure matches the reference to within 2 ulps, except
-- the interval of set 4 (n = 2, df = 1): the reference is for the decimal
-- level 0.95, the aggregate gets the float8 nearest to it, and at df = 1
-- (Cauchy) dt/dlevel = pi/2 (1 + t^2) ~ 255 turns that 4.4e-17 difference
-- into 1.1e-14 in t, 2.3e-14 in each bound (1.1e-15 relative to the lower,
-- 7.4e-16 to the upper), so lower_ok/upper_ok are f there at 4.5e-16. The
-- query after this one shows set 4 exact at the level it was given.
SELECT (multisample.variance_stats(x)).variance = 30 AS variance_exactly_30
  FROM ref_data WHERE set_id = 2;
SELECT e.set_id,
       s.sample_count = e.n AS n_ok,
       pg_temp.close((s).mean, e.mean, 4.5e-16) AS mean_ok,
       pg_temp.close((s).variance, e.variance, 4.5e-16) AS variance_ok,
       pg_temp.close((s).std_dev, e.std_dev, 4.5e-16) AS std_dev_ok,
       pg_temp.close((c).lower, e.lower, 4.5e-16) AS lower_ok,
       pg_temp.close((c).upper, e.upper, 4.5e-16) AS upper_ok
  FROM ref_expected e
  JOIN (SELECT set_id, (multisample.variance_stats(x)).*, multisample.confidence_interval(x) AS c
          FROM ref_data GROUP BY set_id) s USING (set_id)
 ORDER BY e.set_id;
-- Set 4 against the exact interval at the float8 level 0.95
-- (0.94999999999999995559...), computed with mpmath at 50 digits:
-- 5 -/+ 2 tan(pi (level / 2)) = -20.412409472349386628 / 30.412409472349386628;
-- and against the decimal-level reference within the 2.3e-14 explained above.
SELECT pg_temp.close((c).lower, -20.412409472349386628, 4.5e-16) AS lower_exact_at_float8_level,
       pg_temp.close((c).upper, 30.412409472349386628, 4.5e-16) AS upper_exact_at_float8_level,
       abs((c).lower - -20.412409472349409) < 2.4e-14 AS lower_near_decimal_reference,
       abs((c).upper - 30.412409472349409) < 2.4e-14 AS upper_near_decimal_reference
  FROM (SELECT multisample.confidence_interval(x) AS c FROM ref_data WHERE set_id = 4) s;
-- The default level is 0.95; an explicit level gives the same interval.
SELECT (multisample.confidence_interval(x, 0.95)).* FROM ref_data WHERE set_id = 1;
SELECT (multisample.confidence_interval(x, 0.99)).* FROM ref_data WHERE set_id = 1;
-- margin = t_{0.975, 7} * s / sqrt(8)
SELECT pg_temp.close((multisample.confidence_interval(x)).margin,
                     multisample.t_quantile(0.975, 7) * stddev_samp(x) / sqrt(8), 1e-15) AS margin_formula
  FROM ref_data WHERE set_id = 1;

-------------------------------------------------------------------------------
-- NULLs are skipped; no rows gives NULL; one row gives no spread.
-------------------------------------------------------------------------------
SELECT (multisample.variance_stats(x)).*, (multisample.confidence_interval(x)).*
  FROM (VALUES (NULL::float8), (1), (NULL), (3)) v(x);
SELECT multisample.variance_stats(x) IS NULL AS no_rows_stats,
       multisample.confidence_interval(x) IS NULL AS no_rows_ci,
       multisample.confidence_interval(x, 0.9) IS NULL AS no_rows_ci_level
  FROM ref_data WHERE false;
SELECT multisample.variance_stats(x) IS NULL AS only_nulls
  FROM (VALUES (NULL::float8), (NULL)) v(x);
SELECT (multisample.variance_stats(x)).*, (multisample.confidence_interval(x, 0.9)).*
  FROM (VALUES (7.5::float8)) v(x);
-- A NULL level skips the row, like a NULL value.
SELECT (multisample.confidence_interval(x, l)).*
  FROM (VALUES (1::float8, 0.9::float8), (100, NULL), (3, 0.9)) v(x, l);

-------------------------------------------------------------------------------
-- The support functions called directly build new arrays.
-------------------------------------------------------------------------------
SELECT multisample.moments_accum('{0,0,0,0,0,0,0}', 5);
SELECT multisample.moments_accum(multisample.moments_accum('{0,0,0,0,0,0,0}', 5), 3);
SELECT multisample.moments_accum('{0,0,0,0,0,0,0}', 5, 0.9);
SELECT multisample.moments_remove('{3,4,2,3,5,0,0}', 4);   -- leaves {3, 5}
SELECT multisample.moments_remove('{3,4,2,3,5,0,0}', 5) IS NULL AS max_leaves_restart,
       multisample.moments_remove('{3,4,2,3,5,0,0}', 3) IS NULL AS min_leaves_restart,
       multisample.moments_remove('{3,NaN,NaN,3,NaN,0,0}', 4) IS NULL AS nan_restart;
SELECT multisample.moments_combine('{2,4,2,3,5,0,0}', '{1,10,0,10,10,0,0.9}');
SELECT multisample.moments_combine('{0,0,0,0,0,0,0}', '{1,10,0,10,10,0,0}');
SELECT (multisample.variance_stats_final('{2,4,2,3,5,0,0}')).*;
SELECT (multisample.confidence_interval_final('{2,4,2,3,5,0,0.5}')).*;
-- A state survives a text round trip (it is a plain float8[]).
SELECT (multisample.variance_stats_final(
            multisample.moments_combine(s::text::float8[], s))).variance
  FROM (SELECT multisample.moments_accum(multisample.moments_accum('{0,0,0,0,0,0,0}', 1), 2) AS s) t;

-------------------------------------------------------------------------------
-- Agreement with avg, stddev_samp, var_samp, min and max on scattered data,
-- and with exact numeric arithmetic where the data are exact in numeric.
-------------------------------------------------------------------------------
-- Scattered but deterministic values instead of setseed() + random(), whose
-- generator changed in PostgreSQL 15 (the data, and so the printed figures,
-- would differ by major). uniform(g, k) is murmur3's 32-bit finaliser
-- (fmix32: xor-shift, multiply by 0x85ebca6b, xor-shift, multiply by
-- 0xc2b2ae35, xor-shift, all mod 2^32) of g + k * 2^20, over 2^32: a value
-- in [0, 1) in steps of 2^-32, one stream per k, the same on every major.
-- The products are taken in numeric, exact beyond bigint's range.
CREATE FUNCTION pg_temp.uniform(g bigint, k int) RETURNS float8
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    h bigint := (g + k * 1048576) % 4294967296;
BEGIN
    h := h # (h >> 16);
    h := (h::numeric * 2246822507 % 4294967296)::bigint;
    h := h # (h >> 13);
    h := (h::numeric * 3266489909 % 4294967296)::bigint;
    h := h # (h >> 16);
    RETURN h::float8 / 4294967296;
END
$$;
-- grp % 4: 0 plain, 1 and 2 on a large offset (values with few decimal
-- digits, exact in numeric), 3 spanning 35 orders of magnitude, both signs.
CREATE TEMP TABLE rnd AS
SELECT g % 20 AS grp,
       CASE WHEN g % 97 = 0 THEN NULL
            WHEN g % 4 = 0 THEN pg_temp.uniform(g, 1) * 10 - 3
            WHEN g % 4 = 1 THEN 1e9 + round(pg_temp.uniform(g, 1) * 8000) / 8
            WHEN g % 4 = 2 THEN -1099511627776 + round(pg_temp.uniform(g, 1) * 4000) / 4
            ELSE exp(pg_temp.uniform(g, 1) * 80 - 40) * sign(pg_temp.uniform(g, 2) - 0.5) END AS x
  FROM generate_series(1, 20000) g;
SELECT grp % 4 AS kind, count(*) AS groups,
       count(*) FILTER (WHERE (s).sample_count = n) AS count_ok,
       count(*) FILTER (WHERE pg_temp.close((s).mean, a, 1e-12)) AS mean_ok,
       count(*) FILTER (WHERE pg_temp.close((s).std_dev, sd, 1e-12)) AS std_dev_ok,
       count(*) FILTER (WHERE pg_temp.close((s).variance, v, 1e-12)) AS variance_ok,
       count(*) FILTER (WHERE pg_temp.close((s).std_error, sd / sqrt(n), 1e-12)) AS std_error_ok,
       count(*) FILTER (WHERE (s).min = mn AND (s).max = mx AND (s).range = mx - mn) AS min_max_ok
  FROM (SELECT grp, multisample.variance_stats(x) AS s, count(x) AS n, avg(x) AS a,
               stddev_samp(x) AS sd, var_samp(x) AS v, min(x) AS mn, max(x) AS mx
          FROM rnd GROUP BY grp) t
 WHERE grp % 4 IN (0, 3)
 GROUP BY 1 ORDER BY 1;
-- On the offset data, against exact numeric arithmetic.
SELECT grp % 4 AS kind, count(*) AS groups,
       count(*) FILTER (WHERE pg_temp.close((s).mean, exact_m, 2.3e-16)) AS mean_exact,
       count(*) FILTER (WHERE pg_temp.close((s).variance, exact_v, 1e-14)) AS variance_exact,
       count(*) FILTER (WHERE pg_temp.close((s).std_dev, exact_sd, 1e-14)) AS std_dev_exact
  FROM (SELECT grp, multisample.variance_stats(x) AS s, avg(x::numeric)::float8 AS exact_m,
               var_samp(x::numeric)::float8 AS exact_v, stddev_samp(x::numeric)::float8 AS exact_sd
          FROM rnd GROUP BY grp) t
 WHERE grp % 4 IN (1, 2)
 GROUP BY 1 ORDER BY 1;
-- The interval agrees with its formula on every group.
SELECT count(*) AS groups,
       count(*) FILTER (WHERE pg_temp.close((c).margin, multisample.t_quantile(0.995, n - 1) * sd / sqrt(n), 1e-12)
                          AND pg_temp.close((c).lower, (s).mean - (c).margin, 1e-15)
                          AND pg_temp.close((c).upper, (s).mean + (c).margin, 1e-15)
                          AND (c).mean = (s).mean
                          AND (c).level = 0.99 AND (c).sample_count = n) AS intervals_ok
  FROM (SELECT grp, multisample.confidence_interval(x, 0.99) AS c, multisample.variance_stats(x) AS s,
               count(x) AS n, stddev_samp(x::numeric)::float8 AS sd
          FROM rnd GROUP BY grp) t;
-- Both aggregates in one query give what they give alone.
SELECT bool_and(both_s IS NOT DISTINCT FROM alone_s AND both_c IS NOT DISTINCT FROM alone_c) AS shared_state_same
  FROM (SELECT grp, multisample.variance_stats(x) AS both_s, multisample.confidence_interval(x) AS both_c
          FROM rnd GROUP BY grp) b
  JOIN (SELECT grp, multisample.variance_stats(x) AS alone_s FROM rnd GROUP BY grp) s USING (grp)
  JOIN (SELECT grp, multisample.confidence_interval(x) AS alone_c FROM rnd GROUP BY grp) c USING (grp);

-------------------------------------------------------------------------------
-- Parallel plans give the serial result.
-------------------------------------------------------------------------------
CREATE TABLE stats_par AS
SELECT g % 7 AS grp, 1e6 + (g % 1000) * 0.001 + (g % 13) AS x
  FROM generate_series(1, 60000) g;
ALTER TABLE stats_par SET (parallel_workers = 2);
ANALYZE stats_par;
CREATE TEMP TABLE par_serial AS
SELECT NULL::int AS grp, multisample.variance_stats(x) AS s, multisample.confidence_interval(x, 0.9) AS c
  FROM stats_par
UNION ALL
SELECT grp, multisample.variance_stats(x), multisample.confidence_interval(x, 0.9)
  FROM stats_par GROUP BY grp;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF)
SELECT multisample.variance_stats(x), multisample.confidence_interval(x, 0.9) FROM stats_par;
EXPLAIN (COSTS OFF)
SELECT grp, multisample.variance_stats(x), multisample.confidence_interval(x, 0.9) FROM stats_par GROUP BY grp;
CREATE TEMP TABLE par_parallel AS
SELECT NULL::int AS grp, multisample.variance_stats(x) AS s, multisample.confidence_interval(x, 0.9) AS c
  FROM stats_par
UNION ALL
SELECT grp, multisample.variance_stats(x), multisample.confidence_interval(x, 0.9)
  FROM stats_par GROUP BY grp;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
SELECT count(*) AS results,
       count(*) FILTER (WHERE (a.s).sample_count = (b.s).sample_count
                          AND pg_temp.close((a.s).mean, (b.s).mean, 1e-12)
                          AND pg_temp.close((a.s).variance, (b.s).variance, 1e-12)
                          AND pg_temp.close((a.s).std_error, (b.s).std_error, 1e-12)
                          AND (a.s).min = (b.s).min AND (a.s).max = (b.s).max
                          AND pg_temp.close((a.c).lower, (b.c).lower, 1e-12)
                          AND pg_temp.close((a.c).upper, (b.c).upper, 1e-12)
                          AND (a.c).level = (b.c).level) AS parallel_equals_serial
  FROM par_serial a JOIN par_parallel b ON a.grp IS NOT DISTINCT FROM b.grp;
DROP TABLE stats_par;

-------------------------------------------------------------------------------
-- Window frames (moving aggregate with the inverse) equal recomputation.
-------------------------------------------------------------------------------
CREATE TEMP TABLE win AS
SELECT g AS id, g % 3 AS part,
       CASE WHEN g % 29 = 0 THEN NULL
            WHEN g BETWEEN 100 AND 140 THEN 1e6 + g          -- rising: the min leaves each step
            WHEN g BETWEEN 141 AND 180 THEN 1e6 - g          -- falling: the max leaves each step
            ELSE 1e6 + round(pg_temp.uniform(g, 3) * 1000) / 8 END AS x   -- ties and scattered order
  FROM generate_series(1, 400) g;
-- Recomputes variance_stats over explicit row ranges, as plain aggregates.
CREATE FUNCTION pg_temp.recomputed(lo int, hi int, p int) RETURNS multisample.variance_stats
LANGUAGE sql STABLE AS $$
    SELECT multisample.variance_stats(x) FROM win WHERE id BETWEEN lo AND hi AND part = p
$$;
CREATE FUNCTION pg_temp.same_stats(a multisample.variance_stats, b multisample.variance_stats) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN a IS NULL OR b IS NULL THEN a IS NULL AND b IS NULL ELSE
           a.sample_count = b.sample_count
           AND pg_temp.close(a.mean, b.mean, 1e-12) AND pg_temp.close(a.std_dev, b.std_dev, 1e-12)
           AND pg_temp.close(a.variance, b.variance, 1e-12) AND pg_temp.close(a.std_error, b.std_error, 1e-12)
           AND a.min IS NOT DISTINCT FROM b.min AND a.max IS NOT DISTINCT FROM b.max
           AND a.range IS NOT DISTINCT FROM b.range END
$$;
-- Sliding frames of 5 and 40 rows, centred and growing frames, per
-- partition, compared with a plain aggregate over the same rows (ids of a
-- partition are 3 apart), and with exact numeric arithmetic (the data are
-- exact in numeric).
SELECT count(*) AS rows,
       count(*) FILTER (WHERE pg_temp.same_stats(w5, pg_temp.recomputed(id - 12, id, part))) AS sliding_5_ok,
       count(*) FILTER (WHERE pg_temp.same_stats(w40, pg_temp.recomputed(id - 117, id, part))) AS sliding_40_ok,
       count(*) FILTER (WHERE pg_temp.same_stats(wc, pg_temp.recomputed(id - 9, id + 9, part))) AS centred_ok,
       count(*) FILTER (WHERE pg_temp.same_stats(wg, pg_temp.recomputed(0, id, part))) AS growing_ok,
       count(*) FILTER (WHERE pg_temp.close((w40).variance, exact40, 1e-13)) AS sliding_40_exact
  FROM (SELECT id, part,
               multisample.variance_stats(x) OVER (PARTITION BY part ORDER BY id ROWS BETWEEN 4 PRECEDING AND CURRENT ROW) AS w5,
               multisample.variance_stats(x) OVER (PARTITION BY part ORDER BY id ROWS BETWEEN 39 PRECEDING AND CURRENT ROW) AS w40,
               multisample.variance_stats(x) OVER (PARTITION BY part ORDER BY id ROWS BETWEEN 3 PRECEDING AND 3 FOLLOWING) AS wc,
               multisample.variance_stats(x) OVER (PARTITION BY part ORDER BY id ROWS UNBOUNDED PRECEDING) AS wg,
               var_samp(x::numeric) OVER (PARTITION BY part ORDER BY id ROWS BETWEEN 39 PRECEDING AND CURRENT ROW)::float8 AS exact40
          FROM win) t;
-- The interval in a frame, and frames that are empty or hold one value.
-- Worked by hand: part 0 holds x(3), x(6), ... = 1000000.5, 1000078,
-- 1000070.125, 1000072.125, 1000067.625, 1000050.875, 1000118.25,
-- 1000064.875 (fmix32 recomputed in Python); a frame of two values a, b
-- has mean (a + b) / 2 and margin t(0.95, 1) |a - b| / 2, where t(0.95, 1) =
-- tan(0.45 pi) = 6.3137515146750431 (so the frame {1000070.125, 1000072.125}
-- of id 15 has margin t exactly). Every printed figure equals that exact
-- computation (mpmath, 40 digits) to 1.1e-15 relative.
SELECT id, (multisample.confidence_interval(x, 0.9) OVER w).*
  FROM win WHERE part = 0 AND id < 30
WINDOW w AS (ORDER BY id ROWS BETWEEN 2 PRECEDING AND 1 PRECEDING)
 ORDER BY id;
-- NaN and Infinity enter the frame and leave it again: the frame recovers.
SELECT i, v, (multisample.variance_stats(v) OVER w).variance AS variance, stddev_samp(v) OVER w ^ 2 AS builtin,
       avg(v) OVER w AS avg, (multisample.variance_stats(v) OVER w).mean AS mean
  FROM (VALUES (1, 1::float8), (2, 2), (3, 'NaN'), (4, 4), (5, 'Infinity'), (6, 6), (7, 7), (8, '-Infinity'),
               (9, 9), (10, 10), (11, 11)) d(i, v)
WINDOW w AS (ORDER BY i ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)
 ORDER BY i;

-------------------------------------------------------------------------------
-- Partitionwise aggregation: the combine function merges unlike states.
-------------------------------------------------------------------------------
CREATE TABLE stats_part (k int, x float8) PARTITION BY LIST (k);
CREATE TABLE stats_part_offset PARTITION OF stats_part FOR VALUES IN (1);
CREATE TABLE stats_part_tiny PARTITION OF stats_part FOR VALUES IN (2);
CREATE TABLE stats_part_one PARTITION OF stats_part FOR VALUES IN (3);
CREATE TABLE stats_part_empty PARTITION OF stats_part FOR VALUES IN (4);
CREATE TABLE stats_part_wide PARTITION OF stats_part FOR VALUES IN (5);
INSERT INTO stats_part
SELECT 1, 1e9 + (g % 17) FROM generate_series(1, 3000) g
UNION ALL SELECT 2, 1e-6 * (g % 5) FROM generate_series(1, 500) g
UNION ALL SELECT 3, -12345.5
UNION ALL SELECT 5, (g - 50) * 1e7 FROM generate_series(1, 100) g;
ANALYZE stats_part;
SET enable_partitionwise_aggregate = on;
EXPLAIN (COSTS OFF) SELECT multisample.variance_stats(x) FROM stats_part;
CREATE TEMP TABLE part_wise AS
SELECT multisample.variance_stats(x) AS s, multisample.confidence_interval(x) AS c FROM stats_part;
RESET enable_partitionwise_aggregate;
SELECT (s).sample_count,
       pg_temp.close((s).mean, (SELECT avg(x::numeric)::float8 FROM stats_part), 1e-15) AS mean_exact,
       pg_temp.close((s).variance, (SELECT var_samp(x::numeric)::float8 FROM stats_part), 1e-14) AS variance_exact,
       (s).min, (s).max, (s).range,
       pg_temp.close((c).margin, multisample.t_quantile(0.975, (s).sample_count - 1) * (s).std_error, 1e-14) AS margin_ok
  FROM part_wise;
DROP TABLE stats_part;

-------------------------------------------------------------------------------
-- NaN and Infinity propagate as in stddev_samp, avg, min and max.
-------------------------------------------------------------------------------
CREATE TEMP TABLE nonfinite (case_id int, x float8);
INSERT INTO nonfinite VALUES
    (1, 1), (1, 'Infinity'), (1, 3),
    (2, 'Infinity'), (2, '-Infinity'),
    (3, 'NaN'), (3, 1), (3, 2),
    (4, 'Infinity'),
    (5, 'NaN'),
    (6, '-Infinity'), (6, 5), (6, '-Infinity'),
    (7, 'NaN'), (7, 'Infinity'), (7, '-Infinity');
SELECT case_id, (s).*
  FROM (SELECT case_id, multisample.variance_stats(x) AS s FROM nonfinite GROUP BY case_id) t
 ORDER BY case_id;
SELECT case_id,
       (s).mean IS NOT DISTINCT FROM a AS mean_is_avg,
       (s).std_dev IS NOT DISTINCT FROM sd AS std_dev_is_stddev_samp,
       (s).variance IS NOT DISTINCT FROM v AS variance_is_var_samp,
       (s).min IS NOT DISTINCT FROM mn AND (s).max IS NOT DISTINCT FROM mx AS min_max_same,
       (c).lower, (c).upper
  FROM (SELECT case_id, multisample.variance_stats(x) AS s, multisample.confidence_interval(x) AS c,
               avg(x) AS a, stddev_samp(x) AS sd, var_samp(x) AS v, min(x) AS mn, max(x) AS mx
          FROM nonfinite GROUP BY case_id) t
 ORDER BY case_id;
-- Finite values whose statistics leave the float8 range: an error (22003),
-- as in var_samp. Where only the builtin's running sum overflows, the
-- stable update still gives the exact answer.
SELECT pg_temp.error_of($$SELECT multisample.variance_stats(x) FROM (VALUES (1e308::float8), (-1e308)) v(x)$$) AS ours,
       pg_temp.error_of($$SELECT var_samp(x) FROM (VALUES (1e308::float8), (-1e308)) v(x)$$) AS builtin;
SELECT pg_temp.error_of($$SELECT multisample.variance_stats(x) FROM (VALUES (1e200::float8), (-1e200), (3e200)) v(x)$$) AS ours;
SELECT pg_temp.error_of($$SELECT var_samp(x) FROM (VALUES (1e308::float8), (1e308), (1e308)) v(x)$$) AS builtin,
       (multisample.variance_stats(x)).*
  FROM (VALUES (1e308::float8), (1e308), (1e308)) v(x);

-------------------------------------------------------------------------------
-- Bad input: every error with its SQLSTATE.
-------------------------------------------------------------------------------
-- The level must be in (0, 1) and the same within a group.
SELECT level, pg_temp.error_of(format($$SELECT multisample.confidence_interval(x, %L) FROM (VALUES (1::float8), (2)) v(x)$$, level))
  FROM unnest(ARRAY['0', '1', '-0.5', '1.5', 'NaN', 'Infinity']) AS level;
SELECT pg_temp.error_of($$SELECT multisample.confidence_interval(x, l) FROM (VALUES (1::float8, 0.9::float8), (2, 0.95)) v(x, l)$$);
SELECT pg_temp.error_of($$SELECT g, multisample.confidence_interval(x, 0.9 + g / 100.0) FROM (VALUES (1::float8, 1), (2, 1), (3, 2)) v(x, g) GROUP BY g$$) AS level_per_group_is_fine;
SELECT pg_temp.error_of($$SELECT multisample.moments_combine('{1,1,0,1,1,0,0.9}', '{1,2,0,2,2,0,0.95}')$$);
-- Forged states, passed to every support function.
CREATE TEMP TABLE forged (label text, state text);
INSERT INTO forged VALUES
    ('too short',           '{0,0,0,0,0,0}'),
    ('too long',            '{0,0,0,0,0,0,0,0}'),
    ('two dimensions',      '{{0,0,0},{0,0,0}}'),
    ('empty',               '{}'),
    ('NULL element',        '{1,1,0,1,1,0,NULL}'),
    ('negative count',      '{-1,0,0,0,0,0,0}'),
    ('fractional count',    '{1.5,1,0,1,1,0,0}'),
    ('NaN count',           '{NaN,1,0,1,1,0,0}'),
    ('huge count',          '{1e300,1,0,1,1,0,0}'),
    ('empty but mean',      '{0,5,0,0,0,0,0}'),
    ('negative M2',         '{3,1,-2,0,2,0,0}'),
    ('NaN M2, finite mean', '{3,1,NaN,0,2,0,0}'),
    ('finite M2, NaN mean', '{3,NaN,1,0,NaN,0,0}'),
    ('mean_low too large',  '{3,1,2,0,2,0.5,0}'),
    ('mean_low, NaN mean',  '{3,NaN,NaN,0,NaN,1e-20,0}'),
    ('min above max',       '{3,1,2,5,0,0,0}'),
    ('one value, M2',       '{1,1,3,1,1,0,0}'),
    ('one value, min<max',  '{1,1,0,0,2,0,0}'),
    ('level 2',             '{2,1,2,0,2,0,2}'),
    ('negative level',      '{2,1,2,0,2,0,-0.5}');
SELECT label,
       pg_temp.error_of(format('SELECT multisample.moments_accum(%L, 1)', state)) AS accum,
       pg_temp.error_of(format('SELECT multisample.moments_accum(%L, 1, 0.9)', state)) = pg_temp.error_of(format('SELECT multisample.moments_accum(%L, 1)', state)) AS accum_level_same,
       pg_temp.error_of(format('SELECT multisample.moments_remove(%L, 1)', state)) = pg_temp.error_of(format('SELECT multisample.moments_accum(%L, 1)', state)) AS remove_same,
       pg_temp.error_of(format('SELECT multisample.moments_remove(%L, 1, 0.9)', state)) = pg_temp.error_of(format('SELECT multisample.moments_accum(%L, 1)', state)) AS remove_level_same,
       pg_temp.error_of(format($$SELECT multisample.moments_combine(%L, '{1,1,0,1,1,0,0}')$$, state)) = pg_temp.error_of(format('SELECT multisample.moments_accum(%L, 1)', state)) AS combine_left_same,
       pg_temp.error_of(format($$SELECT multisample.moments_combine('{1,1,0,1,1,0,0}', %L)$$, state)) = pg_temp.error_of(format('SELECT multisample.moments_accum(%L, 1)', state)) AS combine_right_same,
       pg_temp.error_of(format('SELECT multisample.variance_stats_final(%L)', state)) = pg_temp.error_of(format('SELECT multisample.moments_accum(%L, 1)', state)) AS final_same,
       pg_temp.error_of(format('SELECT multisample.confidence_interval_final(%L)', state)) = pg_temp.error_of(format('SELECT multisample.moments_accum(%L, 1)', state)) AS ci_final_same
  FROM forged ORDER BY label;
-- A forged INITCOND in a user-defined aggregate is caught too, inside the aggregate.
CREATE AGGREGATE pg_temp.forged_stats(float8) (
    SFUNC = multisample.moments_accum, STYPE = float8[], INITCOND = '{2,1,-5,0,2,0,0}',
    FINALFUNC = multisample.variance_stats_final);
SELECT pg_temp.error_of($$SELECT pg_temp.forged_stats(x) FROM (VALUES (1::float8)) v(x)$$);
-- The error as psql shows it, with its hint.
\set VERBOSITY default
SELECT multisample.variance_stats_final('{1,2,3}');
SELECT multisample.variance_stats_final('{1,1,0,0,2,0,0}');
SELECT multisample.confidence_interval(x, 1.2) FROM (VALUES (1::float8)) v(x);
