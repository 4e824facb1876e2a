"""Dashboard attack campaign (run by test/attack_dashboard.sh; SPEC 12.1).
A role with the README's dashboard rights (SELECT on the views) tries to read
what it must not: the tables, every function of the schema, and the rows the
views hide (deleted transcripts, and everything of them) through leaky
functions of its own (in pg_temp: PUBLIC may not create in schema public
from PostgreSQL 15 on) placed in WHERE clauses and join conditions of every
view, cheap enough to be evaluated first; and to write anything. The outcome:
no value of a hidden row ever reaches the dashboard (every leaked value is
one the view shows it anyway), no secret text appears in any answer, and
nothing changed. Usage: attack_dashboard.py DB DASHBOARD"""

import sys

from attacks import DASHBOARD_GRANTS, call, connect, role_conn, rows, value
from hostile import discover, plausible
from mstest import Tap

tap = Tap()
db, dash = sys.argv[1:3]
SECRET = "SECRET-7f3a"


def main():
    su = connect(db)
    su.cursor().execute(f"""
        SET client_min_messages = warning;
        CREATE EXTENSION multisample;
        INSERT INTO multisample.definitions (id, name) VALUES ('def-1', 'visible');
        INSERT INTO multisample.scenarios (id, definition_id, name, content) VALUES
            ('def-1-scn-1', 'def-1', 'one', '{{"prompt": "p1"}}'), ('def-1-scn-2', 'def-1', 'two', '{{"prompt": "p2"}}'),
            ('{SECRET}-scn', 'def-1', '{SECRET} name', '{{"prompt": "{SECRET} prompt"}}');
        INSERT INTO multisample.model_pricing VALUES ('{SECRET}-priced', 1, 2);
        INSERT INTO multisample.runs (id, definition_id, config) VALUES
            ('run-1', 'def-1', '{{"models": ["model-a", "model-b"], "samplesPerScenario": 3}}');
        INSERT INTO multisample.run_scenario_selections VALUES ('run-1', 'def-1-scn-1'), ('run-1', 'def-1-scn-2'),
            ('run-1', '{SECRET}-scn');
        INSERT INTO multisample.transcripts (id, run_id, scenario_id, model_id, sample_index, score, content, decision_text)
        SELECT 't-' || s || '-' || m || '-' || i, 'run-1', s, m, i, 1 + i, '{{"turns": [{{"role": "assistant", "content": "fine"}}]}}', 'ok'
          FROM unnest(ARRAY['def-1-scn-1', 'def-1-scn-2']) AS s, unnest(ARRAY['model-a', 'model-b']) AS m,
               generate_series(0, 2) AS i;
        -- Deleted: whole samples, a model and a scenario seen nowhere else.
        INSERT INTO multisample.transcripts (id, run_id, scenario_id, model_id, sample_index, score, content, decision_text,
                                             model_version, deleted_at)
        VALUES ('{SECRET}-t1', 'run-1', 'def-1-scn-1', 'model-a', 3, 4,
                '{{"turns": [{{"role": "assistant", "content": "{SECRET} answer"}}]}}', '{SECRET} decision', '{SECRET}-v', now()),
               ('{SECRET}-t2', 'run-1', 'def-1-scn-1', '{SECRET}-model', 0, 2,
                '{{"turns": [{{"role": "user", "content": "{SECRET} question"}}]}}', '{SECRET}', NULL, now()),
               ('{SECRET}-t3', 'run-1', '{SECRET}-scn', 'model-b', 0, 5, '{{"{SECRET}": 1}}', NULL, NULL, now());
        RESET client_min_messages;
    """)
    su.cursor().execute(DASHBOARD_GRANTS.format(role=dash))
    d = role_conn(db, dash)

    def checksum():
        return [(t, value(su, f'SELECT md5(coalesce(string_agg(x::text, \'|\' ORDER BY x::text), \'\')) FROM multisample."{t}" x'))
                for (t,) in rows(su, "SELECT relname FROM pg_class WHERE relnamespace = 'multisample'::regnamespace "
                                     "AND relkind = 'r' ORDER BY 1")]
    before = checksum()

    # ---- the views answer, with no secret --------------------------------------
    views = [v for (v,) in rows(su, "SELECT relname FROM pg_class WHERE relnamespace = 'multisample'::regnamespace "
                                    "AND relkind = 'v' AND has_table_privilege(%s, oid, 'SELECT') ORDER BY 1", (dash,))]
    tap.ok(len(views) >= 10, f"the dashboard may read {len(views)} views: {', '.join(views)}")
    for v in views:
        res = call(d, f'SELECT * FROM multisample."{v}"')
        tap.ok(res[0] == "ok" and SECRET not in repr(res[1]), f"dashboard: reads {v}, and no hidden row shows in it", res[:2])

    # ---- tables and functions: nothing ----------------------------------------
    for (t,) in rows(su, "SELECT relname FROM pg_class WHERE relnamespace = 'multisample'::regnamespace "
                         "AND relkind IN ('r', 'p') ORDER BY 1"):
        res = call(d, f'SELECT * FROM multisample."{t}" LIMIT 1')
        tap.ok(res[0] == "error" and res[1] == "42501", f"dashboard: reading table {t} fails with 42501", res)
    leaked_by_functions, answered = [], []
    for f in discover(su):
        if f["kind"] != "f" or "internal" in f["argtypes"] or f["rettype"] == "trigger":
            continue
        args = [plausible(n, t, "run-1") for n, t in zip(f["argnames"], f["argtypes"])]
        if any(a is None for a in args):
            continue
        sql = (f"SELECT r::text FROM multisample.{f['name']}("
               + ", ".join(f"({a})::{t}" for a, t in zip(args, f["argtypes"])) + ") AS r LIMIT 1000")
        res = call(d, sql)
        if res[0] == "ok":
            answered.append(f["name"])
            # expand_run_jobs and select_scenarios echo their arguments; the
            # charts draw what the views the dashboard may read show (no
            # SECRET: nothing of a hidden row).
            if SECRET in repr(res[1]) or ("def-1-scn" in repr(res[1]) and f["name"] not in (
                    "expand_run_jobs", "select_scenarios", "model_chart_svg", "variance_heatmap_svg", "comparison_chart_svg")):
                leaked_by_functions.append((f["name"], res[1][:2]))
    tap.ok(not leaked_by_functions, "dashboard: no function of the schema answers with anything read from the tables",
           *leaked_by_functions)
    tap.diag(f"functions that answered the dashboard (they read no table): {', '.join(sorted(set(answered)))}")
    for name, sql in [("analysis_json", "SELECT multisample.analysis_json('run-1')"),
                      ("export_run_csv", "SELECT * FROM multisample.export_run_csv('run-1')"),
                      ("first_divergence", "SELECT * FROM multisample.first_divergence('run-1', 'def-1-scn-1', 'model-a', 0, 1)"),
                      ("estimate_run_cost", "SELECT * FROM multisample.estimate_run_cost('def-1', ARRAY['model-a'], 3)"),
                      ("preview_run", "SELECT * FROM multisample.preview_run('def-1', ARRAY['model-a'], 3)")]:
        res = call(d, sql)
        tap.ok(res[0] == "error" and res[1] == "42501", f"dashboard: {name} fails with 42501", res)

    # ---- leaky functions on every column of every view ---------------------------
    d.cursor().execute("""
        CREATE TEMP TABLE leaked (view text, col text, val text);
        CREATE FUNCTION pg_temp.leak(v text, c text, x text) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS $$
        BEGIN INSERT INTO pg_temp.leaked VALUES (v, c, x); RETURN true; END $$;""")
    leaks = []
    for v in views:
        cols = rows(su, "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 ORDER BY attnum",
                    (f"multisample.{v}",))
        for (c,) in cols:
            for form in [f'SELECT count(*) FROM multisample."{v}" AS v WHERE pg_temp.leak(%s, %s, v."{c}"::text)',
                         f'SELECT count(*) FROM multisample."{v}" AS v JOIN (VALUES (1)) AS x(i) '
                         f'ON pg_temp.leak(%s, %s, v."{c}"::text)',
                         f'SELECT count(*) FROM multisample."{v}" AS v WHERE v.run_id = \'run-1\' '
                         f'AND pg_temp.leak(%s, %s, v."{c}"::text)' if any(x == ("run_id",) for x in cols) else None]:
                if form:
                    res = call(d, form, (v, c))
                    if res[0] != "ok":
                        leaks.append((v, c, res))
    got = rows(d, "SELECT DISTINCT view, col, val FROM pg_temp.leaked")
    # Control: the same probe on a view that is no security barrier and hides
    # rows by a costlier condition does see them, so the probe would notice.
    su.cursor().execute(f"""CREATE VIEW public.leak_control AS SELECT id FROM multisample.transcripts
                              WHERE pg_catalog.strpos(id, '{SECRET}') = 0;
                            GRANT SELECT ON public.leak_control TO "{dash}\"""")
    rows(d, "SELECT count(*) FROM public.leak_control AS v WHERE pg_temp.leak('control', 'id', v.id)")
    control = rows(d, f"SELECT count(*) FROM pg_temp.leaked WHERE view = 'control' AND strpos(val, '{SECRET}') > 0")[0][0]
    su.cursor().execute("DROP VIEW public.leak_control")
    tap.ok(control > 0, f"control: the probe sees the hidden rows of a view that is no security barrier ({control})")
    # A value the view shows, as text; compare through PostgreSQL's own text form.
    shown_text = set()
    for v in views:
        for (c,) in rows(su, "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0",
                         (f"multisample.{v}",)):
            for (val,) in rows(su, f'SELECT DISTINCT v."{c}"::text FROM multisample."{v}" AS v'):
                shown_text.add((v, c, val))
    # (A view may evaluate the qual on rows it then drops in a join, e.g.
    # run_progress over runs without jobs: what it sees there must still be
    # something some granted view shows.)
    anywhere = {val for _, _, val in shown_text}
    beyond = [g for g in got if g[2] not in anywhere]
    tap.ok(len(got) > 0, f"the leaky functions ran ({len(got)} distinct values seen)")
    tap.ok(not leaks and not beyond and SECRET not in repr(got),
           "dashboard: a leaky function in WHERE or JOIN of any view sees only values that the granted views show "
           "(nothing of deleted transcripts)", *(leaks[:3] + beyond[:5]))

    # ---- writes -------------------------------------------------------------------
    for v in views:
        for sql in [f'DELETE FROM multisample."{v}"', f'UPDATE multisample."{v}" SET run_id = run_id',
                    f'INSERT INTO multisample."{v}" DEFAULT VALUES', f'SELECT 1 FROM multisample."{v}" FOR UPDATE']:
            res = call(d, sql)
            tap.ok(res[0] == "error" and res[1] in ("42501", "0A000", "55000", "42703"),
                   f"dashboard: {sql.split(' FROM')[0].split(' INTO')[0].split(' multisample')[0]} on {v} fails", sql, res)
    for sql in ["CREATE TABLE multisample.x (a int)", "CREATE VIEW multisample.x AS SELECT 1",
                "SELECT multisample.pause_run('run-1')", "SELECT multisample.cancel_run('run-1')",
                "SELECT * FROM multisample.claim_probe_jobs('dash')",
                "SELECT * FROM multisample.start_run('def-1', ARRAY['model-a'])"]:
        res = call(d, sql)
        tap.ok(res[0] == "error" and res[1] == "42501", f"dashboard: {sql} fails with 42501", res)
    tap.ok(checksum() == before, "no table changed")
    d.close()
    su.close()
    tap.exit()


if __name__ == "__main__":
    main()
