"""Shared parts of the attack campaigns (test/attack_*.sh, test/race.sh):
the least-privilege recipes, connections acting as a role, a snapshot of
everything a role may do (to prove that an attack gained nothing), and
planted look-alike objects that record every call (to prove that nothing
planted ever runs)."""

import re

import psycopg2

from mstest import call, connect

# The least-privilege recipes of the README, as sql/queue.sql applies them
# (the reference while the README is rewritten); {role} is replaced.
WORKER_GRANTS = """
GRANT USAGE ON SCHEMA multisample TO {role};
GRANT SELECT ON multisample.runs, multisample.scenarios, multisample.model_pricing TO {role};
GRANT SELECT, UPDATE (state, attempts, lease_holder, lease_role, lease_expires_at, next_attempt_at,
                      last_error_code, last_error_message, claimed_at, finished_at)
    ON multisample.probe_jobs TO {role};
GRANT SELECT, INSERT ON multisample.transcripts, multisample.probe_results TO {role};
"""
DASHBOARD_GRANTS = """
GRANT USAGE ON SCHEMA multisample TO {role};
GRANT SELECT ON multisample.run_status, multisample.run_progress, multisample.run_model_progress,
                multisample.scenario_variance, multisample.scenario_variance_overall,
                multisample.model_variance, multisample.run_analysis_settings,
                multisample.transcript_samples, multisample.transcript_turns,
                multisample.transcript_export
    TO {role};
"""


def role_conn(db, role, **kw):
    """A connection of the superuser in the environment acting as ROLE
    (SET ROLE: current_user is ROLE, as for a worker that logs in as it)."""
    conn = connect(db, **kw)
    if role:
        with conn.cursor() as cur:
            cur.execute(f'SET ROLE "{role}"')
    return conn


def value(conn, sql, params=None):
    with conn.cursor() as cur:
        cur.execute(sql, params)
        row = cur.fetchone()
        return row[0] if row else None


def rows(conn, sql, params=None):
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def sqlstate(res):
    """The SQLSTATE of a call() result, or 'ok'."""
    return res[0] if res[0] != "error" else res[1]


# Everything a role may do, from the catalogs: its attributes, its
# memberships, every privilege on every table, view, sequence, schema and
# function of the database, what it owns, and the triggers on our tables
# whose function it owns (its rights on what it owns itself, outside our
# schema, are its own business). Two snapshots that compare equal mean the role
# gained nothing.
SNAPSHOT_SQL = """
SELECT 'attributes', concat_ws(' ', r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb, r.rolcanlogin,
                               r.rolreplication, r.rolbypassrls)
  FROM pg_catalog.pg_roles AS r WHERE r.rolname = %(role)s
UNION ALL
SELECT 'member of', m.roleid::pg_catalog.regrole::pg_catalog.text || coalesce(' admin ' || m.admin_option::pg_catalog.text, '')
  FROM pg_catalog.pg_auth_members AS m WHERE m.member = %(role)s::pg_catalog.regrole
UNION ALL
SELECT 'relation ' || c.oid::pg_catalog.regclass::pg_catalog.text,
       pg_catalog.string_agg(p.priv, ',' ORDER BY p.priv)
  FROM pg_catalog.pg_class AS c
  CROSS JOIN pg_catalog.unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER',
                                     'SELECT WITH GRANT OPTION', 'INSERT WITH GRANT OPTION',
                                     'UPDATE WITH GRANT OPTION', 'DELETE WITH GRANT OPTION',
                                     'TRUNCATE WITH GRANT OPTION', 'REFERENCES WITH GRANT OPTION',
                                     'TRIGGER WITH GRANT OPTION']) AS p(priv)
 WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f')
   AND pg_catalog.has_table_privilege(%(role)s, c.oid, p.priv)
   AND c.relowner <> %(role)s::pg_catalog.regrole
 GROUP BY c.oid
UNION ALL
SELECT 'column privileges on ' || c.oid::pg_catalog.regclass::pg_catalog.text,
       pg_catalog.string_agg(a.attname || ':' || p.priv, ',' ORDER BY a.attname, p.priv)
  FROM pg_catalog.pg_class AS c
  JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  CROSS JOIN pg_catalog.unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'REFERENCES']) AS p(priv)
 WHERE c.relnamespace = 'multisample'::pg_catalog.regnamespace
   AND pg_catalog.has_column_privilege(%(role)s, c.oid, a.attnum, p.priv)
 GROUP BY c.oid
UNION ALL
SELECT 'schema ' || n.nspname, pg_catalog.string_agg(p.priv, ',' ORDER BY p.priv)
  FROM pg_catalog.pg_namespace AS n
  CROSS JOIN pg_catalog.unnest(ARRAY['USAGE', 'CREATE', 'USAGE WITH GRANT OPTION', 'CREATE WITH GRANT OPTION']) AS p(priv)
 WHERE pg_catalog.has_schema_privilege(%(role)s, n.oid, p.priv)
 GROUP BY n.nspname
UNION ALL
SELECT 'database', pg_catalog.string_agg(p.priv, ',' ORDER BY p.priv)
  FROM pg_catalog.unnest(ARRAY['CREATE', 'CONNECT', 'TEMPORARY']) AS p(priv)
 WHERE pg_catalog.has_database_privilege(%(role)s, pg_catalog.current_database(), p.priv)
UNION ALL
SELECT 'functions executable in multisample', pg_catalog.count(*)::pg_catalog.text
  FROM pg_catalog.pg_proc AS f
 WHERE f.pronamespace = 'multisample'::pg_catalog.regnamespace
   AND pg_catalog.has_function_privilege(%(role)s, f.oid, 'EXECUTE')
UNION ALL
SELECT 'owns in schema ' || n.nspname, pg_catalog.count(*)::pg_catalog.text
  FROM (SELECT relnamespace AS nsp, relowner AS owner FROM pg_catalog.pg_class
        UNION ALL SELECT pronamespace, proowner FROM pg_catalog.pg_proc
        UNION ALL SELECT oprnamespace, oprowner FROM pg_catalog.pg_operator
        UNION ALL SELECT typnamespace, typowner FROM pg_catalog.pg_type) AS o
  JOIN pg_catalog.pg_namespace AS n ON n.oid = o.nsp
 WHERE o.owner = %(role)s::pg_catalog.regrole AND n.nspname IN ('multisample', 'pg_catalog')
 GROUP BY n.nspname
UNION ALL
SELECT 'owns schema', n.nspname FROM pg_catalog.pg_namespace AS n
 WHERE n.nspowner = %(role)s::pg_catalog.regrole AND n.nspname IN ('multisample', 'pg_catalog')
UNION ALL
SELECT 'trigger ' || t.tgname || ' on ' || t.tgrelid::pg_catalog.regclass::pg_catalog.text, 'its function is the role''s'
  FROM pg_catalog.pg_trigger AS t
  JOIN pg_catalog.pg_class AS c ON c.oid = t.tgrelid
  JOIN pg_catalog.pg_proc AS p ON p.oid = t.tgfoid
 WHERE c.relnamespace = 'multisample'::pg_catalog.regnamespace AND p.proowner = %(role)s::pg_catalog.regrole
ORDER BY 1, 2
"""


def snapshot(conn, role):
    return rows(conn, SNAPSHOT_SQL, {"role": role})


def snapshot_diff(before, after):
    b, a = set(before), set(after)
    return [f"gained: {x}" for x in sorted(a - b)] + [f"lost: {x}" for x in sorted(b - a)]


# ---- planted look-alikes ----------------------------------------------------
# A log table and a sequence in schema SCHEMA, and a function that records
# current_user in both. The sequence is not transactional: a call made in a
# transaction that was rolled back (a refused CREATE EXTENSION or ALTER
# EXTENSION UPDATE) still shows in it.
PLANT_BASE = """
CREATE TABLE {s}.planted_log (who text, what text, at timestamptz DEFAULT clock_timestamp());
GRANT INSERT, SELECT ON {s}.planted_log TO PUBLIC;
CREATE SEQUENCE {s}.planted_calls;
GRANT USAGE, SELECT, UPDATE ON {s}.planted_calls TO PUBLIC;
CREATE FUNCTION {s}.planted_hit(what text) RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    PERFORM pg_catalog.nextval('{s}.planted_calls');
    INSERT INTO {s}.planted_log (who, what) VALUES (current_user, what);
    RAISE NOTICE 'planted code ran as %: %', current_user, what;
END $$;
GRANT EXECUTE ON FUNCTION {s}.planted_hit(text) TO PUBLIC;
"""

COMMON_TYPES = ["text", "integer", "bigint", "smallint", "double precision", "numeric",
                "boolean", "jsonb", "timestamp with time zone", "interval", "text[]",
                "double precision[]", "integer[]", "bigint[]", "name", "character varying"]
PSEUDO = re.compile(r'^(any|anyelement|anyarray|anynonarray|anyenum|anyrange|anymultirange|anycompatible.*|"any"|'
                    r'internal|cstring|record|trigger|event_trigger|void|language_handler|fdw_handler|'
                    r'table_am_handler|index_am_handler|tsm_handler|opaque|unknown)$')


def plant_base(cur, log_schema):
    cur.execute(PLANT_BASE.format(s=log_schema))


def plant_lookalikes(cur, schema, log_schema, names_conn, relations=True):
    """Look-alikes in SCHEMA of what our SQL could resolve by name: every
    pg_catalog function called in our function bodies and views (same
    argument types), pg_catalog operators on the common types, and (if
    RELATIONS) tables named like ours. Each records its call through
    LOG_SCHEMA.planted_hit and returns NULL. CUR must be in autocommit mode
    (a look-alike that cannot be created is skipped). NAMES_CONN reads our schema
    (it may be another database with the extension installed). Returns the
    number of objects planted."""
    body = lambda label: (f"BEGIN PERFORM {log_schema}.planted_hit('{label} in {schema}'); RETURN NULL; END")
    text = " ".join(r[0] or "" for r in rows(names_conn, """
        SELECT pg_catalog.string_agg(coalesce(p.prosrc, ''), ' ') FROM pg_catalog.pg_proc p
         WHERE p.pronamespace = 'multisample'::pg_catalog.regnamespace
        UNION ALL
        SELECT pg_catalog.string_agg(pg_catalog.pg_get_viewdef(c.oid), ' ') FROM pg_catalog.pg_class c
         WHERE c.relnamespace = 'multisample'::pg_catalog.regnamespace AND c.relkind = 'v'""")).lower()
    names = sorted(set(re.findall(r"([a-z_][a-z0-9_]*)\s*\(", text)) - {"planted_hit"})
    made = 0
    cur.execute("""
        SELECT DISTINCT p.proname, array(SELECT pg_catalog.format_type(t, NULL) FROM pg_catalog.unnest(p.proargtypes) t),
               pg_catalog.format_type(p.prorettype, NULL)
          FROM pg_catalog.pg_proc p
         WHERE p.pronamespace = 'pg_catalog'::pg_catalog.regnamespace AND p.proname = ANY(%s)
           AND p.prokind = 'f' AND p.provariadic = 0""", (names,))
    for name, args, ret in cur.fetchall():
        if any(PSEUDO.match(a) for a in args) or PSEUDO.match(ret):
            continue
        try:
            cur.execute(f'CREATE FUNCTION {schema}."{name}"({", ".join(args)}) RETURNS {ret} '
                        f'LANGUAGE plpgsql SET search_path = pg_catalog AS $${body(name)}$$')
            made += 1
        except psycopg2.Error:
            pass  # (no such type or operator here: skipped; CUR is in autocommit)
    cur.execute("""
        SELECT o.oprname, pg_catalog.format_type(o.oprleft, NULL), pg_catalog.format_type(o.oprright, NULL),
               pg_catalog.format_type(o.oprresult, NULL)
          FROM pg_catalog.pg_operator o
         WHERE o.oprnamespace = 'pg_catalog'::pg_catalog.regnamespace AND o.oprleft <> 0
           AND pg_catalog.format_type(o.oprleft, NULL) = ANY(%(t)s)
           AND pg_catalog.format_type(o.oprright, NULL) = ANY(%(t)s)""", {"t": COMMON_TYPES})
    # Plus exact matches that pg_catalog does not have (so they would win
    # over one that needs a cast): varchar with varchar, text with name.
    extra = [(op, l, r, "boolean") for op in ("=", "<>", "<", ">", "<=", ">=")
             for l, r in (("character varying", "character varying"), ("text", "name"), ("name", "text"),
                          ("integer", "numeric"), ("double precision", "numeric"))]
    for i, (op, left, right, result) in enumerate(cur.fetchall() + extra):
        try:
            cur.execute(f"CREATE FUNCTION {schema}.planted_op_{i}({left}, {right}) RETURNS {result} "
                        f"LANGUAGE plpgsql SET search_path = pg_catalog AS $${body('operator ' + op)}$$")
            cur.execute(f"CREATE OPERATOR {schema}.{op} (LEFTARG = {left}, RIGHTARG = {right}, "
                        f"FUNCTION = {schema}.planted_op_{i})")
            made += 1
        except psycopg2.Error:
            pass  # (no such type or operator here: skipped; CUR is in autocommit)
    if relations:
        for (rel,) in rows(names_conn, """SELECT relname FROM pg_catalog.pg_class
                                           WHERE relnamespace = 'multisample'::pg_catalog.regnamespace
                                             AND relkind IN ('r', 'v')"""):
            cur.execute(f'CREATE VIEW {schema}."{rel}" AS SELECT {log_schema}.planted_hit(\'relation {rel}\')::text AS hit')
            made += 1
    return made


def typed(conn, oid):
    """A qualified type name for a cast: pg_catalog."_text", never resolved
    through search_path."""
    nsp, name = rows(conn, "SELECT n.nspname, t.typname FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n "
                           "ON n.oid = t.typnamespace WHERE t.oid = %s", (oid,))[0]
    return f'"{nsp}"."{name}"'


__all__ = ["WORKER_GRANTS", "DASHBOARD_GRANTS", "role_conn", "value", "rows", "sqlstate", "snapshot",
           "snapshot_diff", "plant_base", "plant_lookalikes", "typed", "call", "connect"]
