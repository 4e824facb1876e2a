"""Least-privilege campaign (run by test/privileges.sh): applies the README's
recipe (the ```sql block with CREATE ROLE under "<!-- security and
privileges -->"), with its role names made unique, and a second worker role
made from the worker part of it; then proves, role by role, what each may
and may not do. Usage: privileges.py DB README SUFFIX"""

import re
import sys

from mstest import Tap, call, connect


def recipe(readme):
    text = open(readme).read()
    at = text.find("<!-- security and privileges -->")
    if at < 0:
        return None
    for block in re.findall(r"```sql\n(.*?)```", text[at:], re.S):
        if "CREATE ROLE" in block.upper() and "GRANT" in block.upper():
            return block
    return None


def main():
    db, readme, suffix = sys.argv[1:4]
    tap = Tap()
    sql = recipe(readme)
    if not tap.ok(sql is not None, "README has a least-privilege recipe (CREATE ROLE ... GRANT) under its security section"):
        tap.exit()
    roles = re.findall(r"CREATE ROLE\s+(\w+)", sql, re.I)
    dash = [r for r in roles if "dash" in r.lower()]
    work = [r for r in roles if "work" in r.lower()]
    if not tap.ok(len(dash) == 1 and len(work) == 1, f"the recipe creates a dashboard and a worker role ({roles})"):
        tap.exit()
    names = {r: f"{r}_{suffix}" for r in roles}
    for r, n in names.items():
        sql = re.sub(rf"\b{r}\b", n, sql)
    dash, worker = names[dash[0]], names[work[0]]
    worker2 = f"{worker}2"
    # The worker part of the recipe, replayed for a second worker role.
    worker_part = ";\n".join(stmt for stmt in sql.split(";") if re.search(rf"\b{worker}\b", stmt)) + ";"
    worker_part = re.sub(rf"\b{worker}\b", worker2, worker_part)

    su = connect(db)
    cur = su.cursor()
    res = call(su, sql)
    if not tap.ok(res[0] == "ok", "the README recipe applies as written", res):
        tap.exit()
    res = call(su, worker_part)
    tap.ok(res[0] == "ok", "the recipe's worker part applies to a second worker role", res)

    cur.execute("SELECT run_id, job_count FROM multisample.start_run('def-1', ARRAY['model-a'], samples_per_scenario => 2,"
                " id => 'priv-run')")
    run, jobs = cur.fetchone()

    def as_role(role, stmt, params=None):
        call(su, f'SET ROLE "{role}"')
        try:
            return call(su, stmt, params)
        finally:
            call(su, "RESET ROLE")

    def denied(role, stmt, what):
        res = as_role(role, stmt)
        tap.ok(res[0] == "error" and res[1] == "42501", f"{role.rsplit('_', 1)[0]}: {what} fails with 42501",
               f"{stmt} -> {res}")

    def job_row(job):
        cur.execute("SELECT state, lease_holder, lease_role, lease_expires_at FROM multisample.probe_jobs"
                    " WHERE (run_id, scenario_id, model_id, sample_index) = %s", (job,))
        return cur.fetchone()

    # ---- worker: claim, complete, fail --------------------------------------
    r = as_role(worker, "SELECT run_id, scenario_id, model_id, sample_index FROM multisample.claim_probe_jobs('wA', 3, interval '10 minutes')")
    tap.ok(r[0] == "ok" and len(r[1]) == 3, "worker: claims jobs", r)
    a_jobs = r[1] if r[0] == "ok" else []
    r2 = as_role(worker2, "SELECT run_id, scenario_id, model_id, sample_index FROM multisample.claim_probe_jobs('wB', 1, interval '10 minutes')")
    tap.ok(r2[0] == "ok" and len(r2[1]) == 1, "second worker: claims a job", r2)
    if len(a_jobs) < 3 or r2[0] != "ok" or not r2[1]:
        tap.exit()
    b_job = r2[1][0]
    j = a_jobs[0]
    r = as_role(worker, "SELECT outcome, job_state FROM multisample.complete_probe_job(%s, %s, %s, %s, 'wA', '{}'::jsonb, score => 4)", j)
    tap.ok(r[0] == "ok" and job_row(j)[0] == "COMPLETED", "worker: completes its job", r)
    j = a_jobs[1]
    r = as_role(worker, "SELECT outcome, job_state FROM multisample.fail_probe_job(%s, %s, %s, %s, 'wA', 'E', 'bad', false)", j)
    tap.ok(r[0] == "ok" and job_row(j)[0] == "FAILED", "worker: fails its job", r)

    # ---- worker: another worker's lease ------------------------------------
    before = job_row(b_job)
    r = as_role(worker, "SELECT outcome FROM multisample.complete_probe_job(%s, %s, %s, %s, 'wB', '{}'::jsonb, score => 1)", b_job)
    r3 = as_role(worker, "SELECT outcome FROM multisample.fail_probe_job(%s, %s, %s, %s, 'wB', 'E', 'x', false)", b_job)
    r4 = as_role(worker, "UPDATE multisample.probe_jobs SET lease_expires_at = now() + interval '1 day', lease_role = current_user,"
                 " lease_holder = 'wA' WHERE (run_id, scenario_id, model_id, sample_index) = %s", (b_job,))
    r5 = as_role(worker, "UPDATE multisample.probe_jobs SET state = 'QUEUED' WHERE (run_id, scenario_id, model_id, sample_index) = %s", (b_job,))
    cur.execute("SELECT count(*) FROM multisample.transcripts WHERE (run_id, scenario_id, model_id, sample_index) = %s", (b_job,))
    written = cur.fetchone()[0]
    tap.ok(job_row(b_job) == before and written == 0,
           "worker: cannot complete, fail, extend, steal or requeue another worker role's lease (the job is unchanged)",
           r, r3, r4, r5, before, job_row(b_job))
    denied(worker, "INSERT INTO multisample.transcripts (id, run_id, scenario_id, model_id, sample_index) "
           f"VALUES ('forged', '{b_job[0]}', '{b_job[1]}', '{b_job[2]}', {b_job[3]})",
           "a transcript for another role's job (row-level security)")
    denied(worker, "INSERT INTO multisample.probe_results (run_id, scenario_id, model_id, sample_index, status) "
           f"VALUES ('{b_job[0]}', '{b_job[1]}', '{b_job[2]}', {b_job[3]}, 'FAILED')",
           "a probe result for another role's job (row-level security)")

    # ---- worker: runs, prices and everything else ---------------------------
    for stmt, what in [
        ("UPDATE multisample.runs SET status = 'COMPLETED'", "UPDATE runs"),
        ("DELETE FROM multisample.runs", "DELETE runs"),
        ("INSERT INTO multisample.runs (id, definition_id) VALUES ('x', 'def-1')", "INSERT runs"),
        ("UPDATE multisample.model_pricing SET input_price_per_million = 0", "UPDATE model_pricing"),
        ("INSERT INTO multisample.model_pricing VALUES ('free', 0, 0)", "INSERT model_pricing"),
        ("DELETE FROM multisample.model_pricing", "DELETE model_pricing"),
        ("UPDATE multisample.model_token_statistics SET avg_input_tokens = 0", "UPDATE model_token_statistics"),
        ("UPDATE multisample.definitions SET name = 'x'", "UPDATE definitions"),
        ("UPDATE multisample.scenarios SET name = 'x'", "UPDATE scenarios"),
        ("UPDATE multisample.probe_jobs SET priority = 2", "change a job's priority"),
        ("DELETE FROM multisample.probe_jobs", "DELETE probe_jobs"),
        ("DELETE FROM multisample.transcripts", "DELETE transcripts"),
        ("UPDATE multisample.transcripts SET score = 5", "UPDATE transcripts"),
        ("DELETE FROM multisample.probe_results", "DELETE probe_results"),
        ("SELECT multisample.cancel_run('priv-run')", "cancel_run"),
        ("SELECT multisample.pause_run('priv-run')", "pause_run"),
        ("SELECT * FROM multisample.start_run('def-1', ARRAY['model-a'])", "start_run"),
    ]:
        denied(worker, stmt, what)
    cur.execute("SELECT status FROM multisample.runs WHERE id = 'priv-run'")
    tap.ok(cur.fetchone()[0] in ("PENDING", "RUNNING"), "the run's status was not changed by the worker")

    # ---- dashboard -----------------------------------------------------------
    cur.execute("""SELECT c.relname, has_table_privilege(%s, c.oid, 'SELECT')
                     FROM pg_class c WHERE c.relnamespace = 'multisample'::regnamespace AND c.relkind IN ('v', 'm')
                    ORDER BY 1""", (dash,))
    views = cur.fetchall()
    granted = [v for v, g in views if g]
    readable = [v for v in granted if as_role(dash, f'SELECT count(*) FROM multisample."{v}"')[0] == "ok"]
    tap.ok(granted and readable == granted, f"dashboard: reads every view the recipe grants ({', '.join(granted)})")
    ungranted = [v for v, g in views if not g]
    if ungranted:
        tap.diag(f"views the recipe does not grant to the dashboard: {', '.join(ungranted)}")
    cur.execute("SELECT relname FROM pg_class WHERE relnamespace = 'multisample'::regnamespace AND relkind IN ('r', 'p') ORDER BY 1")
    tables = [r[0] for r in cur.fetchall()]
    for t in tables:
        denied(dash, f'SELECT 1 FROM multisample."{t}" LIMIT 1', f"read table {t}")
        denied(dash, f'DELETE FROM multisample."{t}"', f"delete from table {t}")
    for stmt, what in [
        ("SELECT * FROM multisample.claim_probe_jobs('dash')", "claim_probe_jobs"),
        (f"SELECT * FROM multisample.complete_probe_job('{b_job[0]}', '{b_job[1]}', '{b_job[2]}', {b_job[3]}, 'wB', '{{}}'::jsonb)", "complete_probe_job"),
        (f"SELECT * FROM multisample.fail_probe_job('{b_job[0]}', '{b_job[1]}', '{b_job[2]}', {b_job[3]}, 'wB', 'E', 'x', false)", "fail_probe_job"),
        ("SELECT multisample.release_expired_leases()", "release_expired_leases"),
        ("SELECT * FROM multisample.start_run('def-1', ARRAY['model-a'])", "start_run"),
        ("SELECT multisample.cancel_run('priv-run')", "cancel_run"),
        ("UPDATE multisample.runs SET status = 'CANCELLED'", "UPDATE runs"),
    ]:
        denied(dash, stmt, what)
    tap.ok(job_row(b_job) == before, "the second worker's job is still held by it after all of the above")

    for role in (dash, worker, worker2):
        call(su, f'DROP OWNED BY "{role}"')
        call(su, f'DROP ROLE "{role}"')
    tap.exit()


if __name__ == "__main__":
    main()
