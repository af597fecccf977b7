"""The web_form channel in real Chromium, against replicas generated from the definitions.

One browser (the runner's, one per process as in a worker) and one replica server serve the
whole module. Definitions' fixed waits are capped to nothing: replicas need none.
"""

import json
import os
import re
import signal
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from alerts.delivery import engine
from alerts.delivery.channels import NeedsConstituent, TransientError, web_form
from alerts.delivery.webforms import runner, values
from alerts.models import Attempt, Delivery
from legislators import contact_forms
from legislators.models import ContactForm, Official
from tests.factories import ActionFactory, CampaignFactory, DeliveryFactory, OfficialFactory
from tests.support.browser import chromium_path
from tests.support.replicas import ReplicaServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

FORMS = Path(settings.CONTACT_FORMS_DIR)

# The two Senate definitions that parse, have no CAPTCHA and still cannot succeed, and why.
KNOWN_FAILURES = {
    # Its script injects the form as a single-quoted string that contains "Women's Issues":
    # a SyntaxError in any browser.
    "H000273": "broken at step 4 (javascript): Page.evaluate: SyntaxError",
    # Its topic list is the office's codes (AGR, BUD, HEA...): no text to match a topic to.
    "K000384": "requires a topic and none of its options matches",
}
TOPIC = "Health Care"


@pytest.fixture(scope="module")
def replicas():
    """The replica server, and the runner's browser closed when the module is done (another
    module's Playwright may not share this thread's)."""
    if not os.access(chromium_path(), os.X_OK):
        pytest.fail(f"chromium not found at {chromium_path()}: browser tests never skip")
    server = ReplicaServer().start()
    yield server
    runner.close()
    server.stop()


@pytest.fixture
def web_forms(settings, replicas, tmp_path):
    """Real delivery (no sandbox) to replicas; evidence under a temporary folder."""
    settings.DELIVERY_SANDBOX = False
    settings.CONTACT_FORMS_ORIGIN = replicas.origin
    settings.WEB_FORM_WAIT_CAP_SECONDS = 0
    settings.WEB_FORM_EVIDENCE_DIR = tmp_path / "evidence"
    settings.WEB_FORM_STEP_TIMEOUT_SECONDS = 5
    replicas.reset()
    yield replicas
    replicas.reset()


def load(path: Path) -> dict:
    return contact_forms.parse_definition(path.read_bytes(), name=path.name)


def senate_definitions() -> dict[str, dict]:
    found = {}
    for path in sorted((FORMS / "senate").glob("*.yaml")):
        try:
            found[path.stem] = load(path)
        except contact_forms.DefinitionError:
            continue
    return found


def office_with_form(key: str, definition: dict, **form_fields) -> Official:
    official = OfficialFactory(
        key=key,
        title="Senator",
        channel=Official.Channel.WEB_FORM,
        email="",
        contact_form_url="https://www.senate.gov/",
    )
    status = (
        ContactForm.Status.CAPTCHA
        if contact_forms.captcha_reason(definition)
        else ContactForm.Status.WORKING
    )
    ContactForm.objects.create(
        official=official,
        source=f"senate/{key}.yaml",
        definition=definition,
        content_hash="0" * 64,
        status=status,
        **form_fields,
    )
    return official


def delivery_to(official: Official, *, campaign=None, **fields) -> Delivery:
    action = ActionFactory(
        campaign=campaign or CampaignFactory(topic=TOPIC),
        prefix="Ms.",
        first_name="Ani",
        last_name="Petrosyan",
        street="12 Hoes Lane",
        city="Piscataway",
        state="NJ",
        zip_code="08854",
        phone="(732) 555-0143",
    )
    return DeliveryFactory(
        action=action,
        official=official,
        subject="Protect the program",
        body="Dear Senator,\n\nPlease protect the program.\n\nAni Petrosyan\nPiscataway, NJ",
        **fields,
    )


def _same(expected: str, got: str, variable: str, scripted: bool) -> bool:
    """Equal; or, for a field a definition's own script rewrites (quotes removed, a phone
    reformatted, newlines made spaces), equal as that script leaves it."""
    got = (got or "").replace("\r\n", "\n")
    if got == expected:
        return True
    if not scripted:
        return False
    if variable.startswith("$PHONE"):
        return re.sub(r"\D", "", got) == re.sub(r"\D", "", expected)
    return " ".join(expected.split()) == " ".join(got.replace("[", "(").replace("]", ")").split())


def _differences(definition, plan, submission) -> list[str]:
    scripts = " ".join(
        item["value"]
        for _, kind, item in contact_forms.iter_items(definition)
        if kind == "javascript"
    )
    wrong = []
    for step in plan.fields():
        if step.kind in {"check", "uncheck", "choose"}:
            selector = (
                f"{step.selector}[value={json.dumps(step.value)}]" if step.value else step.selector
            )
            expected = step.kind != "uncheck"
            if submission.by_selector.get(selector) is not expected:
                wrong.append(f"{selector}: {submission.by_selector.get(selector)!r}")
            continue
        got = submission.by_selector.get(step.selector)
        touched = any(part and part in scripts for part in re.findall(r"[\w-]{6,}", step.selector))
        if not _same(step.value, got, step.variable, touched):
            wrong.append(f"{step.selector}: expected {step.value[:30]!r}, got {str(got)[:30]!r}")
    return wrong


def test_every_senate_form_without_a_captcha_is_filled_to_success_with_the_constituents_values(
    web_forms,
):
    campaign = CampaignFactory(topic=TOPIC)
    definitions = {
        key: d for key, d in senate_definitions().items() if not contact_forms.captcha_reason(d)
    }
    assert len(definitions) == 87
    succeeded, failed = [], {}
    for key, definition in definitions.items():
        delivery = delivery_to(office_with_form(key, definition), campaign=campaign)
        try:
            plan = values.plan(definition, values.variables_for(delivery))
        except values.Unfillable:
            plan = None  # send() says why, without a browser
        else:
            web_forms.add(key, definition, plan)
        try:
            evidence = web_form.send(delivery)
        except (TransientError, NeedsConstituent) as exc:
            failed[key] = str(exc)
            continue
        submissions = web_forms.submitted(key)
        assert evidence.success_seen is True, key
        assert evidence.final_url.startswith(web_forms.origin), key
        assert (Path(settings.WEB_FORM_EVIDENCE_DIR) / evidence.screenshot).is_file(), key
        assert len(submissions) == 1, key
        assert _differences(definition, plan, submissions[0]) == [], key
        succeeded.append(key)
    print(f"\n{len(succeeded)} of {len(definitions)} Senate web forms filled to success")
    for key, reason in sorted(failed.items()):
        print(f"  {key}: {reason}")
    assert set(failed) == set(KNOWN_FAILURES)
    for key, reason in KNOWN_FAILURES.items():
        assert reason in failed[key], key
    assert len(succeeded) == 85


def test_the_white_house_form_is_filled_through_its_scripts(web_forms):
    definition = load(FORMS / "executive" / "us-president.yaml")
    delivery = delivery_to(office_with_form("us-president", definition))
    plan = values.plan(definition, values.variables_for(delivery), origin=web_forms.origin)
    web_forms.add("us-president", definition, plan)

    evidence = web_form.send(delivery)

    assert evidence.success_seen is True
    (submission,) = web_forms.submitted("us-president")
    assert ("FirstName", "Ani") in submission.fields
    assert ("State", "NJ") in submission.fields
    assert ("phone", "732-555-0143") in submission.fields


def test_a_captcha_form_ends_manual_without_a_browser(web_forms, monkeypatch):
    def no_browser(*args, **kwargs):
        raise AssertionError("a browser was asked for")

    monkeypatch.setattr(runner, "fill", no_browser)
    official = office_with_form("B001243", load(FORMS / "senate" / "B001243.yaml"))
    delivery = delivery_to(official)

    result = engine.delivery_send(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert result.outcome == engine.Outcome.MANUAL
    assert delivery.status == Delivery.Status.MANUAL
    assert "CAPTCHA" in delivery.manual_reason


def test_a_required_choice_without_a_match_ends_manual_without_a_browser(web_forms, monkeypatch):
    monkeypatch.setattr(runner, "fill", lambda *a, **k: pytest.fail("a browser was asked for"))
    official = office_with_form("K000384", load(FORMS / "senate" / "K000384.yaml"))
    delivery = delivery_to(official)

    engine.delivery_send(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.MANUAL
    assert "requires a topic" in delivery.manual_reason


def test_a_browser_killed_mid_form_is_retried_and_the_office_gets_one_submission(web_forms):
    key = "A000382"
    definition = load(FORMS / "senate" / f"{key}.yaml")
    delivery = delivery_to(office_with_form(key, definition))
    plan = values.plan(definition, values.variables_for(delivery), origin=web_forms.origin)
    web_forms.add(key, definition, plan)
    kills = []

    def kill_the_browser(office):
        if not kills:
            pid = runner.browser_pid()
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
            kills.append(pid)

    web_forms.on_visit = kill_the_browser

    first = engine.delivery_send(delivery_id=delivery.pk)

    assert kills and first.outcome == engine.Outcome.RETRY
    assert web_forms.submitted(key) == []
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    second = engine.delivery_send(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert second.outcome == engine.Outcome.SENT
    assert delivery.status == Delivery.Status.SENT
    attempts = list(Attempt.objects.filter(delivery=delivery).order_by("number"))
    assert [a.outcome for a in attempts] == [Attempt.Outcome.RETRY, Attempt.Outcome.SENT]
    assert "browser stopped" in attempts[0].error
    seen = [a for a in attempts if a.success_seen]
    assert len(web_forms.submitted(key)) == len(seen) == 1
    assert attempts[1].screenshot == f"{delivery.pk}/2.png"
    assert attempts[1].final_url.startswith(web_forms.origin)


def broken_definition(origin_host="www.nowhere.senate.gov") -> dict:
    return {
        "bioguide": "X000001",
        "contact_form": {
            "method": "post",
            "action": "",
            "steps": [
                {"visit": f"https://{origin_host}/missing"},
                {"fill_in": [{"selector": "#first", "value": "$NAME_FIRST", "required": True}]},
                {"click_on": [{"selector": "#send"}]},
            ],
            "success": {"body": {"contains": "Thanks"}},
        },
    }


def test_a_form_failing_n_times_in_a_row_is_broken_its_waiting_deliveries_go_manual(
    web_forms, settings
):
    settings.WEB_FORM_BROKEN_AFTER = 2
    settings.WEB_FORM_STEP_TIMEOUT_SECONDS = 0.5
    settings.MANAGERS = [("Organizers", "organizers@example.org")]
    official = office_with_form("X000001", broken_definition())
    first, second = delivery_to(official), delivery_to(official)
    waiting = delivery_to(official, status=Delivery.Status.PENDING)
    queued = delivery_to(official)

    assert engine.delivery_send(delivery_id=first.pk).outcome == engine.Outcome.RETRY
    attempt = Attempt.objects.get(delivery=first)
    assert attempt.error.startswith("web form broken at step 2 (fill_in)")
    assert attempt.success_seen is False
    assert (Path(settings.WEB_FORM_EVIDENCE_DIR) / attempt.screenshot).is_file()
    assert engine.delivery_send(delivery_id=second.pk).outcome == engine.Outcome.MANUAL

    form = ContactForm.objects.get(official=official)
    assert form.status == ContactForm.Status.BROKEN
    assert form.consecutive_failures == 2
    assert "broken at step 2" in form.status_reason
    assert form.status_changed_at is not None
    for delivery in (second, waiting, queued):
        delivery.refresh_from_db()
        assert delivery.status == Delivery.Status.MANUAL
        assert delivery.manual_reason == web_form.BROKEN_REASON
    (notice,) = mail.outbox
    assert notice.to == ["organizers@example.org"]
    assert "X000001" in notice.body and "broken at step 2" in notice.body
    assert "Petrosyan" not in notice.body and "example.org" not in notice.body.split("Reason")[0]


def test_a_success_resets_the_count_of_failures(web_forms):
    key = "B001236"
    definition = load(FORMS / "senate" / f"{key}.yaml")
    official = office_with_form(key, definition, consecutive_failures=2)
    delivery = delivery_to(official)
    web_forms.add(key, definition, values.plan(definition, values.variables_for(delivery)))

    web_form.send(delivery)

    assert ContactForm.objects.get(official=official).consecutive_failures == 0


def test_within_frame_steps_run_inside_the_frame(web_forms):
    definition = {
        "bioguide": "X000002",
        "contact_form": {
            "method": "post",
            "action": "",
            "steps": [
                {"visit": "https://www.framed.senate.gov/contact"},
                {"find": [{"selector": "#contact-frame"}]},
                {
                    "fill_in": [
                        {
                            "selector": "#first",
                            "name": "first",
                            "value": "$NAME_FIRST",
                            "required": True,
                            "within_frame": "#contact-frame",
                        }
                    ]
                },
                {"click_on": [{"selector": "#send", "within_frame": "#contact-frame"}]},
            ],
            "success": {"body": {"contains": "Thanks from the frame"}},
        },
    }
    delivery = delivery_to(office_with_form("X000002", definition))
    plan = values.plan(definition, values.variables_for(delivery), origin=web_forms.origin)
    web_forms.add("X000002", definition, plan)

    evidence = web_form.send(delivery)

    assert evidence.success_seen is True
    (submission,) = web_forms.submitted("X000002")
    assert ("first", "Ani") in submission.fields


def test_the_sandbox_mails_the_values_the_browser_would_fill_and_contacts_no_office(
    web_forms, settings
):
    settings.DELIVERY_SANDBOX = True
    settings.DELIVERY_SANDBOX_EMAIL = "sandbox@organizers.example"
    definition = load(FORMS / "senate" / "A000382.yaml")
    delivery = delivery_to(office_with_form("A000382", definition))

    assert engine.delivery_send(delivery_id=delivery.pk).outcome == engine.Outcome.SENT

    (message,) = mail.outbox
    assert message.to == ["sandbox@organizers.example"]
    assert "-- Web form values (sandbox: no office was contacted) --" in message.body
    assert "form_fields[field_1d46919]: Ani" in message.body
    assert "form_fields[message]: HEA" in message.body  # "Health Care" → the office's "Health"
    assert "A000382" not in web_forms.visits


def test_check_contact_forms_reports_per_office_in_json_and_a_dry_run_never_submits(
    web_forms, settings
):
    settings.WEB_FORM_STEP_TIMEOUT_SECONDS = 1
    forms = {key: load(FORMS / "senate" / f"{key}.yaml") for key in ("B001236", "B001243")}
    forms["X000001"] = broken_definition()
    for key, definition in forms.items():
        office_with_form(key, definition)
        if key == "B001236":
            plan = values.plan(definition, values.test_identity(topic=TOPIC))
            web_forms.add(key, definition, plan)
    before = len(web_forms.submitted("B001236"))
    out = StringIO()
    args = ["--origin", web_forms.origin, "--json", "--topic", TOPIC, "--wait-cap", "0"]

    call_command("check_contact_forms", *args, "--dry-run", stdout=out)

    report = {row["office"]: row for row in json.loads(out.getvalue())}
    assert report["B001236"]["result"] == "ok"
    assert report["B001243"]["result"] == "captcha"
    assert report["X000001"]["result"].startswith("broken at step 2: ")
    assert len(web_forms.submitted("B001236")) == before  # stopped before the final click

    out = StringIO()
    call_command("check_contact_forms", *args, "--office", "B001236", stdout=out)
    assert json.loads(out.getvalue()) == [
        {"office": "B001236", "result": "ok", "detail": json.loads(out.getvalue())[0]["detail"]}
    ]
    assert len(web_forms.submitted("B001236")) == before + 1
