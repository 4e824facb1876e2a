"""Hostile search_path campaign (run by test/search_path.sh).

A schema `evil` gets look-alikes of everything our SQL could resolve by
name: every pg_catalog function our function bodies and view definitions
call (same argument types; typed overloads for the variadic "any" ones such
as jsonb_build_object and format), the aggregates they use, every
pg_catalog operator on the common types (=, <, ||, ->> ...), and tables and
views named like ours (plus temporary tables, which are searched first).
Every look-alike raises an error, so a single resolution through `evil`
shows. Then, in one transaction (so now() does not move), every read-only
function of schema multisample (called with plausible arguments), every
aggregate and every view is evaluated with the default search_path and
again with `evil, pg_catalog` first; the results must be identical. A
controlled positive check proves the traps fire for unqualified calls.
Usage: search_path.py DB"""

import re
import sys

from hostile import discover, plausible
from mstest import Tap, call, connect

COMMON_TYPES = ["text", "integer", "bigint", "smallint", "double precision", "numeric",
                "boolean", "jsonb", "timestamp with time zone", "interval", "text[]",
                "double precision[]", "integer[]", "bigint[]", "name", "character varying"]
VARIADIC_OVERLOADS = {
    "jsonb_build_object": [["text", t] for t in ("text", "double precision", "integer", "bigint",
                                                   "numeric", "jsonb", "boolean")],
    "json_build_object": [["text", "text"], ["text", "double precision"]],
    "jsonb_build_array": [["text"], ["double precision"], ["jsonb"]],
    "format": [["text", "text"], ["text", "integer"], ["text", "bigint"], ["text", "text", "text"]],
    "concat": [["text", "text"], ["text", "text", "text"]],
    "concat_ws": [["text", "text", "text"]],
}


def raising_body(label):
    return f"BEGIN RAISE EXCEPTION 'hijacked through search_path: %', {label!r}; END"


def build_evil(cur, tap):
    cur.execute("DROP SCHEMA IF EXISTS evil CASCADE; CREATE SCHEMA evil")
    # Names our SQL calls: identifiers followed by "(" in function bodies and views.
    cur.execute("""
        SELECT string_agg(coalesce(p.prosrc, ''), ' ') FROM pg_proc p
         WHERE p.pronamespace = 'multisample'::regnamespace
        UNION ALL
        SELECT string_agg(pg_get_viewdef(c.oid), ' ') FROM pg_class c
         WHERE c.relnamespace = 'multisample'::regnamespace AND c.relkind IN ('v', 'm')""")
    text = " ".join(r[0] or "" for r in cur.fetchall()).lower()
    names = set(re.findall(r"([a-z_][a-z0-9_]*)\s*\(", text))
    cur.execute("""
        SELECT p.proname, p.prokind,
               array(SELECT format_type(t, NULL) FROM unnest(p.proargtypes) t),
               format_type(p.prorettype, NULL), p.provariadic <> 0
          FROM pg_proc p
         WHERE p.pronamespace = 'pg_catalog'::regnamespace AND p.proname = ANY(%s)
           AND p.prokind IN ('f', 'a')""", (sorted(names),))
    made = set()
    funcs = aggs = 0
    pseudo = re.compile(r'^(any|anyelement|anyarray|anynonarray|anyenum|anyrange|anymultirange|anycompatible.*|"any"|internal|cstring|record|trigger|event_trigger|void|language_handler|fdw_handler|table_am_handler|index_am_handler|tsm_handler|opaque|unknown)$')
    for name, kind, args, ret, variadic in cur.fetchall():
        sigs = []
        if variadic or any(pseudo.match(a) for a in args) or pseudo.match(ret):
            for extra in VARIADIC_OVERLOADS.get(name, []):
                sigs.append((extra, "jsonb" if "json" in name and ret not in ("json",) else ret
                             if not pseudo.match(ret) else "text"))
        else:
            sigs.append((args, ret))
        for sig_args, sig_ret in sigs:
            key = (name, tuple(sig_args))
            if key in made:
                continue
            made.add(key)
            argl = ", ".join(sig_args)
            if kind == "a":
                if len(sig_args) != 1:
                    continue
                cur.execute(f'CREATE FUNCTION evil."{name}_sfunc"(s {sig_ret}, x {sig_args[0]}) RETURNS {sig_ret} '
                            f'LANGUAGE plpgsql AS $${raising_body(name)}$$')
                cur.execute(f'CREATE AGGREGATE evil."{name}"({sig_args[0]}) (SFUNC = evil."{name}_sfunc", STYPE = {sig_ret})')
                aggs += 1
            else:
                cur.execute(f'CREATE FUNCTION evil."{name}"({argl}) RETURNS {sig_ret} '
                            f'LANGUAGE plpgsql AS $${raising_body(name)}$$')
                funcs += 1
    if "count" in names:
        cur.execute("CREATE FUNCTION evil.count_star_sfunc(s bigint) RETURNS bigint LANGUAGE plpgsql AS "
                    f"$${raising_body('count(*)')}$$")
        cur.execute("CREATE AGGREGATE evil.count(*) (SFUNC = evil.count_star_sfunc, STYPE = bigint)")
        aggs += 1
    # Operators on the common types.
    cur.execute("""
        SELECT o.oprname, format_type(o.oprleft, NULL), format_type(o.oprright, NULL), format_type(o.oprresult, NULL)
          FROM pg_operator o
         WHERE o.oprnamespace = 'pg_catalog'::regnamespace
           AND (o.oprleft = 0 OR format_type(o.oprleft, NULL) = ANY(%(t)s))
           AND format_type(o.oprright, NULL) = ANY(%(t)s)""", {"t": COMMON_TYPES})
    ops = 0
    for i, (op, left, right, result) in enumerate(cur.fetchall()):
        fname = f"evil_op_{i}"
        if left == "-":
            cur.execute(f"CREATE FUNCTION evil.{fname}({right}) RETURNS {result} LANGUAGE plpgsql AS "
                        f"$${raising_body('operator ' + op)}$$")
            cur.execute(f"CREATE OPERATOR evil.{op} (RIGHTARG = {right}, FUNCTION = evil.{fname})")
        else:
            cur.execute(f"CREATE FUNCTION evil.{fname}({left}, {right}) RETURNS {result} LANGUAGE plpgsql AS "
                        f"$${raising_body('operator ' + op)}$$")
            cur.execute(f"CREATE OPERATOR evil.{op} (LEFTARG = {left}, RIGHTARG = {right}, FUNCTION = evil.{fname})")
        ops += 1
    # Relations named like ours, empty, in evil and as temporary tables.
    cur.execute("SELECT relname FROM pg_class WHERE relnamespace = 'multisample'::regnamespace AND relkind IN ('r', 'v', 'p')")
    rels = [r[0] for r in cur.fetchall()]
    for r in rels:
        cur.execute(f'CREATE TABLE evil."{r}" (LIKE multisample."{r}")')
        cur.execute(f'CREATE TEMP TABLE "{r}" (LIKE multisample."{r}")')
    tap.diag(f"look-alikes in schema evil: {funcs} functions, {aggs} aggregates, {ops} operators, "
             f"{len(rels)} relations (and as many temporary tables); names called by our SQL: {len(names)}")
    return funcs + aggs + ops


def battery(cur):
    """Statements to evaluate: read-only functions, aggregates, views."""
    cur.execute("SELECT id FROM multisample.runs ORDER BY (config ? 'samplesPerScenario') DESC, id LIMIT 1")
    run = cur.fetchone()[0]
    stmts = []
    for f in discover(cur.connection):
        cur.execute("SELECT provolatile, prorettype = 'trigger'::regtype FROM pg_proc WHERE oid = %s", (f["oid"],))
        vol, trig = cur.fetchone()
        if trig or "internal" in f["argtypes"]:
            continue
        if f["kind"] == "a":
            args = ", ".join(["t.score"] + ["0.9::float8"] * (len(f["argtypes"]) - 1))
            stmts.append(f"SELECT t.run_id, multisample.{f['name']}({args})::text FROM multisample.transcripts t "
                         f"GROUP BY t.run_id ORDER BY 1")
        elif vol in ("i", "s"):
            args = [plausible(n, t, run) or "'{0,0,0,0,0,0}'" for n, t in zip(f["argnames"], f["argtypes"])]
            casted = ", ".join(f"({a})::{t}" for a, t in zip(args, f["argtypes"]))
            stmts.append(f"SELECT r::text FROM (SELECT multisample.{f['name']}({casted}) AS r LIMIT 1000) s")
    cur.execute("SELECT relname FROM pg_class WHERE relnamespace = 'multisample'::regnamespace AND relkind IN ('v', 'm') ORDER BY 1")
    for (v,) in cur.fetchall():
        stmts.append(f'SELECT x::text FROM multisample."{v}" AS x')
    return stmts


def evaluate(conn, stmts):
    out = []
    for s in stmts:
        with conn.cursor() as cur:
            cur.execute("SAVEPOINT probe")
            try:
                cur.execute(s)
                rows = sorted(str(r) for r in cur.fetchall())
                out.append(("ok", rows))
                cur.execute("RELEASE SAVEPOINT probe")
            except Exception as e:
                out.append(("error", getattr(e, "pgcode", None), str(e).splitlines()[0]))
                cur.execute("ROLLBACK TO SAVEPOINT probe")
    return out


def main():
    db = sys.argv[1]
    tap = Tap()
    conn = connect(db)
    cur = conn.cursor()
    cur.execute("""SELECT p.proname FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
                    WHERE p.pronamespace = 'multisample'::regnamespace AND l.lanname IN ('sql', 'plpgsql')
                      AND NOT EXISTS (SELECT 1 FROM unnest(coalesce(p.proconfig, '{}')) c
                                       WHERE c LIKE 'search_path=%%' AND c NOT LIKE '%%public%%' AND c NOT LIKE '%%$user%%')""")
    bad = [r[0] for r in cur.fetchall()]
    tap.ok(not bad, "every SQL and PL/pgSQL function of the extension fixes search_path (without public or $user)", *bad)
    # Nothing runs with its owner's rights (SPEC 12.1): no SECURITY DEFINER
    # function at all, trigger functions included.
    cur.execute("""SELECT p.oid::regprocedure::text FROM pg_proc AS p
                    WHERE p.pronamespace = 'multisample'::regnamespace AND p.prosecdef""")
    definer = [r[0] for r in cur.fetchall()]
    tap.ok(not definer, "no function of the extension is SECURITY DEFINER", *definer)

    stmts = battery(cur)
    conn.autocommit = False
    cur = conn.cursor()
    n = build_evil(cur, tap)
    tap.ok(n > 50, f"{n} look-alike objects created")
    baseline = evaluate(conn, stmts)
    cur.execute("SET LOCAL search_path = evil, pg_catalog")
    hostile = evaluate(conn, stmts)
    diffs = []
    for s, a, b in zip(stmts, baseline, hostile):
        if a != b:
            diffs.append(f"{s[:160]}\n  default: {str(a)[:200]}\n  hostile: {str(b)[:200]}")
    ok_count = sum(1 for a in baseline if a[0] == "ok")
    tap.ok(not diffs, f"{len(stmts)} function calls, aggregates and views give identical results with "
           f"look-alikes first in search_path ({ok_count} return rows by default)", *diffs[:8])
    tap.ok(ok_count >= len(stmts) * 0.6, f"the battery mostly exercises successful calls ({ok_count} of {len(stmts)})",
           *[f"{s[:120]} -> {a}" for s, a in zip(stmts, baseline) if a[0] != "ok"][:8])
    # Positive control: unqualified calls really do resolve to the traps.
    control = evaluate(conn, ["SELECT now()", "SELECT 'a'::text = 'b'::text", "SELECT pg_catalog.count(*) FROM runs"])
    tap.ok(all(c[0] == "error" and "hijacked" in c[2] for c in control[:2]) and control[2] == ("ok", ["(0,)"]),
           "control: unqualified now(), text = text and a table name do resolve to the look-alikes", control)
    conn.rollback()
    tap.exit()


if __name__ == "__main__":
    main()
