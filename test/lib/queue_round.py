"""One round of 1.1 work through the queue, as a worker would do it (the
interface of examples/simulated_worker.py): start_run on a definition with
two models and N samples per scenario, claim and complete every job, then
check that every sample has exactly one live transcript and one SUCCESS
probe result. With --leave-some, stops half way and leaves some jobs
claimed (RUNNING) and the rest QUEUED, for campaigns that need a queue in
flight. Usage: queue_round.py DB DEFINITION SAMPLES [--leave-some]."""

import json
import sys

from mstest import connect


def main():
    db, definition, samples = sys.argv[1], sys.argv[2], int(sys.argv[3])
    leave_some = "--leave-some" in sys.argv
    conn = connect(db)
    cur = conn.cursor()
    cur.execute("SELECT run_id FROM multisample.start_run(%s, ARRAY['model-a', 'model-b'],"
                " samples_per_scenario => %s, priority => 'HIGH')", (definition, samples))
    run_id = cur.fetchone()[0]
    cur.execute("SELECT count(*) FROM multisample.probe_jobs WHERE run_id = %s", (run_id,))
    total = cur.fetchone()[0]
    done = 0
    while True:
        cur.execute("SELECT run_id, scenario_id, model_id, sample_index"
                    "  FROM multisample.claim_probe_jobs('round-worker', 8, interval '1 minute')")
        jobs = cur.fetchall()  # other runs' queued jobs are worked off too
        if not jobs:
            break
        if leave_some and done >= total // 2:
            break  # these stay claimed (RUNNING)
        for r, s, m, i in jobs:
            cur.execute("SELECT multisample.complete_probe_job(run_id => %s, scenario_id => %s,"
                        " model_id => %s, sample_index => %s, worker => %s, content => %s,"
                        " score => %s, decision_code => %s, decision_text => %s,"
                        " input_tokens => %s, output_tokens => %s)",
                        (r, s, m, i, "round-worker", json.dumps({"turns": [{"role": "assistant", "content": "ok"}]}),
                         float(1 + (len(s) + i) % 5), "D", "decision", 100, 900))
            done += r == run_id
    if leave_some:
        print(f"run {run_id}: {done} of {total} jobs completed, the rest claimed or queued")
        return 0
    cur.execute("""
        SELECT (SELECT count(*) FROM multisample.transcripts WHERE run_id = %(r)s AND deleted_at IS NULL),
               (SELECT count(*) FROM multisample.probe_results WHERE run_id = %(r)s AND status = 'SUCCESS'),
               (SELECT count(*) FROM (SELECT 1 FROM multisample.transcripts WHERE run_id = %(r)s AND deleted_at IS NULL
                                       GROUP BY scenario_id, model_id
                                      HAVING count(*) <> %(n)s OR max(sample_index) <> %(n)s - 1) bad)""",
                {"r": run_id, "n": samples})
    live, ok, bad_pairs = cur.fetchone()
    good = total > 0 and done == total and live == total and ok == total and bad_pairs == 0
    print(f"run {run_id}: {total} jobs, {done} completed, {live} live transcripts, "
          f"{ok} SUCCESS results, {bad_pairs} pairs without samples 0..{samples - 1}")
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
