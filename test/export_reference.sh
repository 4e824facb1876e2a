#!/usr/bin/env bash
# export_run_csv(run, protect_formulas, reference_layout => true) against the
# reference platform's file, byte for byte. Random runs (seeded) are loaded:
# model ids that collide once shortened, dimension names with characters
# outside the BMP and in U+E000-U+FFFF (where UTF-16 order and byte order
# disagree), quotes, commas, CR, LF, formula-like leads; dimension values
# written as JSON numbers in every form (integers, -0, trailing zeros,
# exponents either case, beyond 2^53, beyond the double range both ways,
# subnormals, 17-digit fractions) and non-numbers; dialogues with missing and
# empty target responses; unscored, deleted and decision-less transcripts.
# Each run is exported with psql -XAt -o (as the README says), with the guard
# on and off, and compared with the file test/reference_export.js writes on
# Node.js from the same rows read back as JSON text (so Node parses the
# numbers itself, as the reference platform does).
# MULTISAMPLE_LONG=1 runs ten times as many runs.
set -uo pipefail
cd "$(dirname "$0")/.."
source test/lib/common.sh

command -v node >/dev/null || { not_ok "node is installed (bin/setup-deps test)"; finish; }
db=$(new_db export_ref) || { not_ok "createdb"; finish; }
work=$(mktemp -d)
on_exit "rm -rf '$work'"
export PGDATABASE="$db" PGCLIENTENCODING=UTF8
q "$db" 'CREATE EXTENSION multisample' >/dev/null || { not_ok "create extension"; finish; }

runs=60
[ "$LONG" = 1 ] && runs=600

# 0. js_number_text against Node's String(JSON.parse(x)) on numbers alone:
#    random decimals and exponents, every power of two as an exact decimal
#    (where a double's rounding interval is lopsided), and exact midpoints
#    between neighbouring doubles (read back with round-half-even).
numbers=20000
[ "$LONG" = 1 ] && numbers=200000
N=$numbers $PY - > "$work/numbers.txt" <<'PY'
import os, random, struct
from decimal import Decimal, getcontext
getcontext().prec = 1200
rng = random.Random(20261203)
out = []
for _ in range(int(os.environ['N'])):
    k = rng.random()
    if k < 0.3:
        out.append(str(rng.randint(-10**rng.randint(1, 25), 10**rng.randint(1, 25))))
    elif k < 0.6:
        digits = ''.join(rng.choice('0123456789') for _ in range(rng.randint(1, 20)))
        p = rng.randint(0, len(digits))
        out.append((digits[:p].lstrip('0') or '0') + ('.' + digits[p:] if p < len(digits) else ''))
    elif k < 0.8:
        out.append('%d.%de%s%d' % (rng.randint(0, 9), rng.randint(0, 10**6), rng.choice(['', '+', '-']), rng.randint(0, 330)))
    else:
        bits = rng.getrandbits(63)
        x = struct.unpack('<d', struct.pack('<Q', bits))[0]
        y = struct.unpack('<d', struct.pack('<Q', bits + 1))[0]
        if x == x and y == y and abs(y) != float('inf'):
            out.append(format((Decimal(x) + Decimal(y)) / 2, 'f'))
for e in range(-1074, 1024):
    out.append(format(Decimal(2) ** e, 'f'))
print('\n'.join(out))
PY
psql -X -q -At -v ON_ERROR_STOP=1 -c "CREATE TEMP TABLE n (ord serial, v text)" \
     -c "\\copy n (v) FROM '$work/numbers.txt'" \
     -c "SELECT multisample.js_number_text(v::numeric) FROM n ORDER BY ord" > "$work/numbers.pg.txt" \
    || not_ok "js_number_text over $work/numbers.txt"
result=$(node -e '
    const fs = require("fs");
    const input = fs.readFileSync(process.argv[1], "utf8").trim().split("\n");
    const ours = fs.readFileSync(process.argv[2], "utf8").trim().split("\n");
    let bad = 0, first = "";
    input.forEach((v, i) => { const js = String(JSON.parse(v));
        if (js !== ours[i]) { if (!bad++) first = v.slice(0, 60) + " ours " + ours[i] + " node " + js; } });
    console.log(input.length + " " + (ours.length === input.length ? bad : "rows differ") + " " + first);
' "$work/numbers.txt" "$work/numbers.pg.txt")
read -r count bad first_bad <<< "$result"
is "$bad" "0" "js_number_text prints $count numbers exactly as Node's String(JSON.parse(x)) ${first_bad:+(first difference: $first_bad)}"

# 1. Random runs, and the Node input for each (rows read back from the
#    database: content and dimensions as jsonb text).
RUNS=$runs WORK=$work $PY - <<'PY' || { not_ok "load the random runs"; finish; }
import json, os, random
import psycopg2

rng = random.Random(20261202)
work = os.environ['WORK']
n_runs = int(os.environ['RUNS'])

PIECES = ['a', 'word', ' ', ',', '"', '""', '\r', '\n', '\r\n', "'", 'é', 'Ä', '中文', '😀', '𝄞', '🇫🇷',
          '\uff21', '\ue000', '\ufffd', '\ud7ff', '=', '+', '-', '@', '\t', '0', '1.5', 'NA', ';', '|']
LEADS = ['=', '+', '-', '@', '\t', '\r', '=cmd|\' /C calc\'!A0', '@SUM(1)', '+1+1', '-2+3']

def text(max_pieces=6, lead=0.15):
    s = ''.join(rng.choice(PIECES) for _ in range(rng.randint(0, max_pieces)))
    if rng.random() < lead:
        s = rng.choice(LEADS) + s
    return s

def number_text():
    kind = rng.random()
    if kind < 0.1:
        return rng.choice(['0', '-0', '0.0', '-0.0', '1.0', '2.50', '100', '-7', '1e21', '1E21', '1e20',
                           '1.5e-7', '1.5E-7', '0.000001', '1e-7', '1e-6', '123e-9', '1e300', '1e400', '-1e400',
                           '1e-400', '5e-324', '2.5e-324', '2e-324', '1.7976931348623157e308', '1.7976931348623159e308',
                           '0.30000000000000004', '9007199254740993', '123456789012345678901234567890',
                           '0.1', '-0.000001', '4.35', '1e-5'])
    if kind < 0.4:
        return str(rng.randint(-10**rng.randint(1, 25), 10**rng.randint(1, 25)))
    if kind < 0.7:
        digits = ''.join(rng.choice('0123456789') for _ in range(rng.randint(1, 20)))
        point = rng.randint(0, len(digits))
        mantissa = (digits[:point].lstrip('0') or '0') + ('.' + digits[point:] if point < len(digits) else '')
        return ('-' if rng.random() < 0.3 else '') + mantissa
    if kind < 0.9:
        return '%s%d.%de%s%d' % ('-' if rng.random() < 0.3 else '', rng.randint(0, 9), rng.randint(0, 10**6),
                                 rng.choice(['', '+', '-']), rng.randint(0, 330))
    return repr(rng.uniform(-1e6, 1e6) * 10 ** rng.randint(-30, 30))

def not_number():
    return rng.choice(['"text"', '"1"', 'true', 'false', 'null', '[1, 2]', '{"a": 1}'])

MODELS = ['openai:gpt-4o', 'azure:gpt-4o', 'gpt-4o-20240513', 'gpt-4o', 'anthropic:claude-3-5-haiku-20241022',
          'm😀', '=evil', '-x:y', 'p:a:b', 'x:', 'q:model-20240101-20240102', '\uff21-model', 'a,b:"c"']

conn = psycopg2.connect('')
cur = conn.cursor()
cur.execute("INSERT INTO multisample.definitions (id, name) VALUES ('xr-def', 'reference export')")
runs = []
for r in range(n_runs):
    run_id = 'xr-%03d' % r
    cur.execute("INSERT INTO multisample.runs (id, definition_id, config) VALUES (%s, 'xr-def', '{}')", (run_id,))
    names = [text(4, 0.2) for _ in range(rng.randint(0, 6))] + ([''] if rng.random() < 0.3 else [])
    scenarios = []
    for s in range(rng.randint(1, 4)):
        sid = '%s-s%d%s' % (run_id, s, rng.choice(['', '😀', '\uff21', ',x']))
        shape = rng.random()
        if shape < 0.1:
            content = '{}'
        elif shape < 0.15:
            content = '{"dimensions": %s}' % rng.choice(['null', '"none"', '7'])
        else:
            members = []
            for name in rng.sample(names, rng.randint(0, len(names))):
                members.append('%s: %s' % (json.dumps(name), number_text() if rng.random() < 0.85 else not_number()))
            content = '{"dimensions": {%s}, "name": %s}' % (', '.join(members), json.dumps(text(3, 0)))
        cur.execute("INSERT INTO multisample.scenarios (id, definition_id, name, content) VALUES (%s, 'xr-def', %s, %s)",
                    (sid, text(3, 0), content))
        scenarios.append(sid)
    models = rng.sample(MODELS, rng.randint(1, 4))
    if rng.random() < 0.3:
        models.append(text(3, 0.3) or 'blank')
    n = 0
    for m in dict.fromkeys(models):
        for sid in scenarios:
            for i in range(rng.randint(0, 3)):
                turns = []
                for _ in range(rng.randint(0, 3)):
                    turn = {'probePrompt': text()}
                    if rng.random() < 0.8:
                        turn['targetResponse'] = text(8) if rng.random() < 0.85 else ''
                    turns.append(turn)
                content = rng.choice([{'turns': turns}] * 8 + [{}, {'turns': 'not a list'}])
                n += 1
                tid = '%s-t%d%s' % (run_id, n, rng.choice(['', ' x', ',', '"q"', '=1']))
                deleted = rng.random() < 0.05
                cur.execute(
                    "INSERT INTO multisample.transcripts (run_id, id, scenario_id, model_id, sample_index, score,"
                    " decision_code, decision_text, content, deleted_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s,"
                    " CASE WHEN %s THEN now() END)",
                    (run_id, tid, sid, m, i, rng.choice([None, 1, 2.5, 5]),
                     text(3) if rng.random() < 0.8 else None, text(10) if rng.random() < 0.8 else None,
                     json.dumps(content), deleted))
    runs.append(run_id)
conn.commit()

with open(work + '/node_input.jsonl', 'w', encoding='utf-8') as out:
    for run_id in runs:
        cur.execute("SELECT s.id, s.content::text FROM multisample.scenarios AS s"
                    " WHERE s.id IN (SELECT scenario_id FROM multisample.transcripts WHERE run_id = %s)", (run_id,))
        scenarios = dict(cur.fetchall())
        cur.execute("SELECT id, model_id, scenario_id, sample_index, decision_code, decision_text, content::text"
                    " FROM multisample.transcripts WHERE run_id = %s AND deleted_at IS NULL", (run_id,))
        transcripts = [dict(zip(['id', 'modelId', 'scenarioId', 'sampleIndex', 'decisionCode', 'decisionText',
                                 'content'], row)) for row in cur.fetchall()]
        for protect in (True, False):
            out.write(json.dumps({'out': '%s/%s.%s.node.csv' % (work, run_id, 'on' if protect else 'off'),
                                  'protect': protect, 'scenarios': scenarios, 'transcripts': transcripts}) + '\n')
with open(work + '/runs.txt', 'w') as f:
    f.write('\n'.join(runs) + '\n')
PY

# 2. The reference files, from Node.
written=$(node test/reference_export.js < "$work/node_input.jsonl") \
    && is "$written" "$((runs * 2))" "Node wrote the reference file of $runs random runs, guard on and off" \
    || not_ok "test/reference_export.js failed"

# 3. Ours, through psql -XAt -o, and the byte comparison.
mismatch=0
compared=0
first=""
while read -r run; do
    for guard in on off; do
        flag=$([ "$guard" = on ] && echo true || echo false)
        psql -XAt -v ON_ERROR_STOP=1 -o "$work/$run.$guard.pg.csv" \
             -c "SELECT * FROM multisample.export_run_csv('$run', protect_formulas => $flag, reference_layout => true)" \
            || { mismatch=$((mismatch + 1)); continue; }
        compared=$((compared + 1))
        if ! cmp -s "$work/$run.$guard.pg.csv" "$work/$run.$guard.node.csv"; then
            mismatch=$((mismatch + 1))
            [ -z "$first" ] && first="$run.$guard"
        fi
    done
done < "$work/runs.txt"
is "$compared/$mismatch" "$((runs * 2))/0" "psql -XAt output is byte for byte the reference file ($compared files)"
if [ -n "$first" ]; then
    diag "first difference, $first (ours, then Node's):"
    cmp "$work/$first.pg.csv" "$work/$first.node.csv" | sed 's/^/# /'
    diff <(od -c "$work/$first.pg.csv") <(od -c "$work/$first.node.csv") | head -20 | sed 's/^/# /'
fi

# 4. The data exercised what it was meant to (so the comparison proves something).
stats=$(q "$db" "
    SELECT concat_ws(' ',
        (SELECT count(*) FROM multisample.scenarios s, jsonb_each(s.content -> 'dimensions') d
          WHERE jsonb_typeof(s.content -> 'dimensions') = 'object' AND d.key ~ '[\U00010000-\U0010FFFF]'),
        (SELECT count(*) FROM multisample.scenarios s, jsonb_each(s.content -> 'dimensions') d
          WHERE jsonb_typeof(s.content -> 'dimensions') = 'object' AND d.key ~ '[\uE000-\uFFFF]'),
        (SELECT count(*) FROM multisample.scenarios s, jsonb_each(s.content -> 'dimensions') d
          WHERE jsonb_typeof(s.content -> 'dimensions') = 'object' AND jsonb_typeof(d.value) = 'number'
            AND multisample.js_number_text(d.value::numeric) <> d.value::text),
        (SELECT count(*) FROM multisample.transcripts WHERE decision_text ~ '^[-=+@\t\r]'),
        (SELECT count(*) FROM multisample.transcripts WHERE decision_text ~ '[,\"\r\n]'),
        (SELECT count(DISTINCT run_id) FROM multisample.transcript_export WHERE model_name = model_id AND model_id LIKE '%:%'),
        (SELECT count(*) FROM multisample.scenarios s, jsonb_each(s.content -> 'dimensions') d
          WHERE jsonb_typeof(s.content -> 'dimensions') = 'object' AND d.key = '' AND jsonb_typeof(d.value) = 'number'))")
read -r non_bmp bmp_high js_differs formula_leads needs_quotes merged_runs empty_names <<< "$stats"
check "the runs hold dimension names outside the BMP ($non_bmp), in U+E000-U+FFFF ($bmp_high), empty ($empty_names), numbers JavaScript prints differently ($js_differs), formula-led texts ($formula_leads), texts needing quotes ($needs_quotes), runs whose short model names collide ($merged_runs)" \
    test "$non_bmp" -gt 0 -a "$bmp_high" -gt 0 -a "$js_differs" -gt 0 -a "$formula_leads" -gt 0 \
         -a "$needs_quotes" -gt 0 -a "$merged_runs" -gt 0 -a "$empty_names" -gt 0

finish
