"""What each official receives: the constituent's text, addressed to that official."""

from dataclasses import dataclass

from legislators.models import Official


@dataclass(frozen=True)
class ComposedMessage:
    subject: str
    body: str


def message_compose(
    *, official: Official, subject: str, message: str, sender: dict
) -> ComposedMessage:
    """`sender` holds the constituent's name and address as entered on the form."""
    salutation = f"Dear {official.title} {official.last_name},"
    signature = "\n".join(
        [
            f"{sender['first_name']} {sender['last_name']}",
            sender["street"],
            f"{sender['city']}, {sender['state']} {sender['zip_code']}",
            sender["email"],
        ]
    )
    body = f"{salutation}\n\n{message.strip()}\n\nSincerely,\n{signature}\n"
    return ComposedMessage(subject=subject, body=body)
