"""The constituent form as the tests post it: one constituent, and the whole step=send POST."""

from alerts.forms import new_form_token

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
