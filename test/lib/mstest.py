"""Shared helpers for the Python parts of the test/ drivers: TAP output, a
connection from the PG* environment, and the classification of a failed call
(a clear error versus a crash, an internal error or a lost connection)."""

import sys

import psycopg2
import psycopg2.extensions


class Tap:
    """TAP-ish lines `ok - ...` / `not ok - ...` with a tally."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def ok(self, cond, desc, *diag):
        if cond:
            print("ok - " + desc)
            self.passed += 1
        else:
            print("not ok - " + desc)
            self.failed += 1
            for line in diag:
                for part in str(line).splitlines():
                    print("#   " + part)
        sys.stdout.flush()
        return cond

    def diag(self, msg):
        for part in str(msg).splitlines():
            print("# " + part)
        sys.stdout.flush()

    def exit(self):
        sys.exit(0 if self.failed == 0 and self.passed > 0 else 1)


def connect(db, autocommit=True, **kw):
    conn = psycopg2.connect(dbname=db, **kw)
    conn.autocommit = autocommit
    return conn


# SQLSTATE classes that mean the server, not the input, is at fault.
BAD_CLASSES = ("XX", "58")


def call(conn, sql, params=None):
    """Runs one statement. Returns ('ok', rows) or ('error', sqlstate,
    message) or ('lost', message) when the connection broke."""
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            rows = cur.fetchall() if cur.description else []
        return ("ok", rows)
    except (psycopg2.OperationalError, psycopg2.InterfaceError) as e:
        if conn.closed or e.pgcode is None:
            return ("lost", str(e).strip())
        return ("error", e.pgcode, e.pgerror or str(e))
    except psycopg2.Error as e:
        if conn.closed:
            return ("lost", str(e).strip())
        return ("error", e.pgcode, (e.pgerror or str(e)).strip())


def is_clear_error(sqlstate):
    """A clear error: a SQLSTATE outside the internal-error classes, and not
    the catch-all P0001 of a RAISE without ERRCODE."""
    return sqlstate is not None and sqlstate[:2] not in BAD_CLASSES and sqlstate != "P0001"
