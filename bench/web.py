"""`make bench`: the campaign page, its counter and the submit against ceilings, in one run.

    .venv/bin/python -m bench.web [--sizes 1000,1000000] [--quick] [--rounds 3] [--duration 10]
                                  [--connections 32] [--skip-lookup] [--skip-delivery]

For each size (actions in the database): a database filled by bench.generate, and gunicorn
(5 sync workers) serving the app with the production settings (bench/settings.py: production
plus the ceilings' urlconf) on loopback; one throwaway redis-server (a database in it per size).
The sizes' servers are up at the same time, so each round measures every size. The harness talks to
gunicorn as the TLS-terminating proxy in front of it would (X-Forwarded-Proto: https), so the
production settings run unchanged: HTTPS redirect, secure cookies, CSRF with its Referer check.

wrk (32 connections) takes turns, for several rounds, between each of our endpoints and its
ceiling, served by the same workers in the same run (bench/urls.py):

    page    GET  /<campaign>/             vs a static template of the page's size
    count   GET  /<campaign>/count.json   vs a tiny JSON view
    submit  POST /<campaign>/ step=send   vs a CSRF-checked POST doing one INSERT

Each keeps its best round, as timeit does (other work on the machine only makes runs slower).
The submit's bodies are the final step's form as a browser posts it: the harness walks the
three steps like a browser (GET the page, POST the address, POST the officials), keeps the CSRF
cookie and token, and gives every POST a fresh one-time form token (minted by the app's own
new_form_token, as each GET of the page does) and a distinct email, so no submit is a repeat.
Rows submitted are deleted after each run, so the size stays what it says.

Then `bench.lookup` and `bench.delivery` (its worker processes' peak RSS sampled meanwhile), and
one table; the figures go to var/bench/latest.json.
"""

import argparse
import datetime as dt
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from html.parser import HTMLParser
from http.client import HTTPConnection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench"
WRK_SCRIPT = Path(__file__).resolve().parent / "wrk.lua"
SUBMIT_EMAIL_DOMAIN = "submit.bench.invalid"
TARGETS = ("page", "count", "submit")
GOALS = {"page": 0.5, "count": 0.5, "submit": 0.2}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, *, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


# --- processes -------------------------------------------------------------------------------

HARNESS_ONLY = ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "SECRET_KEY", "ALLOWED_HOSTS")


def child_env() -> dict:
    """The environment of the other benchmarks and the generator: theirs, not the harness's
    production settings (they choose their own settings and databases)."""
    return {k: v for k, v in os.environ.items() if k not in HARNESS_ONLY}


class Redis:
    """A redis-server of our own on a free loopback port, nothing saved."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [
                *("redis-server", "--bind", "127.0.0.1", "--port", str(self.port)),
                *("--save", "", "--appendonly", "no", "--protected-mode", "yes"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        wait_for(self.ping, timeout=10, what="redis-server")
        return self

    def command(self, *words: str) -> bytes:
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
            sock.sendall(f"*{len(words)}\r\n".encode())
            for word in words:
                sock.sendall(b"$%d\r\n%s\r\n" % (len(word), word.encode()))
            return sock.recv(1024)

    def ping(self):
        return self.command("PING").startswith(b"+PONG")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


class Gunicorn:
    def __init__(self, env: dict, *, workers: int, log: Path):
        self.port = free_port()
        self.env = env
        self.workers = workers
        self.log = log
        self.process = None

    def start(self):
        self._log = self.log.open("w")
        self.process = subprocess.Popen(
            [
                *(str(ROOT / ".venv" / "bin" / "gunicorn"), "config.wsgi:application"),
                *("--workers", str(self.workers), "--bind", f"127.0.0.1:{self.port}"),
                *("--log-level", "warning", "--timeout", "60", "--graceful-timeout", "5"),
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

        def ready():
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log.read_text()}")
            headers = proxy_headers(self.port)
            return http("GET", self.port, "/bench/ceiling/count.json", headers=headers)[0] == 200

        wait_for(ready, timeout=60, what=f"gunicorn (log: {self.log})")
        return self

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if getattr(self, "_log", None):
            self._log.close()


# --- a browser, as far as the harness needs one ----------------------------------------------


def proxy_headers(port: int) -> dict:
    """What a TLS-terminating proxy and a browser on https://127.0.0.1:<port> send."""
    origin = f"https://127.0.0.1:{port}"
    return {"X-Forwarded-Proto": "https", "Origin": origin, "Referer": f"{origin}/"}


def http(method, port, path, *, body=None, headers=None):
    connection = HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


class FormParser(HTMLParser):
    """The fields of each POST form, as a browser would submit them (without the buttons)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[list[list]] = []
        self._form = None
        self._textarea = None
        self._select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("method", "").lower() == "post":
            self._form = []
            self.forms.append(self._form)
        if self._form is None or ("name" not in attrs and tag != "option"):
            return
        if tag == "input":
            kind = attrs.get("type", "text").lower()
            if kind in {"submit", "button", "image", "reset"}:
                return
            if kind in {"checkbox", "radio"} and "checked" not in attrs:
                return
            self._form.append(
                [attrs["name"], attrs.get("value", "on" if kind == "checkbox" else "")]
            )
        elif tag == "textarea":
            self._textarea = [attrs["name"], ""]
            self._form.append(self._textarea)
        elif tag == "select":
            self._select = [attrs["name"], None]
            self._form.append(self._select)
        elif (
            tag == "option"
            and self._select is not None
            and (self._select[1] is None or "selected" in attrs)
        ):
            self._select[1] = attrs.get("value", "")

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None


def post_form(html: bytes) -> list[list]:
    """The form that carries the journey's token."""
    parser = FormParser()
    parser.feed(html.decode())
    for form in parser.forms:
        if any(name == "token" for name, _ in form):
            return form
    raise RuntimeError("no form with a token on the page")


def encode(form) -> str:
    return urllib.parse.urlencode([(name, value or "") for name, value in form])


def set_field(form, name, value):
    for pair in form:
        if pair[0] == name:
            pair[1] = value
            return
    form.append([name, value])


class Browser:
    """One visitor: the CSRF cookie, and the three steps of the journey."""

    def __init__(self, port: int, slug: str):
        self.port = port
        self.path = f"/{slug}/"
        self.cookies: dict[str, str] = {}

    def headers(self, **extra):
        headers = {**proxy_headers(self.port), **extra}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return headers

    def request(self, method, path, body=None, **extra):
        headers = self.headers(**extra)
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        status, response_headers, content = http(
            method, self.port, path, body=body, headers=headers
        )
        for name, value in response_headers:
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        return status, dict(response_headers), content

    def final_form(self, *, zip_code: str, state: str, city: str) -> tuple[list[list], bytes]:
        """Walk the journey to its last page; return its form, filled, and the first page."""
        status, _, page = self.request("GET", self.path)
        if status != 200:
            raise RuntimeError(f"GET {self.path}: {status}")
        form = post_form(page)
        for name, value in {
            "first_name": "Bench",
            "last_name": "Visitor",
            "email": f"walk-{secrets.token_hex(4)}@{SUBMIT_EMAIL_DOMAIN}",
            "street": "1 Main Street",
            "city": city,
            "state": state,
            "zip_code": zip_code,
        }.items():
            set_field(form, name, value)
        for step in ("address", "officials"):
            body = encode([*form, ["step", step]])
            status, _, content = self.request("POST", self.path, body)
            if status != 200:
                raise RuntimeError(f"POST step={step}: {status}\n{content[:2000]!r}")
            form = post_form(content)
        set_field(form, "consent", "on")
        names = {name for name, _ in form}
        if "senate_prefix" in names:
            set_field(form, "senate_prefix", "Mr.")
        if "phone" in names:
            set_field(form, "phone", "202-555-0100")
        return [*form, ["step", "send"]], page


# --- wrk -------------------------------------------------------------------------------------


def wrk(port, path, *, method="GET", headers, pool=None, cycle=False, args, seconds):
    out = VAR / "wrk-out.json"
    out.unlink(missing_ok=True)
    env = {
        **os.environ,
        "BENCH_METHOD": method,
        "BENCH_HEADERS": "\n".join(f"{k}: {v}" for k, v in headers.items()),
        "BENCH_THREADS": str(args.threads),
        "BENCH_CYCLE": "1" if cycle else "0",
        "BENCH_OUT": str(out),
    }
    if pool is not None:
        env["BENCH_POOL"] = str(pool)
    command = ["wrk", f"--threads={args.threads}", f"--connections={args.connections}"]
    command += [f"--duration={seconds}s", "--timeout=10s", f"--script={WRK_SCRIPT}"]
    subprocess.run(
        [*command, f"http://127.0.0.1:{port}{path}"],
        env=env,
        check=True,
        capture_output=True,
        timeout=seconds + 60,
    )
    result = json.loads(out.read_text())
    result["rate"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


# --- one size --------------------------------------------------------------------------------


def prepare_database(size: int, args) -> str:
    database = f"action_alerts_bench_{size}"
    print(f"\n== {size:,} actions (database {database})", flush=True)
    generate = [sys.executable, "-m", "bench.generate", f"--actions={size}"]
    generate += [f"--deliveries-per-action={args.deliveries_per_action}"]
    started = time.perf_counter()
    subprocess.run(generate, cwd=ROOT, env=child_env(), check=True, timeout=45 * 60)
    print(f"   data ready in {time.perf_counter() - started:.0f} s", flush=True)

    import psycopg

    dsn = f"postgresql://postgres@127.0.0.1:5432/{database}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_ceiling_insert (id bigserial PRIMARY KEY, "
            "email text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"
        )
        conn.execute("TRUNCATE bench_ceiling_insert")
    return database


def measure_sizes(sizes, args, redis: Redis, base_env: dict) -> list[dict]:
    """One gunicorn per size, all up at once, so that every round measures each size within
    seconds of the other: the difference between sizes is not the machine's load moving."""
    databases = [prepare_database(size, args) for size in sizes]
    redis.command("FLUSHALL")
    servers = []
    try:
        for index, (size, database) in enumerate(zip(sizes, databases, strict=True)):
            env = {
                **base_env,
                "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
                # A Redis database per size: the same campaign has the same id in each.
                "REDIS_URL": f"redis://127.0.0.1:{redis.port}/{index}",
            }
            log = VAR / f"gunicorn-{size}.log"
            servers.append(Gunicorn(env, workers=args.workers, log=log).start())
        sites = [
            Site(server.port, size, args, write_template=index == 0)
            for index, (server, size) in enumerate(zip(servers, sizes, strict=True))
        ]
        print("\n   warming up...", flush=True)
        for target in TARGETS:
            for site in sites:
                for side in ("ceiling", "app"):
                    site.run(target, side, args.warmup, record=False)
        for number in range(1, args.rounds + 1):
            # Every other round the other size goes first: what runs second is a little warmer.
            order = sites if number % 2 else sites[::-1]
            for target in TARGETS:
                for site in order:
                    for side in ("ceiling", "app"):
                        result = site.run(target, side, args.duration)
                        print(
                            f"   round {number} {target:6s} {site.size:>9,} {side:7s} "
                            f"{result['rate']:8.1f} req/s  "
                            f"p50 {result['latency_us']['p50'] / 1000:7.1f} ms  "
                            f"p99 {result['latency_us']['p99'] / 1000:7.1f} ms  "
                            f"statuses {result['statuses']}",
                            flush=True,
                        )
        return [
            {**site.summary(), "database": database}
            for site, database in zip(sites, databases, strict=True)
        ]
    finally:
        for server in servers:
            server.stop()


class Site:
    """One size's gunicorn, as wrk and a browser see it."""

    def __init__(self, port, size, args, *, write_template):
        from alerts.operations.demo import SLUG
        from bench.urls import PAGE_TEMPLATE, QUERY_HEADER

        self.port, self.size, self.args = port, size, args
        self.browser = Browser(port, SLUG)
        self.final_form, page = self.browser.final_form(
            zip_code=args.zip, state=args.state, city=args.city
        )
        self.officials = sum(
            1 for name, _ in self.final_form if name in {"officials", "representative"}
        )
        if write_template:
            # The page's ceiling: its bytes through Django's template engine, nothing to
            # compute. Written before any ceiling request, so every worker loads this copy.
            (VAR / "templates").mkdir(parents=True, exist_ok=True)
            (VAR / "templates" / PAGE_TEMPLATE).write_text(
                "{% verbatim %}" + page.decode() + "{% endverbatim %}"
            )
        self.csrf_headers = self.browser.headers(
            **{"Content-Type": "application/x-www-form-urlencoded"}
        )
        self.get_headers = proxy_headers(port)
        self.run_id = secrets.token_hex(3)
        self.bodies_made = 0
        self.expected_submit_rate = 200.0  # a first guess, for the token pool; then the last run
        self.paths = {
            "page": (f"/{SLUG}/", "/bench/ceiling/page/"),
            "count": (f"/{SLUG}/count.json", "/bench/ceiling/count.json"),
            "submit": (f"/{SLUG}/", "/bench/ceiling/insert/"),
        }
        self.runs = {(target, side): [] for target in TARGETS for side in ("ceiling", "app")}

        # Queries per request, once per target (the middleware answers only when asked).
        self.queries = {}
        for target, (app_path, ceiling_path) in self.paths.items():
            for side, path in (("app", app_path), ("ceiling", ceiling_path)):
                if target == "submit":
                    status, headers, content = self.browser.request(
                        "POST", path, self.bodies(1, fresh=True)[0], **{QUERY_HEADER: "1"}
                    )
                    expected = 302
                else:
                    status, headers, content = http(
                        "GET", port, path, headers={**self.get_headers, QUERY_HEADER: "1"}
                    )
                    expected = 200
                if status != expected:
                    raise RuntimeError(f"{side} {target} {path}: {status}\n{content[:3000]!r}")
                self.queries[(target, side)] = int(dict(headers).get(QUERY_HEADER, "-1"))
                if target == "page" and side == "app":
                    self.page_bytes = len(content)
        self.ceiling_page_bytes = len(
            http("GET", port, self.paths["page"][1], headers=self.get_headers)[2]
        )
        print(
            f"   {size:,} actions: page {self.page_bytes:,} bytes (ceiling "
            f"{self.ceiling_page_bytes:,}); submit to {self.officials} officials",
            flush=True,
        )

    def bodies(self, count, *, fresh):
        """`count` final-step bodies: a new form token and a distinct email each."""
        from alerts.web.forms import new_form_token

        lines = []
        for _ in range(count):
            self.bodies_made += 1
            form = [list(pair) for pair in self.final_form]
            email = f"s{self.size}-{self.run_id}-{self.bodies_made}@{SUBMIT_EMAIL_DOMAIN}"
            set_field(form, "email", email)
            set_field(form, "token", new_form_token() if fresh else "")
            lines.append(encode(form))
        return lines

    def pool(self, name, lines):
        path = VAR / f"pool-{name}.txt"
        path.write_text("\n".join(lines) + "\n")
        return path

    def run(self, target, side, seconds, *, record=True):
        app_path, ceiling_path = self.paths[target]
        path = app_path if side == "app" else ceiling_path
        port, args = self.port, self.args
        if target != "submit":
            result = wrk(port, path, headers=self.get_headers, args=args, seconds=seconds)
        elif side == "ceiling":
            pool = self.pool("ceiling", self.bodies(500, fresh=False))
            result = wrk(
                port,
                path,
                method="POST",
                headers=self.csrf_headers,
                pool=pool,
                cycle=True,
                args=args,
                seconds=seconds,
            )
        else:
            rate = max(self.expected_submit_rate * 2.5, 100)
            pool = self.pool(
                "submit", self.bodies(int(rate * seconds) + 10 * args.connections, fresh=True)
            )
            result = wrk(
                port,
                path,
                method="POST",
                headers=self.csrf_headers,
                pool=pool,
                args=args,
                seconds=seconds,
            )
            self.expected_submit_rate = result["rate"]
            # Keep the size what it says: the submitted actions go (bench.generate does it).
            cleanup = [sys.executable, "-m", "bench.generate", f"--actions={self.size}"]
            cleanup += [f"--deliveries-per-action={args.deliveries_per_action}"]
            subprocess.run(
                cleanup, cwd=ROOT, env=child_env(), check=True, timeout=600, capture_output=True
            )
        if record:
            self.runs[(target, side)].append(result)
        return result

    def summary(self) -> dict:
        results = {}
        for target in TARGETS:
            entry = {}
            expected = "302" if target == "submit" else "200"
            for side in ("ceiling", "app"):
                runs = self.runs[(target, side)]
                entry[side] = {
                    "best": max(runs, key=lambda r: r["rate"]),
                    "rates": [round(r["rate"], 1) for r in runs],
                    "queries": self.queries[(target, side)],
                    "unexpected_responses": sum(
                        n for r in runs for s, n in r["statuses"].items() if s != expected
                    ),
                    "errors": sum(sum(r["errors"].values()) for r in runs),
                    "out_of_bodies": sum(r["threads_out_of_bodies"] for r in runs),
                }
            entry["ratio"] = entry["app"]["best"]["rate"] / entry["ceiling"]["best"]["rate"]
            # For reference: each round's app over the ceiling run just before it.
            entry["ratios_per_round"] = [
                round(app["rate"] / ceiling["rate"], 3)
                for ceiling, app in zip(
                    self.runs[(target, "ceiling")], self.runs[(target, "app")], strict=True
                )
            ]
            results[target] = entry
        return {
            "size": self.size,
            "page_bytes": self.page_bytes,
            "ceiling_page_bytes": self.ceiling_page_bytes,
            "submit_officials": self.officials,
            "targets": results,
        }


# --- lookup and delivery ---------------------------------------------------------------------


def run_lookup(args) -> dict:
    print("\n== bench.lookup", flush=True)
    command = [sys.executable, "-m", "bench.lookup", f"--calls={args.lookup_calls}"]
    output = subprocess.run(
        command, cwd=ROOT, env=child_env(), check=True, capture_output=True, text=True, timeout=900
    ).stdout
    print(output, flush=True)
    means = dict(re.findall(r"^\s+(.+?)\s+mean\s+([\d.]+) ms", output, re.MULTILINE))
    ratio = re.search(r"ratio service / ceiling: ([\d.]+)x", output)
    return {
        "output": output,
        "service_ms": float(means.get("delegation_for_address", "nan")),
        "ceiling_ms": float(means.get("raw SQL (ceiling)", "nan")),
        "ratio": float(ratio.group(1)) if ratio else None,
    }


def descendants(pid: int) -> list[int]:
    children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def peak_rss_kb(pid: int) -> int | None:
    """The process's peak resident set (VmHWM), if it is a Celery worker process."""
    try:
        if b"celery" not in Path(f"/proc/{pid}/cmdline").read_bytes():
            return None
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) if match else None


def run_delivery(args, redis: Redis) -> dict:
    print("\n== bench.delivery", flush=True)
    command = [sys.executable, "-m", "bench.delivery", f"--messages={args.delivery_messages}"]
    env = {**child_env(), "REDIS_URL": redis.url}
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    peaks: dict[int, int] = {}
    stop = threading.Event()

    def sample():
        while not stop.wait(0.25):
            for pid in descendants(process.pid):
                kb = peak_rss_kb(pid)
                if kb is not None:
                    peaks[pid] = max(peaks.get(pid, 0), kb)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        output, _ = process.communicate(timeout=1800)
    finally:
        stop.set()
        sampler.join()
        if process.poll() is None:
            process.kill()
    print(output, flush=True)
    if process.returncode:
        raise RuntimeError(f"bench.delivery failed ({process.returncode})")
    ratio = re.search(r"ratio ([\d.]+)", output)
    rates = re.findall(r"([\d.]+) msg/s", output)
    marked = re.search(r"(\d+)/(\d+) marked sent", output)
    return {
        "output": output,
        "ceiling_rate": float(rates[0]) if rates else None,
        "pipeline_rate": float(rates[1]) if len(rates) > 1 else None,
        "ratio": float(ratio.group(1)) if ratio else None,
        "marked_sent": marked.group(0) if marked else None,
        "worker_processes": len(peaks),
        "worker_peak_rss_mb": round(max(peaks.values()) / 1024, 1) if peaks else None,
    }


# --- the table -------------------------------------------------------------------------------


def table(report: dict) -> str:
    lines = []
    header = (
        "| what | actions | req/s | p50 ms | p99 ms | ceiling req/s | ceiling p99 ms | ratio | "
        "goal | queries (ceiling) |"
    )
    lines += [header, "|" + "---|" * 10]
    names = {"page": "campaign page", "count": "count.json", "submit": "final submit"}
    for target in TARGETS:
        for size in report["sizes"]:
            entry = size["targets"][target]
            app, ceiling = entry["app"]["best"], entry["ceiling"]["best"]
            what = names[target]
            if target == "page":
                what += f" ({size['page_bytes'] / 1000:.1f} KB)"
            if target == "submit":
                what += f" ({size['submit_officials']} officials)"
            lines.append(
                f"| {what} | {size['size']:,} | {app['rate']:.0f} | "
                f"{app['latency_us']['p50'] / 1000:.1f} | {app['latency_us']['p99'] / 1000:.0f} | "
                f"{ceiling['rate']:.0f} | {ceiling['latency_us']['p99'] / 1000:.0f} | "
                f"{entry['ratio']:.3f} | ≥ {GOALS[target]} | "
                f"{entry['app']['queries']} ({entry['ceiling']['queries']}) |"
            )
    if len(report["sizes"]) > 1:
        small, large = report["sizes"][0], report["sizes"][-1]
        for target in TARGETS:
            a = small["targets"][target]["ratio"]
            b = large["targets"][target]["ratio"]
            lines.append(
                f"| {names[target]}: {large['size']:,} vs {small['size']:,} | | | | | | | "
                f"{(b / a - 1) * 100:+.0f}% | within ±20% | |"
            )
    if report.get("lookup"):
        lookup = report["lookup"]
        lines.append(
            f"| officials lookup | | {lookup['service_ms']:.2f} ms a call | | | "
            f"{lookup['ceiling_ms']:.2f} ms (raw SQL) | | {lookup['ratio']:.2f}x the time | "
            "≤ 2x | |"
        )
    if report.get("delivery"):
        delivery = report["delivery"]
        lines.append(
            f"| delivery ({delivery['marked_sent']}) | | "
            f"{delivery['pipeline_rate']:.0f} msg/s | | | "
            f"{delivery['ceiling_rate']:.0f} msg/s (smtplib) | | {delivery['ratio']:.2f} | "
            "≥ 0.5 | |"
        )
        lines.append(
            f"| delivery worker peak RSS | | {delivery['worker_peak_rss_mb']} MB "
            f"(max of {delivery['worker_processes']} processes) | | | | | | < 150 MB | |"
        )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,1000000", help="actions in the database")
    parser.add_argument("--quick", action="store_true", help="the smallest size only")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds of each wrk run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of each warm-up run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk's threads")
    parser.add_argument("--workers", type=int, default=5, help="gunicorn sync workers")
    parser.add_argument("--deliveries-per-action", type=int, default=7)
    parser.add_argument("--zip", default="08854", help="the submitter's ZIP code (one district)")
    parser.add_argument("--state", default="NJ")
    parser.add_argument("--city", default="Piscataway")
    parser.add_argument("--lookup-calls", type=int, default=3000)
    parser.add_argument("--delivery-messages", type=int, default=10_000)
    parser.add_argument("--skip-lookup", action="store_true")
    parser.add_argument("--skip-delivery", action="store_true")
    parser.add_argument("--output", type=Path, default=VAR / "latest.json")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    if args.quick:
        sizes = sizes[:1]
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install -y wrk (make bench does it)")
    VAR.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    load_before = os.getloadavg()

    redis = Redis().start()
    base_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "REDIS_URL": redis.url,
        "CELERY_QUEUE": "bench-web",  # submits' tasks wait in the throwaway Redis, unread
        "STATIC_ROOT": str(VAR / "static"),
        "SITE_URL": "https://127.0.0.1",
        "LOG_LEVEL": "WARNING",
        # Every POST comes from 127.0.0.1; each has an email of its own anyway.
        "RATE_LIMIT_PER_IP": "1000000000",
        "RATE_LIMIT_PER_EMAIL": "1000000",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
    }
    os.environ.update({k: base_env[k] for k in HARNESS_ONLY})
    import django

    django.setup()  # for the app's own form tokens; the harness reads no table through Django
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=base_env,
        check=True,
    )

    report = {
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "load_before": [round(x, 2) for x in load_before]},
        "settings": {
            k: getattr(args, k)
            for k in ("rounds", "duration", "connections", "threads", "workers", "zip")
        },
        "sizes": [],
    }
    try:
        report["sizes"] = measure_sizes(sizes, args, redis, base_env)
        if not args.skip_lookup:
            report["lookup"] = run_lookup(args)
        if not args.skip_delivery:
            report["delivery"] = run_delivery(args, redis)
    finally:
        redis.stop()
    report["machine"]["load_after"] = [round(x, 2) for x in os.getloadavg()]
    report["seconds"] = round(time.monotonic() - started)
    report["table"] = table(report)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, default=str) + "\n")
    stamped = args.output.with_name(f"results-{report['started_at'].replace(':', '')}.json")
    shutil.copyfile(args.output, stamped)
    print()
    print(report["table"])
    print(
        f"\n{os.cpu_count()} CPUs; load average {load_before[0]:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after; {report['seconds']} s in all; "
        f"figures in {args.output}"
    )


if __name__ == "__main__":
    main()
