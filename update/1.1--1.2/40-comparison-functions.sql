-------------------------------------------------------------------------------
-- Comparing models (SPEC 12.4), the functions: t_cdf, normal_cdf, the
-- aggregate paired_comparison, wilson_interval, holm_adjust,
-- scenarios_needed, minimum_detectable_difference, pass_at_k, pass_hat_k.
-- All in C (src/cdf*.c, src/paired_*.c, src/comparison_*.c,
-- src/pass_at_k.c); the views over them are in 45-comparison-views.sql.
-------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.t_cdf(t pg_catalog.float8, df pg_catalog.float8)
RETURNS pg_catalog.float8
AS 'MODULE_PATHNAME', 'ms_t_cdf'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.t_cdf(pg_catalog.float8, pg_catalog.float8) IS
    'Student-t distribution function P(T <= t) for df > 0 degrees of freedom (any real df; Infinity gives the normal); the smaller tail is computed directly, to 1e-12 relative down to 1e-300';

CREATE FUNCTION @extschema@.normal_cdf(z pg_catalog.float8)
RETURNS pg_catalog.float8
AS 'MODULE_PATHNAME', 'ms_normal_cdf'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.normal_cdf(pg_catalog.float8) IS
    'Standard normal distribution function P(Z <= z) (Cody); the smaller tail is computed directly, to 1e-14 relative down to the bottom of the float8 range';

-------------------------------------------------------------------------------
-- paired_comparison(a, b [, level]): the paired t-test of a - b.
-------------------------------------------------------------------------------

CREATE TYPE @extschema@.paired_comparison AS (
    pairs           bigint,
    mean_a          pg_catalog.float8,
    mean_b          pg_catalog.float8,
    mean_difference pg_catalog.float8,
    std_error       pg_catalog.float8,
    lower           pg_catalog.float8,
    upper           pg_catalog.float8,
    level           pg_catalog.float8,
    t_statistic     pg_catalog.float8,
    df              pg_catalog.float8,
    p_value         pg_catalog.float8,
    effect_size     pg_catalog.float8,
    correlation     pg_catalog.float8
);
COMMENT ON TYPE @extschema@.paired_comparison IS
    'Result of paired_comparison(a, b [, level]): pairs, the means of a and b, the mean of the differences a - b, its standard error sd(a - b) / sqrt(n), the Student-t interval (df = n - 1) at level, the t statistic and two-sided p-value, Cohen''s d_z = mean difference / sd(a - b), and Pearson''s correlation of a and b; NULL where undefined (one pair, zero spread)';

-- Support functions. The state is float8[20]: the moments {count, mean, M2,
-- min, max, mean_low} of a, of b and of a - b (mean + mean_low is the mean),
-- the co-moment of a and b, and the level (0 unless paired_comparison(a, b,
-- level) sets it); all zeros when empty.
CREATE FUNCTION @extschema@.paired_accum(pg_catalog.float8[], pg_catalog.float8, pg_catalog.float8)
RETURNS pg_catalog.float8[]
AS 'MODULE_PATHNAME', 'ms_paired_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.paired_accum(pg_catalog.float8[], pg_catalog.float8, pg_catalog.float8) IS
    'Transition function of paired_comparison(a, b): adds the pair (a, b) to the state (moments of a, b and a - b, co-moment, level)';

CREATE FUNCTION @extschema@.paired_accum(pg_catalog.float8[], pg_catalog.float8, pg_catalog.float8, pg_catalog.float8)
RETURNS pg_catalog.float8[]
AS 'MODULE_PATHNAME', 'ms_paired_accum_level'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.paired_accum(pg_catalog.float8[], pg_catalog.float8, pg_catalog.float8, pg_catalog.float8) IS
    'Transition function of paired_comparison(a, b, level): checks the level (in (0, 1), constant within a group) and adds the pair';

CREATE FUNCTION @extschema@.paired_remove(pg_catalog.float8[], pg_catalog.float8, pg_catalog.float8)
RETURNS pg_catalog.float8[]
AS 'MODULE_PATHNAME', 'ms_paired_remove'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.paired_remove(pg_catalog.float8[], pg_catalog.float8, pg_catalog.float8) IS
    'Inverse transition function of paired_comparison(a, b) for window frames: removes a pair, or returns NULL (recompute the frame) when a value is the current min or max of a, b or a - b, or anything is not finite';

CREATE FUNCTION @extschema@.paired_remove(pg_catalog.float8[], pg_catalog.float8, pg_catalog.float8, pg_catalog.float8)
RETURNS pg_catalog.float8[]
AS 'MODULE_PATHNAME', 'ms_paired_remove'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.paired_remove(pg_catalog.float8[], pg_catalog.float8, pg_catalog.float8, pg_catalog.float8) IS
    'Inverse transition function of paired_comparison(a, b, level) for window frames; NULL asks for a recomputation';

CREATE FUNCTION @extschema@.paired_combine(pg_catalog.float8[], pg_catalog.float8[])
RETURNS pg_catalog.float8[]
AS 'MODULE_PATHNAME', 'ms_paired_combine'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.paired_combine(pg_catalog.float8[], pg_catalog.float8[]) IS
    'Combine function of paired_comparison: merges two partial states (Chan-Golub-LeVeque for the moments and the co-moment; parallel and partitionwise aggregation, Citus)';

CREATE FUNCTION @extschema@.paired_comparison_final(pg_catalog.float8[])
RETURNS @extschema@.paired_comparison
AS 'MODULE_PATHNAME', 'ms_paired_comparison_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.paired_comparison_final(pg_catalog.float8[]) IS
    'Final function of paired_comparison: the paired comparison of a state at its level (0.95 when none was given; NULL when it holds no pair)';

CREATE AGGREGATE @extschema@.paired_comparison(a pg_catalog.float8, b pg_catalog.float8) (
    SFUNC = @extschema@.paired_accum,
    STYPE = pg_catalog.float8[],
    INITCOND = '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}',
    FINALFUNC = @extschema@.paired_comparison_final,
    COMBINEFUNC = @extschema@.paired_combine,
    MSFUNC = @extschema@.paired_accum,
    MINVFUNC = @extschema@.paired_remove,
    MSTYPE = pg_catalog.float8[],
    MINITCOND = '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}',
    MFINALFUNC = @extschema@.paired_comparison_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.paired_comparison(pg_catalog.float8, pg_catalog.float8) IS
    'Paired comparison of a and b over the rows where both are non-NULL: mean difference a - b with its 95 % Student-t interval, t-test, effect size d_z and correlation; NULL for no rows';

CREATE AGGREGATE @extschema@.paired_comparison(a pg_catalog.float8, b pg_catalog.float8, level pg_catalog.float8) (
    SFUNC = @extschema@.paired_accum,
    STYPE = pg_catalog.float8[],
    INITCOND = '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}',
    FINALFUNC = @extschema@.paired_comparison_final,
    COMBINEFUNC = @extschema@.paired_combine,
    MSFUNC = @extschema@.paired_accum,
    MINVFUNC = @extschema@.paired_remove,
    MSTYPE = pg_catalog.float8[],
    MINITCOND = '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}',
    MFINALFUNC = @extschema@.paired_comparison_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.paired_comparison(pg_catalog.float8, pg_catalog.float8, pg_catalog.float8) IS
    'Paired comparison of a and b at the given confidence level (in (0, 1), constant within a group); NULL for no rows';

-------------------------------------------------------------------------------
-- Proportions, multiple comparisons, power, pass@k.
-------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.wilson_interval(
    successes pg_catalog.float8,
    trials pg_catalog.float8,
    level pg_catalog.float8 DEFAULT 0.95,
    OUT estimate pg_catalog.float8,
    OUT lower pg_catalog.float8,
    OUT upper pg_catalog.float8)
AS 'MODULE_PATHNAME', 'ms_wilson_interval'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.wilson_interval(pg_catalog.float8, pg_catalog.float8, pg_catalog.float8) IS
    'Wilson score interval for a proportion: estimate = successes / trials and the bounds at level (default 0.95), within [0, 1]; 0 <= successes <= trials, trials > 0';

CREATE FUNCTION @extschema@.holm_adjust(p_values pg_catalog.float8[])
RETURNS pg_catalog.float8[]
AS 'MODULE_PATHNAME', 'ms_holm_adjust'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.holm_adjust(pg_catalog.float8[]) IS
    'Holm-Bonferroni adjusted p-values in the input order (NULLs stay NULL and do not count); compare them with alpha to control the family-wise error rate';

CREATE FUNCTION @extschema@.scenarios_needed(
    difference pg_catalog.float8,
    between_variance pg_catalog.float8,
    within_variance_a pg_catalog.float8,
    within_variance_b pg_catalog.float8,
    samples_a pg_catalog.float8,
    samples_b pg_catalog.float8,
    alpha pg_catalog.float8 DEFAULT 0.05,
    power pg_catalog.float8 DEFAULT 0.8)
RETURNS pg_catalog.float8
AS 'MODULE_PATHNAME', 'ms_scenarios_needed'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.scenarios_needed(pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8) IS
    'Scenarios needed to detect a true mean difference > 0 between two models (Miller 2024, section 5): ceil((z_{1-alpha/2} + z_power)^2 (between_variance + within_variance_a / samples_a + within_variance_b / samples_b) / difference^2)';

CREATE FUNCTION @extschema@.minimum_detectable_difference(
    scenarios bigint,
    between_variance pg_catalog.float8,
    within_variance_a pg_catalog.float8,
    within_variance_b pg_catalog.float8,
    samples_a pg_catalog.float8,
    samples_b pg_catalog.float8,
    alpha pg_catalog.float8 DEFAULT 0.05,
    power pg_catalog.float8 DEFAULT 0.8)
RETURNS pg_catalog.float8
AS 'MODULE_PATHNAME', 'ms_minimum_detectable_difference'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.minimum_detectable_difference(bigint, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8) IS
    'Smallest true mean difference detected with the given power at level alpha on that many scenarios (Miller 2024, section 5): (z_{1-alpha/2} + z_power) sqrt((between_variance + within_variance_a / samples_a + within_variance_b / samples_b) / scenarios)';

CREATE FUNCTION @extschema@.pass_at_k(n bigint, c bigint, k integer)
RETURNS pg_catalog.float8
AS 'MODULE_PATHNAME', 'ms_pass_at_k'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.pass_at_k(bigint, bigint, integer) IS
    'pass@k of n samples with c successes (Chen et al. 2021, unbiased): 1 - C(n - c, k) / C(n, k), the probability that k of the samples hold a success; exact, without factorials';

CREATE FUNCTION @extschema@.pass_hat_k(n bigint, c bigint, k integer)
RETURNS pg_catalog.float8
AS 'MODULE_PATHNAME', 'ms_pass_hat_k'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.pass_hat_k(bigint, bigint, integer) IS
    'pass^k of n samples with c successes: C(c, k) / C(n, k), the probability that k of the samples all succeed; exact, without factorials';
