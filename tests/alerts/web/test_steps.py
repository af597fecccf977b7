"""The journey's steps: which page a button leads to, and what each page shows and posts again."""

import pytest
from django.http import QueryDict

from alerts.models import Campaign
from alerts.web.forms import ActionForm
from alerts.web.steps import (
    MOVES,
    Step,
    StepPage,
    first_step_with_errors,
    move_posted,
    next_page_values,
)
from tests.support.forms import CONSTITUENT


def _posted(**fields) -> QueryDict:
    data = QueryDict(mutable=True)
    for name, value in fields.items():
        data.setlist(name, value if isinstance(value, list) else [value])
    return data


def _page(step, campaign=None, **posted):
    form = ActionForm(_posted(**posted), campaign=campaign or Campaign(organization_name="Org"))
    return StepPage(form, step)


EVERYTHING = {
    **CONSTITUENT,
    "prefix": "Dr.",
    "officials": ["7", "9"],
    "representative": "11",
    "subject": "Act now please",
    "message": "Mine",
    "consent": "on",
    "token": "tok",
    "source": "news",
    "ref": "abc",
}


@pytest.mark.parametrize(
    ("button", "validate", "then", "send"),
    [
        ("address", Step.ADDRESS, Step.OFFICIALS, False),
        ("officials", Step.OFFICIALS, Step.MESSAGE, False),
        ("back", Step.ADDRESS, Step.OFFICIALS, False),
        ("edit", None, Step.ADDRESS, False),
        ("send", Step.MESSAGE, Step.MESSAGE, True),
        ("preview", Step.MESSAGE, Step.MESSAGE, False),
        ("anything else", Step.MESSAGE, Step.MESSAGE, False),
    ],
)
def test_each_button_checks_the_steps_it_needs_and_leads_to_its_page(button, validate, then, send):
    move = move_posted(_posted(step=button))
    assert (move.validate, move.then, move.send) == (validate, then, send)


def test_a_post_without_a_button_is_the_address_step():
    assert move_posted(_posted(**CONSTITUENT)) == MOVES["address"]


def test_the_first_step_with_errors_is_the_earliest_page_with_a_field_in_error():
    assert first_step_with_errors({"subject": [], "zip_code": []}) is Step.ADDRESS
    assert first_step_with_errors({"consent": [], "representative": []}) is Step.OFFICIALS
    assert first_step_with_errors({"consent": []}) is Step.MESSAGE
    assert first_step_with_errors({"__all__": []}) is None


@pytest.mark.parametrize(
    ("step", "embed", "template", "number"),
    [
        (Step.ADDRESS, False, "alerts/campaign_detail.html", 1),
        (Step.ADDRESS, True, "alerts/embed_address.html", 1),
        (Step.OFFICIALS, False, "alerts/steps/officials.html", 2),
        (Step.MESSAGE, True, "alerts/steps/message.html", 3),
    ],
)
def test_each_step_renders_its_template_with_its_number(step, embed, template, number):
    page = StepPage(ActionForm(campaign=Campaign(organization_name="Org")), step, embed=embed)
    assert (page.template, page.number) == (template, number)


def test_the_address_page_carries_the_later_steps_but_not_consent():
    assert _page(Step.ADDRESS, **EVERYTHING).carried == [
        ("token", "tok"),
        ("source", "news"),
        ("ref", "abc"),
        ("officials", "7"),
        ("officials", "9"),
        ("representative", "11"),
        ("subject", "Act now please"),
        ("message", "Mine"),
    ]


def test_the_officials_page_carries_address_and_message_and_marks_the_choice_as_seen():
    carried = _page(Step.OFFICIALS, **EVERYTHING).carried
    names = [name for name, _ in carried]
    assert names == [
        "token",
        "source",
        "ref",
        "prefix",
        *CONSTITUENT,
        "subject",
        "message",
        "chosen",
    ]
    assert ("chosen", "1") in carried


def test_the_message_page_carries_address_and_officials():
    carried = _page(Step.MESSAGE, **EVERYTHING).carried
    assert ("officials", "7") in carried
    assert ("representative", "11") in carried
    assert ("first_name", CONSTITUENT["first_name"]) in carried
    assert carried[-1] == ("chosen", "1")
    assert {"subject", "message", "consent"}.isdisjoint(name for name, _ in carried)


def test_empty_values_are_not_carried():
    carried = _page(Step.MESSAGE, **{**EVERYTHING, "representative": "", "source": ""}).carried
    assert {"representative", "source"}.isdisjoint(name for name, _ in carried)


def test_back_on_the_address_page_an_empty_choice_stays_a_choice():
    assert ("chosen", "1") in _page(Step.ADDRESS, **CONSTITUENT, chosen="1").carried
    assert "chosen" not in dict(_page(Step.ADDRESS, **CONSTITUENT).carried)


def test_an_unposted_page_shows_its_initial_values():
    form = ActionForm(
        campaign=Campaign(organization_name="Org"), initial={"token": "tok", "officials": [3]}
    )
    page = StepPage(form, Step.ADDRESS)
    assert page.carried == [("token", "tok"), ("officials", 3)]
    assert page.current["token"] == "tok"
    assert page.current["first_name"] == ""


def test_selected_officials_and_representative_ignore_what_is_not_an_id():
    page = _page(Step.OFFICIALS, officials=["4", "x", "", "12"], representative="Nadler")
    assert page.selected_ids == {4, 12}
    assert page.selected_representative is None
    assert _page(Step.OFFICIALS, representative="8").selected_representative == 8


@pytest.mark.django_db
def test_the_officials_page_previews_every_official_and_the_message_page_only_the_chosen(
    campaign, email_officials
):
    stone, vale, ortiz = email_officials
    posted = {**CONSTITUENT, "officials": [str(vale.pk)], "subject": "Act now please"}
    form = ActionForm(_posted(**posted), campaign=campaign, upto=Step.OFFICIALS)
    assert form.is_valid(), form.errors

    on_officials = StepPage(form, Step.OFFICIALS).previews
    on_message = StepPage(form, Step.MESSAGE).previews

    assert {p["official"] for p in on_officials} == {stone, vale, ortiz}
    assert [p["official"] for p in on_message] == [vale]
    [preview] = on_message
    assert preview["message"].subject == "Act now please"
    assert preview["message"].body.startswith("Dear Senator Vale,")
    assert StepPage(form, Step.ADDRESS).previews == []


@pytest.mark.django_db
def test_the_next_page_ticks_every_official_until_the_constituent_has_chosen(
    campaign, email_officials
):
    post = _posted(**CONSTITUENT, step="address")
    form = ActionForm(post, campaign=campaign)
    assert form.is_valid(), form.errors

    values = next_page_values(post, form)

    assert values["officials"] == [o.pk for o in form.recipients.checkable]
    assert len(values["officials"]) == len(email_officials)
    assert values["subject"] == campaign.message_subject
    assert values["message"] == "I ask you to support this."


@pytest.mark.django_db
def test_the_next_page_keeps_what_the_constituent_chose_and_wrote(campaign, email_officials):
    post = _posted(**CONSTITUENT, chosen="1", subject="My own subject", message="")
    form = ActionForm(post, campaign=campaign)  # as "back" from the message page posts it
    assert form.is_valid(), form.errors

    values = next_page_values(post, form)

    assert values["officials"] == []
    assert values["subject"] == "My own subject"
    assert values["message"] == ""
