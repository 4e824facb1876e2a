-- Comparing models (SPEC 12.4): t_cdf, normal_cdf, the paired_comparison
-- aggregate, wilson_interval, holm_adjust, scenarios_needed,
-- minimum_detectable_difference, pass_at_k, pass_hat_k, and the views
-- model_comparison and model_pass_at_k.
--
-- Every expected figure below was derived without the extension: exact
-- fractions (Python's fractions) for means, variances and co-moments, and
-- mpmath at 40 digits for square roots, the t and normal distributions and
-- their quantiles (test/cdf_reference.py, test/comparison_reference.py), or
-- by hand in the comments. The checks print booleans (and figures rounded
-- far from the last bit), so the expected output does not depend on the
-- platform's last bits.

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
-- How many lines of a query's plan match a regular expression.
CREATE FUNCTION pg_temp.plan_lines(query text, pattern text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    line text;
    n integer := 0;
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
        IF line ~ pattern THEN
            n := n + 1;
        END IF;
    END LOOP;
    RETURN n;
END
$$;

-------------------------------------------------------------------------------
-- normal_cdf and t_cdf: exact values (mpmath, 40 digits), both tails.
-------------------------------------------------------------------------------
SELECT pg_temp.close(multisample.normal_cdf(-1.96), 0.024997895148220436213, 1e-14) AS z_minus_1_96,
       pg_temp.close(multisample.normal_cdf(1), 0.84134474606854294859, 1e-14) AS z_1,
       pg_temp.close(multisample.normal_cdf(-8.5), 9.4795348222033183542e-18, 1e-14) AS z_minus_8_5,
       -- the lower tail at -37 is computed directly: 1 - P(Z <= 37) would be 0
       pg_temp.close(multisample.normal_cdf(-37), 5.7255712225245768227e-300, 1e-14) AS z_minus_37,
       multisample.normal_cdf(0) = 0.5 AS z_0,
       multisample.normal_cdf(-40) = 0 AND multisample.normal_cdf(40) = 1 AS beyond_the_range,
       multisample.normal_cdf('-Infinity') = 0 AND multisample.normal_cdf('Infinity') = 1 AS infinities,
       multisample.normal_cdf('NaN')::text AS nan;
SELECT pg_temp.close(multisample.t_cdf(-2, 10), 0.036694017385370182809, 1e-12) AS t_10,
       pg_temp.close(multisample.t_cdf(-5, 2.5), 0.011725594985430923532, 1e-12) AS non_integer_df,
       pg_temp.close(multisample.t_cdf(-1e6, 3), 1.102657790839614531e-18, 1e-12) AS t_million_df_3,
       pg_temp.close(multisample.t_cdf(-30, 120.5), 4.839641052255337715e-58, 1e-12) AS deep_tail,
       pg_temp.close(multisample.t_cdf(-30, 1e6), 6.0100471168317189413e-198, 1e-12) AS df_million,
       pg_temp.close(multisample.t_cdf(-37, 1e7), 6.000606161319170903e-300, 1e-12) AS p_1e_300,
       pg_temp.close(multisample.t_cdf(3, 1e7), 0.99865009864448141937, 1e-12) AS upper_side,
       multisample.t_cdf(0, 7) = 0.5 AS t_0,
       multisample.t_cdf('Infinity', 3) = 1 AND multisample.t_cdf('-Infinity', 3) = 0 AS infinities,
       multisample.t_cdf('NaN', 3)::text AS nan;
-- Closed forms: df = 1 (Cauchy) P(T <= t) = 1/2 + atan(t)/pi; df = 2:
-- 1/2 + t / (2 sqrt(2 + t^2)) (both written here without cancellation:
-- for t < 0, atan(1/-t)/pi and 1/((sqrt(2 + t^2) - t) sqrt(2 + t^2))).
SELECT count(*) AS points,
       count(*) FILTER (WHERE pg_temp.close(multisample.t_cdf(t, 1), atan(1 / -t) / pi(), 1e-13)) AS cauchy_ok,
       count(*) FILTER (WHERE pg_temp.close(multisample.t_cdf(t, 2),
                                             1 / ((sqrt(2 + t * t) - t) * sqrt(2 + t * t)), 1e-13)) AS df_2_ok,
       count(*) FILTER (WHERE multisample.t_cdf(t, 5.5) + multisample.t_cdf(-t, 5.5) = 1) AS symmetric
  FROM unnest('{-1e5,-300,-10,-2,-1,-0.5,-0.01}'::float8[]) AS t;
-- df = Infinity is the normal; t_cdf inverts t_quantile.
SELECT bool_and(multisample.t_cdf(z, 'Infinity') = multisample.normal_cdf(z)) AS infinite_df_is_normal
  FROM unnest('{-38,-5,-0.3,0,1.7,9}'::float8[]) AS z;
SELECT bool_and(pg_temp.close(multisample.t_cdf(multisample.t_quantile(p, df), df), p, 1e-12)) AS round_trip
  FROM unnest('{1,2,4.5,30,1000,1e6}'::float8[]) AS df, unnest('{1e-8,0.025,0.4,0.9,0.995}'::float8[]) AS p;
-- df must be > 0; STRICT: NULL gives NULL.
SELECT df, pg_temp.error_of(format('SELECT multisample.t_cdf(1, %L)', df))
  FROM unnest(ARRAY['0', '-1', 'NaN', '-Infinity']) AS df;
SELECT multisample.t_cdf(NULL, 3) IS NULL AND multisample.t_cdf(1, NULL) IS NULL
       AND multisample.normal_cdf(NULL) IS NULL AS strict;

-------------------------------------------------------------------------------
-- paired_comparison: a hand-worked example.
-------------------------------------------------------------------------------
-- a = {5, 7, 6, 9, 8}, b = {4, 6, 6, 5, 7}: d = a - b = {1, 1, 0, 4, 1},
-- mean_a = 7, mean_b = 5.6, mean_difference = 7/5;
-- deviations of d: -2/5, -2/5, -7/5, 13/5, -2/5, sum of squares 46/5,
-- var(d) = 23/10, sd = sqrt(2.3) = 1.5165750888103101, std_error =
-- sqrt(2.3/5) = sqrt(0.46) = 0.67823299831252681391;
-- t = 1.4 / 0.678232998 = 2.0641873861685598684, df = 4;
-- p = 2 P(T_4 > t) = 0.10793882229227654437 (mpmath);
-- t_{0.975, 4} = 2.7764451051977934898 (at the float8 level 0.95), so
-- lower/upper = 1.4 -/+ 1.8830766883484384 = -0.48307668834843840428 /
-- 3.2830766883484384043; effect d_z = 1.4 / 1.5165750888 = 0.92313266275410180661;
-- deviations of a: -2, 0, -1, 2, 1 (sum of squares 10), of b: -1.6, 0.4,
-- 0.4, -0.6, 1.4 (5.2), co-moment 3.2 + 0 - 0.4 - 1.2 + 1.4 = 3, so the
-- correlation is 3 / sqrt(52) = 0.41602514716892184151.
CREATE TEMP TABLE pairs (set_id int, i int, a float8, b float8);
INSERT INTO pairs VALUES
    (1, 1, 5, 4), (1, 2, 7, 6), (1, 3, 6, 6), (1, 4, 9, 5), (1, 5, 8, 7),
    -- the same on an offset of 1e9 (the differences are the same)
    (2, 1, 1e9 + 5, 1e9 + 4), (2, 2, 1e9 + 7, 1e9 + 6), (2, 3, 1e9 + 6, 1e9 + 6),
    (2, 4, 1e9 + 9, 1e9 + 5), (2, 5, 1e9 + 8, 1e9 + 7),
    -- a on 2e9, b on 1e9: the differences sit on an offset of 1e9
    (3, 1, 2e9 + 5, 1e9 + 4), (3, 2, 2e9 + 7, 1e9 + 6), (3, 3, 2e9 + 6, 1e9 + 6),
    (3, 4, 2e9 + 9, 1e9 + 5), (3, 5, 2e9 + 8, 1e9 + 7);
SELECT (p).pairs, (p).mean_a, (p).mean_b, (p).mean_difference, round((p).std_error::numeric, 12) AS std_error,
       round((p).lower::numeric, 12) AS lower, round((p).upper::numeric, 12) AS upper, (p).level,
       round((p).t_statistic::numeric, 12) AS t_statistic, (p).df, round((p).p_value::numeric, 12) AS p_value,
       round((p).effect_size::numeric, 12) AS effect_size, round((p).correlation::numeric, 12) AS correlation
  FROM (SELECT multisample.paired_comparison(a, b) AS p FROM pairs WHERE set_id = 1) s;
SELECT set_id,
       (p).pairs = 5 AS pairs_ok,
       pg_temp.close((p).mean_a, CASE set_id WHEN 1 THEN 7 WHEN 2 THEN 1000000007 ELSE 2000000007 END, 1e-15) AS mean_a_ok,
       pg_temp.close((p).mean_b, CASE set_id WHEN 1 THEN 5.6 ELSE 1000000005.6 END, 1e-15) AS mean_b_ok,
       pg_temp.close((p).mean_difference, CASE set_id WHEN 3 THEN 1000000001.4 ELSE 1.4 END, 1e-15) AS mean_difference_ok,
       pg_temp.close((p).std_error, 0.67823299831252681391, 1e-14) AS std_error_ok,
       pg_temp.close((p).lower, CASE set_id WHEN 3 THEN 999999999.51692331165 ELSE -0.48307668834843840428 END, 1e-14) AS lower_ok,
       pg_temp.close((p).upper, CASE set_id WHEN 3 THEN 1000000003.2830766883 ELSE 3.2830766883484384043 END, 1e-14) AS upper_ok,
       (p).level = 0.95 AND (p).df = 4 AS level_df_ok,
       pg_temp.close((p).t_statistic, CASE set_id WHEN 3 THEN 1474419563.6131587207 ELSE 2.0641873861685598684 END, 1e-14) AS t_ok,
       pg_temp.close((p).p_value, CASE set_id WHEN 3 THEN 1.269599992890240021e-36 ELSE 0.10793882229227654437 END, 1e-12) AS p_ok,
       pg_temp.close((p).effect_size, CASE set_id WHEN 3 THEN 659380474.31891966747 ELSE 0.92313266275410180661 END, 1e-14) AS effect_ok,
       pg_temp.close((p).correlation, 0.41602514716892184151, 1e-14) AS correlation_ok
  FROM (SELECT set_id, multisample.paired_comparison(a, b) AS p FROM pairs GROUP BY set_id) s
 ORDER BY set_id;
-- At level 0.9: t_{0.95, 4} = 2.1318467863266... (mpmath at the float8
-- level), bounds -0.045888837833248200881 / 2.8458888378332482009.
SELECT pg_temp.close((p).lower, -0.045888837833248200881, 1e-13) AS lower_ok,
       pg_temp.close((p).upper, 2.8458888378332482009, 1e-14) AS upper_ok,
       (p).level
  FROM (SELECT multisample.paired_comparison(a, b, 0.9) AS p FROM pairs WHERE set_id = 1) s;
-- The figures are related as the SPEC defines them.
SELECT pg_temp.close((p).t_statistic, (p).mean_difference / (p).std_error, 1e-15) AS t_is_mean_over_se,
       pg_temp.close((p).p_value, 2 * multisample.t_cdf(-abs((p).t_statistic), (p).df), 1e-15) AS p_is_two_sided,
       pg_temp.close((p).upper - (p).mean_difference,
                     multisample.t_quantile(0.975, 4) * (p).std_error, 1e-14) AS margin_is_t_times_se
  FROM (SELECT multisample.paired_comparison(a, b) AS p FROM pairs WHERE set_id = 1) s;

-------------------------------------------------------------------------------
-- Edge cases fixed by the SPEC.
-------------------------------------------------------------------------------
-- No rows: NULL. Rows where a or b is NULL are skipped.
SELECT multisample.paired_comparison(a, b) IS NULL AS no_rows,
       multisample.paired_comparison(a, b, 0.9) IS NULL AS no_rows_level
  FROM pairs WHERE false;
SELECT multisample.paired_comparison(a, b) IS NULL AS only_half_pairs
  FROM (VALUES (1::float8, NULL::float8), (NULL, 2)) v(a, b);
-- One pair: pairs, the means and mean_difference; the rest NULL.
SELECT (multisample.paired_comparison(a, b)).*
  FROM (VALUES (3::float8, 1::float8), (NULL, 5), (7, NULL)) v(a, b);
-- sd(a - b) = 0: std_error 0, lower = upper = mean_difference, no t, p or
-- effect size; the correlation is still defined (b = a - 2: r = 1).
SELECT (multisample.paired_comparison(a, b)).*
  FROM (VALUES (3::float8, 1::float8), (4, 2), (8, 6)) v(a, b);
-- A constant side has no correlation (sd(b) = 0).
SELECT (p).correlation IS NULL AS no_correlation, (p).p_value IS NOT NULL AS has_test
  FROM (SELECT multisample.paired_comparison(a, 2) AS p FROM (VALUES (1::float8), (2), (4)) v(a)) s;
-- mean_difference is the mean of the differences, not mean_a - mean_b:
-- a = 1e16 + {2, 4, 6}, b = 1e16 + {0, 0, 2} (exact in float8, whose ulp is
-- 2 there): the differences 2, 4, 4 have mean 10/3 and sd sqrt(4/3) =
-- 1.1547005384, while mean_b = 1e16 + 2/3 rounds to 1e16 and mean_a - mean_b
-- gives 4.
SELECT round((p).mean_difference::numeric, 12) AS mean_difference,
       round(((p).mean_a - (p).mean_b)::numeric, 12) AS difference_of_means,
       round(((p).std_error * sqrt(3))::numeric, 10) AS sd_difference
  FROM (SELECT multisample.paired_comparison(a, b) AS p
          FROM (VALUES (1e16 + 2::float8, 1e16::float8), (1e16 + 4, 1e16), (1e16 + 6, 1e16 + 2)) v(a, b)) s;
-- A NULL level skips the row (STRICT), like a NULL value.
SELECT (multisample.paired_comparison(a, b, l)).pairs
  FROM (VALUES (1::float8, 0::float8, 0.9::float8), (5, 1, NULL), (3, 1, 0.9)) v(a, b, l);

-------------------------------------------------------------------------------
-- Agreement with exact numeric arithmetic on random data (offsets
-- included), every figure.
-------------------------------------------------------------------------------
SELECT setseed(0.41);
-- kind 0: scores 1..5 (like scenario means of a judge), b correlated with a;
-- kind 1: both on 1e9 + small; kind 2: a - b on an offset of 1e6;
-- kind 3: b = -a + noise (negative correlation). Every value is a multiple
-- of 1/16 with few digits: exact in float8 and in numeric.
CREATE TEMP TABLE rnd AS
SELECT g % 40 AS grp, a, CASE WHEN g % 53 = 0 THEN NULL ELSE b END AS b
  FROM (SELECT g,
               CASE g % 4 WHEN 0 THEN round(8 + random() * 32) / 8
                          WHEN 1 THEN 1e9 + round(random() * 8000) / 8
                          WHEN 2 THEN 1e6 + round(random() * 800) / 8
                          ELSE round(random() * 80) / 8 END AS a,
               random() AS u
          FROM generate_series(1, 8000) g) s,
       LATERAL (SELECT CASE g % 4 WHEN 0 THEN round((a * 0.75 + u) * 16) / 16
                                  WHEN 1 THEN a - round(u * 64) / 16
                                  WHEN 2 THEN round((a - 1e6 + u * 10) * 8) / 8
                                  ELSE round((-a + u) * 8) / 8 END AS b) t;
CREATE TEMP TABLE rnd_exact AS
SELECT grp, count(*) AS n,
       avg(a::numeric) AS ma, avg(b::numeric) AS mb, avg(a::numeric - b::numeric) AS md,
       var_samp(a::numeric - b::numeric) AS vd,
       var_samp(a::numeric) AS va, var_samp(b::numeric) AS vb
  FROM rnd WHERE a IS NOT NULL AND b IS NOT NULL GROUP BY grp;
CREATE TEMP TABLE rnd_cov AS
SELECT r.grp, sum((r.a::numeric - e.ma) * (r.b::numeric - e.mb)) / (e.n - 1) AS cov
  FROM rnd r JOIN rnd_exact e USING (grp) WHERE r.b IS NOT NULL GROUP BY r.grp, e.n;
SELECT grp % 4 AS kind, count(*) AS groups,
       count(*) FILTER (WHERE (p).pairs = e.n) AS pairs_ok,
       count(*) FILTER (WHERE pg_temp.close((p).mean_a, e.ma::float8, 2.3e-16)
                          AND pg_temp.close((p).mean_b, e.mb::float8, 2.3e-16)) AS means_exact,
       count(*) FILTER (WHERE pg_temp.close((p).mean_difference, e.md::float8, 1e-15)) AS mean_difference_exact,
       count(*) FILTER (WHERE pg_temp.close((p).std_error, sqrt(e.vd / e.n)::float8, 1e-14)) AS std_error_exact,
       count(*) FILTER (WHERE pg_temp.close((p).effect_size, (e.md / sqrt(e.vd))::float8, 1e-13)) AS effect_exact,
       count(*) FILTER (WHERE pg_temp.close((p).correlation, (c.cov / sqrt(e.va * e.vb))::float8, 1e-13)) AS correlation_exact,
       count(*) FILTER (WHERE pg_temp.close((p).p_value,
                                             2 * multisample.t_cdf(-abs((e.md / sqrt(e.vd / e.n))::float8), e.n - 1), 1e-12)) AS p_value_ok
  FROM (SELECT grp, multisample.paired_comparison(a, b) AS p FROM rnd GROUP BY grp) s
  JOIN rnd_exact e USING (grp) JOIN rnd_cov c USING (grp)
 GROUP BY 1 ORDER BY 1;
-- The correlation equals PostgreSQL's corr() where that one is accurate
-- (kind 0 and 3, no offset).
SELECT bool_and(pg_temp.close((p).correlation, r, 1e-12)) AS equals_corr
  FROM (SELECT grp, multisample.paired_comparison(a, b) AS p, corr(a, b) AS r FROM rnd GROUP BY grp) s
 WHERE grp % 4 IN (0, 3);

-------------------------------------------------------------------------------
-- Parallel plans, window frames and partitionwise combines agree.
-------------------------------------------------------------------------------
CREATE TABLE pc_par AS
SELECT g % 7 AS grp, 1e6 + (g % 1000) * 0.001 + (g % 13) AS a, 1e6 + (g % 997) * 0.001 + (g % 11) AS b
  FROM generate_series(1, 60000) g;
ALTER TABLE pc_par SET (parallel_workers = 2);
ANALYZE pc_par;
CREATE TEMP TABLE pc_serial AS
SELECT NULL::int AS grp, multisample.paired_comparison(a, b) AS p, multisample.paired_comparison(a, b, 0.9) AS q FROM pc_par
UNION ALL
SELECT grp, multisample.paired_comparison(a, b), multisample.paired_comparison(a, b, 0.9) FROM pc_par GROUP BY grp;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
SELECT pg_temp.plan_lines('SELECT multisample.paired_comparison(a, b), multisample.paired_comparison(a, b, 0.9) FROM pc_par',
                          'Partial Aggregate') AS partial_aggregate,
       pg_temp.plan_lines('SELECT grp, multisample.paired_comparison(a, b) FROM pc_par GROUP BY grp',
                          'Partial (Hash|Group)?Aggregate') AS partial_grouped;
CREATE TEMP TABLE pc_parallel AS
SELECT NULL::int AS grp, multisample.paired_comparison(a, b) AS p, multisample.paired_comparison(a, b, 0.9) AS q FROM pc_par
UNION ALL
SELECT grp, multisample.paired_comparison(a, b), multisample.paired_comparison(a, b, 0.9) FROM pc_par GROUP BY grp;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
CREATE FUNCTION pg_temp.same_pc(x multisample.paired_comparison, y multisample.paired_comparison, tol float8)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN x IS NULL OR y IS NULL THEN x IS NULL AND y IS NULL ELSE
           x.pairs = y.pairs AND pg_temp.close(x.mean_a, y.mean_a, tol) AND pg_temp.close(x.mean_b, y.mean_b, tol)
           AND pg_temp.close(x.mean_difference, y.mean_difference, tol) AND pg_temp.close(x.std_error, y.std_error, tol)
           AND pg_temp.close(x.lower, y.lower, tol) AND pg_temp.close(x.upper, y.upper, tol)
           AND x.level IS NOT DISTINCT FROM y.level AND pg_temp.close(x.t_statistic, y.t_statistic, tol)
           AND x.df IS NOT DISTINCT FROM y.df
           -- A p-value far in the tail is as exact as t allows, no more: with
           -- p ~ pdf(t)/t, dp/p = -(t^2 + 1) dt/t, so a last-bit difference
           -- in t (a merge in another order) moves p by about t^2 ulps.
           AND pg_temp.close(x.p_value, y.p_value, tol * greatest(1, 1 + x.t_statistic * x.t_statistic))
           AND pg_temp.close(x.effect_size, y.effect_size, tol) AND pg_temp.close(x.correlation, y.correlation, tol) END
$$;
SELECT count(*) AS results,
       count(*) FILTER (WHERE pg_temp.same_pc(s.p, l.p, 1e-12) AND pg_temp.same_pc(s.q, l.q, 1e-12)) AS parallel_equals_serial
  FROM pc_serial s JOIN pc_parallel l ON s.grp IS NOT DISTINCT FROM l.grp;
DROP TABLE pc_par;

-- Window frames (the inverse removes pairs, or asks for a recomputation)
-- equal a plain aggregate over the same rows.
SELECT setseed(0.23);
CREATE TEMP TABLE win AS
SELECT g AS id, g % 3 AS part,
       CASE WHEN g % 31 = 0 THEN NULL
            WHEN g BETWEEN 100 AND 140 THEN 1e6 + g         -- rising: the min of a leaves each step
            ELSE 1e6 + round(random() * 1000) / 8 END AS a,
       CASE WHEN g % 37 = 0 THEN NULL
            WHEN g BETWEEN 160 AND 200 THEN 1e6 - g         -- falling: the max of b leaves each step
            ELSE 1e6 + round(random() * 1000) / 8 END AS b
  FROM generate_series(1, 400) g;
CREATE FUNCTION pg_temp.recomputed(lo int, hi int, p int) RETURNS multisample.paired_comparison
LANGUAGE sql STABLE AS $$
    SELECT multisample.paired_comparison(a, b) FROM win WHERE id BETWEEN lo AND hi AND part = p
$$;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE pg_temp.same_pc(w5, pg_temp.recomputed(id - 12, id, part), 1e-12)) AS sliding_5_ok,
       count(*) FILTER (WHERE pg_temp.same_pc(w40, pg_temp.recomputed(id - 117, id, part), 1e-12)) AS sliding_40_ok,
       count(*) FILTER (WHERE pg_temp.same_pc(wc, pg_temp.recomputed(id - 9, id + 9, part), 1e-12)) AS centred_ok,
       count(*) FILTER (WHERE pg_temp.same_pc(wg, pg_temp.recomputed(0, id, part), 1e-12)) AS growing_ok
  FROM (SELECT id, part,
               multisample.paired_comparison(a, b) OVER (PARTITION BY part ORDER BY id ROWS BETWEEN 4 PRECEDING AND CURRENT ROW) AS w5,
               multisample.paired_comparison(a, b) OVER (PARTITION BY part ORDER BY id ROWS BETWEEN 39 PRECEDING AND CURRENT ROW) AS w40,
               multisample.paired_comparison(a, b) OVER (PARTITION BY part ORDER BY id ROWS BETWEEN 3 PRECEDING AND 3 FOLLOWING) AS wc,
               multisample.paired_comparison(a, b) OVER (PARTITION BY part ORDER BY id ROWS UNBOUNDED PRECEDING) AS wg
          FROM win) t;
-- The level form in a frame, and frames that are empty or hold one pair.
SELECT id, (p).pairs, round((p).mean_difference::numeric, 6) AS mean_difference, (p).level
  FROM (SELECT id, multisample.paired_comparison(a, b, 0.9) OVER (ORDER BY id ROWS BETWEEN 2 PRECEDING AND 1 PRECEDING) AS p
          FROM (VALUES (1, 1::float8, 0::float8), (2, 4, 1), (3, NULL, 2), (4, 6, 1), (5, 7, 7)) v(id, a, b)) s
 ORDER BY id;

-- Partitionwise aggregation: the combine function merges unlike states
-- (an offset partition, a tiny one, one pair, an empty one, a negatively
-- correlated one).
CREATE TABLE pc_part (k int, a float8, b float8) PARTITION BY LIST (k);
CREATE TABLE pc_part_offset PARTITION OF pc_part FOR VALUES IN (1);
CREATE TABLE pc_part_tiny PARTITION OF pc_part FOR VALUES IN (2);
CREATE TABLE pc_part_one PARTITION OF pc_part FOR VALUES IN (3);
CREATE TABLE pc_part_empty PARTITION OF pc_part FOR VALUES IN (4);
CREATE TABLE pc_part_negative PARTITION OF pc_part FOR VALUES IN (5);
INSERT INTO pc_part
SELECT 1, 1e9 + (g % 17), 1e9 + (g % 13) FROM generate_series(1, 3000) g
UNION ALL SELECT 2, 1e-6 * (g % 5), 1e-6 * (g % 3) FROM generate_series(1, 500) g
UNION ALL SELECT 3, -12345.5, 7
UNION ALL SELECT 5, g * 10, -g * 10 + (g % 7) FROM generate_series(1, 100) g;
ANALYZE pc_part;
SET enable_partitionwise_aggregate = on;
SELECT pg_temp.plan_lines('SELECT multisample.paired_comparison(a, b) FROM pc_part', 'Partial Aggregate') AS partial_aggregates;
CREATE TEMP TABLE part_wise AS SELECT multisample.paired_comparison(a, b) AS p FROM pc_part;
RESET enable_partitionwise_aggregate;
SELECT (p).pairs,
       pg_temp.close((p).mean_difference, (SELECT avg(a::numeric - b::numeric)::float8 FROM pc_part), 1e-14) AS mean_difference_exact,
       pg_temp.close((p).std_error, (SELECT (stddev_samp(a::numeric - b::numeric) / sqrt(count(*)))::float8 FROM pc_part), 1e-13) AS std_error_exact,
       pg_temp.close((p).correlation, (SELECT (sum((a::numeric - ma) * (b::numeric - mb)) / sqrt(sum((a::numeric - ma) ^ 2) * sum((b::numeric - mb) ^ 2)))::float8
                                         FROM pc_part, (SELECT avg(a::numeric) AS ma, avg(b::numeric) AS mb FROM pc_part) m), 1e-13) AS correlation_exact
  FROM part_wise;
DROP TABLE pc_part;

-------------------------------------------------------------------------------
-- Non-finite values propagate; finite values that overflow are an error.
-------------------------------------------------------------------------------
CREATE FUNCTION pg_temp.show(x float8) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN x IN ('NaN', 'Infinity', '-Infinity') THEN x::text ELSE round(x::numeric, 10)::text END
$$;
SELECT case_id, (p).pairs, pg_temp.show((p).mean_a) AS mean_a, pg_temp.show((p).mean_b) AS mean_b,
       pg_temp.show((p).mean_difference) AS mean_difference, pg_temp.show((p).std_error) AS std_error,
       pg_temp.show((p).t_statistic) AS t_statistic, pg_temp.show((p).p_value) AS p_value,
       pg_temp.show((p).correlation) AS correlation
  FROM (SELECT case_id, multisample.paired_comparison(a, b) AS p
          FROM (VALUES (1, 1::float8, 2::float8), (1, 'Infinity', 1), (1, 3, 1),
                       (2, 'NaN', 1), (2, 2, 2),
                       (3, 'Infinity', 'Infinity'), (3, 1, 0)) v(case_id, a, b)
         GROUP BY case_id) s
 ORDER BY case_id;
SELECT pg_temp.error_of($$SELECT multisample.paired_comparison(a, b) FROM (VALUES (1e308::float8, -1e308::float8)) v(a, b)$$) AS difference_overflows,
       pg_temp.error_of($$SELECT multisample.paired_comparison(a, b) FROM (VALUES (1e200::float8, 0::float8), (-1e200, 1)) v(a, b)$$) AS moment_overflows;

-------------------------------------------------------------------------------
-- The support functions, called directly, and forged states.
-------------------------------------------------------------------------------
-- State: {count, mean, M2, min, max, mean_low} of a, of b and of a - b,
-- the co-moment, the level.
-- The first pair (5, 4): every mean is its value (mean_low 0), no spread.
-- The second (7, 6), with the level: a has mean 6 and M2 = 2, b mean 5 and
-- M2 = 2, a - b mean 1 and M2 = 0; the co-moment grows by
-- (7 - 5)(6 - 4)(n - 1)/n = 2; the level is 0.9.
SELECT multisample.paired_accum('{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}', 5, 4);
SELECT multisample.paired_accum(multisample.paired_accum('{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}', 5, 4), 7, 6, 0.9);
-- Four pairs, then one whose values lie strictly inside the ranges of a, b
-- and a - b removed again: the same as the other three alone. Removing the
-- pair that holds the max of a asks for a recomputation (NULL).
SELECT pg_temp.same_pc(multisample.paired_comparison_final(multisample.paired_remove(s, 4, 6)),
                       (SELECT multisample.paired_comparison(a, b) FROM (VALUES (0::float8, 10::float8), (10, 0), (6, 3)) v(a, b)),
                       1e-14) AS removed_inside,
       multisample.paired_remove(s, 10, 0) IS NULL AS max_leaves_restart
  FROM (SELECT multisample.paired_accum(multisample.paired_accum(multisample.paired_accum(multisample.paired_accum(
                   '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}', 0, 10), 10, 0), 4, 6), 6, 3) AS s) t;
SELECT (multisample.paired_comparison_final(multisample.paired_combine(s1, s2))).pairs AS combined_pairs,
       pg_temp.same_pc(multisample.paired_comparison_final(multisample.paired_combine(s1, s2)),
                       (SELECT multisample.paired_comparison(a, b) FROM pairs WHERE set_id = 1), 1e-14) AS combine_equals_one_pass
  FROM (SELECT multisample.paired_accum(multisample.paired_accum('{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}', 5, 4), 7, 6) AS s1,
               multisample.paired_accum(multisample.paired_accum(multisample.paired_accum(
                   '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}', 6, 6), 9, 5), 8, 7) AS s2) s;
-- A state survives a text round trip (a plain float8[]).
SELECT (multisample.paired_comparison_final(multisample.paired_combine(s::text::float8[], s))).pairs
  FROM (SELECT multisample.paired_accum(multisample.paired_accum('{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}', 1, 2), 3, 5) AS s) t;
-- Levels must agree within a group and be in (0, 1).
SELECT level, pg_temp.error_of(format($$SELECT multisample.paired_comparison(a, b, %L) FROM (VALUES (1::float8, 2::float8)) v(a, b)$$, level))
  FROM unnest(ARRAY['0', '1', '-0.5', 'NaN', 'Infinity']) AS level;
SELECT pg_temp.error_of($$SELECT multisample.paired_comparison(a, b, l) FROM (VALUES (1::float8, 2::float8, 0.9::float8), (2, 3, 0.95)) v(a, b, l)$$);
SELECT pg_temp.error_of($$SELECT g, multisample.paired_comparison(a, b, 0.8 + g / 100.0) FROM (VALUES (1::float8, 1::float8, 1), (2, 3, 2)) v(a, b, g) GROUP BY g$$) AS level_per_group_is_fine;
-- Forged states, passed to every support function: refused with 22023.
CREATE TEMP TABLE forged (label text, state text);
INSERT INTO forged VALUES
    ('too short',            '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}'),
    ('too long',             '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}'),
    ('two dimensions',       '{{0,0,0,0,0,0,0,0,0,0},{0,0,0,0,0,0,0,0,0,0}}'),
    ('NULL element',         '{2,6,2,5,7,0,2,5,2,4,6,0,2,1,0,1,1,0,2,NULL}'),
    ('negative count',       '{-2,6,2,5,7,0,-2,5,2,4,6,0,-2,1,0,1,1,0,2,0}'),
    ('counts differ',        '{2,6,2,5,7,0,3,5,2,4,6,0,2,1,0,1,1,0,2,0}'),
    ('fractional count',     '{2.5,6,2,5,7,0,2.5,5,2,4,6,0,2.5,1,0,1,1,0,2,0}'),
    ('empty but values',     '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,0}'),
    ('negative M2 of a',     '{2,6,-2,5,7,0,2,5,2,4,6,0,2,1,0,1,1,0,2,0}'),
    ('min above max',        '{2,6,2,7,5,0,2,5,2,4,6,0,2,1,0,1,1,0,2,0}'),
    ('mean_low beyond range','{2,6,2,5,7,9,2,5,2,4,6,0,2,1,0,1,1,0,2,0}'),
    ('NaN co-moment',        '{2,6,2,5,7,0,2,5,2,4,6,0,2,1,0,1,1,0,NaN,0}'),
    ('NaN M2 of d only',     '{2,6,2,5,7,0,2,5,2,4,6,0,2,1,NaN,1,1,0,2,0}'),
    ('one pair, co-moment',  '{1,5,0,5,5,0,1,4,0,4,4,0,1,1,0,1,1,0,3,0}'),
    ('level 2',              '{2,6,2,5,7,0,2,5,2,4,6,0,2,1,0,1,1,0,2,2}');
-- The pairs (5, 4) and (7, 6) give {2,6,2,5,7,0, 2,5,2,4,6,0, 2,1,0,1,1,0,
-- 2, 0} (above: at a power-of-two count the means are in canonical form);
-- the same statistics with a mean held as a shift plus the rest (5 + 1),
-- as between powers of two, are valid too. Each forged state differs from
-- the canonical one in what its label says.
SELECT multisample.paired_accum(multisample.paired_accum('{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}', 5, 4), 7, 6)
       = '{2,6,2,5,7,0,2,5,2,4,6,0,2,1,0,1,1,0,2,0}' AS reference_state,
       pg_temp.error_of($$SELECT multisample.paired_comparison_final('{2,5,2,5,7,1,2,4,2,4,6,1,2,1,0,1,1,0,2,0}')$$) AS shifted_state;
SELECT label,
       pg_temp.error_of(format('SELECT multisample.paired_accum(%L, 1, 1)', state)) AS accum,
       pg_temp.error_of(format('SELECT multisample.paired_accum(%L, 1, 1, 0.9)', state)) LIKE '22023:%' AS accum_level_refuses,
       pg_temp.error_of(format('SELECT multisample.paired_remove(%L, 6, 5)', state)) LIKE '22023:%' AS remove_refuses,
       pg_temp.error_of(format('SELECT multisample.paired_remove(%L, 6, 5, 0.9)', state)) LIKE '22023:%' AS remove_level_refuses,
       pg_temp.error_of(format($$SELECT multisample.paired_combine(%L, '{1,1,0,1,1,0,1,1,0,1,1,0,1,0,0,0,0,0,0,0}')$$, state)) LIKE '22023:%' AS combine_left_refuses,
       pg_temp.error_of(format($$SELECT multisample.paired_combine('{1,1,0,1,1,0,1,1,0,1,1,0,1,0,0,0,0,0,0,0}', %L)$$, state)) LIKE '22023:%' AS combine_right_refuses,
       pg_temp.error_of(format('SELECT multisample.paired_comparison_final(%L)', state)) LIKE '22023:%' AS final_refuses
  FROM forged ORDER BY label;
-- A forged INITCOND in a user-defined aggregate is caught inside the aggregate.
CREATE AGGREGATE pg_temp.forged_pc(float8, float8) (
    SFUNC = multisample.paired_accum, STYPE = float8[],
    INITCOND = '{2,6,-2,5,7,0,2,5,2,4,6,0,2,1,0,1,1,0,2,0}',
    FINALFUNC = multisample.paired_comparison_final);
SELECT pg_temp.error_of($$SELECT pg_temp.forged_pc(a, b) FROM (VALUES (1::float8, 2::float8)) v(a, b)$$);
\set VERBOSITY default
SELECT multisample.paired_comparison_final('{1,2,3}');
SELECT multisample.paired_comparison(a, b, 1.5) FROM (VALUES (1::float8, 2::float8)) v(a, b);
\set VERBOSITY terse

-------------------------------------------------------------------------------
-- wilson_interval
-------------------------------------------------------------------------------
-- Public check: 7 of 10 at 95 % is about [0.3968, 0.8922]. Exact (mpmath,
-- z = Phi^-1(0.975) at the float8 level): [0.39677814746114536827,
-- 0.89220873259369896174]. By hand: z^2 = 3.8415; centre (7 + 1.9207) /
-- 13.8415 = 0.64449, half-width 1.95996 / 13.8415 * sqrt(2.1 + 0.96037)
-- = 0.24771.
SELECT estimate, round(lower::numeric, 4) AS lower, round(upper::numeric, 4) AS upper
  FROM multisample.wilson_interval(7, 10);
SELECT pg_temp.close(lower, 0.39677814746114536827, 1e-14) AS lower_ok,
       pg_temp.close(upper, 0.89220873259369896174, 1e-14) AS upper_ok, estimate
  FROM multisample.wilson_interval(7, 10);
-- 0 of 10: [0, z^2/(n + z^2)] = [0, 0.27753279986288917498]; 10 of 10:
-- [n/(n + z^2), 1] = [0.72246720013711082502, 1]; 1 of 1: [1/(1 + z^2), 1] =
-- [0.2065493143772374515, 1]; 2.5 of 4 at 99 %: [0.15675425854839795308,
-- 0.93727580469678444246]. The estimate is successes / trials.
SELECT s, n, level, estimate,
       pg_temp.close(lower, e_lower, 1e-14) AS lower_ok, pg_temp.close(upper, e_upper, 1e-14) AS upper_ok
  FROM (VALUES (0::float8, 10::float8, 0.95::float8, 0::float8, 0.27753279986288917498::float8),
               (10, 10, 0.95, 0.72246720013711082502, 1),
               (1, 1, 0.95, 0.2065493143772374515, 1),
               (2.5, 4, 0.99, 0.15675425854839795308, 0.93727580469678444246)) v(s, n, level, e_lower, e_upper),
       LATERAL multisample.wilson_interval(s, n, level)
 ORDER BY n, s;
SELECT label, pg_temp.error_of('SELECT multisample.wilson_interval(' || args || ')')
  FROM (VALUES ('no trials', '0, 0'), ('negative trials', '0, -1'), ('successes above trials', '11, 10'),
               ('negative successes', '-1, 10'), ('NaN successes', '''NaN'', 10'), ('infinite trials', '1, ''Infinity'''),
               ('level 1', '1, 2, 1'), ('level NaN', '1, 2, ''NaN''')) v(label, args);

-------------------------------------------------------------------------------
-- holm_adjust
-------------------------------------------------------------------------------
-- {0.01, 0.04, 0.03, 0.005}, m = 4: sorted 0.005 (x4 = 0.02), 0.01 (x3 =
-- 0.03), 0.03 (x2 = 0.06), 0.04 (x1 = 0.04, raised to the running 0.06).
SELECT multisample.holm_adjust('{0.01, 0.04, 0.03, 0.005}') AS adjusted;
-- NULLs stay NULL and do not count (m = 2: 0.01 x2, 0.2 x1 -> 0.02, 0.2).
SELECT multisample.holm_adjust('{NULL, 0.2, NULL, 0.01}') AS with_nulls;
-- Ties get the same value (m = 3: 0.02 x3 = 0.06, then max(0.06, 0.02 x2)).
SELECT multisample.holm_adjust('{0.02, 0.5, 0.02}') AS ties;
-- Capped at 1; one p-value is its own; empty stays empty; bounds are kept.
SELECT multisample.holm_adjust('{0.6, 0.7}') AS capped, multisample.holm_adjust('{0.3}') AS single,
       multisample.holm_adjust('{}') AS empty, multisample.holm_adjust('{NULL}') AS only_null,
       multisample.holm_adjust('[3:4]={0.5, 0.01}') AS bounds_kept;
SELECT label, pg_temp.error_of(format('SELECT multisample.holm_adjust(%L)', arr))
  FROM (VALUES ('above 1', '{0.5, 1.5}'), ('negative', '{-0.1}'), ('NaN', '{0.1, NaN}'),
               ('two dimensions', '{{0.1, 0.2}, {0.3, 0.4}}')) v(label, arr);

-------------------------------------------------------------------------------
-- scenarios_needed and minimum_detectable_difference (Miller 2024, section 5)
-------------------------------------------------------------------------------
-- Miller's worked example: omega^2 = 1/9, sigma^2 = 0, delta = 0.03, alpha
-- 0.05, power 0.8: (1.959964 + 0.841621)^2 / 9 / 0.0009 = 968.9975 -> 969.
SELECT multisample.scenarios_needed(0.03, 1 / 9.0, 0, 0, 1, 1) AS miller_969;
-- With within-scenario noise: omega^2 = 0.05, sigma_a^2 = 0.2 over K_a = 5,
-- sigma_b^2 = 0.3 over K_b = 10: variance 0.05 + 0.04 + 0.03 = 0.12,
-- 7.8488797 * 0.12 / 0.0025 = 376.746 -> 377; at alpha 0.01 and power 0.9:
-- (2.575829 + 1.281552)^2 * 0.12 / 0.0025 = 714.211 -> 715.
SELECT multisample.scenarios_needed(0.05, 0.05, 0.2, 0.3, 5, 10) AS needed,
       multisample.scenarios_needed(0.05, 0.05, 0.2, 0.3, 5, 10, alpha => 0.01, power => 0.9) AS needed_strict;
-- The minimum detectable difference at 969 scenarios is just below 0.03
-- (0.029999961270374208514), at 968 just above (0.03001545311817686198);
-- at 377 scenarios of the second case 0.049983168735305202732.
SELECT pg_temp.close(multisample.minimum_detectable_difference(969, 1 / 9.0, 0, 0, 1, 1), 0.029999961270374208514, 1e-14) AS mdd_969,
       pg_temp.close(multisample.minimum_detectable_difference(968, 1 / 9.0, 0, 0, 1, 1), 0.03001545311817686198, 1e-14) AS mdd_968,
       pg_temp.close(multisample.minimum_detectable_difference(377, 0.05, 0.2, 0.3, 5, 10), 0.049983168735305202732, 1e-14) AS mdd_377;
-- The two functions invert each other: n = scenarios_needed(delta) detects
-- delta, n - 1 does not.
SELECT count(*) AS cases,
       count(*) FILTER (WHERE multisample.minimum_detectable_difference(n::bigint, w, 0.5, 0.1, 3, 2) <= delta
                          AND multisample.minimum_detectable_difference(n::bigint - 1, w, 0.5, 0.1, 3, 2) > delta) AS inverse
  FROM (SELECT delta, w, multisample.scenarios_needed(delta, w, 0.5, 0.1, 3, 2) AS n
          FROM unnest('{0.01, 0.05, 0.2, 0.7}'::float8[]) AS delta, unnest('{0, 0.02, 1}'::float8[]) AS w) s;
SELECT label, pg_temp.error_of('SELECT multisample.' || call)
  FROM (VALUES ('difference 0', 'scenarios_needed(0, 1, 0, 0, 1, 1)'),
               ('negative difference', 'scenarios_needed(-0.1, 1, 0, 0, 1, 1)'),
               ('infinite difference', 'scenarios_needed(''Infinity'', 1, 0, 0, 1, 1)'),
               ('negative between_variance', 'scenarios_needed(0.1, -1, 0, 0, 1, 1)'),
               ('NaN within_variance_a', 'scenarios_needed(0.1, 1, ''NaN'', 0, 1, 1)'),
               ('samples_b 0', 'scenarios_needed(0.1, 1, 0, 0, 1, 0)'),
               ('alpha 0', 'scenarios_needed(0.1, 1, 0, 0, 1, 1, 0, 0.8)'),
               ('power 1', 'scenarios_needed(0.1, 1, 0, 0, 1, 1, 0.05, 1)'),
               ('scenarios 0', 'minimum_detectable_difference(0, 1, 0, 0, 1, 1)'),
               ('samples_a negative', 'minimum_detectable_difference(10, 1, 0, 0, -1, 1)')) v(label, call);

-------------------------------------------------------------------------------
-- pass_at_k and pass_hat_k: exact fractions.
-------------------------------------------------------------------------------
-- n = 10, c = 3, k = 2: pass@k = 1 - C(7,2)/C(10,2) = 1 - 21/45 = 8/15,
-- pass^k = C(3,2)/C(10,2) = 3/45 = 1/15.
-- n = 200, c = 13, k = 10: 1 - C(187,10)/C(200,10) = 78115540005393/157000030132960
-- = 0.49755111473060612654, pass^k = 1/78500015066480 = 1.273885105822108673e-14.
-- n = 100, c = 50, k = 7: 3663/3686 = 0.99376017362995116658 and 23/3686 =
-- 0.0062398263700488334238.
-- n = 10^6: c = 3, k = 1000: 0.002997003994007988016 (1 - the product of
-- 1000 factors (n - 3 - i)/(n - i)); c = 999000, k = 1000:
-- 0.36751150041701124874 (mpmath, log-gamma at 60 digits).
-- n = 10^12, c = 3 10^6, k = 2 10^6 (beyond 2^20 factors: the saddle-point
-- path): pass@k = 0.99752128500443906098; pass^k of c = n - 3 10^6:
-- 0.0024787149955609390224.
SELECT pg_temp.close(multisample.pass_at_k(10, 3, 2), 8 / 15.0, 1e-15) AS p10,
       pg_temp.close(multisample.pass_hat_k(10, 3, 2), 1 / 15.0, 1e-15) AS h10,
       pg_temp.close(multisample.pass_at_k(200, 13, 10), 0.49755111473060612654, 1e-15) AS p200,
       pg_temp.close(multisample.pass_hat_k(200, 13, 10), 1.273885105822108673e-14, 1e-15) AS h200,
       pg_temp.close(multisample.pass_at_k(100, 50, 7), 0.99376017362995116658, 1e-15) AS p100,
       pg_temp.close(multisample.pass_hat_k(100, 50, 7), 0.0062398263700488334238, 1e-15) AS h100,
       pg_temp.close(multisample.pass_at_k(1000000, 3, 1000), 0.002997003994007988016, 1e-15) AS p_million,
       pg_temp.close(multisample.pass_hat_k(1000000, 999000, 1000), 0.36751150041701124874, 1e-15) AS h_million,
       pg_temp.close(multisample.pass_at_k(1000000000000, 3000000, 2000000), 0.99752128500443906098, 1e-14) AS p_saddle,
       pg_temp.close(multisample.pass_hat_k(1000000000000, 1000000000000 - 3000000, 2000000), 0.0024787149955609390224, 1e-13) AS h_saddle;
-- Edge values: no success, all successes, too few failures for k (pass@k
-- is 1), too few successes for k (pass^k is 0); k = 1 is c / n for both.
SELECT multisample.pass_at_k(10, 0, 5) AS none, multisample.pass_hat_k(10, 10, 3) AS all_succeed,
       multisample.pass_at_k(5, 2, 4) AS too_few_failures, multisample.pass_hat_k(5, 2, 4) AS too_few_successes,
       multisample.pass_at_k(8, 3, 1) = 3 / 8.0 AND multisample.pass_hat_k(8, 3, 1) = 3 / 8.0 AS k1_is_c_over_n,
       multisample.pass_at_k(7, 7, 7) AS all_k;
SELECT label, pg_temp.error_of('SELECT multisample.' || call)
  FROM (VALUES ('negative n', 'pass_at_k(-1, 0, 1)'), ('n beyond 2^53', 'pass_at_k(9007199254740993, 1, 1)'),
               ('c above n', 'pass_at_k(5, 6, 1)'), ('negative c', 'pass_hat_k(5, -1, 1)'),
               ('k 0', 'pass_at_k(5, 1, 0)'), ('k above n', 'pass_hat_k(5, 1, 6)')) v(label, call);

-------------------------------------------------------------------------------
-- The view model_comparison on a run worked by hand.
-------------------------------------------------------------------------------
-- Run r-cmp: models A and B on scenarios s1..s4, C on s1..s3 with one
-- sample each. Scenario means (K samples, within variance):
--          s1              s2              s3            s4
--   A  4 (3, 1)        7/3 (3, 1/3)    9/2 (2, 1/2)   4/3 (3, 1/3)
--   B  10/3 (3, 1/3)   4/3 (3, 1/3)    13/3 (3, 1/3)  4/3 (3, 1/3)
--   C  5 (1, -)        3 (1, -)        5 (1, -)
-- A - B: differences 2/3, 1, 1/6, 0: mean 11/24 = 0.458333; wins 3 (s1, s2,
-- s3), ties 1 (s4), losses 0, win rate 1 with Wilson [0.4385, 1];
-- var(differences) = 0.2106481481 (= std_error^2 * 4, std_error
-- 0.22948210613692092); t = 1.99725, df 3, p = 0.13969773963372342;
-- sigma_A^2 = (1 + 1/3 + 1/2 + 1/3)/4 = 13/24, K_A = 11/4; sigma_B^2 = 1/3,
-- K_B = 3; noise = mean of sigma_A,s^2/K_A,s + sigma_B,s^2/K_B,s =
-- (4/9 + 2/9 + 13/36 + 2/9)/4 = 0.3125 > var(differences): between_variance
-- is clamped to 0; minimum detectable difference (0 + 13/24/(11/4) +
-- (1/3)/3) -> 2.8015852 * sqrt(0.30808081 / 4) = 0.77751032325740631;
-- scenarios needed for 11/24: ceil(7.84888 * 0.30808 / 0.21007) = 12.
-- A - C and B - C: C has no within variance, so between_variance is NULL and
-- the sizing uses var(differences) itself. p-values 0.039012347759055313
-- (A-C) and 0.057190958417936634 (B-C); Holm over the three pairs:
-- 0.0390 x 3 = 0.117037, then max(0.117037, 0.05719 x 2) = 0.117037, then
-- max(0.117037, 0.1397 x 1) = 0.139698.
INSERT INTO multisample.definitions (id, name) VALUES ('def-cmp', 'comparison');
INSERT INTO multisample.scenarios (id, definition_id, name)
SELECT 's' || i, 'def-cmp', 'scenario ' || i FROM generate_series(1, 5) i;
INSERT INTO multisample.runs (id, definition_id, config) VALUES
    ('r-cmp', 'def-cmp', '{"samplesPerScenario": 3, "successThreshold": 3}'),
    ('r-one', 'def-cmp', '{"samplesPerScenario": 1}');
INSERT INTO multisample.transcripts (run_id, scenario_id, model_id, sample_index, score) VALUES
    ('r-cmp', 's1', 'A', 0, 4), ('r-cmp', 's1', 'A', 1, 5), ('r-cmp', 's1', 'A', 2, 3),
    ('r-cmp', 's2', 'A', 0, 2), ('r-cmp', 's2', 'A', 1, 2), ('r-cmp', 's2', 'A', 2, 3),
    ('r-cmp', 's3', 'A', 0, 5), ('r-cmp', 's3', 'A', 1, 4),
    ('r-cmp', 's4', 'A', 0, 1), ('r-cmp', 's4', 'A', 1, 2), ('r-cmp', 's4', 'A', 2, 1),
    ('r-cmp', 's1', 'B', 0, 3), ('r-cmp', 's1', 'B', 1, 3), ('r-cmp', 's1', 'B', 2, 4),
    ('r-cmp', 's2', 'B', 0, 2), ('r-cmp', 's2', 'B', 1, 1), ('r-cmp', 's2', 'B', 2, 1),
    ('r-cmp', 's3', 'B', 0, 4), ('r-cmp', 's3', 'B', 1, 4), ('r-cmp', 's3', 'B', 2, 5),
    ('r-cmp', 's4', 'B', 0, 2), ('r-cmp', 's4', 'B', 1, 1), ('r-cmp', 's4', 'B', 2, 1),
    ('r-cmp', 's1', 'C', 0, 5), ('r-cmp', 's2', 'C', 0, 3), ('r-cmp', 's3', 'C', 0, 5),
    -- not counted: unscored, deleted, another run
    ('r-cmp', 's5', 'A', 0, NULL), ('r-cmp', 's5', 'B', 0, NULL),
    ('r-one', 's1', 'A', 0, 3), ('r-one', 's1', 'B', 0, 4),
    ('r-one', 's2', 'A', 0, 2);
INSERT INTO multisample.transcripts (run_id, scenario_id, model_id, sample_index, score, deleted_at)
VALUES ('r-cmp', 's2', 'C', 1, 1, now());
SELECT model_a, model_b, scenarios, wins, ties, losses, ci_level,
       round(mean_difference::numeric, 12) AS mean_difference, round(p_value::numeric, 12) AS p_value,
       round(p_value_holm::numeric, 12) AS p_value_holm, round(between_variance::numeric, 12) AS between_variance,
       round(minimum_detectable_difference::numeric, 12) AS mdd, scenarios_needed
  FROM multisample.model_comparison WHERE run_id = 'r-cmp' ORDER BY model_a, model_b;
-- Every column against the reference (test/comparison_reference.py).
CREATE TEMP TABLE cmp_expected (model_a text, model_b text, scenarios bigint, mean_a float8, mean_b float8,
    mean_difference float8, std_error float8, ci_lower float8, ci_upper float8, t_statistic float8,
    p_value float8, p_value_holm float8, effect_size float8, win_rate float8, win_rate_lower float8,
    win_rate_upper float8, correlation float8, between_variance float8, within_variance_a float8,
    within_variance_b float8, samples_a float8, samples_b float8, mdd float8, needed float8);
INSERT INTO cmp_expected VALUES
    ('A', 'B', 4, 3.0416666666666667, 2.5833333333333333, 0.45833333333333333, 0.22948210613692092,
     -0.27198114747083447, 1.1886478141375011, 1.997250857807048, 0.13969773963372342, 0.13969773963372342,
     0.99862542890352399, 1, 0.43850296824495457, 1, 0.95240183769915055, 0, 0.54166666666666667,
     0.33333333333333333, 2.75, 3, 0.77751032325740631, 12),
    ('A', 'C', 3, 3.6111111111111111, 4.3333333333333333, -0.72222222222222222, 0.14698618394803281,
     -1.3546527278216821, -0.089791716622762327, -4.913538149119954, 0.039012347759055313, 0.11703704327716594,
     -2.836832573067901, 0, 0, 0.56149703175504543, 0.97541726913196657, NULL, 0.61111111111111111,
     NULL, 2.6666666666666667, 1, 0.41179432021564242, 1),
    ('B', 'C', 3, 3, 4.3333333333333333, -1.3333333333333333, 0.33333333333333333,
     -2.7675509099164873, 0.1008842432498206, -4, 0.057190958417936634, 0.11703704327716594,
     -2.3094010767585031, 0, 0, 0.56149703175504543, 0.94491118252306807, NULL, 0.33333333333333333,
     NULL, 3, 1, 0.93386173937098953, 2);
SELECT e.model_a, e.model_b,
       v.scenarios = e.scenarios
       AND pg_temp.close(v.mean_a, e.mean_a, 1e-15) AND pg_temp.close(v.mean_b, e.mean_b, 1e-15)
       AND pg_temp.close(v.mean_difference, e.mean_difference, 1e-15) AS means_ok,
       pg_temp.close(v.std_error, e.std_error, 1e-14) AND pg_temp.close(v.ci_lower, e.ci_lower, 1e-14)
       AND pg_temp.close(v.ci_upper, e.ci_upper, 1e-13) AND v.ci_level = 0.95 AS interval_ok,
       pg_temp.close(v.t_statistic, e.t_statistic, 1e-14) AND pg_temp.close(v.p_value, e.p_value, 1e-12)
       AND pg_temp.close(v.p_value_holm, e.p_value_holm, 1e-12) AND pg_temp.close(v.effect_size, e.effect_size, 1e-14) AS test_ok,
       pg_temp.close(v.win_rate, e.win_rate, 1e-15) AND pg_temp.close(v.win_rate_lower, e.win_rate_lower, 1e-14)
       AND pg_temp.close(v.win_rate_upper, e.win_rate_upper, 1e-14) AS win_rate_ok,
       pg_temp.close(v.correlation, e.correlation, 1e-14) AS correlation_ok,
       pg_temp.close(v.between_variance, e.between_variance, 1e-14) AND pg_temp.close(v.within_variance_a, e.within_variance_a, 1e-15)
       AND pg_temp.close(v.within_variance_b, e.within_variance_b, 1e-15) AND pg_temp.close(v.samples_a, e.samples_a, 1e-15)
       AND pg_temp.close(v.samples_b, e.samples_b, 1e-15) AS variances_ok,
       pg_temp.close(v.minimum_detectable_difference, e.mdd, 1e-14) AND v.scenarios_needed = e.needed AS sizing_ok
  FROM cmp_expected e JOIN multisample.model_comparison v
    ON v.run_id = 'r-cmp' AND v.model_a = e.model_a AND v.model_b = e.model_b
 ORDER BY 1, 2;
-- p_value_holm is holm_adjust over the run's p-values; the Wilson columns
-- are wilson_interval(wins, wins + losses); the sizing columns are the
-- functions at the view's inputs.
SELECT bool_and(v.p_value_holm = h.adjusted[v.pos]) AS holm_same
  FROM (SELECT p_value_holm, row_number() OVER (ORDER BY model_a, model_b) AS pos
          FROM multisample.model_comparison WHERE run_id = 'r-cmp') v,
       (SELECT multisample.holm_adjust(array_agg(p_value ORDER BY model_a, model_b)) AS adjusted
          FROM multisample.model_comparison WHERE run_id = 'r-cmp') h;
SELECT bool_and(w.lower = v.win_rate_lower AND w.upper = v.win_rate_upper) AS wilson_same,
       bool_and(multisample.minimum_detectable_difference(v.scenarios, v.between_variance, v.within_variance_a,
                                                          v.within_variance_b, v.samples_a, v.samples_b)
                = v.minimum_detectable_difference) FILTER (WHERE v.between_variance IS NOT NULL) AS mdd_same
  FROM multisample.model_comparison v,
       LATERAL multisample.wilson_interval(v.wins, v.wins + v.losses) w
 WHERE v.run_id = 'r-cmp';
-- One sample per scenario and one shared scenario: no spread, no test, no
-- sizing; the means and wins are still there.
SELECT model_a, model_b, scenarios, mean_a, mean_b, mean_difference, std_error, p_value, p_value_holm,
       wins, ties, losses, win_rate, between_variance, minimum_detectable_difference, scenarios_needed
  FROM multisample.model_comparison WHERE run_id = 'r-one';
-- Filtered by run_id, the view reads only that run's rows: the filter
-- reaches both scans of transcripts as an index condition.
SET enable_seqscan = off;
SELECT pg_temp.plan_lines($$SELECT * FROM multisample.model_comparison WHERE run_id = 'r-cmp'$$,
                          $$Index Cond: \(run_id = 'r-cmp'::text\)$$) AS index_conditions,
       pg_temp.plan_lines($$SELECT * FROM multisample.model_comparison WHERE run_id = 'r-cmp'$$,
                          'SubPlan') AS subplans;
RESET enable_seqscan;

-------------------------------------------------------------------------------
-- The view model_pass_at_k
-------------------------------------------------------------------------------
-- r-cmp has successThreshold 3 and 3 samples per scenario. Successes
-- (score >= 3) per scenario: A: s1 3 of 3, s2 1 of 3, s3 2 of 2, s4 0 of 3;
-- B: s1 3/3, s2 0/3, s3 3/3, s4 0/3; C: s1 1/1, s2 1/1, s3 1/1.
-- A, k = 1: mean of c/n = (1 + 1/3 + 1 + 0)/4 = 7/12 for both;
-- A, k = 2: pass@2 = (1 + (1 - C(2,2)/C(3,2)) + 1 + 0)/4 = (1 + 2/3 + 1)/4 = 2/3,
--           pass^2 = (1 + 0 + 1 + 0)/4 = 1/2;
-- A, k = 3: s3 has only 2 samples and does not count: pass@3 = (1 + 1 + 0)/3
--           = 2/3, pass^3 = (1 + 0 + 0)/3 = 1/3;
-- B: every scenario is all or nothing: 1/2 for every k; C: k = 1 only, 1.
SELECT model_id, k, success_threshold, scenarios, round(pass_at_k::numeric, 14) AS pass_at_k,
       round(pass_hat_k::numeric, 14) AS pass_hat_k
  FROM multisample.model_pass_at_k WHERE run_id = 'r-cmp' ORDER BY model_id, k;
-- Runs without a numeric successThreshold have no rows.
UPDATE multisample.runs SET config = config || '{"successThreshold": "3"}' WHERE id = 'r-one';
SELECT count(*) AS rows_without_numeric_threshold FROM multisample.model_pass_at_k WHERE run_id = 'r-one';
UPDATE multisample.runs SET config = config || '{"successThreshold": 1e400}' WHERE id = 'r-one';
SELECT count(*) AS rows_with_unusable_threshold FROM multisample.model_pass_at_k WHERE run_id = 'r-one';
