"""How close does the admin's CSV export of actions come to PostgreSQL's own COPY, and what
memory does it take?

    .venv/bin/python -m bench.export --rows 1000000 [--database NAME] [--deliveries-per-action 7]

On a database of its own (`action_alerts_bench_export_<rows>` by default), filled by
`bench.generate` if it does not hold that many actions yet. Each side runs in a fresh Python
process, so that its peak resident set (VmHWM) is its own:

- ours: `alerts.exports.ActionsCsv` over the campaign's actions, as the admin's download streams
  it (server-side cursor, rows formatted in Python), every piece written to /dev/null;
- the ceiling: the same statement (`alerts.exports.export_rows`, the same columns and joins)
  run as `COPY (...) TO STDOUT (FORMAT csv)` through psycopg's `cursor.copy()`, the pieces
  written to /dev/null: what PostgreSQL and the driver cost, with no Python per row.

It prints each side's rows, time, rows per second, time to the first piece, and peak RSS
(and its growth over the process's RSS before the export began), then the ratio of the rates.
"""

import argparse
import json
import os
import subprocess
import sys
import time

from bench.generate import database_ready

WORKER = "--worker"


def _status(field: str) -> float:
    """A /proc/self/status field in MB (VmRSS, VmHWM)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise SystemExit(f"no {field} in /proc/self/status")


def _worker(side: str) -> None:
    """One side, in this (fresh) process; prints its figures as JSON."""
    import django

    django.setup()
    from django.db import connection, transaction

    from alerts.exports import HEADER, ActionsCsv, actions_to_export, export_rows
    from alerts.models import Campaign
    from alerts.operations.demo import SLUG

    campaign = Campaign.objects.get(slug=SLUG)
    actions = actions_to_export(campaign_id=campaign.pk)
    with open(os.devnull, "wb") as sink:
        connection.ensure_connection()
        before = _status("VmRSS")
        started = time.perf_counter()
        first = None
        written = rows = 0
        if side == "ours":
            export = ActionsCsv(actions)
            for piece in export:
                first = first or time.perf_counter() - started
                written += sink.write(piece)
            rows = export.rows
        else:
            sql, params = export_rows(actions).query.sql_with_params()
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")  # as ours
                written += sink.write(",".join(HEADER).encode() + b"\n")
                with cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)", params) as copy:
                    for piece in copy:
                        first = first or time.perf_counter() - started
                        written += sink.write(piece)
                        rows += bytes(piece).count(b"\n")  # no field holds a newline here
        seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "rows": rows,
                "seconds": seconds,
                "first": first,
                "bytes": written,
                "rss_before": before,
                "peak": _status("VmHWM"),
            }
        )
    )


def _run(side: str, database: str) -> dict:
    env = {**os.environ, "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}"}
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    out = subprocess.run(
        [sys.executable, "-m", "bench.export", WORKER, side],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    if len(sys.argv) == 3 and sys.argv[1] == WORKER:
        _worker(sys.argv[2])
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000, help="actions in the campaign")
    parser.add_argument("--deliveries-per-action", type=int, default=7)
    parser.add_argument("--database", default=None)
    args = parser.parse_args()
    database = args.database or f"action_alerts_bench_export_{args.rows}"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.generate",
            "--actions",
            str(args.rows),
            "--deliveries-per-action",
            str(args.deliveries_per_action),
            "--database",
            database,
        ],
        check=True,
    )
    database_ready(database)
    load = os.getloadavg()
    print(f"{database}: load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}", flush=True)
    figures = {}
    # Ceiling first: it warms the cache for both (the heap the statement reads is the same).
    for side in ("ceiling", "ours", "ceiling"):
        result = _run(side, database)
        print(
            f"  {side:8} {result['rows']:>9,} rows in {result['seconds']:6.1f} s "
            f"({result['rows'] / result['seconds']:>8,.0f} rows/s), first piece after "
            f"{result['first']:.2f} s, {result['bytes'] / 1e6:,.0f} MB; peak RSS "
            f"{result['peak']:.0f} MB (+{result['peak'] - result['rss_before']:.0f} MB)",
            flush=True,
        )
        best = figures.get(side)
        if best is None or result["seconds"] < best["seconds"]:
            figures[side] = result
    ours, ceiling = figures["ours"], figures["ceiling"]
    if ours["rows"] != args.rows:
        raise SystemExit(f"ours wrote {ours['rows']} rows, not {args.rows}")
    ratio = (ours["rows"] / ours["seconds"]) / (ceiling["rows"] / ceiling["seconds"])
    print(
        f"ratio ours / ceiling (rows per second): {ratio:.2f}; "
        f"ours peak RSS {ours['peak']:.0f} MB, +{ours['peak'] - ours['rss_before']:.0f} MB "
        "during the export"
    )


if __name__ == "__main__":
    main()
