"""Invisible and bidirectional control characters are refused in names and every single-line
field (alerts/validators.py, shared by the models and the form), with the character named;
the joiners some scripts spell words with are taken between letters."""

import unicodedata

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from alerts.models import Action, Delivery
from alerts.validators import validate_multi_line, validate_single_line
from tests.factories import ActionFactory
from tests.support.forms import action_post

pytestmark = pytest.mark.django_db

HIDDEN = {
    "\u202e": "RIGHT-TO-LEFT OVERRIDE",
    "\u202a": "LEFT-TO-RIGHT EMBEDDING",
    "\u200b": "ZERO WIDTH SPACE",
    "\ufeff": "ZERO WIDTH NO-BREAK SPACE",
    "\u2066": "LEFT-TO-RIGHT ISOLATE",
    "\u2067": "RIGHT-TO-LEFT ISOLATE",
    "\u2068": "FIRST STRONG ISOLATE",
    "\u2069": "POP DIRECTIONAL ISOLATE",
    "\u200e": "LEFT-TO-RIGHT MARK",
    "\u200f": "RIGHT-TO-LEFT MARK",
    "\u2060": "WORD JOINER",
    "\u180e": "MONGOLIAN VOWEL SEPARATOR",
    "\u00ad": "SOFT HYPHEN",
    "\u200d": "ZERO WIDTH JOINER",  # not between letters
    "\ue000": "unnamed",  # private use
}
SINGLE_LINE_FIELDS = ("first_name", "last_name", "street", "city", "subject")


@pytest.mark.parametrize("char", HIDDEN)
def test_the_validator_names_the_hidden_character(char):
    with pytest.raises(ValidationError) as refused:
        validate_single_line(f"Ani{char} Petrosyan ")
    [message] = refused.value.messages
    assert f"U+{ord(char):04X} ({HIDDEN[char]})" in message


@pytest.mark.parametrize("field", SINGLE_LINE_FIELDS)
@pytest.mark.parametrize("char", ["\u202e", "\u200b", "\ufeff", "\u2066", "\u200f"])
def test_the_form_refuses_it_next_to_the_field_and_stores_nothing(client, campaign, field, char):
    value = {"subject": "Protect civilians", "street": "100 N Brand Blvd"}.get(field, "Ani")
    data = action_post(campaign.targets.all(), **{field: value[:3] + char + value[3:]})
    response = client.post(reverse("alerts:campaign_detail", args=[campaign.slug]), data)

    assert response.status_code == 200
    [error] = response.context["form"].errors[field]
    assert f"U+{ord(char):04X}" in error
    assert "invisible" in response.content.decode()
    assert Action.objects.count() == Delivery.objects.count() == 0


def test_the_model_refuses_it_too():
    action = ActionFactory.build(first_name="Ani\u202egnp.exe")
    with pytest.raises(ValidationError) as refused:
        action.full_clean(exclude=["campaign"])
    assert "first_name" in refused.value.message_dict


@pytest.mark.parametrize(
    "name",
    [
        "\u0639\u0644\u06cc\u200c\u0631\u0636\u0627",  # Persian: ZWNJ between letters
        "\u0915\u094d\u200d\u0937",  # Devanagari: ZWJ in a conjunct, after a virama
        "Zoë O'Brien-Núñez",
    ],
)
def test_names_spelled_with_joiners_between_letters_are_taken(name):
    validate_single_line(name)


def test_a_message_may_keep_its_lines_but_not_noncharacters():
    validate_multi_line("Line one\r\nLine two\tand a tab")
    for char in ("\ufffe", "\uffff", "\ufdd0", "\U0010ffff"):
        with pytest.raises(ValidationError):
            validate_multi_line(f"words{char}")


@pytest.mark.parametrize("code", range(128))
def test_every_ascii_character_is_judged_as_the_unicode_categories_judge_it(code):
    """Plain ASCII takes a shortcut (one regular expression); it must refuse exactly what the
    character-by-character rules refuse: the control characters (a message keeps its lines)."""
    char = chr(code)
    control = unicodedata.category(char) == "Cc"
    for validate, refused in (
        (validate_single_line, control),
        (validate_multi_line, control and char not in "\n\r\t"),
    ):
        if refused:
            with pytest.raises(ValidationError):
                validate(f"a{char}b")
        else:
            validate(f"a{char}b")
