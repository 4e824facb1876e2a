
-------------------------------------------------------------------------------
-- Statistics: variance_stats, confidence_interval, t_quantile, normal_quantile.
-------------------------------------------------------------------------------

CREATE TYPE @extschema@.variance_stats AS (
    sample_count bigint,
    mean         pg_catalog.float8,
    std_dev      pg_catalog.float8,
    variance     pg_catalog.float8,
    std_error    pg_catalog.float8,
    min          pg_catalog.float8,
    max          pg_catalog.float8,
    range        pg_catalog.float8
);
COMMENT ON TYPE @extschema@.variance_stats IS
    'Result of variance_stats(x): count of non-NULL values, mean, sample standard deviation and variance (n - 1), standard error of the mean (std_dev / sqrt(n)), min, max and range; std_dev, variance and std_error are NULL for one value';

CREATE TYPE @extschema@.confidence_interval AS (
    lower        pg_catalog.float8,
    upper        pg_catalog.float8,
    level        pg_catalog.float8,
    mean         pg_catalog.float8,
    margin       pg_catalog.float8,
    sample_count bigint
);
COMMENT ON TYPE @extschema@.confidence_interval IS
    'Result of confidence_interval(x [, level]): the Student-t interval mean +- margin for the mean, margin = t_{(1+level)/2, n-1} * s / sqrt(n); lower, upper and margin are NULL for one value';

-- Support functions. The state is float8[7] = {count, mean, M2, min, max,
-- mean_low, level}, all zeros when empty; mean_low is the low-order part of
-- the mean (a double-double mean keeps offset data exact); level stays 0
-- unless confidence_interval(x, level) sets it.
CREATE FUNCTION @extschema@.moments_accum(pg_catalog.float8[], pg_catalog.float8)
RETURNS pg_catalog.float8[]
AS 'MODULE_PATHNAME', 'ms_moments_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.moments_accum(pg_catalog.float8[], pg_catalog.float8) IS
    'Transition function of variance_stats and confidence_interval: adds a value to the state {count, mean, M2, min, max, mean_low, level}';

CREATE FUNCTION @extschema@.moments_accum(pg_catalog.float8[], pg_catalog.float8, pg_catalog.float8)
RETURNS pg_catalog.float8[]
AS 'MODULE_PATHNAME', 'ms_moments_accum_level'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.moments_accum(pg_catalog.float8[], pg_catalog.float8, pg_catalog.float8) IS
    'Transition function of confidence_interval(x, level): checks the level (in (0, 1), constant within a group) and adds the value';

CREATE FUNCTION @extschema@.moments_remove(pg_catalog.float8[], pg_catalog.float8)
RETURNS pg_catalog.float8[]
AS 'MODULE_PATHNAME', 'ms_moments_remove'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.moments_remove(pg_catalog.float8[], pg_catalog.float8) IS
    'Inverse transition function for window frames: removes a value, or returns NULL (recompute the frame) when the value is the current min or max or anything is not finite';

CREATE FUNCTION @extschema@.moments_remove(pg_catalog.float8[], pg_catalog.float8, pg_catalog.float8)
RETURNS pg_catalog.float8[]
AS 'MODULE_PATHNAME', 'ms_moments_remove'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.moments_remove(pg_catalog.float8[], pg_catalog.float8, pg_catalog.float8) IS
    'Inverse transition function of confidence_interval(x, level) for window frames; NULL asks for a recomputation';

CREATE FUNCTION @extschema@.moments_combine(pg_catalog.float8[], pg_catalog.float8[])
RETURNS pg_catalog.float8[]
AS 'MODULE_PATHNAME', 'ms_moments_combine'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.moments_combine(pg_catalog.float8[], pg_catalog.float8[]) IS
    'Combine function: merges two partial states with the Chan-Golub-LeVeque formula (parallel and partitionwise aggregation, Citus)';

CREATE FUNCTION @extschema@.variance_stats_final(pg_catalog.float8[])
RETURNS @extschema@.variance_stats
AS 'MODULE_PATHNAME', 'ms_variance_stats_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.variance_stats_final(pg_catalog.float8[]) IS
    'Final function of variance_stats: the statistics of a state (NULL when it holds no value)';

CREATE FUNCTION @extschema@.confidence_interval_final(pg_catalog.float8[])
RETURNS @extschema@.confidence_interval
AS 'MODULE_PATHNAME', 'ms_confidence_interval_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.confidence_interval_final(pg_catalog.float8[]) IS
    'Final function of confidence_interval: the Student-t interval of a state at its level (0.95 when none was given; NULL when it holds no value)';

-- variance_stats(x) and confidence_interval(x) use the same transition
-- function, state and INITCOND, and read-only final functions, so one query
-- computing both keeps a single state per group.
CREATE AGGREGATE @extschema@.variance_stats(pg_catalog.float8) (
    SFUNC = @extschema@.moments_accum,
    STYPE = pg_catalog.float8[],
    INITCOND = '{0,0,0,0,0,0,0}',
    FINALFUNC = @extschema@.variance_stats_final,
    COMBINEFUNC = @extschema@.moments_combine,
    MSFUNC = @extschema@.moments_accum,
    MINVFUNC = @extschema@.moments_remove,
    MSTYPE = pg_catalog.float8[],
    MINITCOND = '{0,0,0,0,0,0,0}',
    MFINALFUNC = @extschema@.variance_stats_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.variance_stats(pg_catalog.float8) IS
    'Sample statistics of the non-NULL values: count, mean, std_dev and variance (n - 1), std_error, min, max, range; NULL for no values';

CREATE AGGREGATE @extschema@.confidence_interval(pg_catalog.float8) (
    SFUNC = @extschema@.moments_accum,
    STYPE = pg_catalog.float8[],
    INITCOND = '{0,0,0,0,0,0,0}',
    FINALFUNC = @extschema@.confidence_interval_final,
    COMBINEFUNC = @extschema@.moments_combine,
    MSFUNC = @extschema@.moments_accum,
    MINVFUNC = @extschema@.moments_remove,
    MSTYPE = pg_catalog.float8[],
    MINITCOND = '{0,0,0,0,0,0,0}',
    MFINALFUNC = @extschema@.confidence_interval_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.confidence_interval(pg_catalog.float8) IS
    '95 % Student-t confidence interval for the mean of the non-NULL values (df = n - 1); NULL for no values';

CREATE AGGREGATE @extschema@.confidence_interval(pg_catalog.float8, level pg_catalog.float8) (
    SFUNC = @extschema@.moments_accum,
    STYPE = pg_catalog.float8[],
    INITCOND = '{0,0,0,0,0,0,0}',
    FINALFUNC = @extschema@.confidence_interval_final,
    COMBINEFUNC = @extschema@.moments_combine,
    MSFUNC = @extschema@.moments_accum,
    MINVFUNC = @extschema@.moments_remove,
    MSTYPE = pg_catalog.float8[],
    MINITCOND = '{0,0,0,0,0,0,0}',
    MFINALFUNC = @extschema@.confidence_interval_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.confidence_interval(pg_catalog.float8, pg_catalog.float8) IS
    'Student-t confidence interval for the mean of the non-NULL values at the given level (in (0, 1), constant within a group); NULL for no values';

CREATE FUNCTION @extschema@.t_quantile(p pg_catalog.float8, df pg_catalog.float8)
RETURNS pg_catalog.float8
AS 'MODULE_PATHNAME', 'ms_t_quantile'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.t_quantile(pg_catalog.float8, pg_catalog.float8) IS
    'Student-t quantile: t with P(T <= t) = p for df > 0 degrees of freedom (any real df; Infinity gives the normal quantile), 0 < p < 1; relative error below 1e-13';

CREATE FUNCTION @extschema@.normal_quantile(p pg_catalog.float8)
RETURNS pg_catalog.float8
AS 'MODULE_PATHNAME', 'ms_normal_quantile'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.normal_quantile(pg_catalog.float8) IS
    'Standard normal quantile: z with P(Z <= z) = p, 0 < p < 1 (Wichura AS 241)';
