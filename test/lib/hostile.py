"""Hostile-input campaign against every SQL-callable function of schema
multisample, discovered from pg_proc (run by test/hostile_input.sh).

1. Each argument of each function, in turn, takes every hostile value of its
   type (NULL, empty and NULL-holding arrays, 2-D and non-1-based arrays, huge
   arrays, extreme and non-finite numbers, very long and odd strings, JSON
   that is valid but of the wrong shape) while the other arguments stay
   plausible (chosen from the argument's name).
2. Aggregate support functions get forged states: a state of the wrong length,
   2-D, with NULL elements or a negative count must be refused with a
   class-22 error (SPEC 5: support functions validate a state array passed to
   them directly); other odd states must give a clear error or an answer.
3. Aggregates run over hostile columns (all NULL, NaN, +-Infinity, 1e308,
   denormals) plain, grouped and as moving windows, and the moving window must
   agree with recomputing each frame from scratch; an aggregate of other
   types (scenario_variance_document) gets the hostile values of each
   argument's type in turn.
4. A seeded random generator of argument values calls the functions
   --random times.

Every call must return, or fail with a clear error: a SQLSTATE outside
classes XX and 58, not P0001, within the statement timeout, and the
connection must survive. Usage: hostile.py DB [--random N] [--seed S]."""

import argparse
import math
import random
import struct
import time
from collections import Counter, defaultdict

from mstest import Tap, call, connect, is_clear_error

HUGE = 20000          # elements of a "huge" array
LONG_STRING = 1 << 20  # characters of a "very long" string

TEXT_VALUES = [
    "NULL", "''", "' '", "'x'", "'NULL'", "'def-1'", "'legacy-run-1'",
    f"repeat('a', {LONG_STRING})", "repeat('ü😀', 50000)",
    "E'\\x01\\x02\\x7f tab\\t cr\\r nl\\n'", "'\\\\'", "'\"'", "''''",
    "E'\\'; DROP TABLE multisample.runs; --'", "'%s%n%x'", "'😀'", "'𝟘𝟙'",
    "'{\"a\":'", "'[1,2'", "'{}'", "'null'", "'\\u0000'", "repeat('{', 10000)",
    "chr(1114111)", "'Ω≈ç√∫'",
]
TEXT_ARRAY_VALUES = [
    "NULL", "'{}'", "'{NULL}'", "'{a,NULL,b}'", "'{a,a}'", "'{\"\"}'", "'{a,b,c}'",
    "'{{a,b},{c,d}}'", "'[5:7]={a,b,c}'", "'[-2:-1]={a,b}'",
    f"(SELECT array_agg('id-' || i) FROM generate_series(1, {HUGE}) i)",
    f"ARRAY[repeat('x', {LONG_STRING})]", "ARRAY['😀', 'a😀', E'\\x01']",
    "array_fill('z'::text, ARRAY[1,1,1])",
]
INT_VALUES = ["NULL", "0", "-1", "1", "2", "100", "101", "2147483647", "-2147483648", "65536"]
BIGINT_VALUES = INT_VALUES + ["2147483648", "4294967294", "9223372036854775807",
                              "-9223372036854775808", "2147483646"]
FLOAT_VALUES = [
    "NULL", "0", "'-0'", "1", "-1", "0.5", "0.975", "1e-300", "5e-324", "1e308", "-1e308",
    "'NaN'", "'Infinity'", "'-Infinity'", "0.9999999999999999", "1e-17", "1e6", "1e300", "2",
]
NUMERIC_VALUES = ["NULL", "0", "-1", "1", "'NaN'", "1e100", "-1e100", "0.000000000001"]
FLOAT_ARRAY_VALUES = [
    "NULL", "'{}'", "'{NULL}'", "'{1}'", "'{0,0,0}'", "'{NaN,Infinity,-Infinity}'",
    "'{{1,2},{3,4}}'", "'[0:2]={1,2,3}'", "'{-1,0,0,0,0,0}'", "'{1e308,1e308,1e308,1e308,1e308}'",
    f"(SELECT array_agg(i::float8) FROM generate_series(1, {HUGE}) i)",
    "array_fill(0::float8, ARRAY[2,3,4])",
]
JSONB_VALUES = [
    "NULL", "'{}'", "'[]'", "'null'", "'\"s\"'", "'1'", "'true'",
    "(repeat('[', 5000) || repeat(']', 5000))::jsonb",
    "(SELECT jsonb_object_agg('k' || i, i) FROM generate_series(1, 20000) i)",
    "'{\"models\": 5, \"samplesPerScenario\": \"x\", \"scoreScale\": {\"min\": 5, \"max\": 1}}'",
    "'{\"scoreScale\": {\"min\": 1, \"max\": 1}, \"samplesPerScenario\": 1e308}'",
    "'{\"samplesPerScenario\": -3, \"samplePercentage\": 0, \"sampleSeed\": -1}'",
    "'{\"\\u0000\": 1}'", "'{\"a\": \"\\ud83d\\ude00\"}'",
]
INTERVAL_VALUES = ["NULL", "'0'", "'-1 second'", "'1 microsecond'", "'1 second'", "'100 years'",
                   "'178000000 years'", "'-178000000 years'", "'1 mon -30 days'"]
TIMESTAMP_VALUES = ["NULL", "'infinity'", "'-infinity'", "'2000-01-01'", "'294276-12-31'", "'4713-01-01 BC'"]
BOOL_VALUES = ["NULL", "true", "false"]

POOLS = {
    "text": TEXT_VALUES, "character varying": TEXT_VALUES, "name": TEXT_VALUES[:8],
    "text[]": TEXT_ARRAY_VALUES, "character varying[]": TEXT_ARRAY_VALUES,
    "integer": INT_VALUES, "smallint": ["NULL", "0", "-1", "1", "32767", "-32768"],
    "bigint": BIGINT_VALUES, "double precision": FLOAT_VALUES, "real": FLOAT_VALUES[:14],
    "numeric": NUMERIC_VALUES, "double precision[]": FLOAT_ARRAY_VALUES,
    "integer[]": ["NULL", "'{}'", "'{NULL}'", "'{1,2}'", "'{-1}'", "'{{1},{2}}'"],
    "bigint[]": ["NULL", "'{}'", "'{NULL}'", "'{1,2}'", "'{-1}'"],
    "jsonb": JSONB_VALUES, "json": JSONB_VALUES,
    "interval": INTERVAL_VALUES, "timestamp with time zone": TIMESTAMP_VALUES,
    "timestamp without time zone": TIMESTAMP_VALUES, "boolean": BOOL_VALUES,
}


def plausible(argname, argtype, seed_run):
    """A valid-looking value for an argument, chosen from its name."""
    n = (argname or "").lower()
    if argtype == "text[]":
        if "model" in n:
            return "'{model-a,model-b}'"
        return "'{def-1-scn-1,def-1-scn-2,def-1-scn-3,def-1-scn-4}'"
    if argtype in ("text", "character varying"):
        if "run" in n:
            return f"'{seed_run}'"
        if "definition" in n:
            return "'def-1'"
        if "worker" in n:
            return "'hostile-worker'"
        if "priority" in n:
            return "'NORMAL'"
        if "model" in n:
            return "'model-a'"
        if "scenario" in n:
            return "'def-1-scn-1'"
        if "code" in n:
            return "'E_TEST'"
        return "'x'"
    if argtype in ("integer", "bigint", "smallint"):
        if "percent" in n:
            return "50"
        if "seed" in n:
            return "42"
        if "job" in n and "max" in n:
            return "2"
        if "sample" in n:
            return "2"
        return "1"
    if argtype in ("double precision", "real", "numeric"):
        if n in ("p", "prob", "probability"):
            return "0.975"
        if "level" in n:
            return "0.95"
        if "df" in n or "freedom" in n:
            return "10"
        return "0.5"
    if argtype == "interval":
        return "'1 minute'"
    if argtype == "boolean":
        return "true"
    if argtype == "jsonb":
        return "'{}'"
    if argtype == "double precision[]":
        return None  # states are treated separately
    return "NULL"


class Campaign:
    def __init__(self, db, tap, timeout):
        self.db = db
        self.tap = tap
        self.timeout = timeout
        self.conn = None
        self.reconnect()
        self.stats = defaultdict(Counter)
        self.problems = defaultdict(list)
        self.lost = 0
        self.calls = 0

    def reconnect(self):
        deadline = time.time() + 60
        while True:
            try:
                self.conn = connect(self.db)
                break
            except Exception:
                if time.time() > deadline:
                    raise
                time.sleep(1)
        call(self.conn, f"SET statement_timeout = '{self.timeout}s'")
        call(self.conn, "SET client_min_messages = error")

    @staticmethod
    def show(text, n=300):
        """Printable, bounded excerpt of a statement or message."""
        text = text if len(text) <= n else text[:n] + "..."
        return text.encode("ascii", "backslashreplace").decode().replace("\n", "\\n")

    def run(self, key, sql):
        """Runs one hostile call; records an outcome under key."""
        self.calls += 1
        res = call(self.conn, sql)
        if res[0] == "ok":
            self.stats[key]["ok"] += 1
            return res
        if res[0] == "lost":
            self.lost += 1
            self.stats[key]["LOST"] += 1
            self.problems[key].append(f"connection lost: {self.show(sql)} -> {self.show(res[1], 200)}")
            self.reconnect()
            return res
        code, msg = res[1], res[2]
        self.stats[key][code] += 1
        if code == "57014":
            self.problems[key].append(f"timed out after {self.timeout}s: {self.show(sql)}")
        elif not is_clear_error(code):
            self.problems[key].append(f"SQLSTATE {code}: {self.show(sql)} -> {self.show(msg)}")
        return res

    def report(self, key, desc):
        st = self.stats[key]
        total = sum(st.values())
        summary = ", ".join(f"{k} x{v}" for k, v in sorted(st.items()))
        self.tap.ok(not self.problems[key] and total > 0,
                    f"{desc}: {total} calls, no crash, only clear errors ({summary})",
                    *self.problems[key][:8])


def discover(conn):
    _, rows = call(conn, """
        SELECT p.oid, p.proname, p.prokind, p.proretset,
               coalesce(p.proargnames, '{}'), coalesce(p.proargmodes::text[], '{}'),
               array(SELECT format_type(t, NULL) FROM unnest(p.proargtypes) WITH ORDINALITY u(t, i) ORDER BY i),
               format_type(p.prorettype, NULL), p.pronargs, l.lanname
          FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
         WHERE p.pronamespace = 'multisample'::regnamespace
         ORDER BY p.proname, p.oid""")
    funcs = []
    for oid, name, kind, retset, argnames, argmodes, argtypes, rettype, nargs, lang in rows:
        if argmodes:
            names = [n for n, m in zip(argnames, argmodes) if m in ("i", "b", "v")]
        else:
            names = list(argnames[:nargs])
        names += [""] * (nargs - len(names))
        funcs.append(dict(oid=oid, name=name, kind=kind, retset=retset, argnames=names,
                          argtypes=list(argtypes), rettype=rettype, lang=lang))
    return funcs


def call_sql(f, args):
    casted = ", ".join(f"({a})::{t}" for a, t in zip(args, f["argtypes"]))
    # A set-returning function may legitimately stream billions of rows for
    # huge arguments: read at most 100000 of them.
    return (f"SELECT pg_catalog.count(*), pg_catalog.max(pg_catalog.md5(r::pg_catalog.text)) "
            f"FROM (SELECT multisample.{f['name']}({casted}) AS r LIMIT 100000) s")


def signature(f):
    return f"{f['name']}({', '.join(f['argtypes'])})"


def one_at_a_time(camp, funcs, seed_run):
    for f in funcs:
        if f["kind"] != "f":
            continue
        if any(t not in POOLS for t in f["argtypes"]) and f["argtypes"]:
            unknown = [t for t in f["argtypes"] if t not in POOLS]
            if any(t in ("internal", "anyelement", "anyarray", "\"any\"") for t in unknown):
                continue
        key = signature(f)
        base = []
        for n, t in zip(f["argnames"], f["argtypes"]):
            v = plausible(n, t, seed_run)
            base.append(v if v is not None else "'{0,0,0,0,0,0}'")
        camp.run(key, call_sql(f, base))
        for i, t in enumerate(f["argtypes"]):
            for v in POOLS.get(t, ["NULL"]):
                args = list(base)
                args[i] = v
                camp.run(key, call_sql(f, args))
        camp.run(key, call_sql(f, ["NULL"] * len(f["argtypes"])))
        camp.report(key, f"hostile arguments to {key}")


def aggregates(conn):
    _, rows = call(conn, """
        SELECT a.aggfnoid::oid, p.proname, format_type(a.aggtranstype, NULL), a.agginitval,
               a.aggtransfn::oid, a.aggfinalfn::oid, a.aggcombinefn::oid,
               a.aggmtransfn::oid, a.aggminvtransfn::oid, a.aggmfinalfn::oid, a.aggminitval,
               array(SELECT format_type(t, NULL) FROM unnest(p.proargtypes) t)
          FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
         WHERE p.pronamespace = 'multisample'::regnamespace
         ORDER BY p.proname, p.pronargs""")
    return rows


def fn_name(conn, oid):
    _, rows = call(conn, f"SELECT {oid}::regproc::text, pronargs FROM pg_proc WHERE oid = {oid}")
    return rows[0] if rows else (None, 0)


def arr(vals):
    def lit(v):
        if v is None:
            return "NULL"
        if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
            return repr(v).replace("nan", "NaN").replace("inf", "Infinity")
        return repr(float(v))
    return "'{" + ",".join(lit(v) for v in vals) + "}'::float8[]"


def parse_state(text):
    return [None if x == "NULL" else float(x) for x in text.strip("{}").split(",")] if text != "{}" else []


def forged_states(camp, conn, aggs):
    """Support functions must validate a state passed to them directly."""
    for (aggoid, aggname, ttype, initval, transfn, finalfn, combinefn,
         mtransfn, minvfn, mfinalfn, minitval, aggargs) in aggs:
        if ttype != "double precision[]" or not transfn:
            continue
        tname, tnargs = fn_name(conn, transfn)
        extra = ", 0.95::float8" * (tnargs - 2)
        init = initval or "{}"
        r1 = call(conn, f"SELECT {tname}('{init}'::float8[], 10::float8{extra})::text")
        r2 = call(conn, f"SELECT {tname}({tname}('{init}'::float8[], 10::float8{extra}), 10::float8{extra})::text")
        if r1[0] != "ok" or r2[0] != "ok":
            camp.tap.ok(False, f"{aggname}: transition function {tname} accepts its own initial state", r1, r2)
            continue
        s1, s2 = parse_state(r1[1][0][0]), parse_state(r2[1][0][0])
        pos = [i for i in range(len(s1)) if s1[i] == 1 and s2[i] == 2]
        cpos = pos[0] if pos else 0
        camp.tap.diag(f"{aggname}: state of {len(s1)} elements, count at position {cpos + 1}; "
                      f"after one value 10: {s1}")
        good = s2
        must_fail = {
            "empty": "'{}'::float8[]",
            "one element short": arr(good[:-1]),
            "one element long": arr(good + [0.0]),
            "2-D": "'{" + ",".join("{%r}" % float(v) for v in good) + "}'::float8[]",
            "negative count": arr([(-2.0 if i == cpos else v) for i, v in enumerate(good)]),
        }
        for i in range(len(good)):
            must_fail[f"NULL element {i + 1}"] = arr([(None if j == i else v) for j, v in enumerate(good)])
        may_fail = {
            "count NaN": arr([(math.nan if i == cpos else v) for i, v in enumerate(good)]),
            "count Infinity": arr([(math.inf if i == cpos else v) for i, v in enumerate(good)]),
            "count 1.5": arr([(1.5 if i == cpos else v) for i, v in enumerate(good)]),
            "count 1e300": arr([(1e300 if i == cpos else v) for i, v in enumerate(good)]),
            "count 0 with values": arr([(0.0 if i == cpos else v) for i, v in enumerate(good)]),
            "all NaN": arr([math.nan] * len(good)),
            "all -Infinity": arr([-math.inf] * len(good)),
            "lower bound 0": "'[0:%d]={%s}'::float8[]" % (len(good) - 1, ",".join(repr(float(v)) for v in good)),
            "huge": f"(SELECT array_agg(i::float8) FROM generate_series(1, {HUGE}) i)",
        }
        support = []
        for oid in (transfn, finalfn, combinefn, mtransfn, minvfn, mfinalfn):
            if oid and oid not in [s[0] for s in support]:
                name, nargs = fn_name(conn, oid)
                support.append((oid, name, nargs))
        for oid, name, nargs in support:
            _, rows = call(conn, f"SELECT format_type(t, NULL) FROM unnest((SELECT proargtypes FROM pg_proc WHERE oid = {oid})) t")
            types = [r[0] for r in rows]
            key = f"forged states to {name}({', '.join(types)})"
            wrong = []
            positions = [i for i, t in enumerate(types) if t == "double precision[]"]
            for pos in positions:
                for label, state in list(must_fail.items()) + list(may_fail.items()):
                    args = []
                    for i, t in enumerate(types):
                        if i == pos:
                            args.append(state)
                        elif t == "double precision[]":
                            args.append(arr(good))
                        elif i == 1:
                            args.append("3::float8")
                        else:
                            args.append("0.95::float8")
                    sql = f"SELECT {name}({', '.join(args)})::text"
                    res = camp.run(key, sql)
                    if label in must_fail and not (res[0] == "error" and res[1].startswith("22")):
                        wrong.append(f"argument {pos + 1} {label}: expected a class-22 error, got "
                                     + (f"{res[1]} {res[2][:150]}" if res[0] == "error" else f"{res[0]} {str(res[1])[:150]}"))
            camp.report(key, key)
            camp.tap.ok(not wrong, f"{name} refuses malformed states (wrong length, 2-D, NULL element, negative count) with SQLSTATE 22xxx",
                        *wrong[:10])


HOSTILE_COLUMNS = {
    "all NULL": ["NULL"] * 5,
    "one value": ["3"],
    "NaN inside": ["1", "2", "'NaN'", "4", "5", "6"],
    "infinities": ["1", "'Infinity'", "2", "'-Infinity'", "3", "4", "5"],
    "huge": ["1e308", "1e308", "-1e308", "1e308", "1.7e308"],
    "denormal": ["5e-324", "-5e-324", "1e-310", "0", "'-0'"],
    "large offset": ["1e9+4", "1e9+7", "1e9+13", "1e9+16"],
    "mixed NULL": ["NULL", "1", "NULL", "2", "NULL"],
}


def aggregate_inputs(camp, conn, aggs):
    seen = set()
    for (aggoid, aggname, ttype, initval, *_rest, aggargs) in aggs:
        key = f"{aggname}({', '.join(aggargs)})"
        if key in seen or any(t != "double precision" for t in aggargs):
            continue  # typed_aggregate_inputs
        seen.add(key)
        extra_sets = [[]]
        if len(aggargs) == 2:
            extra_sets = [[v] for v in ["0.95", "NULL", "0", "1", "-1", "'NaN'", "2", "1e-300",
                                        "0.9999999999999999", "(0.5 + i / 100.0)"]]
        elif len(aggargs) == 3:
            # a second value column, then a level
            extra_sets = [[v, level] for v in ["x", "NULL", "'NaN'", "-1e308", "(i * 2.5)"]
                          for level in ["0.95", "NULL", "0", "1", "'NaN'", "1e-300", "(0.5 + i / 100.0)"]]
        for label, col in HOSTILE_COLUMNS.items():
            values = ", ".join(f"({i}, ({v})::float8)" for i, v in enumerate(col))
            for extra in extra_sets:
                args = ", ".join(["x"] + [f"({e})::float8" for e in extra])
                src = f"(VALUES {values}) AS t(i, x)"
                camp.run(key, f"SELECT multisample.{aggname}({args})::text FROM {src}")
                camp.run(key, f"SELECT i % 2, multisample.{aggname}({args})::text FROM {src} GROUP BY 1")
                camp.run(key, f"SELECT multisample.{aggname}({args}) OVER (ORDER BY i ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)::text FROM {src}")
        camp.report(key, f"hostile columns to aggregate {key}")


PLAIN_VALUES = {"jsonb": "'{\"k\": [1, {\"a\": null}]}'::jsonb", "text": "'id-' || (i % 2)",
                "double precision": "(i * 1.5)::float8", "bigint": "(i + 1)::bigint"}


def typed_aggregate_inputs(camp, aggs):
    """Aggregates whose arguments are not all float8 (scenario_variance_document):
    each argument in turn takes every hostile value of its type on three rows
    while the others stay plausible; plain, grouped and as a growing window."""
    seen = set()
    for (aggoid, aggname, *_rest, aggargs) in aggs:
        key = f"{aggname}({', '.join(aggargs)})"
        if key in seen or all(t == "double precision" for t in aggargs) or \
                not all(t in PLAIN_VALUES for t in aggargs):
            continue
        seen.add(key)
        for i, argtype in enumerate(aggargs):
            for v in POOLS[argtype]:
                args = ", ".join(f"({v})::{t}" if j == i else PLAIN_VALUES[t] for j, t in enumerate(aggargs))
                src = "generate_series(0, 2) AS t(i)"
                camp.run(key, f"SELECT length(multisample.{aggname}({args})::text) FROM {src}")
                camp.run(key, f"SELECT i % 2, length(multisample.{aggname}({args})::text) FROM {src} GROUP BY 1")
                camp.run(key, f"SELECT length((multisample.{aggname}({args}) OVER (ORDER BY i))::text) FROM {src}")
        camp.report(key, f"hostile columns to aggregate {key}")


def close(a, b, absolute=0.0):
    if a is None or b is None:
        return a is None and b is None
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= max(1e-9 * max(1.0, abs(a), abs(b)), absolute)


def fields(text):
    if text is None:
        return None
    out = []
    for x in text.strip("()").split(","):
        out.append(None if x == "" else float(x))
    return out


def moving_windows(camp, conn, aggs, rng):
    """A moving frame (inverse transitions) agrees with recomputing it.
    Aggregates of one value column, and of two (a pair, such as
    paired_comparison(a, b)), are checked."""
    seen = set()

    def value():
        """A hostile value as SQL, and its magnitude (0 unless finite)."""
        r = rng.random()
        if r < 0.12:
            return ("'NaN'" if r < 0.03 else "'Infinity'" if r < 0.05 else "'-Infinity'" if r < 0.07
                    else "NULL"), 0.0
        v = 1e9 + rng.randint(0, 20) if r < 0.3 else rng.uniform(-5, 5)
        return "%r" % v, abs(v)

    for (aggoid, aggname, ttype, initval, transfn, finalfn, combinefn,
         mtransfn, minvfn, mfinalfn, minitval, aggargs) in aggs:
        if aggname in seen or len(aggargs) not in (1, 2) or not minvfn:
            continue
        if len(aggargs) == 2 and aggname in [a[1] for a in aggs if len(a[-1]) == 1]:
            continue  # the two-argument form of a one-value aggregate takes a level
        seen.add(aggname)
        vals = []
        magnitude = []
        for i in range(300):
            (x, mx), (y, my) = value(), value()
            vals.append(f"({i}, ({x})::float8, ({y})::float8)")
            magnitude.append(max(mx, my))
        src = f"(VALUES {', '.join(vals)}) AS t(i, x, y)"
        args = "x" if len(aggargs) == 1 else "x, y"
        uargs = "u.x" if len(aggargs) == 1 else "u.x, u.y"
        sql = (f"SELECT i, (multisample.{aggname}({args}) OVER w)::text, "
               f"(SELECT multisample.{aggname}({uargs})::text FROM {src.replace('t(i, x, y)', 'u(i, x, y)')} "
               f"  WHERE u.i BETWEEN t.i - 4 AND t.i) "
               f"FROM {src} WINDOW w AS (ORDER BY i ROWS BETWEEN 4 PRECEDING AND CURRENT ROW) ORDER BY i")
        res = call(conn, sql)
        if res[0] != "ok":
            camp.tap.ok(False, f"{aggname}: moving window over NaN/Infinity/NULL data agrees with recomputation", res)
            continue
        bad = []
        for i, moving, fresh in res[1]:
            a, b = fields(moving), fields(fresh)
            # A pair's differences can cancel (values of 1e9 and of 5 in one
            # frame): the mean difference is then exact to about an ulp of
            # the frame's values, not of itself.
            scale = 1e-15 * max(magnitude[max(0, i - 4):i + 1]) if len(aggargs) == 2 else 0.0
            if (a is None) != (b is None) or (a and (len(a) != len(b) or
                                                     not all(close(x, y, scale) for x, y in zip(a, b)))):
                bad.append(f"row {i}: window {moving} vs recomputed {fresh}")
        camp.tap.ok(not bad, f"{aggname}({args}): moving window over NaN/Infinity/NULL/1e9-offset data agrees with recomputing each frame ({len(res[1])} frames)", *bad[:6])


def random_value(rng, t):
    """A random argument value of type t: drawn from the hostile pool or
    generated (random bit patterns, code points, lengths, NULL positions)."""
    if rng.random() < 0.3 and t in POOLS:
        return rng.choice(POOLS[t])
    if t in ("integer", "smallint"):
        lim = 2 ** 31 if t == "integer" else 2 ** 15
        return str(rng.choice([rng.randint(-lim, lim - 1), rng.randint(-3, 110)]))
    if t == "bigint":
        return str(rng.choice([rng.randint(-2 ** 63, 2 ** 63 - 1), rng.randint(-3, 2 ** 32)]))
    if t in ("double precision", "real", "numeric"):
        f = struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0]
        if t == "numeric" and (math.isnan(f) or math.isinf(f)):
            return "'NaN'"
        f = rng.choice([f, rng.random(), rng.uniform(-2, 2), float(rng.randint(0, 10 ** 6))])
        return "'%r'" % f if not (math.isnan(f) or math.isinf(f)) else "'NaN'" if math.isnan(f) else "'%sInfinity'" % ("-" if f < 0 else "")
    if t in ("text", "character varying", "name"):
        n = rng.choice([0, 1, 5, 40, 300])
        cps = []
        for _ in range(n):
            c = rng.choice([rng.randint(1, 127), rng.randint(128, 0xD7FF), rng.randint(0xE000, 0x10FFFF)])
            cps.append(chr(c))
        s = "".join(cps).replace("'", "''").replace("\\", "\\\\")
        return "E'" + s + "'"
    if t.endswith("[]"):
        inner = t[:-2]
        n = rng.choice([0, 1, 2, 3, 10, 200])
        items = []
        for _ in range(n):
            items.append("NULL" if rng.random() < 0.1 else random_value(rng, inner))
        return f"ARRAY[{', '.join(items)}]::{t}" if items else f"'{{}}'::{t}"
    if t == "interval":
        return "'%d microseconds'" % rng.randint(-10 ** 12, 10 ** 12)
    if t == "boolean":
        return rng.choice(["true", "false", "NULL"])
    if t in ("jsonb", "json"):
        return rng.choice(JSONB_VALUES)
    return "NULL"


def randomised(camp, funcs, rng, count):
    callable_ = [f for f in funcs if f["kind"] == "f"]
    key = "random"
    if not callable_:
        return
    for _ in range(count):
        f = rng.choice(callable_)
        args = [random_value(rng, t) for t in f["argtypes"]]
        camp.run(key, call_sql(f, args))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("db")
    ap.add_argument("--random", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=20261123)
    ap.add_argument("--timeout", type=int, default=20)
    ap.add_argument("--only-c", action="store_true",
                    help="only functions written in C (and aggregates), for the sanitizer runs")
    opts = ap.parse_args()
    tap = Tap()
    rng = random.Random(opts.seed)
    camp = Campaign(opts.db, tap, opts.timeout)
    conn = camp.conn
    funcs = discover(conn)
    if opts.only_c:
        funcs = [f for f in funcs if f["lang"] == "c" or f["kind"] == "a"]
    if not funcs:
        print("ok - no functions in schema multisample yet # SKIP nothing to call")
        tap.passed += 1
        tap.exit()
    tap.diag(f"found {len(funcs)} functions in schema multisample: "
             + ", ".join(sorted({f['name'] for f in funcs})))
    _, rows = call(conn, "SELECT id FROM multisample.runs ORDER BY id LIMIT 1")
    seed_run = rows[0][0] if rows else "no-run"
    start = time.time()
    one_at_a_time(camp, funcs, seed_run)
    aggs = aggregates(camp.conn)
    forged_states(camp, camp.conn, aggs)
    aggregate_inputs(camp, camp.conn, aggs)
    typed_aggregate_inputs(camp, aggs)
    moving_windows(camp, camp.conn, aggs, rng)
    if opts.random > 0:
        randomised(camp, funcs, rng, opts.random)
        camp.report("random", f"random arguments (seed {opts.seed}, {opts.random} calls)")
    tap.ok(camp.lost == 0, f"no call lost the connection ({camp.calls} calls in {time.time() - start:.0f}s)")
    tap.diag(f"hostile calls: {camp.calls}; lost connections: {camp.lost}")
    tap.exit()


if __name__ == "__main__":
    main()
