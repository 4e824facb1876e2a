-------------------------------------------------------------------------------
-- Comparing models (SPEC 12.4), the views: model_comparison and
-- model_pass_at_k. Like the analysis views of 1.1 they read live, scored
-- transcripts, keep run_id as a plain output column and group or partition
-- by it, so WHERE run_id = ... reaches the index scan of that run's rows;
-- they use no correlated subquery (Citus), only joins of grouped subqueries.
-------------------------------------------------------------------------------

-- model_comparison: per run and pair of models (model_a < model_b), over
-- the scenarios where both have scored samples, with the scenario means as
-- the units (the samples of one scenario are correlated; the scenarios are
-- the independent draws from the population of prompts).
--
-- From the inside out:
--  s: per run, model and scenario: K (scored samples), the scenario mean
--     and the within-scenario sample variance (NULL for one sample);
--  c: per run and pair of models, over their shared scenarios:
--     paired_comparison(mean_a, mean_b); wins, ties and losses by scenario
--     mean (a tie: the means differ by at most 1e-12 relative);
--     sigma_a^2, sigma_b^2 = the mean within variances, K_a, K_b = the mean
--     sample counts; noise = the mean over the scenarios where both
--     variances exist of sigma_a,s^2 / K_a,s + sigma_b,s^2 / K_b,s;
--  e: the paired figures, win rate, var(differences) = std_error^2 n;
--  d: between_variance omega^2 = max(0, var(differences) - noise) (method
--     of moments, Miller 2024 section 5; NULL without noise estimate);
--  v: the variance used for sizing, omega^2 + sigma_a^2 / K_a +
--     sigma_b^2 / K_b, or, when no scenario has both within variances (one
--     sample per scenario), var(differences) itself, which then holds the
--     within noise at this run's samples; Holm's rank j and the number m of
--     p-values of the run;
--  h: Holm's running maximum of min(1, (m - j + 1) p) in p-value order.
CREATE VIEW @extschema@.model_comparison AS
SELECT h.run_id, h.model_a, h.model_b, h.scenarios, h.mean_a, h.mean_b, h.mean_difference,
       h.std_error, h.ci_lower, h.ci_upper, h.ci_level, h.t_statistic, h.p_value,
       h.p_value_holm, h.effect_size, h.wins, h.ties, h.losses, h.win_rate,
       (@extschema@.wilson_interval(h.wins::pg_catalog.float8, h.decided::pg_catalog.float8)).lower
           AS win_rate_lower,
       (@extschema@.wilson_interval(h.wins::pg_catalog.float8, h.decided::pg_catalog.float8)).upper
           AS win_rate_upper,
       h.correlation, h.between_variance, h.within_variance_a, h.within_variance_b,
       h.samples_a, h.samples_b,
       @extschema@.minimum_detectable_difference(h.scenarios, h.sizing_between, h.sizing_within_a,
                                                 h.sizing_within_b, h.sizing_samples_a, h.sizing_samples_b)
           AS minimum_detectable_difference,
       CASE WHEN h.mean_difference OPERATOR(pg_catalog.<>) 0 THEN
           @extschema@.scenarios_needed(pg_catalog.abs(h.mean_difference), h.sizing_between,
                                        h.sizing_within_a, h.sizing_within_b,
                                        h.sizing_samples_a, h.sizing_samples_b)
       END AS scenarios_needed
  FROM (SELECT v.*,
               CASE WHEN v.p_value IS NOT NULL THEN
                   pg_catalog.max(LEAST(1::pg_catalog.float8,
                                                   (v.holm_m OPERATOR(pg_catalog.-) v.holm_j OPERATOR(pg_catalog.+) 1)
                                                   OPERATOR(pg_catalog.*) v.p_value))
                       OVER (PARTITION BY v.run_id ORDER BY v.p_value NULLS LAST, v.model_a, v.model_b
                             ROWS UNBOUNDED PRECEDING)
               END AS p_value_holm
          FROM (SELECT d.*,
                       CASE WHEN d.between_variance IS NOT NULL THEN d.between_variance
                            ELSE d.difference_variance END AS sizing_between,
                       CASE WHEN d.between_variance IS NOT NULL THEN d.within_variance_a ELSE 0 END
                           AS sizing_within_a,
                       CASE WHEN d.between_variance IS NOT NULL THEN d.within_variance_b ELSE 0 END
                           AS sizing_within_b,
                       CASE WHEN d.between_variance IS NOT NULL THEN d.samples_a ELSE 1 END AS sizing_samples_a,
                       CASE WHEN d.between_variance IS NOT NULL THEN d.samples_b ELSE 1 END AS sizing_samples_b,
                       pg_catalog.count(d.p_value) OVER (PARTITION BY d.run_id) AS holm_m,
                       pg_catalog.row_number() OVER (PARTITION BY d.run_id
                                                     ORDER BY d.p_value NULLS LAST, d.model_a, d.model_b)
                           AS holm_j
                  FROM (SELECT e.*,
                               CASE WHEN e.noise IS NOT NULL AND e.difference_variance IS NOT NULL THEN
                                   GREATEST(0::pg_catalog.float8,
                                                       e.difference_variance OPERATOR(pg_catalog.-) e.noise)
                               END AS between_variance
                          FROM (SELECT c.run_id, c.model_a, c.model_b,
                                       (c.pc).pairs AS scenarios, (c.pc).mean_a, (c.pc).mean_b,
                                       (c.pc).mean_difference, (c.pc).std_error,
                                       (c.pc).lower AS ci_lower, (c.pc).upper AS ci_upper,
                                       (c.pc).level AS ci_level, (c.pc).t_statistic, (c.pc).p_value,
                                       (c.pc).effect_size, (c.pc).correlation,
                                       c.wins, c.ties, c.losses,
                                       NULLIF(c.wins OPERATOR(pg_catalog.+) c.losses, 0) AS decided,
                                       c.wins::pg_catalog.float8 OPERATOR(pg_catalog./)
                                           NULLIF(c.wins OPERATOR(pg_catalog.+) c.losses, 0)
                                           AS win_rate,
                                       c.within_variance_a, c.within_variance_b, c.samples_a, c.samples_b,
                                       -- var(differences) = std_error^2 n
                                       (c.pc).std_error OPERATOR(pg_catalog.*) (c.pc).std_error
                                           OPERATOR(pg_catalog.*) (c.pc).pairs AS difference_variance,
                                       c.noise
                                  FROM (SELECT a.run_id, a.model_id AS model_a, b.model_id AS model_b,
                                               @extschema@.paired_comparison(a.mean, b.mean) AS pc,
                                               pg_catalog.count(*) FILTER (
                                                   WHERE (a.mean OPERATOR(pg_catalog.-) b.mean) OPERATOR(pg_catalog.>)
                                                         (1e-12::pg_catalog.float8 OPERATOR(pg_catalog.*)
                                                          GREATEST(pg_catalog.abs(a.mean), pg_catalog.abs(b.mean))))
                                                   AS wins,
                                               pg_catalog.count(*) FILTER (
                                                   WHERE pg_catalog.abs(a.mean OPERATOR(pg_catalog.-) b.mean) OPERATOR(pg_catalog.<=)
                                                         (1e-12::pg_catalog.float8 OPERATOR(pg_catalog.*)
                                                          GREATEST(pg_catalog.abs(a.mean), pg_catalog.abs(b.mean))))
                                                   AS ties,
                                               pg_catalog.count(*) FILTER (
                                                   WHERE (b.mean OPERATOR(pg_catalog.-) a.mean) OPERATOR(pg_catalog.>)
                                                         (1e-12::pg_catalog.float8 OPERATOR(pg_catalog.*)
                                                          GREATEST(pg_catalog.abs(a.mean), pg_catalog.abs(b.mean))))
                                                   AS losses,
                                               pg_catalog.avg(a.variance) AS within_variance_a,
                                               pg_catalog.avg(b.variance) AS within_variance_b,
                                               pg_catalog.avg(a.sample_count)::pg_catalog.float8 AS samples_a,
                                               pg_catalog.avg(b.sample_count)::pg_catalog.float8 AS samples_b,
                                               pg_catalog.avg((a.variance OPERATOR(pg_catalog./) a.sample_count)
                                                              OPERATOR(pg_catalog.+)
                                                              (b.variance OPERATOR(pg_catalog./) b.sample_count)) AS noise
                                          FROM (SELECT g.run_id, g.model_id, g.scenario_id, (g.st).sample_count,
                                                       (g.st).mean, (g.st).variance
                                                  FROM (SELECT t.run_id, t.model_id, t.scenario_id,
                                                               @extschema@.variance_stats(t.score) AS st
                                                          FROM @extschema@.transcripts AS t
                                                         WHERE t.deleted_at IS NULL AND t.score IS NOT NULL
                                                         GROUP BY t.run_id, t.model_id, t.scenario_id) AS g) AS a
                                          JOIN (SELECT g.run_id, g.model_id, g.scenario_id, (g.st).sample_count,
                                                       (g.st).mean, (g.st).variance
                                                  FROM (SELECT t.run_id, t.model_id, t.scenario_id,
                                                               @extschema@.variance_stats(t.score) AS st
                                                          FROM @extschema@.transcripts AS t
                                                         WHERE t.deleted_at IS NULL AND t.score IS NOT NULL
                                                         GROUP BY t.run_id, t.model_id, t.scenario_id) AS g) AS b
                                            ON b.run_id OPERATOR(pg_catalog.=) a.run_id
                                           AND b.scenario_id OPERATOR(pg_catalog.=) a.scenario_id
                                           AND b.model_id OPERATOR(pg_catalog.>) a.model_id
                                         GROUP BY a.run_id, a.model_id, b.model_id) AS c) AS e) AS d) AS v) AS h;
COMMENT ON VIEW @extschema@.model_comparison IS
    'Per run and pair of models (model_a < model_b), over their shared scenarios with scenario means as the units: the paired mean difference a - b with its 95 % t-interval, t-test, p-value and Holm-adjusted p-value over all pairs of the run, effect size d_z, wins/ties/losses by scenario mean with the Wilson interval of the win rate, correlation, the between-scenario variance of the differences and the run''s power (minimum detectable difference, scenarios needed for the observed difference; alpha 0.05, power 0.8).';

-- model_pass_at_k: for runs whose config has a numeric successThreshold (a
-- score >= it is a success): per run, model and k = 1 .. samples per
-- scenario, pass@k and pass^k of each scenario's scored samples (n, c),
-- averaged over the scenarios with at least k scored samples (scenarios
-- says how many). samples per scenario is the run's samplesPerScenario, or
-- the pair's count where that setting is unusable.
CREATE VIEW @extschema@.model_pass_at_k AS
SELECT p.run_id, p.model_id, k.k, p.success_threshold,
       pg_catalog.count(*) AS scenarios,
       pg_catalog.avg(@extschema@.pass_at_k(p.n, p.c, k.k)) AS pass_at_k,
       pg_catalog.avg(@extschema@.pass_hat_k(p.n, p.c, k.k)) AS pass_hat_k
  FROM (SELECT t.run_id, t.model_id, t.scenario_id, r.success_threshold,
               LEAST(pg_catalog.count(*),
                                coalesce(rs.samples_per_scenario, pg_catalog.count(*))) AS k_max,
               pg_catalog.count(*) AS n,
               pg_catalog.count(*) FILTER (WHERE t.score OPERATOR(pg_catalog.>=) r.success_threshold) AS c
          FROM @extschema@.transcripts AS t
          JOIN (SELECT ru.id AS run_id, (ru.config OPERATOR(pg_catalog.->) 'successThreshold')::pg_catalog.float8
                       AS success_threshold
                  FROM @extschema@.runs AS ru
                 WHERE pg_catalog.jsonb_typeof(ru.config OPERATOR(pg_catalog.->) 'successThreshold')
                       OPERATOR(pg_catalog.=) 'number'
                   -- numbers beyond the float8 range are not usable thresholds
                   AND pg_catalog.abs((ru.config OPERATOR(pg_catalog.->) 'successThreshold')::pg_catalog.numeric)
                       OPERATOR(pg_catalog.<=) 1e300) AS r
            ON r.run_id OPERATOR(pg_catalog.=) t.run_id
          JOIN @extschema@.run_analysis_settings AS rs ON rs.run_id OPERATOR(pg_catalog.=) t.run_id
         WHERE t.deleted_at IS NULL AND t.score IS NOT NULL
         GROUP BY t.run_id, t.model_id, t.scenario_id, r.success_threshold, rs.samples_per_scenario) AS p
 CROSS JOIN LATERAL pg_catalog.generate_series(1, p.k_max::integer) AS k(k)
 GROUP BY p.run_id, p.model_id, k.k, p.success_threshold;
COMMENT ON VIEW @extschema@.model_pass_at_k IS
    'For runs with config.successThreshold (score >= threshold is a success): per run, model and k = 1 .. samples per scenario, pass@k and pass^k (exact, Chen et al. 2021) averaged over the scenarios with at least k scored samples, and how many scenarios that is.';
