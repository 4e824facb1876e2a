#!/usr/bin/env bash
# select_scenarios against the reference algorithm on random inputs: random
# id lists, percentages, definition ids (ASCII, Latin-1, CJK and characters
# outside the BMP) and seeds (small, near multiples of 2147483647, and above
# 2^53 / 16807 where the reference's double product rounds). Expected values
# come from test/reference_selection.js, a plain JavaScript transcription of
# the reference run on node, never from the extension.
# Then the hash in WIN1252 and SQL_ASCII databases: it is taken over the
# characters (converted to UTF-8 first), not over the stored bytes.
# MULTISAMPLE_LONG=1 runs ten times as many random cases.
set -euo pipefail
cd "$(dirname "$0")/.."

db="ms_selection_ref_$$"
createdb "$db"
trap 'for d in "$db" "${db}_win1252" "${db}_sql_ascii"; do dropdb --if-exists "$d"; done' EXIT
psql -X -q -d "$db" -c 'CREATE EXTENSION multisample'

cases=2000
[ "${MULTISAMPLE_LONG:-0}" = 1 ] && cases=20000

PGDATABASE="$db" CASES="$cases" /usr/bin/python3 - <<'PY'
import json, os, random, subprocess, sys
import psycopg2

rng = random.Random(20261123)
n_cases = int(os.environ["CASES"])
M = 2147483647

def random_char():
    kind = rng.random()
    if kind < 0.5:
        return chr(rng.randint(0x21, 0x7E))
    if kind < 0.65:
        return chr(rng.randint(0xA0, 0x24F))
    if kind < 0.8:
        return chr(rng.randint(0x4E00, 0x9FFF))
    if kind < 0.9:
        return chr(rng.choice([rng.randint(0xE000, 0xFFFD), rng.randint(0x800, 0xD7FF)]))
    return chr(rng.randint(0x10000, 0x10FFFF))

def random_seed():
    kind = rng.random()
    if kind < 0.3:
        return rng.randint(0, 2**31)
    if kind < 0.45:
        return M * rng.randint(0, 5) + rng.randint(-2, 2) if rng.random() < 0.5 else rng.randint(1, 100)
    if kind < 0.7:
        return rng.randint(535919512985 - 1000, 535919512985 + 1000)
    return rng.randint(0, 2**53 - 1)

cases = []
for k in range(n_cases):
    n = rng.choice([1, 2, 3, rng.randint(1, 20), rng.randint(1, 200)])
    ids = [f"s{k}-{i}-" + "".join(random_char() for _ in range(rng.randint(0, 3))) for i in range(n)]
    # ids must be distinct: the position makes them so.
    pct = rng.choice([1, 50, 99, 100, rng.randint(1, 100)])
    if rng.random() < 0.5:
        definition = "".join(random_char() for _ in range(rng.randint(0, 12)))
        seed = None
    else:
        definition = "unused"
        seed = max(0, random_seed())
    cases.append({"ids": ids, "percentage": pct, "definitionId": definition, "seed": seed})

js = subprocess.run(["node", "test/reference_selection.js"],
                    input="\n".join(json.dumps(c) for c in cases) + "\n",
                    capture_output=True, text=True, check=True)
expected = [json.loads(line) for line in js.stdout.splitlines()]
assert len(expected) == len(cases)

conn = psycopg2.connect("")
conn.autocommit = True
cur = conn.cursor()
failures = {"all": 0, "astral": 0, "big_seed": 0, "degenerate": 0}
counts = dict.fromkeys(failures, 0)
for case, exp in zip(cases, expected):
    cur.execute("SELECT multisample.select_scenarios(%s::text[], %s, %s, %s)",
                (case["ids"], case["percentage"], case["definitionId"], case["seed"]))
    got = cur.fetchone()[0]
    ok = got == exp["selected"]
    tags = ["all"]
    if case["seed"] is None and any(ord(ch) > 0xFFFF for ch in case["definitionId"]):
        tags.append("astral")
    if exp["seed"] > 535919512985:
        tags.append("big_seed")
    if exp["seed"] % M == 0 and case["percentage"] < 100 and len(case["ids"]) > 1:
        tags.append("degenerate")
    for t in tags:
        counts[t] += 1
        failures[t] += 0 if ok else 1
    if not ok and failures["all"] <= 3:
        print("# mismatch:", json.dumps(case, ensure_ascii=False)[:300], "expected", exp["selected"][:10], "got", (got or [])[:10])

labels = {
    "all": "random cases",
    "astral": "cases seeded by definition ids with characters outside the BMP",
    "big_seed": "cases with seeds above 2^53 / 16807 (the reference rounds the first product)",
    "degenerate": "cases with a seed that freezes the generator at 0",
}
status = 0
for t, label in labels.items():
    if counts[t] == 0:
        print(f"not ok - no {label} were generated")
        status = 1
    elif failures[t]:
        print(f"not ok - {label}: {failures[t]} of {counts[t]} disagree with the JavaScript reference")
        status = 1
    else:
        print(f"ok - {label}: all {counts[t]} agree with the JavaScript reference")

# The hashes themselves, through the seed they give: the extension's
# selection for a definition id must equal its selection for the seed that
# the JavaScript reference derives from that id.
mism = 0
for case, exp in zip(cases[:300], expected[:300]):
    if case["seed"] is not None or case["percentage"] == 100 or len(case["ids"]) < 2:
        continue
    cur.execute("SELECT multisample.select_scenarios(%s::text[], %s, %s) = multisample.select_scenarios(%s::text[], %s, NULL, %s)",
                (case["ids"], case["percentage"], case["definitionId"], case["ids"], case["percentage"], exp["seed"]))
    mism += 0 if cur.fetchone()[0] else 1
print(("ok" if mism == 0 else "not ok") + f" - definition ids select as the seed |hash| the reference derives ({mism} mismatches)")
status |= 1 if mism else 0
sys.exit(status)
PY

# Other server encodings. 'prix-€-é' hashes to -1151270164 (seed 1151270164,
# from the JavaScript reference): € is U+20AC, one UTF-16 unit, stored as the
# byte 0x80 in WIN1252 and as three bytes in UTF-8.
status=0
check() {
    if [ "$2" = "$3" ]; then echo "ok - $1"; else echo "not ok - $1 (got '$2', expected '$3')"; status=1; fi
}
az="'{a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t,u,v,w,x,y,z}'"
same="SELECT multisample.select_scenarios($az, 50, 'prix-€-é') = multisample.select_scenarios($az, 50, NULL, 1151270164)"
check "UTF8 database: the definition-id hash of 'prix-€-é'" "$(psql -X -A -t -d "$db" -c "$same")" t
createdb -E WIN1252 -T template0 --locale=C "${db}_win1252"
psql -X -q -d "${db}_win1252" -c 'CREATE EXTENSION multisample'
check "WIN1252 database: the definition-id hash is over characters, not bytes" \
    "$(PGCLIENTENCODING=UTF8 psql -X -A -t -d "${db}_win1252" -c "$same")" t
createdb -E SQL_ASCII -T template0 --locale=C "${db}_sql_ascii"
psql -X -q -d "${db}_sql_ascii" -c 'CREATE EXTENSION multisample'
check "SQL_ASCII database: UTF-8 bytes hash as their characters" \
    "$(PGCLIENTENCODING=UTF8 psql -X -A -t -d "${db}_sql_ascii" -c "$same")" t
bad=$(PGCLIENTENCODING=SQL_ASCII psql -X -A -t -d "${db}_sql_ascii" -v VERBOSITY=verbose \
      -c "SELECT multisample.select_scenarios('{a,b}', 50, E'd\\xe9f')" 2>&1 | grep -o 'ERROR:  [0-9A-Z]*' || true)
check "SQL_ASCII database: a definition id that is not UTF-8 is refused (22021)" "$bad" "ERROR:  22021"
exit $status
