"""The journey's pages: which step comes next, and what a step's page shows and posts again.

The form validates; a StepPage renders. Each page posts every field seen so far (the ones it
does not show as hidden inputs), so nothing is kept on the server between pages.
"""

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, TypedDict

from django.http import QueryDict

from legislators.models import Official

from ..messages import ComposedMessage, holder_name, suggested_message, suggested_subject
from ..models import SENATE_PREFIXES, Action
from ..selectors import CallSheet, call_sheets
from ..services import messages_compose, officials_reach, questions_of

if TYPE_CHECKING:
    from ..delivery.routing import Reach
    from .forms import ActionForm
    from .targeting import Recipients


class Step(StrEnum):
    ADDRESS = "address"
    OFFICIALS = "officials"
    MESSAGE = "message"

    @property
    def number(self) -> int:
        return list(Step).index(self) + 1

    @property
    def fields(self) -> tuple[str, ...]:
        return STEP_FIELDS[self]


STEP_FIELDS = {
    Step.ADDRESS: ("prefix", *Action.CONTACT_FIELDS),
    Step.OFFICIALS: ("officials", "representative"),
    Step.MESSAGE: ("subject", "message", "consent", "senate_prefix", "phone"),
}
# The form's own bookkeeping: posted again by every page.
BOOKKEEPING_FIELDS = ("token", "source", "ref")


# Up to 18 ASCII digits: `str.isdigit()` takes "²" (which int() refuses), and more digits
# would overflow the database's bigint.
_ID_RE = re.compile(r"[0-9]{1,18}")


def as_id(value) -> int | None:
    """A posted id as an int, or None for anything that is not one."""
    text = str(value).strip() if value is not None else ""
    return int(text) if _ID_RE.fullmatch(text) else None


def steps_through(step: Step) -> tuple[Step, ...]:
    """`step` and the steps before it."""
    return tuple(Step)[: step.number]


def first_step_with_errors(errors) -> Step | None:
    return next((step for step in Step if any(name in errors for name in step.fields)), None)


@dataclass(frozen=True)
class Move:
    """What a page's button asks for: how much of the form must be valid (None: nothing is
    checked), the page shown once it is, and whether to send."""

    validate: Step | None
    then: Step
    send: bool = False


# The buttons' `step` values, as the templates post them.
MOVES = {
    "address": Move(validate=Step.ADDRESS, then=Step.OFFICIALS),
    "officials": Move(validate=Step.OFFICIALS, then=Step.MESSAGE),
    "back": Move(validate=Step.ADDRESS, then=Step.OFFICIALS),
    "edit": Move(validate=None, then=Step.ADDRESS),
    "send": Move(validate=Step.MESSAGE, then=Step.MESSAGE, send=True),
}
# "preview" (update the previews), and any other value.
STAY_ON_MESSAGE = Move(validate=Step.MESSAGE, then=Step.MESSAGE)


def move_posted(post: QueryDict) -> Move:
    return MOVES.get(post.get("step", "address"), STAY_ON_MESSAGE)


def posted_values(post: QueryDict) -> dict:
    values = post.dict()
    values["officials"] = post.getlist("officials")
    return values


def next_page_values(post: QueryDict, form: "ActionForm") -> dict:
    """The initial values for the page after a valid POST: what was posted, plus defaults for
    what the constituent has not seen yet (every official ticked, the suggested subject and
    words)."""
    campaign = form.campaign
    values = posted_values(post)
    values.update({name: form.cleaned_data[name] for name in Action.CONTACT_FIELDS})
    if post.get("chosen") != "1":
        values["officials"] = [o.pk for o in form.recipients.checkable]
    if not values.get("subject"):
        values["subject"] = suggested_subject(campaign, sender=form.constituent())
    if "message" not in post:
        values["message"] = suggested_message(campaign, sender=form.constituent())
    return values


class Preview(TypedDict):
    official: Official
    variant: str
    message: ComposedMessage
    name: str | None  # the holder as shown: "" for an office whose holder is not verified
    way: "Reach"  # how the message will go
    calls: CallSheet | None  # on the officials page: how to call instead, or as well


@dataclass
class StepPage:
    """One step's page of the form: what it renders, shows and posts again."""

    form: "ActionForm"
    step: Step
    embed: bool = False

    @property
    def number(self) -> int:
        return self.step.number

    @property
    def template(self) -> str:
        if self.step is Step.ADDRESS:
            return "alerts/embed_address.html" if self.embed else "alerts/campaign_detail.html"
        return f"alerts/steps/{self.step}.html"

    @property
    def tells_the_story(self) -> bool:
        """The campaign page itself, with its asks and letters, around the address step."""
        return self.step is Step.ADDRESS and not self.embed

    @property
    def recipients(self) -> "Recipients | None":
        return self.form.recipients

    def value_of(self, name):
        form = self.form
        if form.is_bound:
            if name == "officials":
                return form.data.getlist("officials")
            return form.data.get(name, "")
        field = form.fields.get(name)
        return form.initial.get(name, (field.initial if field else None) or "")

    @cached_property
    def current(self) -> dict:
        """Every field's present value."""
        return {name: self.value_of(name) for name in self.form.fields}

    @cached_property
    def carried(self) -> list[tuple[str, str]]:
        """(name, value) pairs to post again as hidden inputs: the fields of the other steps,
        and the bookkeeping."""
        hidden_steps = [step for step in Step if step is not self.step]
        names = [*BOOKKEEPING_FIELDS, *(name for step in hidden_steps for name in step.fields)]
        pairs = []
        for name in names:
            if name == "consent":
                continue
            value = self.value_of(name)
            values = value if isinstance(value, list) else [value]
            pairs.extend((name, v) for v in values if v not in (None, ""))
        # Once the officials page was seen, an empty choice is a choice, not "not yet".
        if self.step is not Step.ADDRESS or self.value_of("chosen") == "1":
            pairs.append(("chosen", "1"))
        return pairs

    @cached_property
    def selected_ids(self) -> set[int]:
        ids = (as_id(v) for v in self.value_of("officials") or [])
        return {pk for pk in ids if pk is not None}

    @cached_property
    def selected_representative(self) -> int | None:
        return as_id(self.value_of("representative"))

    @cached_property
    def questions(self) -> frozenset[str]:
        """On the message page: what the offices chosen need to know that was not asked
        (a Senate title when the one given will not do, a phone number)."""
        if self.step is not Step.MESSAGE or self.recipients is None:
            return frozenset()
        asks = questions_of(preview["way"] for preview in self.previews)
        if self.value_of("prefix") in SENATE_PREFIXES:
            asks -= {"senate_prefix"}
        return asks

    @cached_property
    def previews(self) -> list[Preview]:
        """Each official the page offers (on the message page: each one chosen) with its
        variant and the exact message it would get."""
        recipients = self.recipients
        if recipients is None or self.step is Step.ADDRESS:
            return []
        officials = [*recipients.checkable, *recipients.representative_choices]
        if self.step is Step.MESSAGE:
            chosen = self.selected_ids | {self.selected_representative}
            officials = [o for o in officials if o.pk in chosen]
        campaign = self.form.campaign
        sender = {name: self.value_of(name) for name in Action.CONTACT_FIELDS}
        composed_messages = messages_compose(
            campaign=campaign,
            officials=officials,
            subject=self.value_of("subject") or suggested_subject(campaign, sender=sender),
            message=self.value_of("message"),
            sender=sender,
        )
        ways = self.form.ways  # worked out when the message page was validated
        if ways is None or any(o.pk not in ways for o in officials):
            ways = officials_reach(officials=officials, campaign=campaign)
        sheets = {}
        if self.step is Step.OFFICIALS:
            sheets = call_sheets(
                campaign=campaign,
                targets=[(o, c.variant) for o, c in zip(officials, composed_messages, strict=True)],
                zip_code=self.current.get("zip_code", ""),
                sender=self.current,
            )
        return [
            Preview(
                official=official,
                variant=composed.variant,
                message=composed,
                name=holder_name(official),
                way=ways[official.pk],
                calls=sheets.get(official.pk),
            )
            for official, composed in zip(officials, composed_messages, strict=True)
        ]
