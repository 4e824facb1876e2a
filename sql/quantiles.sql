-- t_quantile(p, df) and normal_quantile(p): reference values, symmetry,
-- limits and bad input. The wider grid (df 1 .. 1e6, non-integer df) is
-- checked by test/quantile_accuracy.sh.

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

-- The reference two-sided critical values (reference/t_quantiles.tsv, exact
-- to the 17 digits shown): t_quantile((1 + level) / 2, df) within 1e-13.
CREATE TEMP TABLE t_reference (df float8, level float8, t float8);
INSERT INTO t_reference VALUES
    (1, 0.9, 6.3137515146750431),
    (1, 0.95, 12.706204736174705),
    (1, 0.99, 63.656741162871581),
    (2, 0.9, 2.9199855803537257),
    (2, 0.95, 4.3026527297494639),
    (2, 0.99, 9.9248432009182931),
    (3, 0.9, 2.3533634348018239),
    (3, 0.95, 3.1824463052837096),
    (3, 0.99, 5.8409093097333573),
    (10, 0.9, 1.8124611228116764),
    (10, 0.95, 2.2281388519862747),
    (10, 0.99, 3.1692726726169512),
    (30, 0.9, 1.6972608865939578),
    (30, 0.95, 2.0422724563012383),
    (30, 0.99, 2.7499956535672253),
    (1000, 0.9, 1.6463788172854647),
    (1000, 0.95, 1.9623390808264085),
    (1000, 0.99, 2.5807546980659511);
SELECT df, level, t AS reference, multisample.t_quantile((1 + level) / 2, df) AS computed,
       abs(multisample.t_quantile((1 + level) / 2, df) / t - 1) <= 1e-13 AS within_1e13
  FROM t_reference ORDER BY df, level;
SELECT count(*) AS reference_values,
       count(*) FILTER (WHERE abs(multisample.t_quantile((1 + level) / 2, df) / t - 1) <= 1e-13) AS within_1e13
  FROM t_reference;

-- Exact values at these (binary) probabilities, from 50-digit mpmath:
-- df = 1 is the Cauchy distribution, df = 2 has a closed form, then
-- non-integer df, large df, Infinity (the normal limit) and a far tail at
-- large df.
SELECT p, df, expected, multisample.t_quantile(p, df) AS computed,
       abs(multisample.t_quantile(p, df) / expected - 1) <= 1e-13 AS within_1e13
  FROM (VALUES (0.75::float8, 1::float8, 1::float8),
               (0.875, 2, 1.603567451474546308107),
               (0.75, 1.5, 0.8725946625415706360423),
               (0.99, 7.3, 2.963940447583896411596),
               (0.975, 123.45, 1.979367008293667689835),
               (0.975, 1e6, 1.959966356814106655338),
               (0.975, 'Infinity', 1.959963984540053855604),
               (1e-10, 3000, -6.38338807927554526613),
               (1e-10, 1e6, -6.361406848876742619639),
               (1e-10, 1e12, -6.361340902470002086128)) v(p, df, expected);
-- The t quantile is odd around p = 1/2, is 0 there, and grows towards the
-- normal quantile as df grows.
SELECT multisample.t_quantile(0.5, 3) AS at_half,
       multisample.t_quantile(0.0625, 9.5) = -multisample.t_quantile(0.9375, 9.5) AS odd,
       multisample.t_quantile(0.375, 9.5) = -multisample.t_quantile(0.625, 9.5) AS odd_centre,
       multisample.t_quantile(0.125, 1) = -multisample.t_quantile(0.875, 1) AS odd_cauchy,
       multisample.t_quantile(0.975, 10) > multisample.t_quantile(0.975, 100)
           AND multisample.t_quantile(0.975, 100) > multisample.t_quantile(0.975, 1e5)
           AND multisample.t_quantile(0.975, 1e5) > multisample.normal_quantile(0.975) AS decreasing_in_df,
       multisample.t_quantile(0.975, 'Infinity') = multisample.normal_quantile(0.975) AS normal_limit;

-- Normal quantiles (exact values from mpmath) and symmetry.
SELECT p, expected, multisample.normal_quantile(p) AS computed,
       abs(multisample.normal_quantile(p) / expected - 1) <= 1e-15 AS within_1e15
  FROM (VALUES (0.975::float8, 1.959963984540053855604::float8),
               (0.995, 2.575829303548900453857),
               (0.75, 0.6744897501960817432022),
               (1e-10, -6.3613409024040561991),
               (1e-300, -37.04709629936119923655)) v(p, expected);
SELECT multisample.normal_quantile(0.5) AS at_half,
       multisample.normal_quantile(0.0625) = -multisample.normal_quantile(0.9375) AS odd,
       multisample.normal_quantile(0.375) = -multisample.normal_quantile(0.625) AS odd_centre;

-- Far tails and df below 1: no accuracy target there, but the values are
-- right (their tail probabilities, recomputed with mpmath, agree to 1e-14),
-- and a quantile beyond the float8 range is an overflow error.
SELECT p, df, multisample.t_quantile(p, df) AS t
  FROM (VALUES (1e-12::float8, 0.5::float8), (0.999999, 0.5), (0.75, 0.1), (0.6, 0.01),
               (0.9999999, 1.0000001), (1e-200, 5), (0.5 + 1e-15, 30), (0.999999999, 2.5)) v(p, df);
SELECT pg_temp.error_of('SELECT multisample.t_quantile(0.9, 0.001)') AS beyond_float8;

-- NULL in, NULL out.
SELECT multisample.t_quantile(NULL, 3) IS NULL AS null_p,
       multisample.t_quantile(0.9, NULL) IS NULL AS null_df,
       multisample.normal_quantile(NULL) IS NULL AS null_normal;

-- Bad input: p outside (0, 1), df <= 0, NaN.
SELECT args, pg_temp.error_of('SELECT multisample.t_quantile(' || args || ')')
  FROM unnest(ARRAY['0, 5', '1, 5', '-0.5, 5', '1.5, 5', '''NaN'', 5', '''Infinity'', 5',
                    '0.9, 0', '0.9, -3', '0.9, ''NaN''', '0.9, ''-Infinity''']) AS args;
SELECT args, pg_temp.error_of('SELECT multisample.normal_quantile(' || args || ')')
  FROM unnest(ARRAY['0', '1', '''NaN''', '2']) AS args;
\set VERBOSITY default
SELECT multisample.t_quantile(0.975, 0);
