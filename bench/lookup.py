"""How fast is "who are my officials?" on the full data?

    .venv/bin/python -m bench.lookup [--calls 3000]

Times delegation_for_address over random real ZIP codes and, in the same run, the statement it
sends (legislators.lookup.delegation_sql: the ZIP's districts joined to every column of their
sitting officials and legislators) sent raw through the same connection and its rows fetched:
the ceiling, what the database and the driver cost. Prints both and their ratio, and for
reference the ceiling used before the lookup was one statement: two statements returning only
the officials' ids of the ZIP's first district (less than the service needs).
"""

import argparse
import random
import statistics
import time

from bench import _django


def _percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=3000)
    args = parser.parse_args()
    _django.setup()

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from legislators.lookup import delegation_for_address, delegation_sql
    from legislators.models import Official, ZipDistrict

    if not ZipDistrict.objects.filter(congress=settings.ACTIVE_CONGRESS).exists():
        call_command("import_public_data", verbosity=0)
    zips = list(
        ZipDistrict.objects.filter(congress=settings.ACTIVE_CONGRESS)
        .order_by()
        .values_list("zip_code", flat=True)
        .distinct()
    )
    rng = random.Random(2023)
    sample = [rng.choice(zips) for _ in range(args.calls)]

    def raw(zip_code):
        with connection.cursor() as cursor:
            cursor.execute(delegation_sql(), [settings.ACTIVE_CONGRESS, zip_code])
            cursor.fetchall()

    # The ceiling until 2026-12-05, when the service sent two ORM statements; kept to compare
    # with older figures. Table names come from the models, not from input.
    zip_sql = (
        f"SELECT state, district FROM {ZipDistrict._meta.db_table} "  # noqa: S608
        "WHERE congress = %s AND zip_code = %s"
    )
    officials_sql = (
        f"SELECT o.id FROM {Official._meta.db_table} o "  # noqa: S608
        "JOIN legislators_legislator l ON l.id = o.legislator_id "
        "WHERE o.is_active AND l.in_office AND ((l.chamber = 'senate' AND l.state = %s) "
        "OR (l.chamber = 'house' AND l.state = %s AND l.district = %s))"
    )

    def two_statements(zip_code):
        with connection.cursor() as cursor:
            cursor.execute(zip_sql, [settings.ACTIVE_CONGRESS, zip_code])
            state, district = cursor.fetchone()
            cursor.execute(officials_sql, [state, state, district])
            cursor.fetchall()

    def service(zip_code):
        delegation_for_address(zip_code=zip_code)

    timings = {}
    calls = (
        ("raw SQL (ceiling)", raw),
        ("delegation_for_address", service),
        ("old ceiling (2 statements)", two_statements),
    )
    for name, call in calls:
        for zip_code in sample[:200]:  # warm up
            call(zip_code)
        seconds = []
        for zip_code in sample:
            start = time.perf_counter()
            call(zip_code)
            seconds.append(time.perf_counter() - start)
        timings[name] = seconds

    congress = settings.ACTIVE_CONGRESS
    print(f"{args.calls} lookups over {len(zips)} real ZIP codes (Congress {congress})")
    for name, seconds in timings.items():
        print(
            f"  {name:26s} mean {statistics.mean(seconds) * 1000:6.3f} ms  "
            f"p50 {_percentile(seconds, 0.5) * 1000:6.3f} ms  "
            f"p95 {_percentile(seconds, 0.95) * 1000:6.3f} ms"
        )
    ratio = statistics.mean(timings["delegation_for_address"]) / statistics.mean(
        timings["raw SQL (ceiling)"]
    )
    print(f"  ratio service / ceiling: {ratio:.2f}x")
    old = statistics.mean(timings["delegation_for_address"]) / statistics.mean(
        timings["old ceiling (2 statements)"]
    )
    print(f"  (service / old ceiling: {old:.2f}x)")


if __name__ == "__main__":
    main()
