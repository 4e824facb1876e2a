#!/usr/bin/env bash
# Export round trip: a run whose texts hold commas, quotes, CR, LF, CR LF,
# non-ASCII and emoji is exported with export_run_csv (through psql -XAt, as
# the README says) and with \copy of the view transcript_export (CSV HEADER),
# then loaded with Python's csv module, pandas.read_csv and R's read.csv,
# using only parsing options (encoding, read every column as text, no NA
# conversion), and every value is compared with what was stored.
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
]
conn = psycopg2.connect('')
cur = conn.cursor()
cur.execute("INSERT INTO multisample.definitions (id, name) VALUES ('rt-def', 'round trip')")
dims = {'Ä, b': 1, 'plain': 2.5, 'quote"d': 3, '😀': 4}
cur.execute("INSERT INTO multisample.scenarios (id, definition_id, name, content) VALUES "
            "('rt-s1', 'rt-def', 'one', %s), ('rt-s2', 'rt-def', 'two', %s)",
            (json.dumps({'dimensions': dims}), json.dumps({'dimensions': {'plain': 7}})))
cur.execute("INSERT INTO multisample.runs (id, definition_id, config) VALUES "
            "('rt-run', 'rt-def', '{\"samplesPerScenario\": %s}')" % len(texts))
expected = []          # export_run_csv records, as lists of strings
view_expected = []     # \copy of transcript_export
dim_names = sorted(dims, key=lambda s: s.encode('utf-8'))
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
    sdims = dims if scenario == 'rt-s1' else {'plain': 7}
    dim_values = ['' if n not in sdims else str(sdims[n]) for n in dim_names]
    expected.append([short, str(i)] + dim_values + ['code ' + t, decision_text, tid, response])
    view_expected.append([tid, model, str(i), 'code ' + t, decision_text, response])
conn.commit()
# Rows come ordered by model id (byte order), scenario id, sample index.
order = sorted(range(len(texts)), key=lambda i: (
    ('prov:model, "x"-20240101' if i % 3 else 'm😀').encode('utf-8'),
    'rt-s1' if i % 2 == 0 else 'rt-s2', i))
header = ['AI Model Name', 'Sample Index'] + dim_names + ['Decision Code', 'Decision Text', 'Transcript ID', 'Target Response']
json.dump({'csv': [header] + [expected[i] for i in order],
           'view': [['transcript_id', 'model_id', 'sample_index', 'decision_code', 'decision_text', 'target_response']]
                   + view_expected},
          open(work + '/expected.json', 'w'))
PY

# 2. Export both ways, as the README documents.
psql -XAt -v ON_ERROR_STOP=1 -c "SELECT * FROM multisample.export_run_csv('rt-run')" -o "$work/run.csv" \
    && echo "ok - export_run_csv written with psql -XAt" || echo "not ok - export_run_csv written with psql -XAt"
psql -X -v ON_ERROR_STOP=1 -c "\\copy (SELECT transcript_id, model_id, sample_index, decision_code, decision_text, target_response FROM multisample.transcript_export WHERE run_id = 'rt-run' ORDER BY sample_index) TO '$work/view.csv' CSV HEADER" >/dev/null \
    && echo "ok - transcript_export written with \\copy ... CSV HEADER" || echo "not ok - transcript_export written with \\copy ... CSV HEADER"

# 3. R: read.csv, every column as text; each cell written as UTF-8 hex.
for f in run view; do
    Rscript --vanilla -e "
        d <- read.csv('$work/$f.csv', encoding = 'UTF-8', fileEncoding = 'UTF-8', colClasses = 'character',
                      check.names = FALSE, na.strings = character(0))
        hex <- function(x) paste(as.character(charToRaw(enc2utf8(x))), collapse = '')
        out <- c(paste(vapply(names(d), hex, ''), collapse = ' '),
                 apply(d, 1, function(r) paste(vapply(r, hex, ''), collapse = ' ')))
        writeLines(out, '$work/$f.r.txt')" 2> "$work/$f.r.err" || cat "$work/$f.r.err"
done

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

for f in ('run', 'view'):
    want = exp['csv' if f == 'run' else 'view']
    raw = open(work + '/' + f + '.csv', 'rb').read()
    ok = not raw.startswith(b'\xef\xbb\xbf')
    try:
        raw.decode('utf-8')
    except UnicodeDecodeError:
        ok = False
    failed += not ok
    print('%s - %s.csv is UTF-8 without a byte order mark' % ('ok' if ok else 'not ok', f))
    with open(work + '/' + f + '.csv', newline='', encoding='utf-8') as fh:
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
sys.exit(1 if failed else 0)
PY
