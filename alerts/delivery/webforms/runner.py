"""Runs a plan (values.plan) in headless Chromium through Playwright.

One browser per worker process, launched on first use and relaunched when it died, reused
from fill to fill (a fresh context each time, so no cookies carry over). Playwright's sync API
keeps an event loop in the thread that starts it; it runs in a thread of its own here, so the
worker's thread (and Django's ORM in it) never sees that loop.

Every step has a timeout (WEB_FORM_STEP_TIMEOUT_SECONDS). `fill()` returns a Result with the
final URL, whether the success rule matched and the screenshot written; a step that fails
raises StepFailed carrying the same evidence. With CONTACT_FORMS_ORIGIN set, the browser may
load nothing but that origin: an office can never be reached by accident.
"""

import contextlib
import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings

from .values import Plan, Step

BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]

# Runs a definition's script as the page's own: indirect eval, global scope, sloppy mode
# (definitions assign undeclared globals).
_RUN_SCRIPT = "(code) => { (0, eval)(code); }"


@dataclass(frozen=True)
class Result:
    final_url: str
    success_seen: bool
    screenshot: str  # the file written, "" when none
    submitted: bool  # the submit step ran (a dry run stops before it)


class StepFailed(Exception):
    """Step `number` (1-based, the definition's) failed; the evidence is kept."""

    def __init__(self, number: int, kind: str, detail: str, *, final_url="", screenshot=""):
        super().__init__(f"step {number} ({kind}): {detail}")
        self.number = number
        self.kind = kind
        self.detail = detail
        self.final_url = final_url
        self.screenshot = screenshot


class BrowserGone(Exception):
    """The browser died mid-fill (killed, crashed): worth another try with a new one."""

    def __init__(self, detail: str, *, final_url=""):
        super().__init__(detail)
        self.final_url = final_url


class _Browser:
    """The process's browser, owned by one thread."""

    def __init__(self):
        self._executor = None
        self._playwright = None
        self._browser = None
        self._pid = None
        self._lock = threading.Lock()

    def run(self, function, *args, **kwargs):
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="web-form-browser")
            executor = self._executor
        return executor.submit(function, *args, **kwargs).result()

    def browser(self):
        """In the browser thread: the browser, launched or relaunched as needed."""
        if self._browser is not None and self._browser.is_connected():
            return self._browser
        self._discard()
        if self._playwright is None:
            from playwright.sync_api import sync_playwright

            self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(
            executable_path=settings.WEB_FORM_BROWSER, headless=True, args=BROWSER_ARGS
        )
        return self._browser

    def _discard(self):
        if self._browser is not None:
            with contextlib.suppress(Exception):
                self._browser.close()
            self._browser = None

    def close(self):
        def stop():
            self._discard()
            if self._playwright is not None:
                with contextlib.suppress(Exception):
                    self._playwright.stop()
                self._playwright = None

        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.submit(stop).result()
            executor.shutdown(wait=True)


_process_browser = _Browser()


def close() -> None:
    """Close this process's browser and Playwright (the next fill starts them again)."""
    _process_browser.close()


def browser_pid() -> int | None:
    """The browser started by this process's Playwright driver: a grandchild of this process
    (Python → driver → chromium), read from Linux's /proc."""
    me = os.getpid()
    processes = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                argv0 = (entry / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
            except OSError:
                continue
            processes[int(entry.name)] = (int(stat.rsplit(")", 1)[1].split()[1]), argv0)
    drivers = {pid for pid, (parent, _) in processes.items() if parent == me}
    for pid, (parent, argv0) in sorted(processes.items()):
        if parent in drivers and "chrom" in Path(argv0).name:
            return pid
    return None


def fill(
    plan: Plan,
    *,
    screenshot: Path | None = None,
    dry_run: bool = False,
    origin: str = "",
    wait_cap: float | None = None,
) -> Result:
    """Run the plan in a fresh context of the process's browser. `dry_run` stops before the
    submit step; `origin` confines the browser to that origin; `wait_cap` shortens the
    definitions' fixed waits (replicas need none)."""
    return _process_browser.run(_fill, plan, screenshot, dry_run, origin, wait_cap)


def _fill(plan, screenshot, dry_run, origin, wait_cap) -> Result:
    from playwright.sync_api import Error as PlaywrightError

    timeout_ms = settings.WEB_FORM_STEP_TIMEOUT_SECONDS * 1000
    try:
        browser = _process_browser.browser()
        context = browser.new_context(viewport={"width": 1280, "height": 900})
    except PlaywrightError as exc:
        _process_browser._discard()
        raise BrowserGone(f"browser did not start: {_first_line(exc)}") from exc
    page = None
    try:
        context.set_default_timeout(timeout_ms)
        context.set_default_navigation_timeout(timeout_ms)
        if origin:
            _confine(context, origin)
        page = context.new_page()
        status = {"code": None}

        def on_response(response):
            if response.request.is_navigation_request() and response.frame == page.main_frame:
                status["code"] = response.status

        page.on("response", on_response)
        submitted = False
        for position, step in enumerate(plan.steps):
            if position == plan.submit:
                if dry_run:
                    break
                submitted = True
            try:
                if position == plan.submit:
                    _submit(page, step, timeout_ms, wait_cap)
                else:
                    _run_step(page, step, timeout_ms, wait_cap)
            except PlaywrightError as exc:
                if not browser.is_connected() or _closed(exc):
                    raise BrowserGone(_first_line(exc), final_url=_url(page)) from exc
                shot = _screenshot(page, screenshot)
                raise StepFailed(
                    step.index + 1,
                    step.kind,
                    _first_line(exc),
                    final_url=_url(page),
                    screenshot=shot,
                ) from exc
        seen = False if dry_run else _success_seen(page, plan.success, status, timeout_ms)
        return Result(
            final_url=_url(page),
            success_seen=seen,
            screenshot=_screenshot(page, screenshot),
            submitted=submitted,
        )
    except PlaywrightError as exc:  # between steps: the browser went away
        raise BrowserGone(_first_line(exc), final_url=_url(page)) from exc
    finally:
        with contextlib.suppress(PlaywrightError):
            context.close()


def _submit(page, step, timeout_ms, wait_cap):
    """The submit step, and the office's answer arriving: a form that posts navigates, and
    the steps after it (and the success rule) are about the page it navigates to. A form that
    answers by script does not navigate; after a short wait, go on."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    failed = None
    try:
        with page.expect_navigation(wait_until="commit", timeout=min(timeout_ms, 5000)):
            try:
                _run_step(page, step, timeout_ms, wait_cap)
            except Exception as exc:
                failed = exc
                raise
    except PlaywrightTimeout:
        if failed is not None:
            raise


def _confine(context, origin):
    allowed = urlsplit(origin)

    def guard(route):
        url = urlsplit(route.request.url)
        if url.scheme in {"data", "blob", "about"} or (
            url.scheme == allowed.scheme and url.netloc == allowed.netloc
        ):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", guard)


def _closed(exc) -> bool:
    text = str(exc)
    return "has been closed" in text or "Target closed" in text or "crashed" in text


def _first_line(exc) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


def _url(page) -> str:
    try:
        return page.url if page is not None else ""
    except Exception:  # noqa: BLE001 (a dead page)
        return ""


def _screenshot(page, path: Path | None) -> str:
    if page is None or path is None:
        return ""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), timeout=10_000)
    except Exception:  # noqa: BLE001 (evidence at best; the fill's outcome stands)
        return ""
    return str(path)


def _scope(page, step: Step):
    """The page, or the frame the step names (within_frame)."""
    if not step.frame:
        return page
    handle = page.wait_for_selector(step.frame, state="attached")
    frame = handle.content_frame()
    if frame is None:
        from playwright.sync_api import Error as PlaywrightError

        raise PlaywrightError(f"{step.frame} is not a frame")
    return frame


def _locator(scope, selector: str, value: str = ""):
    """The first element the selector finds; with `value`, the first with that value
    attribute when the selector finds several (checkboxes and radios sharing a name)."""
    if value:
        narrowed = scope.locator(f"{selector}[value={_css_string(value)}]")
        if narrowed.count():
            return narrowed.first
    return scope.locator(selector).first


def _css_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _run_step(page, step: Step, timeout_ms: float, wait_cap: float | None) -> None:
    kind = step.kind
    if kind == "visit":
        page.goto(step.value, wait_until="load")
        return
    if kind == "wait":
        seconds = step.seconds or 0
        if wait_cap is not None:
            seconds = min(seconds, wait_cap)
        with contextlib.suppress(Exception):
            page.wait_for_load_state("load", timeout=max(seconds * 1000, 1))
        if seconds:
            page.wait_for_timeout(seconds * 1000)
        return
    scope = _scope(page, step)
    if kind == "javascript":
        try:
            scope.evaluate(_RUN_SCRIPT, step.value)
        except Exception as exc:
            # A script that clicks "submit" may navigate before it returns: that is its job.
            if "Execution context was destroyed" not in str(exc):
                raise
        return
    if kind == "find":
        wait_ms = step.seconds * 1000 if step.seconds else timeout_ms
        if step.value:
            scope.locator(step.selector, has_text=step.value).first.wait_for(
                state="visible", timeout=wait_ms
            )
        else:
            scope.locator(step.selector).first.wait_for(state="visible", timeout=wait_ms)
        return
    if kind == "click_on":
        _locator(scope, step.selector, step.value).click()
        return
    if kind == "fill_in":
        _locator(scope, step.selector).fill(step.value)
        return
    if kind == "select":
        element = _locator(scope, step.selector)
        element.wait_for(state="attached")
        has_value = element.evaluate(
            "(el, v) => Array.from(el.options || []).some(o => o.value === v)", step.value
        )
        if has_value:
            element.select_option(value=step.value)
        else:
            element.select_option(label=step.value)
        return
    if kind in {"check", "choose"}:
        _locator(scope, step.selector, step.value).check()
        return
    if kind == "uncheck":
        _locator(scope, step.selector, step.value).uncheck()
        return
    raise ValueError(f"unknown step {kind}")


def _success_seen(page, success: dict, status: dict, timeout_ms: float) -> bool:
    """Whether the office's success rule matches the page the fill ended on. The answer may
    still be loading after the last step: look again until it matches or the step timeout."""
    headers = success.get("headers") or {}
    body = success.get("body") or {}
    wanted_status = headers.get("status")
    contains = body.get("contains")
    matches = body.get("matches")
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        try:
            page.wait_for_load_state("load", timeout=timeout_ms)
            content = page.content()
        except Exception:  # noqa: BLE001 (mid-navigation: look again)
            content = None
        if content is not None:
            ok = True
            if wanted_status is not None and status["code"] is not None:
                ok = ok and int(wanted_status) == status["code"]
            if contains is not None:
                ok = ok and str(contains) in content
            if matches:
                ok = ok and re.search(str(matches), content, re.IGNORECASE) is not None
            if ok:
                return True
        if time.monotonic() >= deadline:
            return False
        page.wait_for_timeout(200)
