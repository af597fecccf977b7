"""Real-browser helpers: Debian's chromium driven by Playwright, axe-core checks, screenshots.

No browser is ever downloaded: Playwright's wheel brings its driver, the browser is the
system's `chromium` (`CHROMIUM_PATH`, default /usr/bin/chromium). CI installs it in `.ci/run`;
when it is missing the tests fail, they never skip.
"""

import os
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.support.processes import OUTPUT_DIR

DEFAULT_CHROMIUM = "/usr/bin/chromium"
SCREENSHOT_DIR = OUTPUT_DIR / "screenshots"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> Path:
    return Path(os.environ.get("CHROMIUM_PATH", DEFAULT_CHROMIUM))


def launch_chromium(playwright, *, javascript=True):
    """Debian's chromium, headless, or a pytest failure naming what is missing.

    `javascript=False` switches scripts off for the whole browser (Blink's `scriptEnabled`);
    for one test, a context with `java_script_enabled=False` does the same more cheaply.
    """
    executable = chromium_path()
    if not (executable.is_file() and os.access(executable, os.X_OK)):
        pytest.fail(
            f"chromium not found at {executable}: install Debian's package "
            "(`apt-get install -y chromium`) or set CHROMIUM_PATH. Browser tests never skip.",
            pytrace=False,
        )
    args = list(CHROMIUM_ARGS)
    if not javascript:
        args.append("--blink-settings=scriptEnabled=false")
    return playwright.chromium.launch(executable_path=str(executable), headless=True, args=args)


# Runs in the page: is scripting on? The HTML parser reads <noscript> as raw text when it is
# and as markup when it is not; unlike running a probe script, a CSP that forbids inline
# scripts does not change the answer.
_SCRIPTS_RUN = """() => {
    const probe = document.createElement("div");
    probe.innerHTML = "<noscript><b></b></noscript>";
    return probe.querySelector("noscript b") === null;
}"""


def axe_violations(page, impacts=("serious", "critical")) -> list[dict]:
    """axe-core's violations on the page as it is now, those of the given impacts only.

    Each is `{"id", "impact", "help", "targets"}`, `targets` the CSS selectors of the nodes.
    axe needs JavaScript in the page (it waits on timers): on a page without it, `axe.run`
    would never settle, so this fails at once instead. Check the same URL in a `page` with
    JavaScript on.
    """
    if not page.evaluate(_SCRIPTS_RUN):
        pytest.fail(
            "axe needs the page's JavaScript: this page has it switched off",
            pytrace=False,
        )
    results = Axe().run(page)
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "targets": [", ".join(map(str, node["target"])) for node in violation["nodes"]],
        }
        for violation in results.response["violations"]
        if violation["impact"] in impacts
    ]


def format_violations(violations: list[dict]) -> str:
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} -> {'; '.join(v['targets'])}" for v in violations
    )


def screenshot(page, name: str) -> Path:
    """A full-page PNG at test-output/screenshots/<name>.png (git-ignored)."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
