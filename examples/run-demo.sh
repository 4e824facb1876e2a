#!/usr/bin/env bash
# The demo itself, run by bin/demo inside a throwaway cluster (PG* variables
# set by pg_virtualenv). Argument: the folder the exports are written to.
set -euo pipefail
cd "$(dirname "$0")"
out=$1
export PGDATABASE=multisample_demo
createdb "$PGDATABASE"
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

echo "== Installing the extension and loading the example evaluation"
q -c "CREATE EXTENSION multisample"
q -f evaluation.sql
q -c "SELECT d.name AS definition, count(s.*) AS scenarios
        FROM multisample.definitions d JOIN multisample.scenarios s ON s.definition_id = d.id
       GROUP BY d.name"

models="ARRAY['gpt-sim-large', 'claude-sim', 'local-llama']"
echo "== Preview: 3 models x all scenarios x 5 samples"
q -c "SELECT scenario_count, samples, job_count, estimated_cost AS usd, unpriced_models
        FROM multisample.preview_run('moral-dilemmas-v1', $models, samples_per_scenario => 5)"
q -c "SELECT m->>'modelId' AS model, m->>'probes' AS probes, m->>'tokenSource' AS token_source,
             m->>'inputTokensPerProbe' AS input_tokens, m->>'outputTokensPerProbe' AS output_tokens,
             m->>'cost' AS usd
        FROM multisample.preview_run('moral-dilemmas-v1', $models, samples_per_scenario => 5) AS p,
             jsonb_array_elements(p.estimate->'perModel') AS m"

echo "== Starting the run"
run_id=$(q -At -c "SELECT run_id FROM multisample.start_run('moral-dilemmas-v1', $models,
                        samples_per_scenario => 5, priority => 'NORMAL', id => 'moral-dilemmas-demo',
                        success_threshold => 4)")
echo "run $run_id"
q -c "SELECT run_id, status, total, completed, queued, bar FROM multisample.run_progress WHERE run_id = '$run_id'"

echo "== Two simulated workers work the queue off"
/usr/bin/python3 simulated_worker.py worker-1 &
w1=$!
/usr/bin/python3 simulated_worker.py worker-2 &
w2=$!
wait "$w1" "$w2"
q -c "SELECT run_id, status, total, completed, failed, percent, bar FROM multisample.run_progress WHERE run_id = '$run_id'"
q -c "SELECT model_id, completed, total FROM multisample.run_model_progress WHERE run_id = '$run_id' ORDER BY model_id"

echo "== Models: mean score, 95 % interval (scenarios as units), consistency"
q -c "SELECT model_id, scored_samples, round(mean::numeric, 3) AS mean,
             round(ci_lower::numeric, 3) AS ci_lower, round(ci_upper::numeric, 3) AS ci_upper,
             round(avg_within_scenario_variance::numeric, 3) AS within_var,
             round(consistency_score::numeric, 3) AS consistency
        FROM multisample.model_variance WHERE run_id = '$run_id' ORDER BY mean DESC"

echo "== Comparing models: paired differences of scenario means (A - B), p after Holm over all pairs"
q -c "SELECT model_a || ' - ' || model_b AS pair, scenarios,
             round(mean_difference::numeric, 3) AS difference,
             round(ci_lower::numeric, 3) || ' .. ' || round(ci_upper::numeric, 3) AS ci_95,
             round(p_value::numeric, 4) AS p, round(p_value_holm::numeric, 4) AS p_holm,
             CASE WHEN p_value_holm < 0.05 THEN 'yes' ELSE 'no' END AS significant,
             wins || '/' || ties || '/' || losses AS wins_ties_losses,
             round(win_rate::numeric, 2) AS win_rate,
             round(effect_size::numeric, 2) AS d_z
        FROM multisample.model_comparison WHERE run_id = '$run_id' ORDER BY model_a, model_b"

echo "== Sizing the next run (alpha 0.05, power 0.8): what this run can detect, what the observed differences need"
q -c "SELECT model_a || ' - ' || model_b AS pair,
             round(minimum_detectable_difference::numeric, 3) AS detectable_at_this_size,
             round(abs(mean_difference)::numeric, 3) AS observed_difference,
             scenarios AS scenarios_now, scenarios_needed,
             CASE WHEN mean_difference <> 0 AND between_variance IS NOT NULL THEN
                 multisample.scenarios_needed(abs(mean_difference), between_variance, within_variance_a,
                                              within_variance_b, 20, 20) END AS needed_with_20_samples,
             round(between_variance::numeric, 4) AS between_variance,
             round(within_variance_a::numeric, 3) AS within_a, round(within_variance_b::numeric, 3) AS within_b
        FROM multisample.model_comparison WHERE run_id = '$run_id' ORDER BY model_a, model_b"

echo "== pass@k and pass^k (a success: score >= 4)"
q -c "SELECT model_id, k, scenarios, round(pass_at_k::numeric, 3) AS pass_at_k, round(pass_hat_k::numeric, 3) AS pass_hat_k
        FROM multisample.model_pass_at_k WHERE run_id = '$run_id' AND k IN (1, 3, 5) ORDER BY model_id, k"

echo "== Adaptive sampling: where 60 more samples would reduce the uncertainty of the model means most"
echo "   (plan_samples writes nothing; add_samples would queue exactly this)"
q -c "SELECT model_id, count(*) FILTER (WHERE extra > 0) AS pairs_getting_samples, sum(extra) AS extra_samples,
             round(avg(variance)::numeric, 3) AS mean_pair_variance
        FROM multisample.plan_samples('$run_id', 60) GROUP BY model_id ORDER BY extra_samples DESC, model_id"
q -c "SELECT model_id, scenario_id, scored_samples, round(variance::numeric, 3) AS variance,
             round(planning_variance::numeric, 3) AS planning_variance, extra, new_planned_samples
        FROM multisample.plan_samples('$run_id', 60)
       ORDER BY extra DESC, planning_variance DESC, model_id, scenario_id LIMIT 8"

echo "== The five most variable scenario-model pairs"
q -c "SELECT variance_rank, scenario_id, model_id, sample_count, round(mean::numeric, 2) AS mean,
             round(variance::numeric, 3) AS variance, min, max
        FROM multisample.scenario_variance WHERE run_id = '$run_id' ORDER BY variance_rank LIMIT 5"

echo "== Where samples 0 and 1 of the most variable pair first diverge"
q -c "SELECT v.scenario_id, v.model_id, d.turn_index, d.turn_a->>'content' AS sample_0, d.turn_b->>'content' AS sample_1
        FROM multisample.scenario_variance v,
             multisample.first_divergence(v.run_id, v.scenario_id, v.model_id, 0, 1) d
       WHERE v.run_id = '$run_id' ORDER BY v.variance_rank, v.scenario_id, v.model_id LIMIT 1"

echo "== Exports"
q -At -c "SELECT jsonb_pretty(multisample.analysis_json('$run_id'))" > "$out/analysis.json"
q -At -c "SELECT multisample.analysis_html('$run_id')" > "$out/analysis.html"
q -At -c "SELECT multisample.export_run_csv('$run_id')" > "$out/run.csv"
q -c "\\copy (SELECT * FROM multisample.transcript_export WHERE run_id = '$run_id' ORDER BY model_id, scenario_id, sample_index) TO '$out/transcripts.csv' CSV HEADER"
ls -l "$out"
echo "analysis.html: the report with its charts (open it in a browser)"
echo "analysis.json: $(/usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(len(d['perModel']), 'models,', len(d['modelComparison']), 'model comparisons,', len(d.get('passAtK', {})), 'pass@k curves,', len(d['warnings']), 'warnings')" "$out/analysis.json")"
