"""The confirmation email cannot be used to spam, nor its link to confirm from a log (issue 14,
point 10), seen from outside: the form's per-email limit counts one mailbox however its address
is written; the confirm page confirms only with the code, a few tries an hour; the code reaches
neither gunicorn's access log (a real gunicorn run with the deployed access-log settings, and a
real Chromium, with and without JavaScript) nor the link's path; and a real Celery worker gives
up on a confirmation the server refuses with a 5xx, retries a 4xx, and logs the address in
neither case."""

import http.client
import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.urls import reverse
from playwright.sync_api import expect, sync_playwright

from alerts import tasks
from alerts.models import Action, Delivery
from alerts.notifications import confirmation_code, confirmation_code_shown, confirmation_send
from alerts.web import abuse
from alerts.web.forms import new_form_token
from tests.factories import ActionFactory, CampaignFactory, DeliveryFactory
from tests.support.browser import launch_chromium
from tests.support.processes import OUTPUT_DIR, ROOT, free_port, wait_until, worker_env

CODE_LINE_RE = re.compile(r"If the page asks for a code, enter: (\S+)")
LINK_RE = re.compile(r"https?://\S+/confirm/\S+")


def _pending_action(**fields) -> Action:
    action = ActionFactory(campaign=CampaignFactory(double_opt_in=True), **fields)
    DeliveryFactory(action=action, status=Delivery.Status.PENDING, queued_at=None)
    return action


def _emailed(mailoutbox, action) -> tuple[str, str]:
    """The link and the code in the confirmation email sent to `action`."""
    assert confirmation_send(action_id=action.pk) is True
    [mail] = [m for m in mailoutbox if m.to == [action.email]]
    [link] = LINK_RE.findall(mail.body)
    [code] = CODE_LINE_RE.findall(mail.body)
    return link, code


# --- the form's per-email limit ---------------------------------------------------------------


@pytest.mark.django_db
def test_the_per_email_limit_counts_one_mailbox_however_it_is_written(
    client, settings, campaign, form_data, monkeypatch
):
    settings.RATE_LIMIT_PER_IP = 100
    settings.RATE_LIMIT_PER_EMAIL = 2
    settings.RATE_LIMIT_WINDOW_SECONDS = 3600
    # A window that cannot roll over during the test.
    monkeypatch.setattr(abuse, "time", SimpleNamespace(time=lambda: 1_700_000_000.5))
    url = reverse("alerts:campaign_detail", args=[campaign.slug])

    def post(email, n):
        data = {**form_data, "token": new_form_token(), "email": email}
        return client.post(url, data, REMOTE_ADDR=f"192.0.2.{n}")

    assert post("Ani.P+one@gmail.com", 1).status_code == 302
    assert post("anip+two@GoogleMail.com", 2).status_code == 302
    limited = post("a.n.i.p@gmail.com", 3)
    assert limited.status_code == 429
    assert Action.objects.count() == 2
    # Another mailbox at the same provider has its own allowance.
    assert post("someone.else@gmail.com", 4).status_code == 302


# --- the confirm page -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_emailed_link_holds_the_code_only_in_its_fragment(mailoutbox):
    action = _pending_action()
    link, code = _emailed(mailoutbox, action)
    parts = urlsplit(link)
    sent_to_the_server = parts.path + "?" + parts.query
    assert parts.path == reverse("alerts:confirm", args=[action.public_id])
    assert parts.fragment == f"code={code}"
    assert code == confirmation_code_shown(action)
    for form in (code, code.replace("-", ""), code.lower()):
        assert form not in sent_to_the_server


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("entered", "message"),
    [
        ("", "Enter the code from the email we sent you."),
        ("   ", "Enter the code from the email we sent you."),
        ("ABCD-EFGH", "That is not the code in the email we sent you."),
        ("not a code at all, and far too long for one" * 50, "That is not the code"),
    ],
)
def test_a_post_without_the_right_code_confirms_nothing(client, entered, message):
    action = _pending_action()
    path = reverse("alerts:confirm", args=[action.public_id])
    response = client.post(path, {"code": entered})
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert 'aria-invalid="true"' in body
    action.refresh_from_db()
    assert action.confirmed_at is None
    assert set(action.deliveries.values_list("status", flat=True)) == {Delivery.Status.PENDING}


@pytest.mark.django_db
def test_the_code_is_taken_however_it_is_typed(client):
    action = _pending_action()
    code = confirmation_code(action)
    typed = f"  {code[:4].lower()} {code[4:].lower()} ".replace("0", "o").replace("1", "l")
    response = client.post(reverse("alerts:confirm", args=[action.public_id]), {"code": typed})
    assert response.status_code == 200
    assert "your message is on its way" in response.content.decode()


@pytest.mark.django_db
def test_a_guesser_gets_ten_tries_an_hour(client):
    action = _pending_action()
    path = reverse("alerts:confirm", args=[action.public_id])
    wrong = "ZZZZ-ZZZZ" if confirmation_code(action) != "ZZZZZZZZ" else "YYYY-YYYY"
    for _ in range(10):
        assert client.post(path, {"code": wrong}).status_code == 400
    # The eleventh try is refused whatever it holds, the right code included.
    response = client.post(path, {"code": confirmation_code_shown(action)})
    assert response.status_code == 429
    assert "Retry-After" in response
    action.refresh_from_db()
    assert action.confirmed_at is None


# --- gunicorn's access log, with a real browser -----------------------------------------------


def _deployed_gunicorn_command() -> list[str]:
    """The Dockerfile's CMD (gunicorn with its access-log flags); compose runs the same."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    [cmd] = [line for line in dockerfile.splitlines() if line.startswith("CMD [")]
    command = json.loads(cmd.removeprefix("CMD "))
    assert command[0] == "gunicorn" and "--access-logfile" in command
    compose = (ROOT / "docker-compose.yml").read_text()
    assert "--access-logfile -" in compose
    # Neither changes gunicorn's default access-log format, which logs the request line (path
    # and query) and the Referer: the format this test runs.
    assert "access-logformat" not in dockerfile + compose
    return command


class Gunicorn:
    """The deployed gunicorn command on a free loopback port, one worker, on the test
    database; its stdout (where `--access-logfile -` writes) kept in a file."""

    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = OUTPUT_DIR / f"gunicorn-confirm-{self.port}.log"

    def start(self):
        self.sessions_before = _other_sessions()
        command = _deployed_gunicorn_command()
        command[0] = str(Path(sys.executable).with_name("gunicorn"))
        command[command.index("--bind") + 1] = f"127.0.0.1:{self.port}"
        command[command.index("--workers") + 1] = "1"
        OUTPUT_DIR.mkdir(exist_ok=True)
        self._log = self.log_path.open("w")
        env = {**os.environ, **worker_env(SITE_URL=self.url)}
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )

        def up():
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log_path.read_text()}")
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                connection.request("GET", "/privacy/")
                return connection.getresponse().status == 200
            except OSError:
                return False
            finally:
                connection.close()

        wait_until(up, timeout=60, interval=0.2, message=f"gunicorn (log {self.log_path})")
        return self

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=20)
        self._log.close()
        # PostgreSQL ends a closed session's backend a moment later; until then the test
        # database cannot be dropped.
        wait_until(
            lambda: _other_sessions() <= self.sessions_before,
            timeout=10,
            message="gunicorn's database sessions to end",
        )

    def access_log(self) -> str:
        return self.log_path.read_text()


def _other_sessions() -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return {pid for (pid,) in cursor.fetchall()}


@pytest.fixture
def gunicorn(transactional_db):
    server = Gunicorn().start()
    yield server
    server.stop()


def _confirm_in_chromium(link: str, code: str, *, javascript: bool) -> None:
    """Open the emailed link and press the button, as the constituent does. No ORM call runs
    while Playwright's sync API is on: its greenlets would get a database connection of their
    own, left open."""
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_context(java_script_enabled=javascript).new_page()
        assert page.goto(link).status == 200
        field = page.get_by_label("Code from the email")
        if javascript:
            # The page's script copied the code from the fragment and took the fragment away.
            expect(field).to_have_value(code)
            assert "#" not in page.url
        else:
            expect(field).to_have_value("")
            field.fill(code)  # typed from the email
        with page.expect_navigation():
            page.get_by_role("button", name="Confirm and send").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Thank you: your message is on its way"
        )
        browser.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_confirming_in_a_browser_leaves_the_code_out_of_the_access_log(
    gunicorn, settings, mailoutbox, javascript
):
    settings.SITE_URL = gunicorn.url
    action = _pending_action()
    link, code = _emailed(mailoutbox, action)

    _confirm_in_chromium(link, code, javascript=javascript)

    action.refresh_from_db()
    assert action.confirmed_at is not None
    log = gunicorn.access_log()
    path = reverse("alerts:confirm", args=[action.public_id])
    assert re.search(rf'"GET {re.escape(path)} HTTP/1\.1" 200', log), log
    assert re.search(rf'"POST {re.escape(path)} HTTP/1\.1" 200', log), log
    for form in (code, code.replace("-", ""), code.lower(), code.replace("-", "").lower()):
        assert form not in log


# --- a real Celery worker and a refusing SMTP server ------------------------------------------


def _worker_confirms(celery_worker, action, *, until):
    since = celery_worker.log_offset()
    assert tasks.enqueue(tasks.send_confirmation, action.pk)

    def seen():
        lines = celery_worker.task_lines(since=since)
        return [line.event for line in lines if line.name == "alerts.send_confirmation"]

    events = wait_until(lambda: until in seen() and seen(), timeout=60, message=until)
    return events, celery_worker.log_since(since)


@pytest.mark.django_db(transaction=True)
def test_the_worker_gives_up_on_a_5xx_and_never_logs_the_address(celery_worker, smtp_sink):
    # An address of this run's own: the shared Redis keeps each mailbox's daily count.
    local = f"no.such.person.{uuid.uuid4().hex[:8]}"
    action = _pending_action(email=f"{local}@example.org")
    smtp_sink.rcpt_reply_for = lambda rcpt: f"550 5.1.1 <{rcpt}>: Recipient address rejected"

    events, log = _worker_confirms(celery_worker, action, until="succeeded")

    assert events == ["received", "succeeded"]  # no retry
    assert len(smtp_sink.refusals()) == 1
    assert f"confirmation for action {action.pk} refused by the mail server (SMTP 550)" in log
    assert local not in celery_worker.log()
    action.refresh_from_db()
    assert action.confirmation_sent_at is not None  # the sweep will not send it again


@pytest.mark.django_db(transaction=True)
def test_the_worker_retries_a_4xx_without_logging_the_address(celery_worker, smtp_sink):
    local = f"busy.person.{uuid.uuid4().hex[:8]}"
    action = _pending_action(email=f"{local}@example.org")
    smtp_sink.rcpt_reply_for = lambda rcpt: f"450 4.2.1 <{rcpt}>: mailbox busy"

    events, log = _worker_confirms(celery_worker, action, until="retry")

    assert "retry" in events
    assert "succeeded" not in events
    assert "SMTP 450" in log
    assert local not in celery_worker.log()
    action.refresh_from_db()
    assert action.confirmation_sent_at is None  # released for the retry (bounded: 8 tries)
    assert tasks.send_confirmation.max_retries == 8
