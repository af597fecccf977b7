"""The constituent form as the tests post it: one constituent, and the whole step=send POST;
and many constituents submitting through the service the form uses."""

from alerts.services import action_submit
from alerts.web.forms import new_form_token

CONSTITUENT = {
    "first_name": "Ani",
    "last_name": "Petrosyan",
    "email": "ani@example.org",
    "street": "100 N Brand Blvd",
    "city": "Glendale",
    "state": "CA",
    "zip_code": "91203",
}
SUBJECT = "Protect civilians now"
MESSAGE = "Please act at the Security Council."


def action_post(officials, **changes) -> dict:
    """The form's last step (step=send): CONSTITUENT writes SUBJECT and MESSAGE to `officials`,
    with consent and a fresh form token; `changes` replace or add fields."""
    return {
        **CONSTITUENT,
        "officials": [str(o.pk) for o in officials],
        "subject": SUBJECT,
        "message": MESSAGE,
        "consent": "on",
        "token": new_form_token(),
        "step": "send",
        **changes,
    }


def constituent(n: int, *, tag: str = "chaos") -> dict:
    """CONSTITUENT, numbered: a name and an email address of their own."""
    return {**CONSTITUENT, "last_name": f"Petrosyan{n}", "email": f"{tag}{n}@example.org"}


def submit_actions(campaign, officials, count: int, *, tag: str = "chaos") -> list:
    """`count` actions through the real service (so the real enqueue path), each to every one
    of `officials`. Returns the actions."""
    actions = []
    for n in range(count):
        submitted = action_submit(
            campaign=campaign,
            constituent=constituent(n, tag=tag),
            subject=SUBJECT,
            message=MESSAGE,
            officials=officials,
            consent_text="I agree.",
        )
        assert submitted.created
        actions.append(submitted.action)
    return actions
