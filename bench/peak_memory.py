#!/usr/bin/python3
"""Peak private memory of one backend while it runs one query.

Connects to DATABASE (PG* environment variables for the rest), runs the
SETUP statements and one WARMUP statement (so catalog caches and the shared
library are loaded before measuring), then runs QUERY while a thread samples
RssAnon (private, anonymous memory: palloc'd contexts, tuplestores, hash
tables; not the shared buffers the backend maps) of the backend from
/proc/<pid>/status every millisecond. Prints one line:

    peak_kB <TAB> before_kB <TAB> rows

peak_kB is the highest RssAnon seen while QUERY ran, before_kB the value just
before it started, rows the first column of QUERY's first row (a count, used
to check the query did what was asked). The server must run on this machine
and /proc/<pid> must be readable (root, or the server's user).

usage: peak_memory.py DATABASE SETUP WARMUP QUERY
"""
import sys
import threading
import time

import psycopg2


def rss_anon_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    raise RuntimeError(f"no RssAnon in /proc/{pid}/status")


def main():
    database, setup, warmup, query = sys.argv[1:5]
    conn = psycopg2.connect(dbname=database)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SELECT pg_catalog.pg_backend_pid()")
    pid = cur.fetchone()[0]
    if setup:
        cur.execute(setup)
    cur.execute(warmup)
    cur.fetchall()
    time.sleep(0.05)
    before = rss_anon_kb(pid)
    peak = [before]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss_anon_kb(pid))
            time.sleep(0.001)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        cur.execute(query)
        rows = cur.fetchone()[0]
    finally:
        done.set()
        sampler.join()
    peak[0] = max(peak[0], rss_anon_kb(pid))
    conn.close()
    print(f"{peak[0]}\t{before}\t{rows}")


if __name__ == "__main__":
    main()
