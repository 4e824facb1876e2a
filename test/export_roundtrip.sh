#!/usr/bin/env bash
# Export round trip: a run whose texts hold commas, quotes, CR, LF, CR LF,
# non-ASCII, emoji and formula-like leads (=, +, -, @, TAB, CR) is exported
# with export_run_csv (through psql -XAt, as the README says) in its three
# forms (default: guarded; protect_formulas => false; reference_layout =>
# true, with its byte order mark, JavaScript column order and numbers), with
# \copy of the view transcript_export (CSV HEADER), and with export_run_json
# (JSON Lines). The CSV files are loaded with Python's csv module,
# pandas.read_csv and R's read.csv, the JSON with pandas.read_json and R's
# jsonlite::stream_in, all with the same parsing options for every file
# (encoding, read every column as text, no NA conversion), and every value
# is compared with what was stored (guarded where the guard applies).
# Prints TAP lines; needs PGHOST/PGPORT/PGUSER from the cluster environment.
set -uo pipefail
cd "$(dirname "$0")/.."

db="ms_export_rt_$$"
work=$(mktemp -d)
trap 'dropdb --if-exists "$db" >/dev/null 2>&1; rm -rf "$work"' EXIT
export PGDATABASE="$db" PGCLIENTENCODING=UTF8
createdb "$db" || { echo "not ok - createdb $db"; exit 1; }
psql -XqAt -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION multisample' || { echo "not ok - create extension"; exit 1; }

# 1. Load the run and write what every exported field must hold.
/usr/bin/python3 - "$work" <<'PY' || { echo "not ok - load the run"; exit 1; }
import json, sys, psycopg2
work = sys.argv[1]
texts = [
    'plain',
    'comma, inside',
    'a "quoted" word',
    '"',
    '""',
    'line1\nline2',
    'cr only\rhere',
    'crlf\r\nend',
    '\n\nleading and trailing newlines\n',
    ',,,',
    '  spaces kept  ',
    'Grüße, señor — naïve café',
    'emoji 😀🎉 and 🇫🇷 flag',
    '中文，逗号',
    'NA',
    'tab\tinside',
    'mixed: "a, b"\r\n"c"\n😀',
    '=HYPERLINK("http://x.example", "x")',
    '+1+1',
    '-2+3, minus',
    '@SUM(A1)',
    '\tTAB first',
    '\rCR first',
]

def guard(t):
    # The spreadsheet guard of export_run_csv (protect_formulas, default on).
    return "'" + t if t[:1] in ('=', '+', '-', '@', '\t', '\r') else t
conn = psycopg2.connect('')
cur = conn.cursor()
cur.execute("INSERT INTO multisample.definitions (id, name) VALUES ('rt-def', 'round trip')")
# Dimension values as stored (jsonb text: the default layout) and as
# JavaScript prints them (the reference layout); names in byte order and in
# UTF-16 order (Ａ U+FF21 sorts after 😀 U+1F600 = D83D DE00 in UTF-16).
dims = {'Ä, b': ('1', '1'), 'plain': ('2.50', '2.5'), 'quote"d': ('3', '3'), '😀': ('4', '4'),
        'Ａ': ('0.00000015', '1.5e-7'), '=cmd': ('-5', '-5')}
cur.execute("INSERT INTO multisample.scenarios (id, definition_id, name, content) VALUES "
            "('rt-s1', 'rt-def', 'one', %s), ('rt-s2', 'rt-def', 'two', %s)",
            ('{"dimensions": {"Ä, b": 1, "plain": 2.50, "quote\\"d": 3, "😀": 4, "Ａ": 1.5e-7, "=cmd": -5}}',
             json.dumps({'dimensions': {'plain': 7}})))
cur.execute("INSERT INTO multisample.runs (id, definition_id, config) VALUES "
            "('rt-run', 'rt-def', '{\"samplesPerScenario\": %s}')" % len(texts))
expected = {'csv': [], 'raw': [], 'ref': []}   # export_run_csv records, as lists of strings
view_expected = []     # \copy of transcript_export
json_expected = []     # export_run_json objects (the fields compared)
dim_names = sorted(dims, key=lambda s: s.encode('utf-8'))
ref_names = sorted(dims, key=lambda s: s.encode('utf-16-be'))
for i, t in enumerate(texts):
    scenario = 'rt-s1' if i % 2 == 0 else 'rt-s2'
    model = 'prov:model, "x"-20240101' if i % 3 else 'm😀'
    tid = 't-%02d %s' % (i, t[:3])
    decision_text = t[::-1]
    content = {'turns': [{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': t},
                         {'role': 'user', 'content': 'again'}, {'role': 'assistant', 'content': t + '!'}]}
    cur.execute("INSERT INTO multisample.transcripts (run_id, id, scenario_id, model_id, sample_index, "
                "score, decision_code, decision_text, content) VALUES ('rt-run', %s, %s, %s, %s, %s, %s, %s, %s)",
                (tid, scenario, model, i, 1 + i % 5, 'code ' + t, decision_text, json.dumps(content)))
    response = t + '\n\n---\n\n' + t + '!'
    short = 'model, "x"' if i % 3 else 'm😀'
    sdims = dims if scenario == 'rt-s1' else {'plain': ('7', '7')}
    fields = [short, 'code ' + t, decision_text, tid, response]
    for form, names, printed, g in (('csv', dim_names, 0, guard), ('raw', dim_names, 0, lambda x: x),
                                    ('ref', ref_names, 1, guard)):
        f = [g(x) for x in fields]
        expected[form].append(f[:1] + [str(i)] + ['' if n not in sdims else sdims[n][printed] for n in names] + f[1:])
    view_expected.append([tid, model, str(i), 'code ' + t, decision_text, response])
    json_expected.append({'id': tid, 'modelId': model, 'modelName': short, 'sampleIndex': i,
                          'decisionCode': 'code ' + t, 'decisionText': decision_text, 'targetResponse': response,
                          'content': content})
conn.commit()
# Rows come ordered by model id (byte order), scenario id, sample index.
order = sorted(range(len(texts)), key=lambda i: (
    ('prov:model, "x"-20240101' if i % 3 else 'm😀').encode('utf-8'),
    'rt-s1' if i % 2 == 0 else 'rt-s2', i))
fixed = (['AI Model Name', 'Sample Index'], ['Decision Code', 'Decision Text', 'Transcript ID', 'Target Response'])
header = fixed[0] + [guard(n) for n in dim_names] + fixed[1]
json.dump({'csv': [header] + [expected['csv'][i] for i in order],
           'raw': [fixed[0] + dim_names + fixed[1]] + [expected['raw'][i] for i in order],
           'ref': [fixed[0] + [guard(n) for n in ref_names] + fixed[1]] + [expected['ref'][i] for i in order],
           'view': [['transcript_id', 'model_id', 'sample_index', 'decision_code', 'decision_text', 'target_response']]
                   + view_expected,
           'json': [json_expected[i] for i in order]},
          open(work + '/expected.json', 'w'))
PY

# 2. Export every way, as the README documents.
for form in "run:" "raw:, protect_formulas => false" "ref:, reference_layout => true"; do
    f=${form%%:*}
    psql -XAt -v ON_ERROR_STOP=1 -c "SELECT * FROM multisample.export_run_csv('rt-run'${form#*:})" -o "$work/$f.csv" \
        && echo "ok - export_run_csv('rt-run'${form#*:}) written with psql -XAt" \
        || echo "not ok - export_run_csv('rt-run'${form#*:}) written with psql -XAt"
done
# A run whose dimension is an integer beyond 64 bits (1e21, written out in
# full by jsonb): the README's note on pandas.read_json.
psql -XAtq -v ON_ERROR_STOP=1 -c "
    INSERT INTO multisample.scenarios (id, definition_id, name, content) VALUES ('rt-big', 'rt-def', 'big', '{\"dimensions\": {\"big\": 1e21}}');
    INSERT INTO multisample.runs (id, definition_id) VALUES ('rt-big', 'rt-def');
    INSERT INTO multisample.transcripts (run_id, id, scenario_id, model_id, content) VALUES ('rt-big', 'b1', 'rt-big', 'm', '{}');" \
    && psql -XAt -v ON_ERROR_STOP=1 -c "SELECT * FROM multisample.export_run_json('rt-big')" -o "$work/big.jsonl" \
    || echo "not ok - export_run_json of a run with a 1e21 dimension"
psql -XAt -v ON_ERROR_STOP=1 -c "SELECT * FROM multisample.export_run_json('rt-run')" -o "$work/run.jsonl" \
    && echo "ok - export_run_json written with psql -XAt" || echo "not ok - export_run_json written with psql -XAt"
psql -X -v ON_ERROR_STOP=1 -c "\\copy (SELECT transcript_id, model_id, sample_index, decision_code, decision_text, target_response FROM multisample.transcript_export WHERE run_id = 'rt-run' ORDER BY sample_index) TO '$work/view.csv' CSV HEADER" >/dev/null \
    && echo "ok - transcript_export written with \\copy ... CSV HEADER" || echo "not ok - transcript_export written with \\copy ... CSV HEADER"

# 3. R: read.csv, every column as text; each cell written as UTF-8 hex. The
#    same options for every file (R drops the byte order mark of ref.csv).
for f in run raw ref view; do
    Rscript --vanilla -e "
        d <- read.csv('$work/$f.csv', encoding = 'UTF-8', fileEncoding = 'UTF-8', colClasses = 'character',
                      check.names = FALSE, na.strings = character(0))
        hex <- function(x) paste(as.character(charToRaw(enc2utf8(x))), collapse = '')
        out <- c(paste(vapply(names(d), hex, ''), collapse = ' '),
                 apply(d, 1, function(r) paste(vapply(r, hex, ''), collapse = ' ')))
        writeLines(out, '$work/$f.r.txt')" 2> "$work/$f.r.err" || cat "$work/$f.r.err"
done
# R: jsonlite::stream_in of the JSON Lines; the compared fields as UTF-8 hex,
# the dialogue's turn contents (a nested list of data frames) joined by a tab.
Rscript --vanilla -e "
    d <- jsonlite::stream_in(file('$work/run.jsonl', encoding = 'UTF-8'), verbose = FALSE)
    hex <- function(x) paste(as.character(charToRaw(enc2utf8(as.character(x)))), collapse = '')
    turns <- vapply(d\$content\$turns, function(t) hex(paste(t\$content, collapse = '\t')), '')
    out <- paste(vapply(d\$id, hex, ''), vapply(d\$modelId, hex, ''), vapply(d\$modelName, hex, ''),
                 vapply(d\$sampleIndex, hex, ''), vapply(d\$decisionCode, hex, ''),
                 vapply(d\$decisionText, hex, ''), vapply(d\$targetResponse, hex, ''), turns)
    writeLines(out, '$work/json.r.txt')" 2> "$work/json.r.err" || cat "$work/json.r.err"

# 4. Compare every loader's values with what was stored.
/usr/bin/python3 - "$work" <<'PY'
import csv, json, sys
import pandas as pd
work = sys.argv[1]
exp = json.load(open(work + '/expected.json'))
failed = 0

def check(name, got, want):
    global failed
    if got == want:
        print('ok - %s: %d rows x %d columns, every value intact' % (name, len(want) - 1, len(want[0])))
        return
    failed += 1
    print('not ok - %s' % name)
    if len(got) != len(want):
        print('#   %d rows, expected %d' % (len(got), len(want)))
    for g, w in zip(got, want):
        if g != w:
            print('#   got      %r\n#   expected %r' % (g, w))
            break

def from_hex(path):
    rows = []
    for line in open(path, encoding='ascii').read().splitlines():
        rows.append([bytes.fromhex(c).decode('utf-8') for c in line.split(' ')])
    return rows

def r_reads(rows):
    # R's connection layer (Rconn_fgetc) turns every CR and CR LF into LF
    # before read.csv sees it, inside quoted fields too: no R reading option
    # keeps a CR. Everything else must arrive unchanged.
    return [[v.replace('\r\n', '\n').replace('\r', '\n') for v in row] for row in rows]

for f in ('run', 'raw', 'ref', 'view'):
    want = exp[{'run': 'csv'}.get(f, f)]
    raw = open(work + '/' + f + '.csv', 'rb').read()
    # Only the reference layout starts with the UTF-8 byte order mark.
    ok = raw.startswith(b'\xef\xbb\xbf') == (f == 'ref')
    try:
        raw.decode('utf-8')
    except UnicodeDecodeError:
        ok = False
    failed += not ok
    print('%s - %s.csv is UTF-8 %s a byte order mark' % ('ok' if ok else 'not ok', f,
                                                          'with' if f == 'ref' else 'without'))
    with open(work + '/' + f + '.csv', newline='', encoding='utf-8-sig') as fh:
        check('%s.csv through Python csv.reader' % f, list(csv.reader(fh)), want)
    d = pd.read_csv(work + '/' + f + '.csv', encoding='utf-8', dtype=str, keep_default_na=False)
    check('%s.csv through pandas.read_csv' % f, [list(d.columns)] + d.values.tolist(), want)
    try:
        got = from_hex(work + '/' + f + '.r.txt')
    except OSError as e:
        got = [['R produced no output: %s' % e]]
    check('%s.csv through R read.csv (CR read as LF, as R always does)' % f, got, r_reads(want))
    # The mapping above is the only difference: the data held CRs, and R
    # returned LF exactly where they were.
    has_cr = any('\r' in v for row in want for v in row)
    ok = has_cr and got != want and got == r_reads(want)
    failed += not ok
    print('%s - %s.csv: the data holds CRs, and R differs from the stored values only there'
          % ('ok' if ok else 'not ok', f))

# The guard did something: formula-led texts are prefixed in run.csv and ref.csv, raw in raw.csv.
leads = [r[-1] for r in exp['raw'][1:] if r[-1][:1] in ('=', '+', '-', '@', '\t', '\r')]
ok = len(leads) >= 6 and all(("'" + t) in [r[-1] for r in exp[f][1:]] for t in leads for f in ('csv', 'ref'))
failed += not ok
print('%s - %d formula-led target responses: guarded in run.csv and ref.csv, as stored in raw.csv'
      % ('ok' if ok else 'not ok', len(leads)))

# export_run_json: pandas.read_json (JSON Lines; dtype=False keeps every
# value as parsed) and R's jsonlite.
want = exp['json']
fields = ['id', 'modelId', 'modelName', 'sampleIndex', 'decisionCode', 'decisionText', 'targetResponse', 'content']
d = pd.read_json(work + '/run.jsonl', lines=True, dtype=False)
got = [{k: (int(row[k]) if k == 'sampleIndex' else row[k]) for k in fields} for row in d.to_dict('records')]
check('run.jsonl through pandas.read_json(lines=True)', [fields] + [[g[k] for k in fields] for g in got],
      [fields] + [[w[k] for k in fields] for w in want])
try:
    got = [line.split(' ') for line in open(work + '/json.r.txt', encoding='ascii').read().splitlines()]
    got = [[bytes.fromhex(c).decode('utf-8') for c in row] for row in got]
except OSError as e:
    got = [['R produced no output: %s' % e]]
want_r = [[w['id'], w['modelId'], w['modelName'], str(w['sampleIndex']), w['decisionCode'], w['decisionText'],
           w['targetResponse'], '\t'.join(t['content'] for t in w['content']['turns'])] for w in want]
check('run.jsonl through R jsonlite::stream_in', [fields] + got, [fields] + want_r)

# pandas.read_json refuses an integer beyond 64 bits; json.loads line by line reads it.
import json
try:
    pd.read_json(work + '/big.jsonl', lines=True, dtype=False)
    refused = False
except ValueError as e:
    refused = 'too big' in str(e)
d = pd.DataFrame(map(json.loads, open(work + '/big.jsonl', encoding='utf-8')))
ok = refused and d['dimensions'][0] == {'big': 10**21}
failed += not ok
print('%s - a 1e21 dimension: pandas.read_json refuses it ("Value is too big"), DataFrame(map(json.loads, ...)) reads it exactly'
      % ('ok' if ok else 'not ok'))
sys.exit(1 if failed else 0)
PY
