-------------------------------------------------------------------------------
-- Charts (SPEC 12.6): self-contained SVG and one HTML report page, built in
-- SQL so that any client (psql, a notebook, a dashboard's HTML panel, a CI
-- artifact) can show a run without a front end.
--
--   model_chart_svg(run_id)              mean and interval per model
--   variance_heatmap_svg(run_id, n)      scenario x model standard deviation
--   comparison_chart_svg(run_id, n)      forest plot of model_comparison
--   analysis_html(run_id)                the charts, the tables, the warnings
--   markup_escape(text), chart_ticks(),
--   chart_axis_svg(), chart_interval_svg()
--                                        the building blocks
--
-- Rules every chart follows:
-- - No script, no event attribute, no link, no external asset: plain SVG
--   shapes and text. Every id, name and message goes through markup_escape,
--   so a model id like <script>...</script> is text, never markup.
-- - Well-formed XML (checked with xmllint by test/charts.sh), no XML
--   declaration, so the SVG also embeds inline in HTML.
-- - Each drawn figure carries a <title> tooltip with the exact values
--   (float8 printed shortest-exact: extra_float_digits is pinned to 1).
-- - Colours: Okabe-Ito blue #0072B2 and vermillion #D55E00 for marks (and a
--   second shape where colour carries meaning), viridis for the heat map:
--   both are told apart with the common colour-vision deficiencies.
-- - Deterministic: the same figures give the same bytes (no time stamps,
--   every order has a tie-break, numbers printed without locale). Orders
--   compare figures rounded to 12 significant digits, so that values equal
--   but for the summation order of a view's aggregates (which may change
--   their last bits from one plan to another) sort as ties, by id.
-- - Each chart reads its view once, filtered by the run (pushed down to
--   the run's rows, also on Citus), into arrays; the markup is built from
--   those arrays, so no function is called per row of a distributed table.
--   The charts read views only (run_analysis_settings for the run, and
--   model_variance, scenario_variance_overall, model_comparison), so a
--   dashboard role with SELECT on those views can draw them.
-- - The script is ASCII: other characters are written as character
--   references (&#8722; for a minus sign), which work in XML and HTML and in
--   any database encoding.
-- - Markup templates are string literals continued over several lines; a
--   continued E'...' literal stays an escape string, so \n in its later
--   lines is a newline.
-------------------------------------------------------------------------------

-------------------------------------------------------------------------------
-- markup_escape: text for XML/HTML content and double- or single-quoted
-- attribute values. Characters XML 1.0 does not allow at all (C0 controls
-- but TAB, LF and CR; U+FFFE, U+FFFF) become '?', so that the result is
-- always well-formed.
-------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.markup_escape(value text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $function$
    SELECT replace(replace(replace(replace(replace(
               regexp_replace(value, '[\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]', '?', 'g'),
               '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&#39;')
$function$;
COMMENT ON FUNCTION @extschema@.markup_escape(text) IS
    'Escapes text for XML and HTML content and quoted attribute values (& < > " and '' as entities); characters XML 1.0 forbids (C0 controls but TAB, LF, CR; U+FFFE, U+FFFF) become ''?''.';

-------------------------------------------------------------------------------
-- chart_ticks: "nice" axis ticks (1, 2 or 5 times a power of ten apart)
-- covering [lo, hi], at most max_ticks of them; the first and last tick are
-- the axis bounds. Computed in numeric, so a tick is exactly the decimal its
-- label shows. lo = hi is widened by a tenth of its size (or by 1 at 0); a
-- bound within 1e-9 steps of a tick is taken to be on it.
-------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.chart_ticks(lo float8, hi float8, max_ticks integer DEFAULT 8)
RETURNS numeric[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
    a numeric;
    b numeric;
    magnitude numeric;
    step numeric;
    first_tick numeric;
    last_tick numeric;
    q numeric;
    factors constant numeric[] := ARRAY[1, 2, 5];
    k integer := 0;
BEGIN
    IF lo IS NULL OR hi IS NULL OR NOT (abs(lo) <= 1e300 AND abs(hi) <= 1e300) THEN
        RAISE EXCEPTION 'lo and hi must be finite numbers in [-1e300, 1e300], got % and %',
            coalesce(lo::text, 'NULL'), coalesce(hi::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    IF lo > hi THEN
        RAISE EXCEPTION 'lo (%) must not be greater than hi (%)', lo, hi USING ERRCODE = '22023';
    END IF;
    IF max_ticks IS NULL OR max_ticks < 3 OR max_ticks > 100 THEN
        RAISE EXCEPTION 'max_ticks must be from 3 to 100, got %', coalesce(max_ticks::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    a := lo::numeric;
    b := hi::numeric;
    IF a = b THEN
        magnitude := CASE WHEN a = 0 THEN 1 ELSE abs(a) / 10 END;
        a := a - magnitude;
        b := b + magnitude;
    END IF;
    -- The smallest step of 1, 2, 5 x 10^e at least (b - a) / (max_ticks - 1)
    -- whose ticks, widened to whole steps, number at most max_ticks. Three
    -- ticks always fit once the step reaches max(|a|, |b|), so this ends.
    magnitude := power(10::numeric, floor(log((b - a) / (max_ticks - 1))));
    LOOP
        step := factors[k % 3 + 1] * magnitude * power(10::numeric, k / 3);
        -- A bound within 1e-9 steps of a tick is on it: figures that differ
        -- from a round number only in their last bits get no extra tick.
        q := a / step;
        first_tick := CASE WHEN abs(q - round(q)) <= 1e-9 THEN round(q) ELSE floor(q) END * step;
        q := b / step;
        last_tick := CASE WHEN abs(q - round(q)) <= 1e-9 THEN round(q) ELSE ceil(q) END * step;
        EXIT WHEN (last_tick - first_tick) / step + 1 <= max_ticks;
        k := k + 1;
    END LOOP;
    RETURN ARRAY(SELECT trim_scale(first_tick + i * step)
                   FROM generate_series(0, ((last_tick - first_tick) / step)::integer) AS i
                  ORDER BY i);
END
$function$;
COMMENT ON FUNCTION @extschema@.chart_ticks(double precision, double precision, integer) IS
    'Axis ticks for [lo, hi]: 1, 2 or 5 times a power of ten apart, at most max_ticks (3..100) of them, exact decimals; the first and last are the axis bounds.';

-------------------------------------------------------------------------------
-- chart_axis_svg and chart_interval_svg: the pieces the model chart and the
-- forest plot share. chart_axis_svg draws an x axis from ticks (as
-- chart_ticks gives them): for each tick a light grid line from y_top to
-- y_axis, a tick mark below the axis and its label, the ticks spread
-- evenly over [x_left, x_left + width]. chart_interval_svg draws the bar of
-- an interval from x_from to x_to at height y, with end caps.
-------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.chart_axis_svg(ticks numeric[], x_left integer, width integer, y_top integer, y_axis integer)
RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
    lo numeric;
    hi numeric;
BEGIN
    IF cardinality(ticks) < 2 OR array_ndims(ticks) <> 1 OR array_position(ticks, NULL) IS NOT NULL
       OR EXISTS (SELECT FROM unnest(ticks) WITH ORDINALITY AS a (t, i)
                   WHERE a.i > 1 AND NOT a.t > ticks[array_lower(ticks, 1) + a.i::integer - 2]) THEN
        RAISE EXCEPTION 'ticks must be a one-dimensional array of at least 2 increasing numbers without NULLs'
            USING ERRCODE = '22023', HINT = 'chart_ticks() makes such an array.';
    END IF;
    IF width < 1 OR width > 100000 OR abs(x_left) > 100000 OR abs(y_top) > 100000 OR abs(y_axis) > 100000 THEN
        RAISE EXCEPTION 'x_left, y_top and y_axis must be within [-100000, 100000] and width within [1, 100000]'
            USING ERRCODE = '22023';
    END IF;
    lo := ticks[array_lower(ticks, 1)];
    hi := ticks[array_upper(ticks, 1)];
    RETURN string_agg(format('<line class="grid" x1="%1$s" y1="%2$s" x2="%1$s" y2="%3$s" stroke="#dddddd"/>'
                             '<line class="tick" x1="%1$s" y1="%3$s" x2="%1$s" y2="%4$s" stroke="#333333"/>'
                             '<text class="tick-label" x="%1$s" y="%5$s" text-anchor="middle" font-size="11">%6$s</text>',
                             round(x_left + (t - lo) / (hi - lo) * width, 2),
                             y_top, y_axis, y_axis + 5, y_axis + 18, t::text), '' ORDER BY t)
      FROM unnest(ticks) AS t;
END
$function$;
COMMENT ON FUNCTION @extschema@.chart_axis_svg(numeric[], integer, integer, integer, integer) IS
    'SVG of an x axis: for each of the increasing ticks a grid line from y_top to y_axis, a tick mark and its label, spread evenly over [x_left, x_left + width].';

CREATE FUNCTION @extschema@.chart_interval_svg(x_from numeric, x_to numeric, y numeric, colour text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $function$
BEGIN
    IF colour !~ '^#[0-9A-Fa-f]{6}$' THEN
        RAISE EXCEPTION 'colour must be #RRGGBB, got %', quote_literal(left(colour, 40)) USING ERRCODE = '22023';
    END IF;
    RETURN format('<line class="ci" x1="%1$s" y1="%3$s" x2="%2$s" y2="%3$s" stroke="%6$s" stroke-width="2"/>'
                  '<line class="ci-cap" x1="%1$s" y1="%4$s" x2="%1$s" y2="%5$s" stroke="%6$s" stroke-width="2"/>'
                  '<line class="ci-cap" x1="%2$s" y1="%4$s" x2="%2$s" y2="%5$s" stroke="%6$s" stroke-width="2"/>',
                  x_from, x_to, y, y - 5, y + 5, colour);
END
$function$;
COMMENT ON FUNCTION @extschema@.chart_interval_svg(numeric, numeric, numeric, text) IS
    'SVG of an interval bar from x_from to x_to at height y, 2 px wide, with 10 px end caps, in colour (#RRGGBB).';

-------------------------------------------------------------------------------
-- model_chart_svg: one row per model of the run, sorted by the mean over
-- scenarios (highest first, ties by model id): a point at that mean and a
-- bar for its confidence interval with scenarios as the units (model_variance:
-- scenario_mean, ci_lower, ci_upper). The x axis is the run's score scale
-- (run_analysis_settings), widened where an interval reaches beyond it.
-------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.model_chart_svg(run_id text)
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
SET extra_float_digits = 1
AS $function$
DECLARE
    scale_min float8;
    scale_max float8;
    ids text[];
    centres float8[];
    lowers float8[];
    uppers float8[];
    means float8[];
    samples bigint[];
    scenario_counts bigint[];
    within_sds float8[];
    consistencies float8[];
    interval_level float8;
    n integer;
    ticks numeric[];
    axis_lo float8;
    axis_hi float8;
    digits integer;
    run_label text;
    run_text text;
    subtitle text;
    scale_text text;
    font constant text := 'DejaVu Sans, Verdana, Arial, sans-serif';
    -- Geometry (pixels). Labels are right-aligned against the plot; a label
    -- longer than 40 characters is cut to its first 39 and '...' (its full
    -- text is in the row's tooltip).
    row_h constant integer := 22;
    top_y constant integer := 72;
    plot_w constant integer := 560;
    right_w constant integer := 230;
    left_x integer;
    axis_y integer;
    width integer;
    height integer;
    row_marks text;
    axis text;
BEGIN
    IF model_chart_svg.run_id IS NULL THEN
        RAISE EXCEPTION 'run_id must not be NULL' USING ERRCODE = '22023';
    END IF;
    SELECT s.score_scale_min, s.score_scale_max INTO scale_min, scale_max
      FROM @extschema@.run_analysis_settings AS s
     WHERE s.run_id = model_chart_svg.run_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'run % does not exist', quote_literal(model_chart_svg.run_id)
            USING ERRCODE = 'P0002', HINT = 'Run ids are in multisample.runs.';
    END IF;
    run_label := CASE WHEN length(model_chart_svg.run_id) > 80 THEN left(model_chart_svg.run_id, 79) || '...' ELSE model_chart_svg.run_id END;
    run_text := @extschema@.markup_escape(run_label);

    SELECT array_agg(m.model_id ORDER BY m.pos), array_agg(m.scenario_mean ORDER BY m.pos),
           array_agg(m.ci_lower ORDER BY m.pos), array_agg(m.ci_upper ORDER BY m.pos),
           array_agg(m.mean ORDER BY m.pos), array_agg(m.scored_samples ORDER BY m.pos),
           array_agg(m.scenario_count ORDER BY m.pos), array_agg(m.within_scenario_std_dev ORDER BY m.pos),
           array_agg(m.consistency_score ORDER BY m.pos), max(m.ci_level)
      INTO ids, centres, lowers, uppers, means, samples, scenario_counts, within_sds, consistencies, interval_level
      FROM (SELECT v.*,
                   row_number() OVER (ORDER BY round(v.scenario_mean::numeric,
                                                     11 - floor(log(greatest(abs(v.scenario_mean), 1e-300)))::integer) DESC,
                                               v.model_id COLLATE "C") AS pos
              FROM @extschema@.model_variance AS v
             WHERE v.run_id = model_chart_svg.run_id) AS m;
    n := coalesce(cardinality(ids), 0);
    interval_level := coalesce(interval_level, 0.95);

    IF n = 0 THEN
        RETURN format('<svg xmlns="http://www.w3.org/2000/svg" width="640" height="84" viewBox="0 0 640 84" role="img" font-family="%s">'
                      '<title>Mean score per model, run %s: no scored samples</title>'
                      '<rect width="640" height="84" fill="#ffffff"/>'
                      '<text x="12" y="26" font-size="15" font-weight="bold">Mean score per model</text>'
                      '<text class="message" x="12" y="56" font-size="13">Run %s has no scored samples yet: nothing to draw.</text></svg>',
                      font, run_text, run_text);
    END IF;

    -- The axis: the score scale and every mean and interval bound, widened to
    -- whole ticks. Labels print digits enough for the axis's span.
    ticks := @extschema@.chart_ticks(
        least(scale_min, (SELECT min(x) FROM unnest(lowers) AS x), (SELECT min(x) FROM unnest(centres) AS x)),
        greatest(scale_max, (SELECT max(x) FROM unnest(uppers) AS x), (SELECT max(x) FROM unnest(centres) AS x)),
        8);
    axis_lo := ticks[1]::float8;
    axis_hi := ticks[cardinality(ticks)]::float8;
    digits := greatest(0, least(10, 2 - floor(log(axis_hi - axis_lo))::integer));
    scale_text := CASE WHEN scale_min IS NULL THEN 'the run''s score scale is unusable (runs.config.scoreScale); axis from the data'
                       ELSE format('score scale %s to %s', scale_min, scale_max) END;

    left_x := ceil(least(40, greatest(5, (SELECT max(length(x)) FROM unnest(ids) AS x))) * 7.4)::integer + 24;
    axis_y := top_y + n * row_h + 8;
    -- The subtitle, and a chart wide enough for it (7 px a character).
    subtitle := format('Run %s: %s models, %s', run_label, n, scale_text);
    width := greatest(left_x + plot_w + right_w, ceil(length(subtitle) * 7.0)::integer + 24);
    height := axis_y + 62;

    -- Grid lines, ticks and labels; the score scale's bounds, dashed, where
    -- the axis goes beyond them.
    SELECT @extschema@.chart_axis_svg(ticks, left_x, plot_w, top_y, axis_y)
           || coalesce((SELECT string_agg(format('<line class="scale-bound" x1="%1$s" y1="%2$s" x2="%1$s" y2="%3$s" stroke="#777777" stroke-dasharray="4 3"><title>score scale bound %4$s</title></line>',
                                                 round((left_x + (b - axis_lo) / (axis_hi - axis_lo) * plot_w)::numeric, 2),
                                                 top_y, axis_y, b), '' ORDER BY b)
                          FROM unnest(ARRAY[scale_min, scale_max]) AS b
                         WHERE b > axis_lo AND b < axis_hi), '')
      INTO axis;

    SELECT string_agg(format(
               '<g class="row" data-row="%1$s"><title>%2$s</title>'
               '<rect class="row-band" x="0" y="%3$s" width="%4$s" height="%5$s" fill="#eef3f8" fill-opacity="%6$s"/>'
               '<text class="row-label" x="%7$s" y="%8$s" text-anchor="end" dominant-baseline="central">%9$s</text>'
               '%10$s'
               '<circle class="mean" cx="%11$s" cy="%8$s" r="4.5" fill="#0072B2" stroke="#ffffff" stroke-width="1"/>'
               '<text class="value" x="%12$s" y="%8$s" dominant-baseline="central" font-size="11" fill="#333333">%13$s</text></g>',
               u.i,
               @extschema@.markup_escape(u.id)
                   || format(E'\nmean over scenarios: %s', u.centre)
                   || CASE WHEN u.lower IS NOT NULL
                           THEN format(E'\n%s%% interval, scenarios as units: [%s, %s]',
                                       trim_scale(round((interval_level * 100)::numeric, 6)), u.lower, u.upper)
                           ELSE E'\nno interval: one scenario' END
                   || format(E'\nmean of all %s scored samples: %s\nscenarios: %s', u.samples, u.mean, u.scenarios)
                   || CASE WHEN u.within_sd IS NOT NULL
                           THEN format(E'\nwithin-scenario std dev: %s', u.within_sd) ELSE '' END
                   || CASE WHEN u.consistency IS NOT NULL
                           THEN format(E'\nconsistency score: %s', u.consistency) ELSE '' END,
               top_y + (u.i - 1) * row_h, width, row_h, CASE WHEN u.i % 2 = 1 THEN 1 ELSE 0 END,
               left_x - 10, top_y + (u.i - 1) * row_h + row_h / 2,
               @extschema@.markup_escape(CASE WHEN length(u.id) > 40 THEN left(u.id, 39) || '...' ELSE u.id END),
               CASE WHEN u.lower IS NOT NULL THEN @extschema@.chart_interval_svg(
                   round((left_x + (u.lower - axis_lo) / (axis_hi - axis_lo) * plot_w)::numeric, 2),
                   round((left_x + (u.upper - axis_lo) / (axis_hi - axis_lo) * plot_w)::numeric, 2),
                   top_y + (u.i - 1) * row_h + row_h / 2, '#0072B2')
               ELSE '' END,
               round((left_x + (u.centre - axis_lo) / (axis_hi - axis_lo) * plot_w)::numeric, 2),
               left_x + plot_w + 14,
               round(u.centre::numeric, digits)::text
                   || CASE WHEN u.lower IS NOT NULL
                           THEN format(' [%s, %s]', round(u.lower::numeric, digits), round(u.upper::numeric, digits))
                           ELSE ' (one scenario: no interval)' END),
           E'\n' ORDER BY u.i)
      INTO row_marks
      FROM unnest(ids, centres, lowers, uppers, means, samples, scenario_counts, within_sds, consistencies)
           WITH ORDINALITY AS u (id, centre, lower, upper, mean, samples, scenarios, within_sd, consistency, i);

    RETURN format(E'<svg xmlns="http://www.w3.org/2000/svg" width="%1$s" height="%2$s" viewBox="0 0 %1$s %2$s" role="img" font-family="%3$s" font-size="12">\n'
                  '<title>Mean score per model with its %4$s%% confidence interval, run %5$s</title>\n'
                  '<desc>%6$s models sorted by their mean over scenarios, highest first. Point: the mean over scenarios; bar: the %4$s%% confidence interval with scenarios as the units; %7$s.</desc>\n'
                  '<rect width="%1$s" height="%2$s" fill="#ffffff"/>\n'
                  '<text class="chart-title" x="12" y="24" font-size="15" font-weight="bold">Mean score per model</text>\n'
                  '<text class="chart-subtitle" x="12" y="44" fill="#444444">%17$s</text>\n'
                  '<text class="axis-title y-axis-title" x="%8$s" y="%9$s" text-anchor="end" font-weight="bold">Model</text>\n'
                  '<g class="x-axis">%10$s<line class="axis-line" x1="%11$s" y1="%12$s" x2="%13$s" y2="%12$s" stroke="#333333"/>'
                  '<text class="axis-title x-axis-title" x="%14$s" y="%15$s" text-anchor="middle">Score: point = mean over scenarios, bar = %4$s%% confidence interval (scenarios as units)</text></g>\n'
                  '%16$s\n</svg>',
                  width, height, font, trim_scale(round((interval_level * 100)::numeric, 6)), run_text, n, scale_text,
                  left_x - 10, top_y - 8,
                  axis, left_x, axis_y, left_x + plot_w, left_x + plot_w / 2, axis_y + 40,
                  row_marks, @extschema@.markup_escape(subtitle));
END
$function$;
COMMENT ON FUNCTION @extschema@.model_chart_svg(text) IS
    'SVG chart of a run''s models: per model (sorted by mean over scenarios) a point at that mean and a bar for its confidence interval with scenarios as the units, on the run''s score scale; tooltips with the exact figures. Unknown run: P0002.';

-------------------------------------------------------------------------------
-- variance_heatmap_svg: scenarios (rows, most variable first: the order of
-- scenario_variance_overall's variance_rank, ties by scenario id) x models
-- (columns, by model id), each cell coloured by the pair's within-pair
-- standard deviation on the viridis scale from 0 to the largest shown.
-- At most max_scenarios rows (1..1000); a note says how many more there are.
-------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.variance_heatmap_svg(run_id text, max_scenarios integer DEFAULT 50)
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
SET extra_float_digits = 1
AS $function$
DECLARE
    scenario_total integer;
    model_ids text[];
    scenario_ids text[];
    scenario_names text[];
    mean_variances float8[];
    ranks bigint[];
    per_models jsonb[];
    k integer;
    m integer;
    largest float8;
    ticks numeric[];
    legend_hi float8;
    run_label text;
    run_text text;
    subtitle text;
    font constant text := 'DejaVu Sans, Verdana, Arial, sans-serif';
    -- Geometry (pixels): a column is 14 to 44 wide (720 / models), a row 18;
    -- row labels are cut to 36 characters, column labels (vertical) to 28.
    cell_w integer;
    cell_h constant integer := 18;
    legend_steps constant integer := 64;
    legend_w constant integer := 256;
    left_x integer;
    col_h integer;
    top_y integer;
    note_y integer;
    legend_y integer;
    width integer;
    height integer;
    cell_marks text;
    label_marks text;
    legend_marks text;
BEGIN
    IF variance_heatmap_svg.run_id IS NULL THEN
        RAISE EXCEPTION 'run_id must not be NULL' USING ERRCODE = '22023';
    END IF;
    IF max_scenarios IS NULL OR max_scenarios < 1 OR max_scenarios > 1000 THEN
        RAISE EXCEPTION 'max_scenarios must be from 1 to 1000, got %', coalesce(max_scenarios::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    IF NOT EXISTS (SELECT FROM @extschema@.run_analysis_settings AS s WHERE s.run_id = variance_heatmap_svg.run_id) THEN
        RAISE EXCEPTION 'run % does not exist', quote_literal(variance_heatmap_svg.run_id)
            USING ERRCODE = 'P0002', HINT = 'Run ids are in multisample.runs.';
    END IF;
    run_label := CASE WHEN length(variance_heatmap_svg.run_id) > 80 THEN left(variance_heatmap_svg.run_id, 79) || '...' ELSE variance_heatmap_svg.run_id END;
    run_text := @extschema@.markup_escape(run_label);

    WITH o AS MATERIALIZED (
        SELECT v.scenario_id, v.scenario_name, v.mean_variance, v.variance_rank, v.per_model,
               row_number() OVER (ORDER BY v.variance_rank NULLS LAST, v.scenario_id COLLATE "C") AS pos
          FROM @extschema@.scenario_variance_overall AS v
         WHERE v.run_id = variance_heatmap_svg.run_id
    )
    SELECT (SELECT count(*) FROM o)::integer,
           (SELECT array_agg(x.model_id ORDER BY x.model_id COLLATE "C")
              FROM (SELECT DISTINCT jsonb_object_keys(o.per_model) AS model_id FROM o) AS x),
           (SELECT array_agg(o.scenario_id ORDER BY o.pos) FROM o WHERE o.pos <= max_scenarios),
           (SELECT array_agg(o.scenario_name ORDER BY o.pos) FROM o WHERE o.pos <= max_scenarios),
           (SELECT array_agg(o.mean_variance ORDER BY o.pos) FROM o WHERE o.pos <= max_scenarios),
           (SELECT array_agg(o.variance_rank ORDER BY o.pos) FROM o WHERE o.pos <= max_scenarios),
           (SELECT array_agg(o.per_model ORDER BY o.pos) FROM o WHERE o.pos <= max_scenarios)
      INTO scenario_total, model_ids, scenario_ids, scenario_names, mean_variances, ranks, per_models;
    k := coalesce(cardinality(scenario_ids), 0);
    m := coalesce(cardinality(model_ids), 0);

    IF k = 0 THEN
        RETURN format('<svg xmlns="http://www.w3.org/2000/svg" width="640" height="84" viewBox="0 0 640 84" role="img" font-family="%s">'
                      '<title>Within-pair standard deviation by scenario and model, run %s: no scored samples</title>'
                      '<rect width="640" height="84" fill="#ffffff"/>'
                      '<text x="12" y="26" font-size="15" font-weight="bold">Variability by scenario and model</text>'
                      '<text class="message" x="12" y="56" font-size="13">Run %s has no scored samples yet: nothing to draw.</text></svg>',
                      font, run_text, run_text);
    END IF;

    -- The colour scale runs from 0 to the first tick at or above the largest
    -- standard deviation shown (0 .. 1 when none is above 0).
    SELECT max((s.pm -> md.model_id ->> 'stdDev')::float8) INTO largest
      FROM unnest(per_models) AS s (pm) CROSS JOIN unnest(model_ids) AS md (model_id);
    ticks := @extschema@.chart_ticks(0, CASE WHEN largest > 0 THEN largest ELSE 1 END, 6);
    legend_hi := ticks[cardinality(ticks)]::float8;

    cell_w := greatest(14, least(44, 720 / m));
    left_x := ceil(least(36, greatest(8, (SELECT max(length(x)) FROM unnest(scenario_ids) AS x))) * 7.0)::integer + 24;
    col_h := ceil(least(28, greatest(5, (SELECT max(length(x)) FROM unnest(model_ids) AS x))) * 6.8)::integer + 14;
    top_y := 66 + col_h;
    note_y := top_y + k * cell_h + 22;
    legend_y := note_y + 28;
    subtitle := format('Run %s: standard deviation of the scored samples of each scenario-model pair', run_label);
    width := greatest(left_x + m * cell_w + 24, 640, ceil(length(subtitle) * 7.0)::integer + 24);
    height := legend_y + 80;

    -- Cells and legend steps share one colour computation: viridis, nine
    -- stops (R's viridisLite::viridis(9)), interpolated linearly in sRGB.
    WITH cells AS (
        SELECT s.i, md.j, s.id AS scenario_id, md.model_id,
               s.pm -> md.model_id AS cell,
               (s.pm -> md.model_id ->> 'stdDev')::float8 AS sd
          FROM unnest(scenario_ids, per_models) WITH ORDINALITY AS s (id, pm, i)
         CROSS JOIN unnest(model_ids) WITH ORDINALITY AS md (model_id, j)
    ), painted AS (
        SELECT 'cell' AS kind, c.i, c.j, least(1, c.sd / legend_hi) AS t FROM cells AS c WHERE c.sd IS NOT NULL
        UNION ALL
        SELECT 'legend', st, 0, (st - 0.5) / legend_steps FROM generate_series(1, legend_steps) AS st
    ), colours AS (
        SELECT p.kind, p.i, p.j, p.t,
               '#' || string_agg(lpad(to_hex(round(c.lo + (c.hi - c.lo) * (p.t * 8 - p.seg))::integer), 2, '0'), '' ORDER BY c.channel)
                   AS colour
          FROM (SELECT pp.*, least(7, floor(pp.t * 8))::integer AS seg FROM painted AS pp) AS p
         CROSS JOIN LATERAL (
               SELECT ch.channel, ch.stops[p.seg + 1] AS lo, ch.stops[p.seg + 2] AS hi
                 FROM (VALUES (1, ARRAY[68, 71, 59, 44, 33, 39, 93, 170, 253]),
                              (2, ARRAY[1, 45, 82, 114, 144, 173, 200, 220, 231]),
                              (3, ARRAY[84, 123, 139, 142, 140, 129, 99, 50, 37])) AS ch (channel, stops)) AS c
         GROUP BY p.kind, p.i, p.j, p.t
    )
    SELECT (SELECT string_agg(format(
                   '<g class="cell" data-row="%1$s" data-col="%2$s"><title>%3$s</title>'
                   '<rect x="%4$s" y="%5$s" width="%6$s" height="%7$s" fill="%8$s" stroke="%9$s" stroke-width="1"/>%10$s</g>',
                   c.i, c.j,
                   @extschema@.markup_escape(c.scenario_id) || ' &#215; ' || @extschema@.markup_escape(c.model_id)
                       || CASE
                              WHEN c.cell IS NULL THEN E'\nno scored samples'
                              WHEN c.sd IS NULL THEN format(E'\n1 scored sample: no standard deviation\nscore: %s',
                                                           (c.cell ->> 'mean')::float8)
                              ELSE format(E'\nstd dev: %s\nvariance: %s\n%s scored samples, mean %s, min %s, max %s',
                                          c.sd, (c.cell ->> 'variance')::float8, c.cell ->> 'sampleCount',
                                          (c.cell ->> 'mean')::float8, (c.cell ->> 'min')::float8,
                                          (c.cell ->> 'max')::float8)
                          END,
                   left_x + (c.j - 1) * cell_w, top_y + (c.i - 1) * cell_h, cell_w, cell_h,
                   CASE WHEN c.cell IS NULL THEN '#ffffff' WHEN c.sd IS NULL THEN '#bdbdbd' ELSE co.colour END,
                   CASE WHEN c.cell IS NULL THEN '#cccccc' ELSE '#ffffff' END,
                   CASE WHEN c.sd IS NOT NULL AND cell_w >= 36 THEN format(
                       '<text x="%s" y="%s" text-anchor="middle" dominant-baseline="central" font-size="10" fill="%s">%s</text>',
                       round(left_x + (c.j - 1) * cell_w + cell_w / 2.0, 1), top_y + (c.i - 1) * cell_h + cell_h / 2,
                       CASE WHEN co.t < 0.6 THEN '#ffffff' ELSE '#000000' END, round(c.sd::numeric, 2))
                   ELSE '' END),
               E'\n' ORDER BY c.i, c.j)
              FROM cells AS c
              LEFT JOIN colours AS co ON co.kind = 'cell' AND co.i = c.i AND co.j = c.j),
           (SELECT string_agg(format('<rect class="legend-step" x="%s" y="%s" width="%s" height="12" fill="%s"/>',
                                     24 + (co.i - 1) * (legend_w / legend_steps), legend_y + 8,
                                     legend_w / legend_steps, co.colour), '' ORDER BY co.i)
              FROM colours AS co WHERE co.kind = 'legend')
      INTO cell_marks, legend_marks;

    SELECT string_agg(format('<g class="row-label" data-row="%1$s"><title>%2$s</title>'
                             '<text x="%3$s" y="%4$s" text-anchor="end" dominant-baseline="central">%5$s</text></g>',
                             s.i,
                             @extschema@.markup_escape(s.id)
                                 || CASE WHEN s.name IS NOT NULL
                                         THEN E'\nname: ' || @extschema@.markup_escape(s.name) ELSE '' END
                                 || CASE WHEN s.mv IS NOT NULL
                                         THEN format(E'\nmean within-pair variance over the models: %s (rank %s of the run)', s.mv, s.rank)
                                         ELSE E'\nno pair with 2 or more scored samples' END,
                             left_x - 8, top_y + (s.i - 1) * cell_h + cell_h / 2,
                             @extschema@.markup_escape(CASE WHEN length(s.id) > 36 THEN left(s.id, 35) || '...' ELSE s.id END)),
                      E'\n' ORDER BY s.i)
           || E'\n'
           || (SELECT string_agg(format('<g class="col-label" data-col="%1$s"><title>%2$s</title>'
                                        '<text transform="translate(%3$s %4$s) rotate(-90)" dominant-baseline="central" font-size="11">%5$s</text></g>',
                                        md.j, @extschema@.markup_escape(md.model_id),
                                        round(left_x + (md.j - 1) * cell_w + cell_w / 2.0, 1), top_y - 6,
                                        @extschema@.markup_escape(CASE WHEN length(md.model_id) > 28
                                                                      THEN left(md.model_id, 27) || '...'
                                                                      ELSE md.model_id END)),
                                 E'\n' ORDER BY md.j)
                 FROM unnest(model_ids) WITH ORDINALITY AS md (model_id, j))
      INTO label_marks
      FROM unnest(scenario_ids, scenario_names, mean_variances, ranks) WITH ORDINALITY AS s (id, name, mv, rank, i);

    RETURN format(E'<svg xmlns="http://www.w3.org/2000/svg" width="%1$s" height="%2$s" viewBox="0 0 %1$s %2$s" role="img" font-family="%3$s" font-size="12">\n'
                  '<title>Within-pair standard deviation by scenario and model, run %4$s</title>\n'
                  '<desc>%5$s scenarios (rows, most variable first) by %6$s models (columns); each cell is coloured by the standard deviation of the pair''s scored samples, from dark (0) to yellow (%7$s).</desc>\n'
                  '<rect width="%1$s" height="%2$s" fill="#ffffff"/>\n'
                  '<text class="chart-title" x="12" y="24" font-size="15" font-weight="bold">Variability by scenario and model</text>\n'
                  '<text class="chart-subtitle" x="12" y="44" fill="#444444">%20$s</text>\n'
                  '<text class="axis-title y-axis-title" x="%8$s" y="%9$s" text-anchor="end" font-weight="bold">Scenario</text>\n'
                  '<text class="axis-title x-axis-title" x="%10$s" y="62" font-weight="bold">Model</text>\n'
                  '%11$s\n%12$s\n'
                  '<text class="note" x="12" y="%13$s" fill="#444444">%14$s</text>\n'
                  '<g class="legend"><text x="24" y="%15$s">Within-pair standard deviation (sample, n &#8722; 1)</text>%16$s%17$s'
                  '<rect x="24" y="%18$s" width="14" height="14" fill="#bdbdbd"/><text x="44" y="%19$s">one scored sample: no standard deviation</text>'
                  '<rect x="330" y="%18$s" width="14" height="14" fill="#ffffff" stroke="#cccccc"/><text x="350" y="%19$s">no scored samples</text></g>\n'
                  '</svg>',
                  width, height, font, run_text, k, m, legend_hi,
                  left_x - 8, top_y - 8, left_x,
                  label_marks, cell_marks,
                  note_y,
                  CASE WHEN scenario_total > k
                       THEN format('The %s most variable of %s scenarios with scored samples; %s more in multisample.scenario_variance_overall.',
                                   k, scenario_total, scenario_total - k)
                       ELSE format('All %s scenarios with scored samples, most variable first.', scenario_total) END,
                  legend_y, legend_marks,
                  (SELECT string_agg(format('<line class="legend-tick" x1="%1$s" y1="%2$s" x2="%1$s" y2="%3$s" stroke="#333333"/>'
                                            '<text class="legend-tick-label" x="%1$s" y="%4$s" text-anchor="middle" font-size="11">%5$s</text>',
                                            round((24 + t::float8 / legend_hi * legend_w)::numeric, 2),
                                            legend_y + 8, legend_y + 25, legend_y + 37, t::text), '' ORDER BY t)
                     FROM unnest(ticks) AS t),
                  legend_y + 48, legend_y + 59, @extschema@.markup_escape(subtitle));
END
$function$;
COMMENT ON FUNCTION @extschema@.variance_heatmap_svg(text, integer) IS
    'SVG heat map of a run: scenarios (most variable first, at most max_scenarios of them, 1..1000, default 50, with a note of how many more) by models, each cell coloured (viridis) by the pair''s within-pair standard deviation, with a legend; tooltips with the exact figures. Unknown run: P0002.';

-------------------------------------------------------------------------------
-- comparison_chart_svg: a forest plot of model_comparison. One row per pair
-- of models (model_a - model_b), sorted by mean difference, largest first:
-- a mark at the mean difference, a bar for its confidence interval, a line
-- at zero. Pairs significant after Holm's adjustment (p_value_holm < 0.05)
-- are vermillion diamonds, the others blue open circles. At most max_pairs
-- rows (1..1000): those with the smallest Holm-adjusted p-values, then the
-- largest differences; a note says how many more there are.
-------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.comparison_chart_svg(run_id text, max_pairs integer DEFAULT 50)
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
SET extra_float_digits = 1
AS $function$
DECLARE
    pair_total integer;
    models_a text[];
    models_b text[];
    scenario_counts bigint[];
    means_a float8[];
    means_b float8[];
    differences float8[];
    std_errors float8[];
    lowers float8[];
    uppers float8[];
    t_statistics float8[];
    p_values float8[];
    p_holms float8[];
    effect_sizes float8[];
    wins_v bigint[];
    ties_v bigint[];
    losses_v bigint[];
    win_rates float8[];
    interval_level float8;
    scored_models integer;
    n integer;
    ticks numeric[];
    axis_lo float8;
    axis_hi float8;
    digits integer;
    run_label text;
    run_text text;
    subtitle text;
    message text;
    font constant text := 'DejaVu Sans, Verdana, Arial, sans-serif';
    alpha constant float8 := 0.05;
    -- Geometry (pixels); a row label names both models, each cut to 22
    -- characters (the tooltip has them whole).
    row_h constant integer := 22;
    top_y constant integer := 92;
    plot_w constant integer := 520;
    right_w constant integer := 290;
    left_x integer;
    axis_y integer;
    zero_x numeric;
    width integer;
    height integer;
    axis text;
    row_marks text;
BEGIN
    IF comparison_chart_svg.run_id IS NULL THEN
        RAISE EXCEPTION 'run_id must not be NULL' USING ERRCODE = '22023';
    END IF;
    IF max_pairs IS NULL OR max_pairs < 1 OR max_pairs > 1000 THEN
        RAISE EXCEPTION 'max_pairs must be from 1 to 1000, got %', coalesce(max_pairs::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    IF NOT EXISTS (SELECT FROM @extschema@.run_analysis_settings AS s WHERE s.run_id = comparison_chart_svg.run_id) THEN
        RAISE EXCEPTION 'run % does not exist', quote_literal(comparison_chart_svg.run_id)
            USING ERRCODE = 'P0002', HINT = 'Run ids are in multisample.runs.';
    END IF;
    run_label := CASE WHEN length(comparison_chart_svg.run_id) > 80 THEN left(comparison_chart_svg.run_id, 79) || '...' ELSE comparison_chart_svg.run_id END;
    run_text := @extschema@.markup_escape(run_label);

    WITH c AS MATERIALIZED (
        SELECT mc.*,
               row_number() OVER (ORDER BY round(mc.p_value_holm::numeric,
                                                 11 - floor(log(greatest(abs(mc.p_value_holm), 1e-300)))::integer) NULLS LAST,
                                           round(abs(mc.mean_difference)::numeric,
                                                 11 - floor(log(greatest(abs(mc.mean_difference), 1e-300)))::integer) DESC NULLS LAST,
                                           mc.model_a COLLATE "C", mc.model_b COLLATE "C") AS pick
          FROM @extschema@.model_comparison AS mc
         WHERE mc.run_id = comparison_chart_svg.run_id
    ), shown AS (
        SELECT c.*, row_number() OVER (ORDER BY round(c.mean_difference::numeric,
                                                      11 - floor(log(greatest(abs(c.mean_difference), 1e-300)))::integer) DESC NULLS LAST,
                                                c.model_a COLLATE "C", c.model_b COLLATE "C") AS pos
          FROM c WHERE c.pick <= max_pairs
    )
    SELECT (SELECT count(*) FROM c)::integer,
           array_agg(s.model_a ORDER BY s.pos), array_agg(s.model_b ORDER BY s.pos),
           array_agg(s.scenarios ORDER BY s.pos),
           array_agg(s.mean_a ORDER BY s.pos), array_agg(s.mean_b ORDER BY s.pos),
           array_agg(s.mean_difference ORDER BY s.pos), array_agg(s.std_error ORDER BY s.pos),
           array_agg(s.ci_lower ORDER BY s.pos), array_agg(s.ci_upper ORDER BY s.pos),
           array_agg(s.t_statistic ORDER BY s.pos), array_agg(s.p_value ORDER BY s.pos),
           array_agg(s.p_value_holm ORDER BY s.pos), array_agg(s.effect_size ORDER BY s.pos),
           array_agg(s.wins ORDER BY s.pos), array_agg(s.ties ORDER BY s.pos),
           array_agg(s.losses ORDER BY s.pos), array_agg(s.win_rate ORDER BY s.pos),
           max(s.ci_level)
      INTO pair_total, models_a, models_b, scenario_counts, means_a, means_b, differences, std_errors,
           lowers, uppers, t_statistics, p_values, p_holms, effect_sizes, wins_v, ties_v, losses_v,
           win_rates, interval_level
      FROM shown AS s;
    n := coalesce(cardinality(models_a), 0);
    interval_level := coalesce(interval_level, 0.95);

    IF n = 0 THEN
        -- Say why: no scores, one model, or no scenario scored for two models.
        SELECT count(*)::integer INTO scored_models
          FROM @extschema@.model_variance AS m
         WHERE m.run_id = comparison_chart_svg.run_id;
        message := CASE scored_models
                       WHEN 0 THEN format('Run %s has no scored samples yet: nothing to compare.', run_text)
                       WHEN 1 THEN format('Run %s has scored samples of one model only: nothing to compare.', run_text)
                       ELSE format('No scenario of run %s has scored samples of two models: nothing to compare.', run_text)
                   END;
        RETURN format('<svg xmlns="http://www.w3.org/2000/svg" width="640" height="84" viewBox="0 0 640 84" role="img" font-family="%s">'
                      '<title>Model comparison, run %s: %s</title>'
                      '<rect width="640" height="84" fill="#ffffff"/>'
                      '<text x="12" y="26" font-size="15" font-weight="bold">Model comparison: mean difference per pair</text>'
                      '<text class="message" x="12" y="56" font-size="13">%s</text></svg>',
                      font, run_text, message, message);
    END IF;

    ticks := @extschema@.chart_ticks(
        least(0, (SELECT min(x) FROM unnest(lowers) AS x), (SELECT min(x) FROM unnest(differences) AS x)),
        greatest(0, (SELECT max(x) FROM unnest(uppers) AS x), (SELECT max(x) FROM unnest(differences) AS x)),
        8);
    axis_lo := ticks[1]::float8;
    axis_hi := ticks[cardinality(ticks)]::float8;
    digits := greatest(0, least(10, 2 - floor(log(axis_hi - axis_lo))::integer));

    left_x := ceil(greatest(5, (SELECT max(least(22, length(a)) + least(22, length(b)) + 3)
                                   FROM unnest(models_a, models_b) AS u (a, b))) * 7.4)::integer + 24;
    axis_y := top_y + n * row_h + 8;
    subtitle := format('Run %s: %s', run_label,
                       CASE WHEN pair_total > n
                            THEN format('the %s pairs with the smallest Holm-adjusted p-values of %s; %s more in multisample.model_comparison',
                                        n, pair_total, pair_total - n)
                            ELSE format('all %s pairs of models', pair_total) END);
    width := greatest(left_x + plot_w + right_w, ceil(length(subtitle) * 7.0)::integer + 24);
    height := axis_y + 62;
    zero_x := round((left_x + (0 - axis_lo) / (axis_hi - axis_lo) * plot_w)::numeric, 2);

    axis := @extschema@.chart_axis_svg(ticks, left_x, plot_w, top_y, axis_y);

    SELECT string_agg(format(
               '<g class="row" data-row="%1$s"><title>%2$s</title>'
               '<rect class="row-band" x="0" y="%3$s" width="%4$s" height="%5$s" fill="#eef3f8" fill-opacity="%6$s"/>'
               '<text class="row-label" x="%7$s" y="%8$s" text-anchor="end" dominant-baseline="central">%9$s</text>'
               '%10$s%11$s'
               '<text class="value" x="%12$s" y="%8$s" dominant-baseline="central" font-size="11" fill="#333333">%13$s</text></g>',
               u.i,
               @extschema@.markup_escape(u.a) || ' &#8722; ' || @extschema@.markup_escape(u.b)
                   || format(E'\nmean difference: %s', u.diff)
                   || CASE WHEN u.lower IS NOT NULL
                           THEN format(E'\n%s%% interval: [%s, %s]', trim_scale(round((interval_level * 100)::numeric, 6)),
                                       u.lower, u.upper)
                           ELSE E'\nno interval: fewer than 2 shared scenarios' END
                   || format(E'\nstd error: %s; t: %s\np-value: %s; Holm-adjusted: %s (%s)',
                             coalesce(u.se::text, 'n/a'), coalesce(u.t_stat::text, 'n/a'),
                             coalesce(u.p::text, 'n/a'), coalesce(u.p_holm::text, 'n/a'),
                             CASE WHEN u.p_holm < alpha THEN 'significant after Holm, p &lt; 0.05'
                                  ELSE 'not significant after Holm' END)
                   || format(E'\nmeans: %s (A), %s (B); scenarios: %s\neffect size d_z: %s\nwins / ties / losses of A: %s / %s / %s; win rate: %s',
                             u.mean_a, u.mean_b, u.scenarios, coalesce(u.effect::text, 'n/a'),
                             u.wins, u.ties, u.losses, coalesce(u.win_rate::text, 'n/a')),
               top_y + (u.i - 1) * row_h, width, row_h, CASE WHEN u.i % 2 = 1 THEN 1 ELSE 0 END,
               left_x - 10, top_y + (u.i - 1) * row_h + row_h / 2,
               @extschema@.markup_escape(CASE WHEN length(u.a) > 22 THEN left(u.a, 21) || '...' ELSE u.a END)
                   || ' &#8722; '
                   || @extschema@.markup_escape(CASE WHEN length(u.b) > 22 THEN left(u.b, 21) || '...' ELSE u.b END),
               CASE WHEN u.lower IS NOT NULL THEN @extschema@.chart_interval_svg(
                   round((left_x + (u.lower - axis_lo) / (axis_hi - axis_lo) * plot_w)::numeric, 2),
                   round((left_x + (u.upper - axis_lo) / (axis_hi - axis_lo) * plot_w)::numeric, 2),
                   top_y + (u.i - 1) * row_h + row_h / 2,
                   CASE WHEN u.p_holm < alpha THEN '#D55E00' ELSE '#0072B2' END)
               ELSE '' END,
               CASE WHEN u.p_holm < alpha THEN format(
                   '<path class="difference significant" d="M %1$s %2$s l 6 6 l -6 6 l -6 -6 z" fill="#D55E00" stroke="#ffffff" stroke-width="1"/>',
                   round((left_x + (u.diff - axis_lo) / (axis_hi - axis_lo) * plot_w)::numeric, 2),
                   top_y + (u.i - 1) * row_h + row_h / 2 - 6)
               ELSE format(
                   '<circle class="difference" cx="%1$s" cy="%2$s" r="4.5" fill="#ffffff" stroke="#0072B2" stroke-width="2"/>',
                   round((left_x + (u.diff - axis_lo) / (axis_hi - axis_lo) * plot_w)::numeric, 2),
                   top_y + (u.i - 1) * row_h + row_h / 2)
               END,
               left_x + plot_w + 14,
               round(u.diff::numeric, digits)::text
                   || CASE WHEN u.lower IS NOT NULL
                           THEN format(' [%s, %s]', round(u.lower::numeric, digits), round(u.upper::numeric, digits))
                           ELSE '' END
                   || '  p(Holm) '
                   || CASE WHEN u.p_holm IS NULL THEN 'n/a'
                           WHEN u.p_holm < 0.001 THEN '&lt; 0.001'
                           ELSE round(u.p_holm::numeric, 3)::text END
                   || CASE WHEN u.p_holm < alpha THEN ' *' ELSE '' END),
           E'\n' ORDER BY u.i)
      INTO row_marks
      FROM unnest(models_a, models_b, scenario_counts, means_a, means_b, differences, std_errors, lowers, uppers,
                  t_statistics, p_values, p_holms, effect_sizes, wins_v, ties_v, losses_v, win_rates)
           WITH ORDINALITY AS u (a, b, scenarios, mean_a, mean_b, diff, se, lower, upper, t_stat, p, p_holm,
                                 effect, wins, ties, losses, win_rate, i);

    RETURN format(E'<svg xmlns="http://www.w3.org/2000/svg" width="%1$s" height="%2$s" viewBox="0 0 %1$s %2$s" role="img" font-family="%3$s" font-size="12">\n'
                  '<title>Model comparison: mean difference per pair of models with its %4$s%% confidence interval, run %5$s</title>\n'
                  '<desc>%6$s pairs of models, sorted by mean difference (model A minus model B, scenario means as the units); a line marks zero; pairs significant after Holm''s adjustment (adjusted p below 0.05) are vermillion diamonds, the others blue circles.</desc>\n'
                  '<rect width="%1$s" height="%2$s" fill="#ffffff"/>\n'
                  '<text class="chart-title" x="12" y="24" font-size="15" font-weight="bold">Model comparison: mean difference per pair</text>\n'
                  '<text class="chart-subtitle" x="12" y="44" fill="#444444">%7$s</text>\n'
                  '<g class="legend"><circle cx="18" cy="62" r="4.5" fill="#ffffff" stroke="#0072B2" stroke-width="2"/><text x="28" y="66">not significant</text>'
                  '<path d="M 160 56 l 6 6 l -6 6 l -6 -6 z" fill="#D55E00"/><text x="172" y="66">significant after Holm&#8217;s adjustment (adjusted p &lt; 0.05), also marked *</text></g>\n'
                  '<text class="axis-title y-axis-title" x="%8$s" y="%9$s" text-anchor="end" font-weight="bold">Model A &#8722; model B</text>\n'
                  '<text class="direction" x="%10$s" y="%9$s" fill="#444444">&#8592; B higher</text>\n'
                  '<text class="direction" x="%11$s" y="%9$s" text-anchor="end" fill="#444444">A higher &#8594;</text>\n'
                  '<g class="x-axis">%12$s<line class="axis-line" x1="%10$s" y1="%13$s" x2="%11$s" y2="%13$s" stroke="#333333"/>'
                  '<text class="axis-title x-axis-title" x="%14$s" y="%15$s" text-anchor="middle">Difference in mean score (A &#8722; B), %4$s%% confidence interval, scenarios as units</text></g>\n'
                  '<line class="zero-line" x1="%16$s" y1="%17$s" x2="%16$s" y2="%13$s" stroke="#000000" stroke-width="1.5" stroke-dasharray="5 3"/>\n'
                  '%18$s\n</svg>',
                  width, height, font, trim_scale(round((interval_level * 100)::numeric, 6)), run_text, n,
                  @extschema@.markup_escape(subtitle),
                  left_x - 10, top_y - 8, left_x, left_x + plot_w,
                  axis, axis_y, left_x + plot_w / 2, axis_y + 40,
                  zero_x, top_y, row_marks);
END
$function$;
COMMENT ON FUNCTION @extschema@.comparison_chart_svg(text, integer) IS
    'SVG forest plot of model_comparison for a run: per pair of models the mean difference (A - B) and its confidence interval, a line at zero, pairs significant after Holm''s adjustment (p < 0.05) marked; at most max_pairs rows (1..1000, default 50: the smallest adjusted p-values), with a note of how many more. Unknown run: P0002.';

-------------------------------------------------------------------------------
-- analysis_html: the run on one HTML page, with no script and no external
-- asset (a Content-Security-Policy meta tag forbids both as well): a
-- summary, the warnings of analysis_json, the model chart and table, the
-- heat map, the forest plot and the comparison table (at most 200 pairs, by
-- Holm-adjusted p-value). Tables round to the digits the score scale needs;
-- the charts' tooltips carry the exact figures.
-------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.analysis_html(run_id text)
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
SET extra_float_digits = 1
AS $function$
DECLARE
    definition_text text;
    scale_min float8;
    scale_max float8;
    doc jsonb;
    digits integer;
    run_text text;
    version_text text;
    model_rows text;
    comparison_rows text;
    comparison_total integer;
    warning_items text;
    table_pairs constant integer := 200;
    dash constant text := '&#8211;';
BEGIN
    IF analysis_html.run_id IS NULL THEN
        RAISE EXCEPTION 'run_id must not be NULL' USING ERRCODE = '22023';
    END IF;
    SELECT CASE WHEN d.name IS NOT NULL
                THEN @extschema@.markup_escape(d.name) || ' (' || @extschema@.markup_escape(r.definition_id) || ')'
                ELSE @extschema@.markup_escape(r.definition_id) END,
           s.score_scale_min, s.score_scale_max
      INTO definition_text, scale_min, scale_max
      FROM @extschema@.runs AS r
      JOIN @extschema@.run_analysis_settings AS s ON s.run_id = r.id
      LEFT JOIN @extschema@.definitions AS d ON d.id = r.definition_id
     WHERE r.id = analysis_html.run_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'run % does not exist', quote_literal(analysis_html.run_id)
            USING ERRCODE = 'P0002', HINT = 'Run ids are in multisample.runs.';
    END IF;
    run_text := @extschema@.markup_escape(analysis_html.run_id);
    doc := @extschema@.analysis_json(analysis_html.run_id);
    digits := CASE WHEN scale_min IS NULL THEN 3
                   ELSE greatest(0, least(10, 3 - floor(log(scale_max - scale_min))::integer)) END;
    SELECT e.extversion INTO version_text FROM pg_extension AS e WHERE e.extname = 'multisample';

    SELECT string_agg(format('<tr><th scope="row">%s</th><td class="num">%s</td><td class="num">%s</td>'
                             '<td class="num">%s</td><td class="num">%s</td><td class="num">%s</td>'
                             '<td class="num">%s</td><td class="num">%s</td></tr>',
                             @extschema@.markup_escape(m.model_id), m.scored_samples, m.scenario_count,
                             round(m.scenario_mean::numeric, digits),
                             CASE WHEN m.ci_lower IS NOT NULL
                                  THEN format('[%s, %s]', round(m.ci_lower::numeric, digits), round(m.ci_upper::numeric, digits))
                                  ELSE dash END,
                             round(m.mean::numeric, digits),
                             coalesce(round(m.within_scenario_std_dev::numeric, digits)::text, dash),
                             coalesce(round(m.consistency_score::numeric, 3)::text, dash)),
                      E'\n' ORDER BY round(m.scenario_mean::numeric,
                                            11 - floor(log(greatest(abs(m.scenario_mean), 1e-300)))::integer) DESC,
                                      m.model_id COLLATE "C")
      INTO model_rows
      FROM @extschema@.model_variance AS m
     WHERE m.run_id = analysis_html.run_id;

    WITH c AS MATERIALIZED (
        SELECT mc.*,
               row_number() OVER (ORDER BY round(mc.p_value_holm::numeric,
                                                 11 - floor(log(greatest(abs(mc.p_value_holm), 1e-300)))::integer) NULLS LAST,
                                           round(abs(mc.mean_difference)::numeric,
                                                 11 - floor(log(greatest(abs(mc.mean_difference), 1e-300)))::integer) DESC NULLS LAST,
                                           mc.model_a COLLATE "C", mc.model_b COLLATE "C") AS pos
          FROM @extschema@.model_comparison AS mc
         WHERE mc.run_id = analysis_html.run_id
    )
    SELECT (SELECT count(*) FROM c)::integer,
           string_agg(format('<tr%s><th scope="row">%s</th><th scope="row">%s</th><td class="num">%s</td>'
                             '<td class="num">%s</td><td class="num">%s</td><td class="num">%s</td><td class="num">%s</td>'
                             '<td class="num">%s</td><td class="num">%s</td><td class="num">%s</td>'
                             '<td class="num">%s / %s / %s</td><td class="num">%s</td><td class="num">%s</td>'
                             '<td class="num">%s</td><td class="num">%s</td></tr>',
                             CASE WHEN c.p_value_holm < 0.05 THEN ' class="significant"' ELSE '' END,
                             @extschema@.markup_escape(c.model_a), @extschema@.markup_escape(c.model_b),
                             c.scenarios,
                             round(c.mean_a::numeric, digits), round(c.mean_b::numeric, digits),
                             round(c.mean_difference::numeric, digits),
                             CASE WHEN c.ci_lower IS NOT NULL
                                  THEN format('[%s, %s]', round(c.ci_lower::numeric, digits), round(c.ci_upper::numeric, digits))
                                  ELSE dash END,
                             CASE WHEN c.p_value IS NULL THEN dash
                                  WHEN c.p_value < 0.001 THEN btrim(to_char(c.p_value, '9.9EEEE'))
                                  ELSE round(c.p_value::numeric, 3)::text END,
                             CASE WHEN c.p_value_holm IS NULL THEN dash
                                  WHEN c.p_value_holm < 0.001 THEN btrim(to_char(c.p_value_holm, '9.9EEEE'))
                                  ELSE round(c.p_value_holm::numeric, 3)::text END
                                 || CASE WHEN c.p_value_holm < 0.05 THEN ' *' ELSE '' END,
                             coalesce(round(c.effect_size::numeric, 2)::text, dash),
                             c.wins, c.ties, c.losses,
                             CASE WHEN c.win_rate IS NOT NULL
                                  THEN format('%s [%s, %s]', round(c.win_rate::numeric, 3),
                                              round(c.win_rate_lower::numeric, 3), round(c.win_rate_upper::numeric, 3))
                                  ELSE dash END,
                             coalesce(round(c.correlation::numeric, 3)::text, dash),
                             coalesce(round(c.minimum_detectable_difference::numeric, digits)::text, dash),
                             coalesce(c.scenarios_needed::text, dash)),
                      E'\n' ORDER BY c.pos) FILTER (WHERE c.pos <= table_pairs)
      INTO comparison_total, comparison_rows
      FROM c;

    SELECT string_agg(format('<li><code>%s</code> %s%s</li>',
                             @extschema@.markup_escape(coalesce(w.item ->> 'code', '')),
                             @extschema@.markup_escape(coalesce(w.item ->> 'message', '')),
                             coalesce(p.details, '')),
                      E'\n' ORDER BY w.ord)
      INTO warning_items
      FROM jsonb_array_elements(CASE WHEN jsonb_typeof(doc -> 'warnings') = 'array' THEN doc -> 'warnings' ELSE '[]' END)
           WITH ORDINALITY AS w (item, ord)
      LEFT JOIN LATERAL (
           SELECT format('<details><summary>%s pair(s)</summary><ul>%s%s</ul></details>',
                         count(*),
                         string_agg('<li>' || @extschema@.markup_escape(x.pair_text) || '</li>', '' ORDER BY x.n)
                             FILTER (WHERE x.n <= 50),
                         CASE WHEN count(*) > 50 THEN format('<li>and %s more</li>', count(*) - 50) ELSE '' END)
                  AS details
             FROM (SELECT e.n, (SELECT string_agg(kv.key || ': ' || kv.value, ', ' ORDER BY kv.key COLLATE "C")
                                  FROM jsonb_each_text(e.pair) AS kv) AS pair_text
                     FROM jsonb_array_elements(w.item -> 'pairs') WITH ORDINALITY AS e (pair, n)) AS x
            WHERE jsonb_typeof(w.item -> 'pairs') = 'array'
           HAVING count(*) > 0
      ) AS p ON true;

    RETURN format($html$<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>multisample analysis: run %1$s</title>
<style>
body { font-family: "DejaVu Sans", Verdana, Arial, sans-serif; margin: 24px; color: #222222; background: #ffffff; }
h1 { font-size: 22px; margin: 0 0 12px 0; overflow-wrap: anywhere; }
h2 { font-size: 18px; margin: 32px 0 12px 0; border-bottom: 1px solid #cccccc; }
dl.summary { display: grid; grid-template-columns: max-content auto; gap: 4px 16px; margin: 0; }
dl.summary dt { font-weight: bold; }
dl.summary dd { margin: 0; overflow-wrap: anywhere; }
figure { margin: 12px 0; overflow-x: auto; }
figure svg { display: block; }
table { border-collapse: collapse; font-size: 13px; margin: 12px 0; }
div.table { overflow-x: auto; }
th, td { border: 1px solid #cccccc; padding: 3px 8px; text-align: left; vertical-align: top; }
tbody th { font-weight: normal; overflow-wrap: anywhere; min-width: 8em; max-width: 24em; }
thead th { background: #f2f2f2; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.significant td { font-weight: bold; }
.note { color: #555555; font-size: 13px; }
ul.warnings li { margin-bottom: 6px; overflow-wrap: anywhere; }
code { background: #f2f2f2; padding: 0 3px; }
</style>
</head>
<body>
<h1>Multi-sample analysis of run %1$s</h1>
<dl class="summary">
<dt>Definition</dt><dd>%2$s</dd>
<dt>Samples per scenario</dt><dd>%3$s</dd>
<dt>Score scale</dt><dd>%4$s</dd>
<dt>Scored samples</dt><dd>%5$s</dd>
<dt>Models</dt><dd>%6$s</dd>
<dt>Scenarios with scored samples</dt><dd>%7$s</dd>
</dl>
<h2 id="warnings">Warnings</h2>
%8$s
<h2 id="models">Models</h2>
<figure>%9$s</figure>
%10$s
<h2 id="variability">Variability by scenario</h2>
<figure>%11$s</figure>
<h2 id="comparison">Model comparison</h2>
<figure>%12$s</figure>
%13$s
<p class="note">Made by the multisample extension %14$s from analysis_json, model_variance, scenario_variance_overall and model_comparison. Tables round to %15$s decimals; the charts' tooltips carry the exact figures. Intervals treat scenarios as the units.</p>
</body>
</html>
$html$,
        run_text, definition_text,
        coalesce((doc ->> 'samplesPerScenario'), 'unusable (runs.config.samplesPerScenario)'),
        CASE WHEN scale_min IS NOT NULL THEN format('%s to %s', scale_min, scale_max)
             ELSE 'unusable (runs.config.scoreScale)' END,
        coalesce(doc ->> 'sampleCount', '0'),
        (SELECT count(*) FROM jsonb_object_keys(CASE WHEN jsonb_typeof(doc -> 'perModel') = 'object'
                                                     THEN doc -> 'perModel' ELSE '{}' END)),
        CASE WHEN jsonb_typeof(doc -> 'scenarioVariance') = 'array'
             THEN jsonb_array_length(doc -> 'scenarioVariance') ELSE 0 END,
        CASE WHEN warning_items IS NOT NULL THEN E'<ul class="warnings">\n' || warning_items || E'\n</ul>'
             ELSE '<p>None.</p>' END,
        @extschema@.model_chart_svg(analysis_html.run_id),
        CASE WHEN model_rows IS NOT NULL THEN
            E'<div class="table"><table class="models">\n<thead><tr><th scope="col">Model</th><th scope="col">Scored samples</th><th scope="col">Scenarios</th>'
            '<th scope="col">Mean over scenarios</th><th scope="col">95% interval (scenarios as units)</th><th scope="col">Mean of all samples</th>'
            '<th scope="col">Within-scenario std dev</th><th scope="col">Consistency</th></tr></thead>\n<tbody>\n'
            || model_rows || E'\n</tbody>\n</table></div>'
        ELSE '<p class="note">No scored samples yet.</p>' END,
        @extschema@.variance_heatmap_svg(analysis_html.run_id),
        @extschema@.comparison_chart_svg(analysis_html.run_id),
        CASE WHEN comparison_rows IS NOT NULL THEN
            E'<div class="table"><table class="comparison">\n<thead><tr><th scope="col">Model A</th><th scope="col">Model B</th><th scope="col">Scenarios</th>'
            '<th scope="col">Mean A</th><th scope="col">Mean B</th><th scope="col">Difference A &#8722; B</th><th scope="col">95% interval</th>'
            '<th scope="col">p</th><th scope="col">p (Holm)</th><th scope="col">Effect size d<sub>z</sub></th>'
            '<th scope="col">Wins / ties / losses of A</th><th scope="col">Win rate of A [95% Wilson]</th><th scope="col">Correlation</th>'
            '<th scope="col">Minimum detectable difference</th><th scope="col">Scenarios needed</th></tr></thead>\n<tbody>\n'
            || comparison_rows || E'\n</tbody>\n</table></div>'
            || CASE WHEN comparison_total > table_pairs
                    THEN format('<p class="note">The %s pairs with the smallest Holm-adjusted p-values of %s; %s more in multisample.model_comparison.</p>',
                                table_pairs, comparison_total, comparison_total - table_pairs)
                    ELSE '' END
        ELSE '' END,
        coalesce(@extschema@.markup_escape(version_text), ''), digits);
END
$function$;
COMMENT ON FUNCTION @extschema@.analysis_html(text) IS
    'One self-contained HTML page for a run (no script, no external asset, a strict Content-Security-Policy): summary, warnings, model chart and table, variability heat map, comparison forest plot and table. Unknown run: P0002.';
