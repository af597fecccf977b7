"""The form refuses what the Action table would: its contact limits are the model's."""

import pytest

from alerts.models import Action, Campaign
from alerts.web.forms import ActionForm
from alerts.web.targeting import Recipients
from tests.support.forms import CONSTITUENT

TEXT_FIELDS = ("first_name", "last_name", "street", "city")


def _errors(**changes):
    form = ActionForm(
        {**CONSTITUENT, **changes},
        campaign=Campaign(organization_name="Org"),
        recipients=Recipients(fixed=[], delegation=None),  # no address lookup
    )
    form.is_valid()
    return form.errors


@pytest.mark.parametrize("name", TEXT_FIELDS)
def test_a_contact_field_takes_as_much_as_its_column_and_no_more(name):
    limit = Action._meta.get_field(name).max_length
    assert name not in _errors(**{name: "a" * limit})
    assert name in _errors(**{name: "a" * (limit + 1)})


@pytest.mark.parametrize("name", TEXT_FIELDS)
def test_a_contact_field_keeps_its_columns_validators(name):
    assert name in _errors(**{name: "two\nlines"})


def test_the_email_and_zip_code_follow_the_model():
    limit = Action._meta.get_field("email").max_length
    assert "email" in _errors(email="a" * (limit - len("@example.org") + 1) + "@example.org")
    assert "zip_code" in _errors(zip_code="ABCDE")


def test_only_the_models_states_are_offered():
    assert "state" in _errors(state="XX")
    offered = dict(ActionForm(campaign=Campaign(organization_name="Org")).fields["state"].choices)
    assert offered.keys() == {"", *dict(Action._meta.get_field("state").choices)}
