"""The app's urlconf plus the ceilings `make bench` compares it with (bench/settings.py only).

Each ceiling goes through the same gunicorn workers and the full middleware stack; it only
takes away our own work:

- `page/`: a template of the campaign page's size with nothing to compute (a copy of the page,
  written by the harness into BENCH_TEMPLATE_DIR), rendered by Django's template engine;
- `count.json`: a tiny JSON response;
- `insert/`: a CSRF-checked POST that stores one row with one INSERT and redirects, as the
  submit does.
"""

from django.db import connection
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from config.urls import urlpatterns as app_urlpatterns

PAGE_TEMPLATE = "bench_ceiling_page.html"
INSERT_TABLE = "bench_ceiling_insert"  # created by bench.web, outside the app's migrations
QUERY_HEADER = "X-Bench-Queries"


def query_count_middleware(get_response):
    """Asked by a request header, answers with the number of SQL statements the request ran.
    Requests without the header (every timed one) pass straight through."""

    def middleware(request):
        if QUERY_HEADER not in request.headers:
            return get_response(request)
        statements = []

        def count(execute, sql, params, many, context):
            statements.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            response = get_response(request)
        response[QUERY_HEADER] = str(len(statements))
        return response

    return middleware


@require_GET
def ceiling_page(request):
    return render(request, PAGE_TEMPLATE)


@require_GET
def ceiling_count(request):
    return JsonResponse({"count": 0, "goal": 0})


@require_POST
def ceiling_insert(request):
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {INSERT_TABLE} (email) VALUES (%s)",  # noqa: S608 (a constant)
            [request.POST.get("email", "")],
        )
    return HttpResponseRedirect("/bench/ceiling/count.json")


urlpatterns = [
    path("bench/ceiling/page/", ceiling_page),
    path("bench/ceiling/count.json", ceiling_count),
    path("bench/ceiling/insert/", ceiling_insert),
    *app_urlpatterns,
]
