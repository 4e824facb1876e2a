#!/usr/bin/env bash
# Charts (SPEC 12.6) as a reader sees them. Builds four runs in a throwaway
# database: the demo's run (examples/, worked off by the demo's simulated
# workers: the same figures as bin/demo), a run whose ids, names and warnings
# are hostile markup, large runs (100 models x 1000 scenarios for the model
# chart and the heat map; 100 models x 20 scenarios, 4950 pairs, for the
# report and its forest plot: model_comparison over 100 models and 1000
# scenarios takes minutes on a loaded machine) and runs with
# no scores or one model. Then:
#   - every chart passes `xmllint --noout`; the output is the same bytes in
#     another session with other settings;
#   - test/charts_browser.js renders the report and the charts in headless
#     Chromium (Debian's package, driven by playwright-core from npm) and
#     checks what is drawn against the views: each bar within a pixel of its
#     figures, tooltips exact, heat-map colours as the legend says, nothing
#     executes, no network request, labels readable; screenshots are kept
#     in test/output/charts/ (MULTISAMPLE_UPDATE_DOCS=1 also copies the
#     demo's charts to docs/charts/ for the README).
# Without Chromium (bin/setup-deps test installs it) or playwright-core (npm
# installs it into $MULTISAMPLE_NODE_CACHE, default
# /var/cache/multisample-test/node, outside the work tree, once) the browser
# part is skipped with a SKIP line.
set -uo pipefail
source "$(dirname "$0")/lib/common.sh"

PLAYWRIGHT_VERSION=1.65.1
OUT="$REPO/test/output/charts"
rm -rf "$OUT"
mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/ms_charts.XXXXXX)
on_exit "rm -rf '$WORK'"

db=$(new_db charts) || { not_ok "create a database"; finish; }
psql_db() { psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }
q "$db" "CREATE EXTENSION multisample" >/dev/null || { not_ok "CREATE EXTENSION"; finish; }

# ---- the demo's run ---------------------------------------------------------
demo=moral-dilemmas-demo
psql_db -f "$REPO/examples/evaluation.sql" >/dev/null &&
q "$db" "SELECT run_id FROM multisample.start_run('moral-dilemmas-v1', ARRAY['gpt-sim-large', 'claude-sim', 'local-llama'],
             samples_per_scenario => 5, priority => 'NORMAL', id => '$demo')" >/dev/null &&
(export PGDATABASE=$db
 cd "$REPO/examples" && "$PY" simulated_worker.py charts-worker-1 >/dev/null & w1=$!
 cd "$REPO/examples" && "$PY" simulated_worker.py charts-worker-2 >/dev/null & w2=$!
 wait "$w1" && wait "$w2")
is "$(q "$db" "SELECT count(*) FROM multisample.transcripts WHERE run_id = '$demo' AND score IS NOT NULL")" 180 \
   "the demo's run: 3 models x 12 scenarios x 5 samples scored by the simulated workers ($SECONDS s)"

# ---- hostile ids, names and warnings ----------------------------------------
# Each payload sets window.__pwned if it ever runs; some would load from
# 127.0.0.1:9 (nothing listens there, and the browser is offline anyway).
psql_db <<'SQL' >/dev/null
INSERT INTO multisample.definitions (id, name) VALUES
    ('hostile-def', '<b onmouseover="window.__pwned = ''definition''">definition</b>');
INSERT INTO multisample.scenarios (id, definition_id, name) VALUES
    (']]><script>window.__pwned = "cdata"</script>', 'hostile-def', '<img src=x onerror="window.__pwned = ''img''">'),
    ('<!-- --><iframe src="http://127.0.0.1:9/frame"></iframe>', 'hostile-def', 'javascript:window.__pwned = ''js-name'''),
    ('<style>@import url(http://127.0.0.1:9/s.css); *{display:none}</style>', 'hostile-def', '&lt;b&gt; entity &amp; text'),
    ('plain-scenario', 'hostile-def', U&'\6A21\578B \+01F600 \202Eright-to-left');
INSERT INTO multisample.runs (id, definition_id, config) VALUES
    ('<run id="x">''&<script>window.__pwned = "run"</script>', 'hostile-def',
     '{"samplesPerScenario": 3, "models": ["<script>window.__pwned = \"model\"</script>", "a-model-with-no-samples-<img src=x onerror=alert(1)>"]}');
INSERT INTO multisample.transcripts (run_id, scenario_id, model_id, sample_index, score)
SELECT '<run id="x">''&<script>window.__pwned = "run"</script>', s.id, m.id, i,
       1 + (length(s.id) * 3 + length(m.id) * 7 + i * (1 + length(s.id) % 4)) % 5
  FROM multisample.scenarios AS s,
       unnest(ARRAY['<script>window.__pwned = "model"</script>', '"><svg onload="window.__pwned = ''onload''">',
                    'javascript:window.__pwned = "href"', '<image href="http://127.0.0.1:9/i.png"/><link rel="stylesheet" href="http://127.0.0.1:9/l.css">',
                    U&'\6A21\578B-\+01F600-\202Eevil', 'long-' || repeat('x', 200)]) AS m (id),
       generate_series(0, 2) AS i
 WHERE s.definition_id = 'hostile-def'
   AND NOT (i = 2 AND s.id = 'plain-scenario' AND m.id LIKE 'javascript%');
SQL
hostile_run='<run id="x">'"'"'&<script>window.__pwned = "run"</script>'
is "$(q "$db" "SELECT count(*) FROM multisample.transcripts WHERE run_id = \$\$$hostile_run\$\$")" 71 \
   "the hostile run: 4 scenarios x 6 models x 3 samples, one pair short"

# ---- a large run: 100 models x 1000 scenarios x 2 samples --------------------
# Some pairs are missing and some have one sample, so every kind of cell
# appears. Model ids are as long as real ones.
psql_db <<'SQL' >/dev/null
INSERT INTO multisample.definitions (id, name) VALUES ('large-def', 'Large');
INSERT INTO multisample.scenarios (id, definition_id, name)
SELECT format('scenario-%s', lpad(s::text, 4, '0')), 'large-def', format('Scenario %s', s) FROM generate_series(1, 1000) AS s;
INSERT INTO multisample.runs (id, definition_id, config) VALUES ('large-run', 'large-def', '{"samplesPerScenario": 2}');
INSERT INTO multisample.transcripts (run_id, scenario_id, model_id, sample_index, score)
SELECT 'large-run', format('scenario-%s', lpad(s::text, 4, '0')),
       format('provider-%s/model-%s-instruct-2025', m % 7, lpad(m::text, 3, '0')), i,
       1 + (s * 7 + m * (3 + s % 4) + i * (s % 5) * (1 + m % 3)) % 5
  FROM generate_series(1, 1000) AS s, generate_series(1, 100) AS m, generate_series(0, 1) AS i
 WHERE NOT (s % 97 = 0 AND m % 10 = 0)
   AND NOT (i = 1 AND s % 89 = 0 AND m % 7 = 0);
INSERT INTO multisample.runs (id, definition_id, config) VALUES ('many-models-run', 'large-def', '{"samplesPerScenario": 2}');
INSERT INTO multisample.transcripts (run_id, scenario_id, model_id, sample_index, score)
SELECT 'many-models-run', t.scenario_id, t.model_id, t.sample_index, t.score
  FROM multisample.transcripts AS t
 WHERE t.run_id = 'large-run' AND t.scenario_id <= 'scenario-0020';
SQL

# ---- edge runs: no scores, one model ----------------------------------------
psql_db <<'SQL' >/dev/null
INSERT INTO multisample.runs (id, definition_id, config) VALUES
    ('empty-run', 'large-def', '{"samplesPerScenario": 2, "models": ["m"]}'),
    ('one-model-run', 'large-def', '{"samplesPerScenario": 2, "models": ["only-model"]}');
INSERT INTO multisample.transcripts (run_id, scenario_id, model_id, sample_index, score)
SELECT 'one-model-run', format('scenario-%s', lpad(s::text, 4, '0')), 'only-model', i, 1 + (s + i) % 5
  FROM generate_series(1, 5) AS s, generate_series(0, 1) AS i;
SQL

# Settled statistics and visibility, so that nothing changes a plan (and so
# the last bits of a view's sums) between the renders compared below.
q "$db" "VACUUM ANALYZE" >/dev/null
diag "the runs are in the database ($SECONDS s)"

# ---- render -----------------------------------------------------------------
# render RUN NAME MODE: NAME.html (not for "charts"), NAME-model.svg and
# NAME-heatmap.svg (not for "report"), NAME-comparison.svg (for "all"), and
# NAME.json, the expectations (without pairs for "charts").
render() {
    local run=$1 name=$2 mode=$3
    if [ "$mode" != charts ]; then
        psql -X -At -v ON_ERROR_STOP=1 -d "$db" -v run="$run" >"$WORK/$name.html" <<'SQL' || return 1
SELECT multisample.analysis_html(:'run');
SQL
    fi
    if [ "$mode" != report ]; then
        psql -X -At -v ON_ERROR_STOP=1 -d "$db" -v run="$run" <<'SQL' >"$WORK/$name-model.svg" || return 1
SELECT multisample.model_chart_svg(:'run');
SQL
        psql -X -At -v ON_ERROR_STOP=1 -d "$db" -v run="$run" <<'SQL' >"$WORK/$name-heatmap.svg" || return 1
SELECT multisample.variance_heatmap_svg(:'run');
SQL
    fi
    if [ "$mode" = all ]; then
        psql -X -At -v ON_ERROR_STOP=1 -d "$db" -v run="$run" <<'SQL' >"$WORK/$name-comparison.svg" || return 1
SELECT multisample.comparison_chart_svg(:'run');
SQL
    fi
    psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -v run="$run" -v pairs="$([ "$mode" = charts ] && echo no || echo yes)" \
         -f "$REPO/test/sql/chart_expectations.sql" >"$WORK/$name.json"
}
rendered=0
for spec in "$demo:demo:all" "$hostile_run:hostile:all" "large-run:large:charts" "many-models-run:many-models:report" \
            "empty-run:empty:all" "one-model-run:one-model:all"; do
    name=${spec%:*}; mode=${spec##*:}; run=${name%:*}; name=${name##*:}
    start=$(date +%s%N)
    if render "$run" "$name" "$mode"; then
        rendered=$((rendered + 1))
        diag "$name: rendered in $((($(date +%s%N) - start) / 1000000)) ms (with its expectations): $(cat "$WORK/$name".html "$WORK/$name"-*.svg 2>/dev/null | wc -c) bytes"
    else
        diag "$name: rendering failed"
    fi
done
is "$rendered" 6 "every run renders: the report and the three charts"

# ---- the same bytes in another session with other settings ------------------
psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -v run="$demo" >"$WORK/demo-again.html" <<'SQL'
SET extra_float_digits = 0;
SET DateStyle = 'SQL, DMY';
SET TimeZone = 'Pacific/Chatham';
SET lc_monetary = 'C';
SET search_path = public;
SELECT multisample.analysis_html(:'run');
SQL
check "the demo's report is the same bytes in another session with other float, date and time zone settings" \
    cmp -s "$WORK/demo.html" "$WORK/demo-again.html"

# ---- well-formed XML, every chart --------------------------------------------
bad_xml=""
for f in "$WORK"/*.svg; do
    xmllint --noout "$f" 2>"$WORK/xmllint.err" || bad_xml+=" $(basename "$f"): $(head -1 "$WORK/xmllint.err")"
done
if command -v xmllint >/dev/null; then
    is "${bad_xml:-none}" none "xmllint --noout accepts all $(ls "$WORK"/*.svg | wc -l) charts (well-formed XML)"
    # The charts inside each report are the same well-formed documents.
    bad_inline=$("$PY" - "$WORK" <<'PY'
import glob, re, subprocess, sys
bad = []
for html in sorted(glob.glob(sys.argv[1] + '/*.html')):
    text = open(html, encoding='utf-8').read()
    svgs = re.findall(r'<svg\b.*?</svg>', text, re.S)
    for i, svg in enumerate(svgs):
        if subprocess.run(['xmllint', '--noout', '-'], input=svg.encode(), capture_output=True).returncode:
            bad.append(f'{html.split("/")[-1]} chart {i + 1}')
    if len(svgs) != 3:
        bad.append(f'{html.split("/")[-1]}: {len(svgs)} charts')
print(', '.join(bad) or 'none')
PY
)
    is "$bad_inline" none "the three charts inside each report are well-formed XML too"
else
    not_ok "xmllint is installed (bin/setup-deps test: libxml2-utils)"
fi

# ---- the README's ways of showing a chart ------------------------------------
# psql -XAt ... -o FILE writes the chart as it is.
psql -XAt -d "$db" -c "SELECT multisample.model_chart_svg('$demo')" -o "$WORK/readme-model.svg"
check "psql -XAt -c ... -o model.svg (README) writes the chart unchanged" cmp -s "$WORK/readme-model.svg" "$WORK/demo-model.svg"
# IPython.display.SVG parses the text with xml.dom.minidom and keeps the
# <svg> element.
is "$("$PY" - "$WORK" <<'PY'
import glob, sys
from xml.dom import minidom
bad = []
for f in sorted(glob.glob(sys.argv[1] + '/*.svg')):
    doc = minidom.parseString(open(f, 'rb').read())
    svg = doc.getElementsByTagName('svg')
    if len(svg) != 1 or svg[0].getAttribute('xmlns') != 'http://www.w3.org/2000/svg':
        bad.append(f)
print(', '.join(bad) or 'none')
PY
)" none "every chart parses with xml.dom.minidom into one <svg> element (what IPython.display.SVG does)"
# The data: URL of the README, for panels that show an image URL.
psql -XAt -d "$db" -o "$WORK/data-url.txt" <<SQL
SELECT 'data:image/svg+xml;base64,'
       || translate(encode(convert_to(multisample.model_chart_svg('$demo'), 'UTF8'), 'base64'), E'\n', '')
       AS chart_url;
SQL
printf '<!DOCTYPE html><html><body><img id="chart" alt="model chart" src="%s"></body></html>\n' "$(cat "$WORK/data-url.txt")" >"$WORK/data-url.html"

# ---- the demo's figures, as bin/demo prints them -----------------------------
is "$("$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d["models"]), len(d["scenarios"]), d["pairTotal"])' "$WORK/demo.json")" \
   "3 12 3" "the demo's expectations: 3 models, 12 scenarios, 3 pairs"

# ---- in the browser -----------------------------------------------------------
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
NODE_CACHE=${MULTISAMPLE_NODE_CACHE:-/var/cache/multisample-test/node}
browser_ready() {
    [ -x "$CHROMIUM" ] || { skip "browser checks" "Chromium is not installed ($CHROMIUM; bin/setup-deps test installs Debian's chromium)"; return 1; }
    command -v node >/dev/null || { skip "browser checks" "node is not installed"; return 1; }
    if [ "$(node -p "try { require('$NODE_CACHE/node_modules/playwright-core/package.json').version } catch (e) { '' }" 2>/dev/null)" != "$PLAYWRIGHT_VERSION" ]; then
        mkdir -p "$NODE_CACHE" 2>/dev/null || NODE_CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/multisample-test/node
        mkdir -p "$NODE_CACHE"
        [ -f "$NODE_CACHE/package.json" ] || echo '{"private": true}' >"$NODE_CACHE/package.json"
        diag "installing playwright-core@$PLAYWRIGHT_VERSION into $NODE_CACHE"
        (cd "$NODE_CACHE" && flock "$NODE_CACHE/.lock" npm install --no-audit --no-fund --loglevel=error \
             "playwright-core@$PLAYWRIGHT_VERSION" >/dev/null 2>&1) ||
            { skip "browser checks" "playwright-core could not be installed from npm into $NODE_CACHE"; return 1; }
    fi
    return 0
}
if browser_ready; then
    # A control page: a payload written raw, which must run, so a silent
    # detector would show.
    printf '%s\n' '<!DOCTYPE html><html><body><svg xmlns="http://www.w3.org/2000/svg" onload="window.__pwned = 1"></svg></body></html>' >"$WORK/control.html"
    # The hostile report with its Content-Security-Policy removed: escaping
    # alone must keep it inert.
    sed 's/<meta http-equiv="Content-Security-Policy"[^>]*>//' "$WORK/hostile.html" >"$WORK/hostile-nocsp.html"
    grep -q 'Content-Security-Policy' "$WORK/hostile-nocsp.html" && not_ok "remove the CSP from the hostile report"
    "$PY" - "$WORK" "$OUT" <<'PY'
import json, sys
work, out = sys.argv[1], sys.argv[2]
exp = {n: json.load(open(f'{work}/{n}.json')) for n in ('demo', 'hostile', 'large', 'many-models', 'empty', 'one-model')}
hostile_text = ['<script>window.__pwned = "model"</script>', '"><svg onload="window.__pwned = \'onload\'">',
                'javascript:window.__pwned = "href"', ']]><script>window.__pwned = "cdata"</script>',
                '<!-- --><iframe src="http://127.0.0.1:9/frame"></iframe>',
                '<b onmouseover="window.__pwned = \'definition\'">definition</b>',
                '\u6a21\u578b-\U0001f600-\u202eevil']
all_checks = ['safe', 'bars', 'forest', 'heatmap', 'readable', 'tables']
pages = [
    {'name': 'control page', 'file': 'control.html', 'kind': 'html', 'checks': ['executes']},
    {'name': 'data: URL of the model chart in an <img>', 'file': 'data-url.html', 'kind': 'html', 'checks': ['image'],
     'svgFile': 'demo-model.svg'},
    {'name': 'demo report', 'file': 'demo.html', 'kind': 'html', 'expect': exp['demo'], 'checks': all_checks,
     'screenshots': {'page': 'analysis.png', 'Mean score per model': 'model_chart.png',
                     'Within-pair standard deviation': 'variance_heatmap.png', 'Model comparison': 'comparison_chart.png'}},
    {'name': 'demo model chart (SVG document)', 'file': 'demo-model.svg', 'kind': 'svg', 'expect': exp['demo'], 'checks': ['safe', 'bars', 'readable']},
    {'name': 'demo heat map (SVG document)', 'file': 'demo-heatmap.svg', 'kind': 'svg', 'expect': exp['demo'], 'checks': ['safe', 'heatmap', 'readable']},
    {'name': 'demo forest plot (SVG document)', 'file': 'demo-comparison.svg', 'kind': 'svg', 'expect': exp['demo'], 'checks': ['safe', 'forest', 'readable']},
    {'name': 'hostile report', 'file': 'hostile.html', 'kind': 'html', 'expect': exp['hostile'], 'checks': all_checks,
     'shownText': hostile_text, 'screenshots': {'page': 'hostile.png'}},
    {'name': 'hostile report without CSP', 'file': 'hostile-nocsp.html', 'kind': 'html', 'expect': exp['hostile'],
     'checks': ['safe'], 'noCsp': True, 'shownText': hostile_text},
] + [
    {'name': f'hostile {what} (SVG document)', 'file': f'hostile-{what}.svg', 'kind': 'svg', 'expect': exp['hostile'],
     'checks': ['safe', check], 'shownText': [t for t in hostile_text if 'model' in t or 'onload' in t or 'href' in t or 'evil' in t]}
    for what, check in (('model', 'bars'), ('heatmap', 'heatmap'), ('comparison', 'forest'))
] + [
    {'name': '100 x 1000 model chart (SVG document)', 'file': 'large-model.svg', 'kind': 'svg', 'expect': exp['large'],
     'checks': ['safe', 'bars', 'readable'], 'screenshots': {'Mean score per model': 'large_model_chart.png'}},
    {'name': '100 x 1000 heat map (SVG document)', 'file': 'large-heatmap.svg', 'kind': 'svg', 'expect': exp['large'],
     'checks': ['safe', 'heatmap', 'readable'], 'screenshots': {'Within-pair standard deviation': 'large_variance_heatmap.png'}},
    {'name': '100-model report', 'file': 'many-models.html', 'kind': 'html', 'expect': exp['many-models'], 'checks': all_checks,
     'screenshots': {'Model comparison': 'large_comparison_chart.png'}},
    {'name': 'run without scores', 'file': 'empty.html', 'kind': 'html', 'expect': exp['empty'], 'checks': ['safe', 'messages'],
     'messages': [['Mean score per model', 'no scored samples yet'], ['Within-pair standard deviation', 'no scored samples yet'],
                  ['Model comparison', 'no scored samples yet']], 'screenshots': {'page': 'empty.png'}},
    {'name': 'run with one model', 'file': 'one-model.html', 'kind': 'html', 'expect': exp['one-model'],
     'checks': ['safe', 'bars', 'heatmap', 'messages'], 'messages': [['Model comparison', 'one model only: nothing to compare']]},
]
json.dump({'output': out, 'pages': pages}, open(f'{work}/manifest.json', 'w'))
PY
    diag "the browser checks start ($SECONDS s)"
    out=$(NODE_PATH="$NODE_CACHE/node_modules" CHROMIUM="$CHROMIUM" node "$REPO/test/charts_browser.js" "$WORK" 2>&1)
    status=$?
    echo "$out"
    TAP_PASSED=$((TAP_PASSED + $(grep -cE '^ok\b' <<<"$out")))
    TAP_FAILED=$((TAP_FAILED + $(grep -cE '^not ok\b' <<<"$out")))
    [ "$status" -ne 0 ] && ! grep -qE '^not ok\b' <<<"$out" && not_ok "charts_browser.js exited with status $status"
    cp "$WORK"/*.html "$WORK"/*.svg "$WORK"/*.json "$OUT"/ 2>/dev/null
    diag "screenshots and rendered files: $OUT ($SECONDS s)"
    if [ "${MULTISAMPLE_UPDATE_DOCS:-0}" = 1 ]; then
        mkdir -p "$REPO/docs/charts"
        cp "$OUT/model_chart.png" "$OUT/variance_heatmap.png" "$OUT/comparison_chart.png" "$REPO/docs/charts/"
        diag "copied the demo's charts to docs/charts/"
    fi
fi
finish
