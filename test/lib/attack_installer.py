"""Installer attack campaign (run by test/attack_installer.sh; SPEC 12.1,
issue 10 items 1 and 2). A database owner without superuser installs the
extension (trusted = true, logged in with a password over loopback) and
tries every way to another role's rights. Everything it plants records
current_user in a log table and advances a sequence (which no rollback
undoes, so code that ran inside a refused CREATE/ALTER EXTENSION shows too).
The outcome: nothing planted ever ran as anybody but the installer, the
installer and the roles it passed rights to hold nothing beyond its rights on
the extension's objects, and a superuser using the extension afterwards runs
nothing of the installer's.

  A  a 1.2 install: triggers, the schema, the objects, planted functions and
     operators in public with a hostile search_path for the database, GRANT
     OPTIONs; then a superuser calls every function and view
  B  a 1.1 install (which still granted TRIGGER and the schema): planted
     triggers on the tables, objects in the schema, rights given away; the
     installer's own ALTER EXTENSION UPDATE
  C  a schema multisample the installer created before CREATE EXTENSION,
     with planted objects in it
  D  a 1.1 install whose schema the installer renamed, with a schema of its
     own under the old name

Usage: attack_installer.py DB_A DB_B DB_C DB_D INSTALLER PASSWORD ACCOMPLICE THIRD"""

import sys

import psycopg2

from attacks import plant_base, plant_lookalikes, role_conn, rows, snapshot, snapshot_diff, typed, value
from hostile import discover, plausible
from mstest import Tap, call, connect

tap = Tap()
db_a, db_b, db_c, db_d, inst, pw, accomplice, third = sys.argv[1:9]


def as_installer(db):
    conn = psycopg2.connect(dbname=db, user=inst, password=pw)
    conn.autocommit = True
    return conn


def refused(conn, sql, desc, codes=("42501",)):
    res = call(conn, sql)
    tap.ok(res[0] == "error" and res[1] in codes, f"{desc} fails ({res[1] if res[0] == 'error' else 'no error'})", sql, res)


def planted_calls(su):
    """How often planted code ran (the sequence survives rollbacks), and as whom (the log)."""
    n = value(su, "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM public.planted_calls")
    who = sorted({r[0] for r in rows(su, "SELECT who FROM public.planted_log")})
    return n, who


def superuser_uses_everything(db, label):
    """A new superuser session (it gets the database's search_path) calls every
    function of the schema with plausible arguments, every aggregate, every
    view, and works a run through the queue and run control. Every cast and
    call is schema-qualified, so whatever runs is our code's doing."""
    su = connect(db)
    path = value(su, "SHOW search_path")
    # The test's own look-ups and set-up run in a session that resolves in
    # pg_catalog only, so that only our code can set off a planted object.
    safe = connect(db)
    safe.cursor().execute("SET search_path = pg_catalog")
    safe.cursor().execute("""
        INSERT INTO multisample.definitions (id, name) VALUES ('def-1', 'd') ON CONFLICT DO NOTHING;
        INSERT INTO multisample.scenarios (id, definition_id, name, content)
        SELECT 'def-1-scn-' || i, 'def-1', 's' || i, '{"prompt": "p"}' FROM pg_catalog.generate_series(1, 4) AS i
        ON CONFLICT DO NOTHING;""")
    run = value(safe, "SELECT run_id FROM multisample.start_run('def-1', ARRAY['model-a', 'model-b'], 2)")
    calls = 0
    for f in discover(safe):
        if f["kind"] == "a":
            sql = (f"SELECT multisample.{f['name']}(x) FROM (VALUES (1::pg_catalog.float8), (2::pg_catalog.float8)) AS v(x)"
                   if len(f["argtypes"]) == 1 else
                   f"SELECT multisample.{f['name']}(x, 0.9::pg_catalog.float8) FROM (VALUES (1::pg_catalog.float8), (2::pg_catalog.float8)) AS v(x)")
        elif f["rettype"] in ("trigger",) or "internal" in f["argtypes"]:
            continue
        else:
            args = [plausible(n, t, run) for n, t in zip(f["argnames"], f["argtypes"])]
            oids = rows(safe, "SELECT unnest(proargtypes::oid[]) FROM pg_proc WHERE oid = %s", (f["oid"],))
            casts = ", ".join(f"({a})::{typed(safe, o[0])}" if a is not None else f"NULL::{typed(safe, o[0])}"
                              for a, o in zip(args, oids))
            sql = f"SELECT pg_catalog.count(*) FROM (SELECT multisample.{f['name']}({casts}) LIMIT 1000) AS s"
        call(su, sql)
        calls += 1
    for (v,) in rows(safe, "SELECT relname FROM pg_catalog.pg_class WHERE relnamespace = 'multisample'::pg_catalog.regnamespace "
                         "AND relkind = 'v'"):
        call(su, f'SELECT pg_catalog.count(*) FROM multisample."{v}"')
        calls += 1
    run = value(safe, "SELECT run_id FROM multisample.start_run('def-1', ARRAY['model-a'], 3, priority => 'HIGH')")
    for sql in ["SELECT * FROM multisample.claim_probe_jobs('su-worker', 3)",
                f"SELECT c.* FROM multisample.probe_jobs AS j, LATERAL multisample.complete_probe_job(j.run_id, j.scenario_id, "
                f"j.model_id, j.sample_index, 'su-worker', '{{}}'::pg_catalog.jsonb, score => 2::pg_catalog.float8) AS c "
                f"WHERE j.run_id OPERATOR(pg_catalog.=) '{run}'::pg_catalog.text AND j.state OPERATOR(pg_catalog.=) 'RUNNING'::pg_catalog.text",
                "SELECT * FROM multisample.claim_probe_jobs('su-worker', 1)",
                f"SELECT c.* FROM multisample.probe_jobs AS j, LATERAL multisample.fail_probe_job(j.run_id, j.scenario_id, "
                f"j.model_id, j.sample_index, 'su-worker', 'E'::pg_catalog.text, 'x'::pg_catalog.text, true) AS c "
                f"WHERE j.run_id OPERATOR(pg_catalog.=) '{run}'::pg_catalog.text AND j.state OPERATOR(pg_catalog.=) 'RUNNING'::pg_catalog.text",
                f"SELECT multisample.pause_run('{run}')", f"SELECT multisample.resume_run('{run}')",
                f"SELECT multisample.pause_run('{run}')", f"SELECT multisample.resume_run('{run}')",
                "SELECT multisample.release_expired_leases()",
                f"SELECT multisample.analysis_json('{run}')", f"SELECT pg_catalog.count(*) FROM multisample.export_run_csv('{run}')",
                f"SELECT multisample.cancel_run('{run}')"]:
        res = call(su, sql)
        calls += 1
        if res[0] != "ok":
            tap.diag(f"{label}: {sql[:60]}... -> {res}")
    su.close()
    safe.close()
    return calls, path


def check_after(su, label, base_inst):
    diff = snapshot_diff(base_inst, snapshot(su, inst))
    tap.ok(not diff, f"{label}: the installer's rights are what the install gave it, nothing more", *diff)
    facts = rows(su, """
        SELECT r.rolsuper, r.rolcreaterole, r.rolbypassrls,
               (SELECT pg_catalog.count(*) FROM pg_catalog.pg_auth_members m WHERE m.member = r.oid),
               (SELECT r2.rolsuper FROM pg_catalog.pg_namespace n JOIN pg_catalog.pg_roles r2 ON r2.oid = n.nspowner
                 WHERE n.nspname = 'multisample'),
               pg_catalog.has_schema_privilege(%(i)s, 'multisample', 'CREATE'),
               pg_catalog.has_schema_privilege('public', 'multisample', 'CREATE'),
               (SELECT pg_catalog.count(*) FROM pg_catalog.pg_class c
                 WHERE c.relnamespace = 'multisample'::pg_catalog.regnamespace
                   AND (pg_catalog.has_table_privilege(%(i)s, c.oid, 'TRIGGER')
                        OR pg_catalog.has_table_privilege('public', c.oid, 'TRIGGER'))),
               (SELECT pg_catalog.count(*) FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
                  JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid JOIN pg_catalog.pg_roles o ON o.oid = p.proowner
                 WHERE c.relnamespace = 'multisample'::pg_catalog.regnamespace AND NOT o.rolsuper),
               pg_catalog.has_table_privilege(%(i)s, 'pg_catalog.pg_authid', 'SELECT')
          FROM pg_catalog.pg_roles r WHERE r.rolname = %(i)s""", {"i": inst})[0]
    tap.ok(facts == (False, False, False, 0, True, False, False, 0, 0, False),
           f"{label}: installer not superuser, no CREATEROLE/BYPASSRLS, no memberships; the schema a superuser's, "
           "CREATE on it for nobody else, TRIGGER on no table for the installer or PUBLIC, no trigger of a non-superuser, "
           "no access to pg_authid", facts)


def part_a():
    su = connect(db_a)
    i = as_installer(db_a)
    res = call(i, "SET client_min_messages = error; CREATE EXTENSION multisample")
    tap.ok(res[0] == "ok", "A: the database owner (no superuser, password over loopback) installs the extension", res)
    base = snapshot(su, inst)
    ic = i.cursor()
    plant_base(ic, "public")
    n = plant_lookalikes(ic, "public", "public", su)
    ic.execute(f'ALTER DATABASE "{db_a}" SET search_path = public, pg_catalog, multisample')
    tap.diag(f"A: the installer planted {n} look-alike functions, operators and relations in public")
    ic.execute("""CREATE FUNCTION public.planted_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
                  BEGIN PERFORM public.planted_hit('trigger ' || TG_TABLE_NAME); RETURN NULL; END $$""")
    for rel, kind in rows(su, "SELECT relname, relkind FROM pg_class WHERE relnamespace = 'multisample'::regnamespace "
                              "AND relkind IN ('r', 'v') ORDER BY 1"):
        timing = "AFTER INSERT OR UPDATE OR DELETE" if kind == "r" else "INSTEAD OF INSERT OR UPDATE OR DELETE"
        level = "FOR EACH STATEMENT" if kind == "r" else "FOR EACH ROW"
        refused(i, f'CREATE TRIGGER planted {timing} ON multisample."{rel}" {level} EXECUTE FUNCTION public.planted_trigger()',
                f"A: installer: CREATE TRIGGER on {rel}")
    pb = value(su, "SELECT oid::regprocedure::text FROM pg_proc WHERE proname = 'progress_bar' "
                   "AND pronamespace = 'multisample'::regnamespace")
    claim = value(su, "SELECT oid::regprocedure::text FROM pg_proc WHERE proname = 'claim_probe_jobs' "
                      "AND pronamespace = 'multisample'::regnamespace")
    for sql, what in [
        ("ALTER SCHEMA multisample RENAME TO ms_old", "renaming the schema"),
        (f"ALTER SCHEMA multisample OWNER TO {inst}", "taking the schema"),
        ("CREATE FUNCTION multisample.planted() RETURNS int LANGUAGE sql AS 'SELECT 1'", "CREATE FUNCTION in the schema"),
        ("CREATE OPERATOR multisample.= (LEFTARG = text, RIGHTARG = text, FUNCTION = pg_catalog.texteq)", "CREATE OPERATOR in the schema"),
        ("CREATE TABLE multisample.planted (a int)", "CREATE TABLE in the schema"),
        ("CREATE VIEW multisample.planted AS SELECT 1", "CREATE VIEW in the schema"),
        ("CREATE TYPE multisample.planted AS (a int)", "CREATE TYPE in the schema"),
        ("ALTER TABLE multisample.runs OWNER TO " + inst, "taking a table"),
        ("ALTER TABLE multisample.probe_jobs DISABLE TRIGGER probe_jobs_guard", "disabling a guard"),
        ("ALTER TABLE multisample.runs ADD COLUMN planted int", "changing a table"),
        ("CREATE POLICY planted ON multisample.probe_jobs USING (true)", "adding a policy"),
        ("CREATE RULE planted AS ON INSERT TO multisample.runs DO ALSO SELECT public.planted_hit('rule')", "adding a rule"),
        ("CREATE INDEX planted ON multisample.runs ((public.planted_hit('index')::text))", "adding an index"),
        (f"ALTER FUNCTION {claim} SECURITY DEFINER", "making a function SECURITY DEFINER"),
        (f"ALTER FUNCTION {claim} RESET search_path", "unpinning a function's search_path"),
        (f"ALTER FUNCTION {pb} OWNER TO {inst}", "taking a function"),
        (f"CREATE OR REPLACE FUNCTION {pb.split('(')[0]}(bigint, bigint, bigint, bigint) RETURNS text "
         "LANGUAGE sql AS 'SELECT NULL::text'", "replacing a function"),
        (f"ALTER EXTENSION multisample DROP FUNCTION {pb}", "removing a function from the extension"),
    ]:
        refused(i, sql, f"A: installer: {what}")
    call(i, f"GRANT CREATE ON SCHEMA multisample TO {inst}")
    call(i, "GRANT TRIGGER ON multisample.runs TO PUBLIC")
    # GRANT OPTION: everything it may pass on, to an accomplice, and on.
    res = call(i, f"GRANT ALL ON ALL TABLES IN SCHEMA multisample TO {accomplice} WITH GRANT OPTION; "
                  f"GRANT USAGE ON SCHEMA multisample TO {accomplice} WITH GRANT OPTION; "
                  f"GRANT CREATE ON SCHEMA public TO {accomplice}")
    tap.ok(res[0] == "ok", "A: installer passes its rights on with GRANT OPTION", res)
    acc = role_conn(db_a, accomplice)
    call(acc, "CREATE FUNCTION public.acc_trigger() RETURNS trigger LANGUAGE plpgsql AS $$ "
              "BEGIN PERFORM public.planted_hit('accomplice trigger'); RETURN NULL; END $$")
    refused(acc, "CREATE TRIGGER planted AFTER INSERT ON multisample.runs EXECUTE FUNCTION public.acc_trigger()",
            "A: accomplice: CREATE TRIGGER")
    refused(acc, "CREATE FUNCTION multisample.planted() RETURNS int LANGUAGE sql AS 'SELECT 1'", "A: accomplice: CREATE FUNCTION in the schema")
    call(acc, f"GRANT TRIGGER ON multisample.runs TO {third}")
    res = call(acc, f"GRANT ALL ON ALL TABLES IN SCHEMA multisample TO {third} WITH GRANT OPTION")
    tap.ok(res[0] == "ok", "A: accomplice passes its rights on in turn", res)
    acc.close()
    beyond = rows(su, """
        SELECT r.rolname, c.relname, p.priv
          FROM pg_class c, unnest(ARRAY[%s, %s]) AS r(rolname),
               unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) AS p(priv)
         WHERE c.relkind IN ('r', 'v', 'm', 'p') AND c.relnamespace <> 'pg_catalog'::regnamespace
           AND c.relnamespace <> 'information_schema'::regnamespace
           AND has_table_privilege(r.rolname, c.oid, p.priv) AND NOT has_table_privilege(%s, c.oid, p.priv)""",
                  (accomplice, third, inst))
    tap.ok(not beyond, "A: the roles the installer passed rights to hold nothing beyond the installer's rights "
                       "(no TRIGGER, nothing outside the extension)", *beyond[:5])
    n_calls, path = superuser_uses_everything(db_a, "A")
    tap.ok(path.startswith("public"), f"A: the superuser's session has the installer's search_path ({path})")
    hits = planted_calls(su)
    tap.ok(hits == (0, []), f"A: a superuser calling every function, aggregate and view ({n_calls} calls) ran nothing "
                            "the installer planted", hits, *rows(su, "SELECT who, what FROM public.planted_log LIMIT 5"))
    check_after(su, "A", base)
    i.close()
    su.close()


def part_b():
    su = connect(db_b)
    i = as_installer(db_b)
    res = call(i, "SET client_min_messages = error; CREATE EXTENSION multisample VERSION '1.1'")
    tap.ok(res[0] == "ok", "B: the database owner installs 1.1", res)
    ic = i.cursor()
    plant_base(ic, "public")
    ic.execute("""CREATE FUNCTION public.planted_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
                  BEGIN PERFORM public.planted_hit('trigger ' || TG_TABLE_NAME || ' ' || TG_WHEN || ' ' || TG_LEVEL);
                        RETURN CASE WHEN TG_LEVEL = 'ROW' AND TG_OP <> 'DELETE' THEN NEW
                                    WHEN TG_LEVEL = 'ROW' THEN OLD END; END $$""")
    planted = 0
    for rel in ("runs", "transcripts", "probe_jobs", "probe_results", "scenarios", "definitions", "run_scenario_selections",
                "model_pricing", "model_token_statistics"):
        for timing, level in (("BEFORE", "ROW"), ("AFTER", "ROW"), ("AFTER", "STATEMENT")):
            res = call(i, f"CREATE TRIGGER planted_{timing.lower()}_{level.lower()} {timing} INSERT OR UPDATE OR DELETE "
                          f"ON multisample.{rel} FOR EACH {level} EXECUTE FUNCTION public.planted_trigger()")
            planted += res[0] == "ok"
    tap.ok(planted == 27, f"B: under 1.1 the installer could plant triggers on the tables ({planted} planted)")
    res = call(i, f"GRANT TRIGGER ON multisample.scenarios TO {accomplice} WITH GRANT OPTION; "
                  f"GRANT USAGE ON SCHEMA multisample TO {accomplice}; GRANT CREATE ON SCHEMA multisample TO PUBLIC; "
                  f"GRANT CREATE ON SCHEMA public TO {accomplice}")
    tap.ok(res[0] == "ok", "B: under 1.1 it could pass TRIGGER on and open its schema to PUBLIC", res)
    acc = role_conn(db_b, accomplice)
    res = call(acc, "CREATE FUNCTION public.acc_trigger() RETURNS trigger LANGUAGE plpgsql AS $$ "
                    "BEGIN PERFORM public.planted_hit('accomplice trigger'); RETURN NULL; END $$; "
                    "CREATE TRIGGER acc AFTER INSERT OR UPDATE ON multisample.scenarios FOR EACH STATEMENT "
                    "EXECUTE FUNCTION public.acc_trigger()")
    tap.ok(res[0] == "ok", "B: and the accomplice planted a trigger too", res)
    acc.close()
    res = call(i, "CREATE FUNCTION multisample.planted(text) RETURNS text LANGUAGE plpgsql AS "
                  "$$ BEGIN PERFORM public.planted_hit('function in schema'); RETURN $1; END $$; "
                  "CREATE FUNCTION multisample.planted_eq(text, text) RETURNS boolean LANGUAGE plpgsql AS "
                  "$$ BEGIN PERFORM public.planted_hit('operator in schema'); RETURN $1 = $2; END $$; "
                  "CREATE OPERATOR multisample.= (LEFTARG = text, RIGHTARG = text, FUNCTION = multisample.planted_eq)")
    tap.ok(res[0] == "ok", "B: under 1.1 it owned the schema and planted a function and an operator in it", res)
    # Its own work under 1.1: the triggers fire, as the installer.
    res = call(i, """INSERT INTO multisample.definitions (id, name) VALUES ('b-def', 'b');
                     INSERT INTO multisample.scenarios (id, definition_id, name) VALUES ('b-s1', 'b-def', 's');
                     SELECT count(*) FROM multisample.start_run('b-def', ARRAY['m'], 3, id => 'b-run');
                     SELECT count(*) FROM multisample.claim_probe_jobs('inst-w', 2);
                     SELECT count(*) FROM multisample.probe_jobs j,
                            multisample.complete_probe_job(j.run_id, j.scenario_id, j.model_id, j.sample_index, 'inst-w', '{}', score => 1)
                      WHERE j.state = 'RUNNING' AND j.sample_index = 0""")
    tap.ok(res[0] == "ok", "B: the installer works a run under 1.1", res)
    n0, who0 = planted_calls(su)
    superusers = [w for w in who0 if value(su, "SELECT rolsuper FROM pg_roles WHERE rolname = %s", (w,))]
    tap.ok(n0 > 0 and inst in who0 and superusers,
           f"B: under 1.1 its triggers ran as itself, and as the superuser: 1.1's SECURITY DEFINER trigger wrote runs "
           f"(issue 10, item 1, reproduced; {n0} calls as {', '.join(who0)})", who0)
    res = call(i, "ALTER EXTENSION multisample UPDATE")
    tap.ok(res[0] == "error" and res[1] == "42501" and "planted" in res[2],
           "B: its ALTER EXTENSION UPDATE stops (42501) while its objects are in the schema, naming them", res)
    n1, who1 = planted_calls(su)
    tap.ok((n1, who1) == (n0, who0), "B: nothing planted ran during the refused update (the sequence did not move)",
           (n0, n1), who1)
    res = call(i, "DROP OPERATOR multisample.= (text, text); DROP FUNCTION multisample.planted_eq(text, text); "
                  "DROP FUNCTION multisample.planted(text)")
    res = call(i, "ALTER EXTENSION multisample UPDATE")
    tap.ok(res[0] == "ok", "B: once they are gone, its update to 1.2 runs", res)
    n2, who2 = planted_calls(su)
    tap.ok((n2, who2) == (n0, who0), "B: no planted trigger fired during the update (it writes the tables as superuser)",
           (n0, n2), who2)
    base = snapshot(su, inst)
    refused(i, "CREATE TRIGGER again AFTER INSERT ON multisample.runs EXECUTE FUNCTION public.planted_trigger()",
            "B: after the update, installer: CREATE TRIGGER")
    refused(i, "CREATE FUNCTION multisample.planted() RETURNS int LANGUAGE sql AS 'SELECT 1'",
            "B: after the update, installer: CREATE FUNCTION in the schema")
    refused(i, "ALTER SCHEMA multisample RENAME TO ms_old", "B: after the update, installer: renaming the schema")
    acc_trigger = value(su, "SELECT count(*) FROM pg_class c WHERE c.relnamespace = 'multisample'::regnamespace "
                            "AND (has_table_privilege(%s, c.oid, 'TRIGGER') OR has_schema_privilege(%s, 'multisample', 'CREATE'))",
                        (accomplice, accomplice))
    tap.ok(acc_trigger == 0, "B: the accomplice lost the TRIGGER right and CREATE on the schema", acc_trigger)
    n_calls, _ = superuser_uses_everything(db_b, "B")
    n3, who3 = planted_calls(su)
    tap.ok((n3, who3) == (n0, who0), f"B: a superuser using the extension afterwards ({n_calls} calls) runs nothing of theirs",
           (n0, n3), who3)
    check_after(su, "B", base)
    i.close()
    su.close()


def part_c(names_db):
    su = connect(db_c)
    i = as_installer(db_c)
    names = connect(names_db)
    names.cursor().execute("SET search_path = pg_catalog")
    ic = i.cursor()
    plant_base(ic, "public")
    ic.execute("CREATE SCHEMA multisample; GRANT CREATE ON SCHEMA multisample TO PUBLIC")
    n = plant_lookalikes(ic, "multisample", "public", names, relations=False)
    names.close()
    res = call(i, "SET client_min_messages = error; CREATE EXTENSION multisample")
    tap.ok(res[0] == "error" and res[1] == "42501",
           f"C: CREATE EXTENSION into a schema the installer made, holding {n} planted objects, stops (42501)", res[:2])
    tap.ok(planted_calls(su) == (0, []), "C: nothing planted ran during the refused install", planted_calls(su))
    ic.execute("""DO $$ DECLARE o record; BEGIN
        FOR o IN SELECT oid::regoperator AS x FROM pg_operator WHERE oprnamespace = 'multisample'::regnamespace LOOP
            EXECUTE 'DROP OPERATOR ' || o.x; END LOOP;
        FOR o IN SELECT oid::regprocedure AS x FROM pg_proc WHERE pronamespace = 'multisample'::regnamespace LOOP
            EXECUTE 'DROP FUNCTION ' || o.x; END LOOP; END $$""")
    res = call(i, "SET client_min_messages = error; CREATE EXTENSION multisample")
    tap.ok(res[0] == "ok", "C: once they are dropped, the install runs", res)
    facts = rows(su, """SELECT r.rolsuper, has_schema_privilege(%s, 'multisample', 'CREATE'),
                               has_schema_privilege('public', 'multisample', 'CREATE')
                          FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner WHERE n.nspname = 'multisample'""", (inst,))
    tap.ok(facts == [(True, False, False)], "C: the schema is then a superuser's, and neither the installer nor PUBLIC "
                                            "may create in it", facts)
    n_calls, _ = superuser_uses_everything(db_c, "C")
    tap.ok(planted_calls(su) == (0, []), f"C: a superuser using the extension ({n_calls} calls) runs nothing planted",
           planted_calls(su))
    i.close()
    su.close()


def part_d():
    su = connect(db_d)
    i = as_installer(db_d)
    ic = i.cursor()
    ic.execute("SET client_min_messages = error; CREATE EXTENSION multisample VERSION '1.1'")
    plant_base(ic, "public")
    ic.execute("ALTER SCHEMA multisample RENAME TO ms_real; CREATE SCHEMA multisample")
    for rel in ("runs", "transcripts", "probe_jobs", "probe_results", "scenarios", "run_analysis_settings", "model_pricing"):
        ic.execute(f"CREATE VIEW multisample.{rel} AS SELECT t.*, public.planted_hit('renamed schema {rel}')::text AS hit "
                   f"FROM ms_real.{rel} AS t")
    res = call(i, "ALTER EXTENSION multisample UPDATE")
    tap.ok(res[0] == "error" and res[1] == "42501" and "renamed" in res[2],
           "D: an update of a renamed schema stops (42501): its older functions name schema multisample", res)
    tap.ok(planted_calls(su) == (0, []), "D: nothing planted ran during the refused update", planted_calls(su))
    ic.execute("DROP SCHEMA multisample CASCADE; ALTER SCHEMA ms_real RENAME TO multisample")
    res = call(i, "ALTER EXTENSION multisample UPDATE")
    tap.ok(res[0] == "ok", "D: renamed back, the update runs", res)
    n_calls, _ = superuser_uses_everything(db_d, "D")
    tap.ok(planted_calls(su) == (0, []), f"D: a superuser using the extension ({n_calls} calls) runs nothing planted",
           planted_calls(su))
    i.close()
    su.close()


if __name__ == "__main__":
    part_a()
    part_b()
    part_c(db_a)
    part_d()
    tap.exit()
