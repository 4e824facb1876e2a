-- Charts (SPEC 12.6): what SQL can see of model_chart_svg,
-- variance_heatmap_svg, comparison_chart_svg and analysis_html, and of
-- their building blocks markup_escape and chart_ticks. The drawing itself is
-- checked in a browser by test/charts.sh (xmllint, pixel positions,
-- tooltips, nothing executes); here: errors, figures and coordinates worked
-- by hand, escaping, and output that does not depend on the session.

CREATE FUNCTION pg_temp.sqlstate_of(query text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE query;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
-- The element names and the attribute names a piece of markup uses. Markup
-- is split at '<' ... '>': both are always escaped in text and attribute
-- values, so every match is a real tag.
CREATE FUNCTION pg_temp.tags(markup text) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(DISTINCT m[1], ' ' ORDER BY m[1])
      FROM regexp_matches(markup, '<([A-Za-z][A-Za-z0-9:-]*)', 'g') AS m $$;
CREATE FUNCTION pg_temp.attributes(markup text) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(DISTINCT a[1], ' ' ORDER BY a[1])
      FROM regexp_matches(markup, '<[^>]*>', 'g') AS t,
           regexp_matches(t[1], '\s([A-Za-z_:][-A-Za-z0-9_:.]*)="', 'g') AS a $$;
-- Numbers with more than 10 decimals, rounded to 10: a chart prints every
-- digit of the views' float8 figures, whose last bits may depend on the
-- order a plan adds them in.
CREATE FUNCTION pg_temp.r10(t text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    m text[];
    done text := '';
    rest text := t;
BEGIN
    LOOP
        m := regexp_match(rest, '-?\d+\.\d{11,}');
        EXIT WHEN m IS NULL;
        done := done || left(rest, strpos(rest, m[1]) - 1) || round(m[1]::numeric, 10)::text;
        rest := substr(rest, strpos(rest, m[1]) + length(m[1]));
    END LOOP;
    RETURN done || rest;
END $$;
-- The tooltips (<title> texts) of a chart, in order.
CREATE FUNCTION pg_temp.titles(markup text) RETURNS SETOF text LANGUAGE sql AS $$
    SELECT pg_temp.r10(m[1]) FROM regexp_matches(markup, '<title>([^<]*)</title>', 'g') AS m $$;

-------------------------------------------------------------------------------
-- markup_escape: the five markup characters become entities; characters
-- XML 1.0 forbids become '?'; TAB, LF and CR stay.
-------------------------------------------------------------------------------
SELECT multisample.markup_escape('<script>alert("x")</script> & ''q''') AS escaped;
SELECT multisample.markup_escape(E'a\x01b\x08c\x0bd\x0ce\x1ff\tg\nh\ri' || U&'\FFFEj\FFFF') AS controls;
SELECT multisample.markup_escape('&amp;') AS entity_text, multisample.markup_escape(NULL) AS null_stays;

-------------------------------------------------------------------------------
-- chart_ticks, by hand: the step is the first of 1, 2, 5 x 10^e (from
-- 10^floor(log10(span / (max_ticks - 1)))) whose ticks, widened to whole
-- steps, number at most max_ticks.
--   [1, 5]: 4/7 -> e = -1; 0.1 -> 41 ticks, 0.2 -> 21, 0.5 -> 9, 1 -> 5.
--   [0, 100]: 100/7 -> e = 1; 10 -> 11 ticks, 20 -> 6.
--   [-1, 1]: 2/7 -> e = -1; 0.1 -> 21, 0.2 -> 11, 0.5 -> 5.
--   [0.0409, 6.29] (the interval of model m-b below): 6.25/7 -> e = -1;
--     0.1 -> 0..6.3, 64; 0.2 -> 33; 0.5 -> 14; 1 -> 0..7, 8.
--   [2.3, 2.3] widens by 0.23 to [2.07, 2.53]: 0.46/7 -> e = -2; 0.01 ->
--     47; 0.02 -> 2.06..2.54, 25; 0.05 -> 2.05..2.55, 11; 0.1 -> 2.0..2.6, 7.
--   [0, 0] widens to [-1, 1] (as above).
--   [0, 2.83] with at most 6 (the heat map's legend below): 2.83/5 -> e = -1;
--     0.1 -> 30; 0.2 -> 16; 0.5 -> 0..3, 7; 1 -> 0..3, 4.
--   [-1e300, 1e300]: 2e300/7 -> e = 299; 1e299 -> 21; 2e299 -> 11; 5e299 -> 5.
-------------------------------------------------------------------------------
SELECT multisample.chart_ticks(1, 5) AS one_to_five,
       multisample.chart_ticks(0, 100) AS zero_to_hundred,
       multisample.chart_ticks(-1, 1) AS symmetric;
SELECT multisample.chart_ticks(0.0408619269787778, 6.29247140635456) AS model_axis,
       multisample.chart_ticks(2.3, 2.3) AS widened,
       multisample.chart_ticks(0, 0) AS at_zero,
       multisample.chart_ticks(0, 2.8284271247461903, 6) AS legend;
SELECT cardinality(t) AS ticks, t[1] = -1e300 AS starts_at_lo, t[5] = 1e300 AS ends_at_hi
  FROM multisample.chart_ticks(-1e300, 1e300) AS t;
SELECT pg_temp.sqlstate_of($$SELECT multisample.chart_ticks(NULL, 1)$$) AS null_lo,
       pg_temp.sqlstate_of($$SELECT multisample.chart_ticks(0, 'NaN')$$) AS nan_hi,
       pg_temp.sqlstate_of($$SELECT multisample.chart_ticks('-Infinity', 0)$$) AS infinite_lo,
       pg_temp.sqlstate_of($$SELECT multisample.chart_ticks(0, 1e301)$$) AS too_large;
SELECT pg_temp.sqlstate_of($$SELECT multisample.chart_ticks(2, 1)$$) AS reversed,
       pg_temp.sqlstate_of($$SELECT multisample.chart_ticks(0, 1, 2)$$) AS two_ticks,
       pg_temp.sqlstate_of($$SELECT multisample.chart_ticks(0, 1, 101)$$) AS too_many,
       pg_temp.sqlstate_of($$SELECT multisample.chart_ticks(0, 1, NULL)$$) AS null_count;

-------------------------------------------------------------------------------
-- chart_axis_svg and chart_interval_svg, the pieces both interval charts
-- draw with. Ticks 0, 1, 2 over x 10..110: at 10, 60, 110; grid lines from
-- y 5 to 50, tick marks 50..55, labels at 68.
-------------------------------------------------------------------------------
SELECT multisample.chart_axis_svg('{0,1,2}', 10, 100, 5, 50) AS axis;
SELECT multisample.chart_interval_svg(12.5, 80, 30, '#0072B2') AS bar;
SELECT pg_temp.sqlstate_of($$SELECT multisample.chart_axis_svg('{1}', 0, 100, 0, 10)$$) AS one_tick,
       pg_temp.sqlstate_of($$SELECT multisample.chart_axis_svg('{2,1}', 0, 100, 0, 10)$$) AS decreasing,
       pg_temp.sqlstate_of($$SELECT multisample.chart_axis_svg('{1,NULL,3}', 0, 100, 0, 10)$$) AS null_tick,
       pg_temp.sqlstate_of($$SELECT multisample.chart_axis_svg('{{1,2},{3,4}}', 0, 100, 0, 10)$$) AS two_dimensions,
       pg_temp.sqlstate_of($$SELECT multisample.chart_axis_svg('{1,2}', 0, 0, 0, 10)$$) AS no_width;
SELECT pg_temp.sqlstate_of($$SELECT multisample.chart_interval_svg(1, 2, 3, '"/><script>alert(1)</script>')$$) AS colour_markup,
       pg_temp.sqlstate_of($$SELECT multisample.chart_interval_svg(1, 2, 3, 'red')$$) AS colour_name;

-------------------------------------------------------------------------------
-- A run worked by hand: ch-run, scale 1..5, 2 samples per scenario, three
-- models on three scenarios.
--   m-a: s1 {2, 4}, s2 {3, 3}, s3 {4, 4}: scenario means 3, 3, 4;
--        mean 10/3; s = sqrt(1/3), se = s / sqrt(3) = 1/3;
--        interval 10/3 -+ t(0.975, 2) / 3, t(0.975, 2) = 4.30265272974946
--        = [1.89911575675018, 4.76755090991649].
--   m-c: s1 {3, 3}, s2 {3, 3}, s3 {4, 4}: the same scenario means, so the
--        same mean and interval: ties are ordered by model id (m-a first).
--   m-b: s1 {1, 5}, s2 {2} (short), s3 {5, 4}: scenario means 3, 2, 4.5;
--        mean 19/6; s^2 = ((1/6)^2 + (7/6)^2 + (8/6)^2) / 2 = 114/72,
--        se = sqrt(114/216); interval [0.0408619269787778, 6.29247140635456].
-- Tooltips also give the mean of all samples, the within-scenario std dev
-- (the root of the mean pair variance) and the consistency score
-- (1 - mean population variance / ((5 - 1)^2 / 4)):
--   m-a: 20/6; variances 2, 0, 0 -> sqrt(2/3) = 0.8165; 1 - (1/3)/4 = 11/12;
--   m-c: 20/6; 0; 1;
--   m-b: 17/5 = 3.4; variances 8, 1/2 -> sqrt(4.25) = 2.0616;
--        population variances 4, 1/4 -> 1 - 2.125/4 = 0.46875.
-- Chart order: m-a, m-c (10/3), m-b (19/6).
-- Axis: the scale [1, 5] and the intervals [0.0409, 6.29] -> ticks 0..7
-- (above). Labels are 3 characters, counted as at least 5 in the layout's estimate:
-- the plot starts at x = ceil(5 * 7.4) + 24 = 61 and is 560 wide, so
-- x(v) = 61 + v / 7 * 560 = 61 + 80 v:
--   x(10/3) = 327.67, x(1.8991) = 212.93, x(4.7676) = 442.40;
--   x(19/6) = 314.33, x(0.0409) = 64.27, x(6.2925) = 564.40;
--   ticks at 61, 141, ..., 621; the scale's bounds (dashed) at 141 and 461.
-------------------------------------------------------------------------------
INSERT INTO multisample.definitions (id, name) VALUES ('ch-def', 'Chart definition');
INSERT INTO multisample.scenarios (id, definition_id, name) VALUES
    ('ch-s1', 'ch-def', 'first'), ('ch-s2', 'ch-def', 'second'), ('ch-s3', 'ch-def', 'third');
INSERT INTO multisample.runs (id, definition_id, config) VALUES
    ('ch-run', 'ch-def', '{"models": ["m-a", "m-b", "m-c"], "samplesPerScenario": 2}'),
    ('ch-empty', 'ch-def', '{"models": ["m-a"], "samplesPerScenario": 2}'),
    ('ch-one', 'ch-def', '{"models": ["m-a"], "samplesPerScenario": 2}');
INSERT INTO multisample.run_scenario_selections
SELECT r, s FROM unnest(ARRAY['ch-run', 'ch-empty', 'ch-one']) AS r, unnest(ARRAY['ch-s1', 'ch-s2', 'ch-s3']) AS s;
INSERT INTO multisample.transcripts (run_id, scenario_id, model_id, sample_index, score)
SELECT 'ch-run', d.s, d.m, x.i - 1, x.sc
  FROM (VALUES ('ch-s1', 'm-a', ARRAY[2, 4]), ('ch-s2', 'm-a', ARRAY[3, 3]), ('ch-s3', 'm-a', ARRAY[4, 4]),
               ('ch-s1', 'm-c', ARRAY[3, 3]), ('ch-s2', 'm-c', ARRAY[3, 3]), ('ch-s3', 'm-c', ARRAY[4, 4]),
               ('ch-s1', 'm-b', ARRAY[1, 5]), ('ch-s2', 'm-b', ARRAY[2]), ('ch-s3', 'm-b', ARRAY[5, 4]))
       AS d (s, m, scores),
       unnest(d.scores) WITH ORDINALITY AS x (sc, i);
-- ch-one: one model, one scenario: a point without an interval.
INSERT INTO multisample.transcripts (run_id, scenario_id, model_id, sample_index, score) VALUES
    ('ch-one', 'ch-s1', 'm-a', 0, 2), ('ch-one', 'ch-s1', 'm-a', 1, 3);

-- What the chart reads, for reference.
SELECT model_id, round(scenario_mean::numeric, 12) AS scenario_mean, round(ci_lower::numeric, 12) AS ci_lower,
       round(ci_upper::numeric, 12) AS ci_upper
  FROM multisample.model_variance WHERE run_id = 'ch-run' ORDER BY scenario_mean DESC, model_id;

-- The rows: label, point and bar ends (x), one per model in chart order.
SELECT m[1] AS row, m[2] AS label, m[5] AS mean_x, m[3] AS ci_from_x, m[4] AS ci_to_x
  FROM regexp_matches(multisample.model_chart_svg('ch-run'),
                      '<g class="row" data-row="(\d+)"><title>[^<]*</title><rect[^>]*/>'
                      '<text class="row-label"[^>]*>([^<]*)</text><line class="ci" x1="([^"]*)"[^>]* x2="([^"]*)"[^>]*/>'
                      '(?:<line class="ci-cap"[^>]*/>)*<circle class="mean" cx="([^"]*)"', 'g') AS m;
-- The axis: tick positions and labels, and the scale's bounds.
SELECT m[1] AS x, m[2] AS label
  FROM regexp_matches(multisample.model_chart_svg('ch-run'),
                      '<line class="tick" x1="([^"]*)"[^>]*/><text class="tick-label"[^>]*>([^<]*)</text>', 'g') AS m;
SELECT m[1] AS x, m[2] AS bound
  FROM regexp_matches(multisample.model_chart_svg('ch-run'),
                      '<line class="scale-bound" x1="([^"]*)"[^>]*><title>([^<]*)</title>', 'g') AS m;
-- Tooltips carry the figures (every digit; shown here to 10 decimals).
SELECT t AS tooltip FROM pg_temp.titles(multisample.model_chart_svg('ch-run')) AS t;
-- The elements and attributes the chart uses: no script, no link, no event.
SELECT pg_temp.tags(s) AS tags, pg_temp.attributes(s) AS attributes
  FROM multisample.model_chart_svg('ch-run') AS s;
-- One model on one scenario: its point, no interval.
SELECT t AS tooltip FROM pg_temp.titles(multisample.model_chart_svg('ch-one')) AS t;
SELECT strpos(s, 'class="ci"') = 0 AS no_bar, strpos(s, '2.50 (one scenario: no interval)') > 0 AS says_so
  FROM multisample.model_chart_svg('ch-one') AS s;
-- No scored samples: a chart that says so.
SELECT multisample.model_chart_svg('ch-empty') AS empty_chart;

-------------------------------------------------------------------------------
-- variance_heatmap_svg on ch-run. Within-pair variances:
--   s1: m-a 2, m-b 8, m-c 0 -> mean 10/3 (rank 1)
--   s2: m-a 0, m-b one sample (no variance), m-c 0 -> mean 0 (rank 3)
--   s3: m-a 0, m-b 1/2, m-c 0 -> mean 1/6 (rank 2)
-- Rows s1, s3, s2; columns m-a, m-b, m-c. The colour scale runs to the
-- first tick at or above the largest std dev, sqrt(8) = 2.83: 0..3 (above).
-- Viridis, 9 stops, t = sd / 3, position t * 8 between stops:
--   sd 0: #440154 (the first stop);
--   sd sqrt(2): t * 8 = 3.7712, between stops 4 (44,114,142) and 5
--     (33,144,140) at 0.7712: (35.52, 137.14, 140.46) -> #24898c;
--   sd sqrt(8): t * 8 = 7.5425, between stops 8 (170,220,50) and 9
--     (253,231,37) at 0.5425: (215.02, 225.97, 42.95) -> #d7e22b;
--   sd sqrt(1/2): t * 8 = 1.8856, between stops 2 (71,45,123) and 3
--     (59,82,139) at 0.8856: (60.37, 77.77, 137.17) -> #3c4e89.
--   m-b on s2 has one sample: grey #bdbdbd.
-------------------------------------------------------------------------------
SELECT m[1] AS row, m[2] AS col, m[4] AS fill, replace(pg_temp.r10(m[3]), E'\n', ' | ') AS tooltip
  FROM regexp_matches(multisample.variance_heatmap_svg('ch-run'),
                      '<g class="cell" data-row="(\d+)" data-col="(\d+)"><title>([^<]*)</title><rect[^>]* fill="([^"]*)"', 'g')
       AS m;
SELECT replace(t, E'\n', ' | ') AS label_tooltip
  FROM pg_temp.titles(multisample.variance_heatmap_svg('ch-run')) AS t
 WHERE t NOT LIKE '%&#215;%';
SELECT m[1] AS x, m[2] AS label
  FROM regexp_matches(multisample.variance_heatmap_svg('ch-run'),
                      '<line class="legend-tick" x1="([^"]*)"[^>]*/><text class="legend-tick-label"[^>]*>([^<]*)</text>', 'g') AS m;
SELECT m[1] AS note FROM regexp_matches(multisample.variance_heatmap_svg('ch-run'), '<text class="note"[^>]*>([^<]*)<') AS m;
SELECT m[1] AS note FROM regexp_matches(multisample.variance_heatmap_svg('ch-run', 2), '<text class="note"[^>]*>([^<]*)<') AS m;
SELECT count(*) AS rows_shown
  FROM regexp_matches(multisample.variance_heatmap_svg('ch-run', 2), '<g class="row-label"', 'g');
SELECT pg_temp.tags(s) AS tags, pg_temp.attributes(s) AS attributes
  FROM multisample.variance_heatmap_svg('ch-run') AS s;
SELECT multisample.variance_heatmap_svg('ch-empty') AS empty_heatmap;

-------------------------------------------------------------------------------
-- comparison_chart_svg on ch-run. Scenario means (above):
--   m-a 3, 3, 4; m-b 3, 2, 4.5; m-c 3, 3, 4.
-- (m-a, m-b): differences 0, 1, -1/2: mean 1/6; deviations -1/6, 5/6, -2/3,
--   squares 1/36 + 25/36 + 16/36 = 42/36, variance 21/36, se = sqrt(7/36)
--   = 0.440959; t = (1/6) / se = 1/sqrt(7) = 0.377964; interval
--   1/6 -+ 4.30265272974946 * 0.440959 = 1/6 -+ 1.8972915
--   = [-1.7306249, 2.0639582]; effect size d_z = (1/6) / (se sqrt(3))
--   = 0.2182179; wins / ties / losses of m-a by scenario 1 / 1 / 1; with
--   df = 2 the two-sided p is 1 - |t| / sqrt(t^2 + 2) = 1 - 1/sqrt(15)
--   = 0.7418011.
-- (m-b, m-c): the same with the sign turned: -1/6, [-2.0639582, 1.7306249].
-- (m-a, m-c): differences 0, 0, 0: se 0, interval [0, 0], no p-value.
-- Holm over the two p-values: 2 * 0.7418 > 1, so 1 for both: none marked.
-- Rows by difference: m-a - m-b, m-a - m-c, m-b - m-c.
-- Axis: [-2.064, 2.064] -> e = -1; 0.1 -> 43 ticks; 0.2 -> 23; 0.5 -> 11;
--   1 -> -3..3, 7. Labels of 3 + 3 + 3 characters: the plot starts at
--   ceil(9 * 7.4) + 24 = 91 and is 520 wide: x(v) = 91 + (v + 3) * 520 / 6:
--   zero at 351; x(1/6) = 365.44, x(-1.7306) = 201.01, x(2.0640) = 529.88;
--   x(0) = 351; x(-1/6) = 336.56, x(-2.0640) = 172.12, x(1.7306) = 500.99.
-- (ch-run's scenario means of m-a and m-c are the same: the pair's
-- difference is 0 whatever order the view adds in, so no last-bit noise.)
-------------------------------------------------------------------------------
SELECT m[1] AS row, m[2] AS label, m[5] AS mark, m[6] AS x, m[3] AS ci_from_x, m[4] AS ci_to_x
  FROM regexp_matches(multisample.comparison_chart_svg('ch-run'),
                      '<g class="row" data-row="(\d+)"><title>[^<]*</title><rect[^>]*/>'
                      '<text class="row-label"[^>]*>([^<]*)</text><line class="ci" x1="([^"]*)"[^>]* x2="([^"]*)"[^>]*/>'
                      '(?:<line class="ci-cap"[^>]*/>)*<(circle class="difference"|path class="difference significant") (?:cx|d)="(?:M )?([^" ]*)', 'g') AS m;
SELECT m[1] AS zero_x FROM regexp_matches(multisample.comparison_chart_svg('ch-run'), '<line class="zero-line" x1="([^"]*)"') AS m;
SELECT t AS tooltip FROM pg_temp.titles(multisample.comparison_chart_svg('ch-run')) AS t;
SELECT pg_temp.tags(s) AS tags, pg_temp.attributes(s) AS attributes
  FROM multisample.comparison_chart_svg('ch-run') AS s;
-- One model, no scores: a chart that says so.
SELECT m[1] AS one_model FROM regexp_matches(multisample.comparison_chart_svg('ch-one'), '<text class="message"[^>]*>([^<]*)<') AS m;
SELECT m[1] AS no_scores FROM regexp_matches(multisample.comparison_chart_svg('ch-empty'), '<text class="message"[^>]*>([^<]*)<') AS m;

-------------------------------------------------------------------------------
-- analysis_html on ch-run: a page with a strict Content-Security-Policy,
-- the three charts, a table row per model and per pair, and the warning of
-- the short pair m-b / ch-s2 (1 of 2 samples).
-------------------------------------------------------------------------------
SELECT (regexp_match(h, '<meta http-equiv="Content-Security-Policy" content="([^"]*)">'))[1] AS csp,
       (SELECT count(*) FROM regexp_matches(h, '<svg ', 'g')) AS charts,
       (SELECT count(*) FROM regexp_matches((regexp_match(h, '<table class="models">.*?</table>'))[1], '<tr><th scope="row">', 'g'))
           AS model_rows,
       (SELECT count(*) FROM regexp_matches(h, '<tr(?: class="significant")?><th scope="row">m-[a-c]</th><th', 'g')) AS pair_rows,
       strpos(h, '<script') = 0 AS no_script
  FROM multisample.analysis_html('ch-run') AS h;
SELECT m[1] AS summary_item, m[2] AS value
  FROM regexp_matches(multisample.analysis_html('ch-run'), '<dt>([^<]*)</dt><dd>([^<]*)</dd>', 'g') AS m;
SELECT m[1] AS warning FROM regexp_matches(multisample.analysis_html('ch-run'), '<ul class="warnings">\n(.*)\n</ul>') AS m;
SELECT m[1] AS model_table FROM regexp_matches(multisample.analysis_html('ch-run'), '<tbody>\n(<tr><th scope="row">m-a</th><td[^\n]*)') AS m;
-- A warning naming many pairs lists the first 50 and counts the rest.
INSERT INTO multisample.runs (id, definition_id, config) VALUES ('ch-short', 'ch-def', '{"samplesPerScenario": 2}');
INSERT INTO multisample.transcripts (run_id, scenario_id, model_id, sample_index, score)
SELECT 'ch-short', 'ch-s1', format('m%s', lpad(i::text, 2, '0')), 0, 1 + i % 5 FROM generate_series(1, 60) AS i;
SELECT (regexp_match(h, '<summary>([^<]*)</summary>'))[1] AS summary,
       (SELECT count(*) FROM regexp_matches(h, '<li>modelId: m\d\d, scenarioId: ch-s1, scoredSamples: 1</li>', 'g')) AS pairs_listed,
       (regexp_match(h, '<li>(and \d+ more)</li>'))[1] AS rest
  FROM multisample.analysis_html('ch-short') AS h;

-------------------------------------------------------------------------------
-- Bad input: NULL run 22023, unknown run P0002, limits out of range 22023.
-------------------------------------------------------------------------------
SELECT f AS function, pg_temp.sqlstate_of(format('SELECT multisample.%s(NULL)', f)) AS null_run,
       pg_temp.sqlstate_of(format('SELECT multisample.%s(%L)', f, 'no-such-run')) AS unknown_run
  FROM unnest(ARRAY['model_chart_svg', 'variance_heatmap_svg', 'comparison_chart_svg', 'analysis_html']) AS f;
SELECT pg_temp.sqlstate_of($$SELECT multisample.variance_heatmap_svg('ch-run', 0)$$) AS no_scenarios,
       pg_temp.sqlstate_of($$SELECT multisample.variance_heatmap_svg('ch-run', 1001)$$) AS too_many_scenarios,
       pg_temp.sqlstate_of($$SELECT multisample.variance_heatmap_svg('ch-run', NULL)$$) AS null_scenarios;
SELECT pg_temp.sqlstate_of($$SELECT multisample.comparison_chart_svg('ch-run', 0)$$) AS no_pairs,
       pg_temp.sqlstate_of($$SELECT multisample.comparison_chart_svg('ch-run', 1001)$$) AS too_many_pairs;

-------------------------------------------------------------------------------
-- Hostile ids and names are text, never markup: a run, definition,
-- scenarios and models whose ids are markup, entities, comments, CDATA
-- ends and control characters. Every chart keeps to its own tags and
-- attributes, holds each id escaped, and is the same markup as above
-- except for the text.
-------------------------------------------------------------------------------
INSERT INTO multisample.definitions (id, name) VALUES ('ch-hostile-def', '<b onmouseover="alert(1)">definition</b>');
INSERT INTO multisample.scenarios (id, definition_id, name) VALUES
    (']]><script>window.__pwned = 1</script>', 'ch-hostile-def', '<img src=x onerror="window.__pwned = 2">'),
    ('<!-- comment --> &amp; &#60;', 'ch-hostile-def', 'javascript:window.__pwned = 3');
INSERT INTO multisample.runs (id, definition_id, config) VALUES
    ('<run id="x">''&', 'ch-hostile-def', '{"samplesPerScenario": 2}');
INSERT INTO multisample.transcripts (run_id, scenario_id, model_id, sample_index, score)
SELECT '<run id="x">''&', s, m, i, 1 + (length(s) + length(m) + 3 * i) % 5
  FROM unnest(ARRAY[']]><script>window.__pwned = 1</script>', '<!-- comment --> &amp; &#60;']) AS s,
       unnest(ARRAY['<script>window.__pwned = 4</script>', '"><svg onload="window.__pwned = 5">',
                    'javascript:window.__pwned = 6', E'control\x01\x1fcharacters', 'long-' || repeat('x', 60)]) AS m,
       generate_series(0, 1) AS i;
SELECT c.name AS chart, pg_temp.tags(c.svg) AS tags, pg_temp.attributes(c.svg) AS attributes
  FROM (VALUES ('model_chart_svg', multisample.model_chart_svg('<run id="x">''&')),
               ('variance_heatmap_svg', multisample.variance_heatmap_svg('<run id="x">''&'))) AS c (name, svg);
-- Each id appears escaped where the chart names it: the model chart names
-- the run and the models, the heat map also the scenarios.
SELECT h.kind, h.id, strpos(multisample.model_chart_svg('<run id="x">''&'), multisample.markup_escape(h.id)) > 0
           AS in_model_chart,
       strpos(multisample.variance_heatmap_svg('<run id="x">''&'), multisample.markup_escape(h.id)) > 0
           AS in_heatmap
  FROM (VALUES ('run', '<run id="x">''&'),
               ('model', '<script>window.__pwned = 4</script>'), ('model', '"><svg onload="window.__pwned = 5">'),
               ('model', 'javascript:window.__pwned = 6'),
               ('scenario', ']]><script>window.__pwned = 1</script>'), ('scenario', '<!-- comment --> &amp; &#60;'),
               ('scenario name', '<img src=x onerror="window.__pwned = 2">'),
               ('scenario name', 'javascript:window.__pwned = 3')) AS h (kind, id)
 ORDER BY h.kind, h.id;
-- The hostile run's page: its own tags and attributes only, every id escaped.
SELECT pg_temp.tags(h) AS tags, pg_temp.attributes(h) AS attributes,
       strpos(h, multisample.markup_escape('<b onmouseover="alert(1)">definition</b>')) > 0 AS definition_escaped,
       strpos(h, multisample.markup_escape('<script>window.__pwned = 4</script>')) > 0 AS model_escaped
  FROM multisample.analysis_html('<run id="x">''&') AS h;
-- The control characters are replaced.
SELECT strpos(s, 'control??characters') > 0 AS replaced, strpos(s, E'\x01') = 0 AS no_control
  FROM multisample.model_chart_svg('<run id="x">''&') AS s;
-- A label longer than the layout allows (40 characters in the model chart)
-- is cut to its first 39 and '...', with the whole id in the row's tooltip.
SELECT m[2] AS label, length(m[2]) AS label_length, length(m[1]) AS tooltip_id_length
  FROM regexp_matches(multisample.model_chart_svg('<run id="x">''&'),
                      '<title>(long-x*)\n[^<]*</title><rect[^>]*/><text class="row-label"[^>]*>([^<]*)</text>') AS m;
SELECT t AS heatmap_column_tooltip FROM pg_temp.titles(multisample.variance_heatmap_svg('<run id="x">''&')) AS t
 WHERE t NOT LIKE '%&#215;%' AND t NOT LIKE '%variance%' ORDER BY t;

-------------------------------------------------------------------------------
-- The same data gives the same bytes, whatever the session: float output
-- digits and a search_path with look-alikes of functions the charts call
-- do not matter (the functions pin both).
-------------------------------------------------------------------------------
CREATE TEMP TABLE chart_bytes AS
SELECT multisample.model_chart_svg('ch-run') AS model, multisample.variance_heatmap_svg('ch-run') AS heatmap,
       multisample.comparison_chart_svg('ch-run') AS comparison, multisample.analysis_html('ch-run') AS html;
CREATE SCHEMA chart_lookalikes;
CREATE FUNCTION chart_lookalikes.replace(text, text, text) RETURNS text LANGUAGE sql AS $$ SELECT 'hijacked' $$;
CREATE FUNCTION chart_lookalikes.round(numeric, integer) RETURNS numeric LANGUAGE sql AS $$ SELECT 0::numeric $$;
SET extra_float_digits = -15;
SET search_path = chart_lookalikes, pg_catalog, pg_temp;
SELECT b.model = multisample.model_chart_svg('ch-run') AS same_model_chart,
       b.heatmap = multisample.variance_heatmap_svg('ch-run') AS same_heatmap,
       b.comparison = multisample.comparison_chart_svg('ch-run') AS same_forest_plot,
       b.html = multisample.analysis_html('ch-run') AS same_report
  FROM chart_bytes AS b;
SET extra_float_digits = 3;
SELECT b.model = multisample.model_chart_svg('ch-run') AS same_model_chart,
       b.heatmap = multisample.variance_heatmap_svg('ch-run') AS same_heatmap,
       b.comparison = multisample.comparison_chart_svg('ch-run') AS same_forest_plot,
       b.html = multisample.analysis_html('ch-run') AS same_report
  FROM chart_bytes AS b;
RESET extra_float_digits;
RESET search_path;
DROP SCHEMA chart_lookalikes CASCADE;

-- A dashboard role with SELECT on the views the charts read draws them (the
-- same bytes as the owner); analysis_html reads what analysis_json reads,
-- the tables, which such a role may not.
DROP ROLE IF EXISTS regress_ms_chart_viewer;
CREATE ROLE regress_ms_chart_viewer;
GRANT USAGE ON SCHEMA multisample TO regress_ms_chart_viewer;
GRANT SELECT ON multisample.run_analysis_settings, multisample.model_variance,
                multisample.scenario_variance_overall, multisample.model_comparison TO regress_ms_chart_viewer;
GRANT SELECT ON chart_bytes TO regress_ms_chart_viewer;   -- the owner's output, to compare with
SET ROLE regress_ms_chart_viewer;
SELECT b.model = multisample.model_chart_svg('ch-run') AS same_model_chart,
       b.heatmap = multisample.variance_heatmap_svg('ch-run') AS same_heatmap,
       b.comparison = multisample.comparison_chart_svg('ch-run') AS same_forest_plot,
       strpos(multisample.comparison_chart_svg('ch-one'), 'one model only') > 0 AS one_model_message,
       pg_temp.sqlstate_of($$SELECT multisample.model_chart_svg('no-such-run')$$) AS unknown_run
  FROM chart_bytes AS b;
SELECT pg_temp.sqlstate_of($$SELECT multisample.analysis_html('ch-run')$$) AS report;
RESET ROLE;
REVOKE ALL ON multisample.run_analysis_settings, multisample.model_variance,
              multisample.scenario_variance_overall, multisample.model_comparison FROM regress_ms_chart_viewer;
REVOKE USAGE ON SCHEMA multisample FROM regress_ms_chart_viewer;
REVOKE ALL ON chart_bytes FROM regress_ms_chart_viewer;
DROP ROLE regress_ms_chart_viewer;

-- Each chart function: STABLE, SECURITY INVOKER, search_path pinned.
SELECT p.proname, p.provolatile, p.prosecdef, p.proparallel, p.proconfig
  FROM pg_proc AS p
 WHERE p.pronamespace = 'multisample'::regnamespace
   AND p.proname IN ('markup_escape', 'chart_ticks', 'chart_axis_svg', 'chart_interval_svg', 'model_chart_svg', 'variance_heatmap_svg',
                     'comparison_chart_svg', 'analysis_html')
 ORDER BY p.proname;
