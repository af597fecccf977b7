"""Each constituent's form gets fields of its own (forms.DeclaredFields), as Django's deep copy
gives them, only faster: what one form changes, no other form and no later request sees."""

import copy

from django import forms

from alerts.web.forms import ActionForm, DeclaredFields, FixedChoiceField
from tests.factories import CampaignFactory


def test_what_one_form_changes_in_its_fields_no_other_form_sees(db):
    campaign = CampaignFactory()
    validators = len(ActionForm.base_fields["email"].validators)
    first, second = ActionForm(campaign=campaign), ActionForm(campaign=campaign)
    first.fields["email"].widget.attrs["aria-invalid"] = "true"
    first.fields["email"].error_messages["required"] = "changed"
    first.fields["email"].validators.append(lambda value: None)
    first.fields["first_name"].required = False
    for form_fields in (second.fields, ActionForm.base_fields):
        email = form_fields["email"]
        assert "aria-invalid" not in email.widget.attrs
        assert email.error_messages["required"] != "changed"
        assert len(email.validators) == validators
    assert second.fields["first_name"].required
    assert first.fields["email"] is not second.fields["email"]
    assert first.fields["email"].widget is not second.fields["email"].widget


def test_the_fixed_choices_are_shared_and_still_offered(db):
    form = ActionForm(campaign=CampaignFactory())
    state = form.fields["state"]
    assert state.choices is ActionForm.base_fields["state"].choices
    assert ("NJ", "New Jersey") in state.widget.choices
    assert 'value="NJ"' in str(form["state"])


def test_a_field_that_copies_more_is_deep_copied_as_django_would():
    declared = DeclaredFields(
        {
            "plain": forms.CharField(),
            "fixed": FixedChoiceField(choices=[("a", "A")]),
            "choices": forms.ChoiceField(choices=[("a", "A")]),
            "multi": forms.SplitDateTimeField(),
        }
    )
    assert declared.plain == {"plain", "fixed"}

    copied = copy.deepcopy(declared)
    copied["choices"].choices = [("b", "B")]
    assert declared["choices"].choices == [("a", "A")]
    assert copied["multi"].fields[0] is not declared["multi"].fields[0]
