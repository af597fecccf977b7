"""What a browser types into an office's form: the definition's steps with every $VARIABLE
replaced by the constituent's data, the message and the campaign's topic.

`plan(definition, variables)` turns a definition into concrete steps, or raises Unfillable
(a CAPTCHA; a required choice nothing matches; a required phone number not given) before any
browser starts. `filled_values(plan)` lists field → value, for the sandbox inbox.
"""

import re
from dataclasses import dataclass, field

from django.conf import settings

from legislators import contact_forms, states

# Options an office offers for anything: the campaign's topic falls back to one of these
# when no option matches it (the organizer sees the mapping; the office still gets the letter).
CATCH_ALL_TOPICS = ("other", "other issues", "other issue", "general", "general comments", "misc")


# Options that mean "no prefix": taken when the constituent's prefix is not among the office's.
NO_PREFIX = ("prefer not to identify", "prefer not to say", "none", "n/a", "no prefix", "other")


class Unfillable(Exception):
    """This form cannot be filled for this delivery: `code` is captcha, no_option_match or
    missing_input; `reason` is said to the constituent (no personal data in it)."""

    def __init__(self, code: str, reason: str):
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class Step:
    """One thing the browser does. `index` is the definition's step (0-based)."""

    index: int
    kind: str  # visit, find, fill_in, select, check, uncheck, choose, click_on, wait, javascript
    selector: str = ""
    value: str = ""
    seconds: float | None = None  # wait; find's `wait` option
    frame: str = ""  # within_frame
    name: str = ""
    variable: str = ""  # the $VARIABLE the value came from, if any


@dataclass(frozen=True)
class Plan:
    steps: list[Step]
    success: dict = field(default_factory=dict)
    submit: int | None = None  # position in `steps` of the step that submits

    def fields(self) -> list[Step]:
        return [s for s in self.steps if s.kind in contact_forms.FIELD_KINDS]


def _zip_parts(zip_code: str) -> tuple[str, str]:
    digits = re.sub(r"\D", "", zip_code or "")
    return digits[:5], digits[5:9]


def _phone(text: str) -> str:
    digits = re.sub(r"\D", "", text or "")
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) == 10:
        return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"
    return (text or "").strip()


def _phone_parentheses(text: str) -> str:
    phone = _phone(text)
    if re.fullmatch(r"\d{3}-\d{3}-\d{4}", phone):
        return f"({phone[:3]}) {phone[4:]}"
    return phone


def identity_variables(
    *,
    prefix="",
    first_name,
    last_name,
    email,
    street,
    city,
    state,
    zip_code,
    phone="",
    subject,
    message,
    topic="",
    campaign_id="",
    org_name="",
) -> dict[str, str]:
    """The $VARIABLES of variables.yaml from a constituent's data."""
    zip5, zip4 = _zip_parts(zip_code)
    return {
        "$NAME_PREFIX": prefix,
        "$NAME_FIRST": first_name,
        "$NAME_LAST": last_name,
        "$NAME_FULL": f"{first_name} {last_name}",
        "$ADDRESS_STREET": street,
        "$ADDRESS_STREET_2": "",
        "$ADDRESS_CITY": city,
        "$ADDRESS_STATE_POSTAL_ABBREV": state,
        "$ADDRESS_STATE": state,
        "$ADDRESS_STATE_FULL": states.ALL.get(state, state),
        "$ADDRESS_COUNTY": "",
        "$ADDRESS_ZIP5": zip5,
        "$ADDRESS_ZIP4": zip4,
        "$ADDRESS_ZIP_PLUS_4": f"{zip5}-{zip4}" if zip4 else zip5,
        "$PHONE": _phone(phone),
        "$PHONE_PARENTHESES": _phone_parentheses(phone),
        "$EMAIL": email,
        "$TOPIC": topic,
        "$SUBJECT": subject,
        "$MESSAGE": message,
        "$CAMPAIGN_UUID": campaign_id,
        "$PERMALINK": "",
        "$ORG_URL": settings.SITE_URL,
        "$ORG_NAME": org_name,
    }


def variables_for(delivery) -> dict[str, str]:
    """The $VARIABLES for a delivery: the constituent's contact data, the delivery's subject
    and whole body as $MESSAGE, the campaign's topic (else its CWC policy area) as $TOPIC."""
    action = delivery.action
    campaign = action.campaign
    return identity_variables(
        prefix=action.prefix,
        first_name=action.first_name,
        last_name=action.last_name,
        email=action.email,
        street=action.street,
        city=action.city,
        state=action.state,
        zip_code=action.zip_code,
        phone=action.phone,
        subject=delivery.subject,
        message=delivery.body,
        topic=campaign.topic or campaign.cwc_topic,
        campaign_id=campaign.slug,
        org_name=campaign.organization_name,
    )


def test_identity(*, topic: str = "Foreign Relations") -> dict[str, str]:
    """A made-up constituent, for check_contact_forms and the replicas' tests."""
    return identity_variables(
        prefix="Ms.",
        first_name="Test",
        last_name="Constituent",
        email="test.constituent@example.org",
        street="100 Main Street",
        city="Piscataway",
        state="NJ",
        zip_code="08854-4101",
        phone="732-555-0143",
        subject="A test message",
        message="This is a test of the form. Please disregard it.\n\nThank you.",
        topic=topic,
        campaign_id="check-contact-forms",
        org_name="Action Alerts",
    )


_LABELS = {
    "$TOPIC": "topic",
    "$NAME_PREFIX": "prefix (Mr., Ms., ...)",
    "$PHONE": "phone number",
    "$PHONE_PARENTHESES": "phone number",
}


def _label(variable: str) -> str:
    return _LABELS.get(variable, variable.lstrip("$").lower().replace("_", " ") or "choice")


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(text).lower())


def choose_option(item: dict, raw: str, variable: str) -> str | None:
    """The option value to pick for `raw`: an option whose value or text is `raw` (or, for a
    state, its other spelling; for a prefix, without the dot), else for $TOPIC the best match
    of the office's texts, else the office's catch-all ("Other"). None: nothing matches. An item
    without options takes `raw` as it is."""
    options = contact_forms.options_of(item)
    if not options:
        return raw
    wanted = [raw]
    if variable.startswith("$ADDRESS_STATE"):
        wanted += [states.ALL.get(raw, ""), *[k for k, v in states.ALL.items() if v == raw]]
    for want in filter(None, wanted):
        for _text, value in options:
            if value == want:
                return value
        for text, value in options:
            if text.strip().lower() == want.strip().lower():
                return value
        squashed = _squash(want)
        for text, value in options:
            if squashed and squashed in {_squash(text), _squash(value)}:
                return value
    if variable == "$TOPIC" and raw:
        texts = [text for text, _ in options]
        match = contact_forms.best_match(raw, texts)
        if match is None:
            match = next((t for t in texts if t.strip().lower() in CATCH_ALL_TOPICS), None)
        if match is not None:
            return dict(options)[match]
    if variable == "$NAME_PREFIX":
        return next((v for t, v in options if t.strip().lower() in NO_PREFIX), None)
    return None


def _value(item: dict, variables: dict) -> tuple[str, str]:
    value = item.get("value")
    if isinstance(value, str) and value.startswith("$"):
        return value, variables.get(value, "")
    return "", "" if value is None else str(value)


def _max_length(item: dict) -> int | None:
    options = item.get("options")
    limit = options.get("max_length") if isinstance(options, dict) else None
    limit = limit or item.get("max_length")
    try:
        return int(limit) if limit else None
    except (TypeError, ValueError):
        return None


def plan(definition: dict, variables: dict, *, origin: str = "") -> Plan:
    """The definition as concrete steps for this constituent, URLs rewritten to `origin`
    (CONTACT_FORMS_ORIGIN) when given. Raises Unfillable before any browser starts."""
    reason = contact_forms.captcha_reason(definition)
    if reason:
        raise Unfillable("captcha", reason)
    definition = contact_forms.rewrite_origin(definition, origin)
    form_steps = contact_forms.steps_of(definition)
    submit_at = contact_forms.submit_index(form_steps)
    steps: list[Step] = []
    submit = None
    for index, step in enumerate(form_steps):
        ((kind, items),) = step.items()
        if index == submit_at:
            submit = len(steps) + len(items) - 1  # the step's last item: earlier ones are toggles
        if kind == "visit":
            steps.append(Step(index, "visit", value=items))
            continue
        for item in items:
            frame = str(item.get("within_frame") or "")
            selector = str(item.get("selector") or "")
            if kind == "wait":
                steps.append(Step(index, "wait", seconds=float(item.get("value") or 0)))
            elif kind == "javascript":
                steps.append(Step(index, "javascript", value=item["value"], frame=frame))
            elif kind == "find":
                options = item.get("options") if isinstance(item.get("options"), dict) else {}
                seconds = options.get("wait") if options else None
                text = "" if item.get("value") is None else str(item["value"])
                steps.append(
                    Step(
                        index,
                        "find",
                        selector=selector,
                        value=text,
                        seconds=float(seconds) if seconds else None,
                        frame=frame,
                    )
                )
            elif kind == "click_on":
                value = "" if item.get("value") is None else str(item["value"])
                steps.append(Step(index, "click_on", selector=selector, value=value, frame=frame))
            else:
                steps.extend(_field_steps(index, kind, item, variables, selector, frame))
    if submit is not None and submit >= len(steps):
        submit = None
    return Plan(steps=steps, success=definition["contact_form"].get("success") or {}, submit=submit)


def _field_steps(index, kind, item, variables, selector, frame) -> list[Step]:
    required = contact_forms.truthy(item.get("required", False))
    variable, raw = _value(item, variables)
    name = str(item.get("name") or "")
    if kind in {"select", "choose"}:
        chosen = choose_option(item, raw, variable)
        if chosen is None:
            if required:
                raise Unfillable(
                    "no_option_match",
                    f"the office's form requires a {_label(variable or 'choice')} "
                    "and none of its options matches",
                )
            return []
        raw = chosen
    elif kind == "fill_in":
        if not raw:
            if required and variable in {"$PHONE", "$PHONE_PARENTHESES"}:
                raise Unfillable("missing_input", "the office's form requires a phone number")
            if not required:
                return []
        limit = _max_length(item)
        if limit:
            raw = raw[:limit]
    return [
        Step(index, kind, selector=selector, value=raw, frame=frame, name=name, variable=variable)
    ]


def filled_values(plan: Plan) -> list[tuple[str, str]]:
    """(field, value) for what the browser would fill, select, check or choose."""
    out = []
    for step in plan.fields():
        label = step.name or step.selector
        value = step.value if step.kind != "uncheck" else f"(unchecked) {step.value}"
        out.append((label, value))
    return out
