"""Web-form definitions: parsed, checked, keyed to their official, versioned, imported."""

import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from legislators import contact_forms
from legislators.models import Chamber, ContactForm, Legislator, Official
from tests.factories import LegislatorFactory, OfficialFactory

FORMS = Path(settings.CONTACT_FORMS_DIR)


def forms_dir() -> Path:
    if not (FORMS / "senate").is_dir():
        pytest.fail(f"contact-forms data missing: {FORMS} (set CONTACT_FORMS_DIR)")
    return FORMS


def senate_official(bioguide: str) -> Official:
    """The senator's official: the one the real data's import made, when it ran first in this
    session (its rows outlive a test), else a new one."""
    existing = Official.objects.filter(legislator__bioguide_id=bioguide).first()
    if existing is not None:
        return existing
    legislator = Legislator.objects.filter(bioguide_id=bioguide).first() or LegislatorFactory(
        bioguide_id=bioguide, chamber=Chamber.SENATE, district=None, senate_class=1
    )
    return OfficialFactory(
        key=bioguide,
        kind=Official.Kind.LEGISLATOR,
        legislator=legislator,
        title="Senator",
        channel=Official.Channel.CONTACT_FORM,
        email="",
        contact_form_url="https://www.senate.gov/",
    )


@pytest.fixture
def every_office(db):
    """An official for every definition file, as a full import of the public data gives."""
    for path in sorted((forms_dir() / "senate").glob("*.yaml")):
        senate_official(path.stem)
    if not Official.objects.filter(key="us-president").exists():
        OfficialFactory(key="us-president", title="President")


def definition(name: str) -> dict:
    path = forms_dir() / "senate" / name
    return contact_forms.parse_definition(path.read_bytes(), name=name)


def test_the_invalid_yaml_file_is_refused_with_its_name_and_reason_while_the_others_load(
    every_office,
):
    summary = contact_forms.contact_forms_import(forms_dir())

    assert len(summary.refused) == 1
    assert summary.refused[0].startswith("senate/K000394.yaml: not valid YAML:")
    assert "line" in summary.refused[0]
    assert summary.created == 100  # 99 senators and the President
    assert ContactForm.objects.count() == 100
    assert not ContactForm.objects.filter(official__key="K000394").exists()
    assert summary.captcha == 12
    assert ContactForm.objects.filter(status=ContactForm.Status.CAPTCHA).count() == 12
    captcha = ContactForm.objects.get(official__legislator__bioguide_id="B001243")
    assert "reCAPTCHA" in captcha.status_reason
    president = ContactForm.objects.get(official__key="us-president")
    assert president.source == "executive/us-president.yaml"
    assert president.status == ContactForm.Status.WORKING
    assert len(president.content_hash) == 64


def test_a_changed_file_raises_the_version_and_an_unchanged_one_does_not(db, tmp_path):
    senate_official("A000382")
    (tmp_path / "senate").mkdir()
    shutil.copy(forms_dir() / "constants.yaml", tmp_path / "constants.yaml")
    target = tmp_path / "senate" / "A000382.yaml"
    shutil.copy(forms_dir() / "senate" / "A000382.yaml", target)

    assert contact_forms.contact_forms_import(tmp_path).created == 1
    assert contact_forms.contact_forms_import(tmp_path).unchanged == 1
    form = ContactForm.objects.get()
    assert form.version == 1
    form.status = ContactForm.Status.BROKEN
    form.consecutive_failures = 3
    form.save()

    target.write_bytes(
        target.read_bytes().replace(b"wait:\n        - value: 3", b"wait: [{value: 1}]")
    )
    assert contact_forms.contact_forms_import(tmp_path).updated == 1
    form.refresh_from_db()
    assert form.version == 2
    assert form.status == ContactForm.Status.WORKING  # new content, a fresh start
    assert form.consecutive_failures == 0


def test_the_command_summarises_and_a_dry_run_saves_nothing(every_office):
    out, err = StringIO(), StringIO()
    call_command("import_contact_forms", str(forms_dir()), "--dry-run", stdout=out, stderr=err)
    assert out.getvalue().startswith("[dry run] 100 created, 0 updated, 0 unchanged")
    assert "refused senate/K000394.yaml: not valid YAML" in err.getvalue()
    assert not ContactForm.objects.exists()

    out = StringIO()
    call_command("import_contact_forms", str(forms_dir()), stdout=out, stderr=StringIO())
    assert "100 created" in out.getvalue()
    assert "1 refused" in out.getvalue()


def test_a_file_without_its_official_is_skipped_and_named(db, tmp_path):
    (tmp_path / "senate").mkdir()
    unknown = tmp_path / "senate" / "Z999999.yaml"  # a bioguide id nobody holds
    unknown.write_bytes((forms_dir() / "senate" / "A000382.yaml").read_bytes())
    summary = contact_forms.contact_forms_import(unknown)
    assert summary.no_official == ["senate/Z999999.yaml"]


def test_constants_are_resolved_and_yes_stays_a_word():
    alsobrooks = definition("A000382.yaml")
    assert alsobrooks["contact_form"]["steps"][0] == {
        "visit": "https://www.alsobrooks.senate.gov/share-your-opinion/"
    }
    # B001288 lists {Yes: Y, No: N}: YAML 1.1 would make the keys booleans
    choices = contact_forms.required_inputs(definition("B001288.yaml"))
    assert choices["$NAME_PREFIX"]["required"] is True
    selects = [
        item
        for _, kind, item in contact_forms.iter_items(definition("B001288.yaml"))
        if kind == "select" and item.get("value") == "Yes"
    ]
    assert selects and contact_forms.options_of(selects[0])[0] == ("Yes", "Y")


def test_required_inputs_and_topic_options():
    inputs = contact_forms.required_inputs(definition("A000382.yaml"))
    assert inputs["$TOPIC"]["required"] is True
    assert "Foreign Relations" in inputs["$TOPIC"]["options"]
    assert "$PHONE" not in inputs  # Alsobrooks' form asks no phone
    assert contact_forms.topic_options(definition("A000382.yaml"))[:2] == ["Agriculture", "Animals"]
    baldwin = contact_forms.required_inputs(definition("B001230.yaml"))
    assert baldwin["$PHONE"] == {"required": True, "options": []}


@pytest.mark.parametrize(
    ("wanted", "options", "expected"),
    [
        ("Foreign Relations", ["Agriculture", "Foreign Affairs", "Health"], "Foreign Affairs"),
        ("health care", ["Healthcare", "Housing"], "Healthcare"),
        ("Budget", ["Appropriations/Budget", "Banking"], "Appropriations/Budget"),
        ("Veterans", ["Veterans", "Veterans Affairs"], "Veterans"),
        ("Foreign Relations", ["Agriculture", "Taxes"], None),
        ("", ["Other"], None),
    ],
)
def test_best_match(wanted, options, expected):
    assert contact_forms.best_match(wanted, options) == expected


def test_captcha_is_found_in_recaptcha_steps_and_captcha_fields():
    assert "reCAPTCHA" in contact_forms.captcha_reason(definition("B001243.yaml"))
    assert contact_forms.captcha_reason(definition("A000382.yaml")) == ""
    field = {
        "contact_form": {"steps": [{"fill_in": [{"selector": "#c", "value": "$CAPTCHA_SOLUTION"}]}]}
    }
    assert "CAPTCHA" in contact_forms.captcha_reason(field)


def test_origin_rewriting_reaches_every_url_of_a_definition():
    rewritten = contact_forms.rewrite_origin(definition("B001230.yaml"), "http://127.0.0.1:9999")
    steps = rewritten["contact_form"]["steps"]
    assert steps[0] == {
        "visit": "http://127.0.0.1:9999/www.baldwin.senate.gov/contact/contact-tammy"
    }
    assert rewritten["contact_form"]["action"] == (
        "http://127.0.0.1:9999/www.baldwin.senate.gov/contact/contact-tammy"
    )
    script = steps[2]["javascript"][0]["value"]
    assert "https://" not in script
    assert 'action=\\"http://127.0.0.1:9999/www.baldwin.senate.gov/contact/contact-tammy' in script
    assert (
        contact_forms.rewrite_url("https://a.gov/x?q=1", "http://h:1") == "http://h:1/a.gov/x?q=1"
    )
    assert contact_forms.rewrite_url("https://a.gov", "http://h:1/") == "http://h:1/a.gov/"


def test_the_submit_step_is_the_last_click():
    steps = definition("D000622.yaml")["contact_form"]["steps"]
    index = contact_forms.submit_index(steps)
    assert steps[index] == {
        "javascript": [{"value": 'document.querySelector("input.btn").click();'}]
    }
