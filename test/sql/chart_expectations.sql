-- What test/charts.sh expects to see drawn for the run :'run', read from the
-- views (not from the charts) as JSON for test/charts_browser.js. Figures
-- are float8 printed shortest-exact (the text a tooltip must carry); the
-- orders are the documented ones: models by mean over scenarios, highest
-- first, then model id; scenarios by variance_rank, then scenario id; pairs
-- chosen by Holm-adjusted p-value (then |difference|, model ids) and drawn
-- by difference, largest first. Orders compare figures rounded to 12
-- significant digits (r12), ties by id. With -v pairs=no, the pairs and
-- warnings are left out (model_comparison and analysis_json are not run).
SET extra_float_digits = 1;
CREATE FUNCTION pg_temp.r12(x float8) RETURNS numeric LANGUAGE sql AS
    $$ SELECT CASE WHEN x = 0 THEN 0 ELSE round(x::numeric, 11 - floor(log(abs(x)))::integer) END $$;
WITH models AS (
    SELECT m.model_id, m.scenario_mean, m.ci_lower, m.ci_upper
      FROM multisample.model_variance AS m WHERE m.run_id = :'run'
), scenarios AS (
    SELECT o.scenario_id,
           row_number() OVER (ORDER BY o.variance_rank NULLS LAST, o.scenario_id COLLATE "C") AS pos
      FROM multisample.scenario_variance_overall AS o WHERE o.run_id = :'run'
), pairs AS (
    SELECT c.*,
           row_number() OVER (ORDER BY pg_temp.r12(c.p_value_holm) NULLS LAST, pg_temp.r12(abs(c.mean_difference)) DESC NULLS LAST,
                                       c.model_a COLLATE "C", c.model_b COLLATE "C") AS pick
      FROM multisample.model_comparison AS c WHERE c.run_id = :'run'
)
SELECT json_build_object(
    'run', :'run',
    'models', coalesce((SELECT json_agg(json_build_object('id', m.model_id, 'mean', m.scenario_mean::text,
                                                          'lower', m.ci_lower::text, 'upper', m.ci_upper::text)
                                         ORDER BY pg_temp.r12(m.scenario_mean) DESC, m.model_id COLLATE "C")
                          FROM models AS m), '[]'),
    'scenarioTotal', (SELECT count(*) FROM scenarios),
    'scenarios', coalesce((SELECT json_agg(s.scenario_id ORDER BY s.pos) FROM scenarios AS s WHERE s.pos <= 50), '[]'),
    'heatmapModels', coalesce((SELECT json_agg(x.model_id ORDER BY x.model_id COLLATE "C")
                                 FROM (SELECT DISTINCT v.model_id FROM multisample.scenario_variance AS v
                                        WHERE v.run_id = :'run') AS x), '[]'),
    'cells', coalesce((SELECT json_agg(json_build_object('scenario', v.scenario_id, 'model', v.model_id,
                                                         'n', v.sample_count, 'sd', v.std_dev::text))
                         FROM multisample.scenario_variance AS v
                         JOIN scenarios AS s ON s.scenario_id = v.scenario_id AND s.pos <= 50
                        WHERE v.run_id = :'run'), '[]'),
    'pairTotal', CASE WHEN :'pairs' = 'yes' THEN (SELECT count(*) FROM pairs) END,
    'pairs', CASE WHEN :'pairs' = 'yes' THEN coalesce((SELECT json_agg(json_build_object('a', p.model_a, 'b', p.model_b,
                                                         'diff', p.mean_difference::text,
                                                         'lower', p.ci_lower::text, 'upper', p.ci_upper::text,
                                                         'p', p.p_value::text, 'pHolm', p.p_value_holm::text,
                                                         'significant', coalesce(p.p_value_holm < 0.05, false))
                                        ORDER BY pg_temp.r12(p.mean_difference) DESC NULLS LAST, p.model_a COLLATE "C",
                                                 p.model_b COLLATE "C")
                         FROM pairs AS p WHERE p.pick <= 50), '[]') END,
    'warnings', CASE WHEN :'pairs' = 'yes' THEN coalesce((SELECT json_agg(w ->> 'code')
                            FROM jsonb_array_elements(multisample.analysis_json(:'run') -> 'warnings') AS w), '[]') END
);
