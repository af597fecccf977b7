"""Offices' web-form definitions (the contact-congress format): read, check, key and import.

A definition (see ../shared/data/contact-forms/schema.md) is a YAML file of steps a browser
takes to fill an office's own form: visit, find, fill_in, select, check, uncheck, choose,
click_on, wait, javascript (and `recaptcha`, which marks a form we never attempt), with
`$VARIABLES` for the constituent's data and a `success` rule. `senate/<bioguide>.yaml` belongs
to that senator's Official, `executive/<key>.yaml` to the Official with that key.

Public functions the rest of the app calls:

- `parse_definition(data, name=...)`: bytes → a checked, JSON-ready definition, or
  `DefinitionError` naming the file and the reason.
- `captcha_reason(definition)`: why the form can never be filled automatically, or "".
- `required_inputs(definition)`: the variables the form needs, with the options of those
  that are choices (`$TOPIC`, `$NAME_PREFIX`, ...), for step 3's questions.
- `topic_options(definition)`: the office's own topic list (option texts).
- `best_match(wanted, options)`: a campaign's topic mapped to one of an office's options.
- `submit_index(steps)`: which step submits the form (the last click).
- `rewrite_origin(definition, origin)`: every URL sent to replicas at `origin`.
- `contact_forms_import(path, dry_run=...)`: the import behind `manage.py import_contact_forms`.

This module must not import `alerts` (legislators is imported by alerts, never the reverse).
"""

import copy
import difflib
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import ContactForm, Official

STEP_KINDS = {
    "visit",
    "find",
    "fill_in",
    "select",
    "check",
    "uncheck",
    "choose",
    "click_on",
    "wait",
    "javascript",
    "recaptcha",
}
FIELD_KINDS = {"fill_in", "select", "check", "uncheck", "choose"}
CAPTCHA_VALUE = "$CAPTCHA_SOLUTION"


class DefinitionError(ValueError):
    """A definition file we refuse: the message names the file and the reason."""


# YAML 1.1 reads `Yes`, `No`, `On`, `Off` as booleans, which turns an option list
# {Yes: Y, No: N} into {True: Y, False: N}. Definitions are written by people who mean the
# words: only true/false are booleans here (as in YAML 1.2).
class _Loader(yaml.SafeLoader):
    pass


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def truthy(value) -> bool:
    """`required: true`, `required: Yes` and the like."""
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"yes", "y", "true", "1", "on"}


def _jsonable(value):
    """Mapping keys as strings, everything else as YAML gave it (str, int, float, bool, None)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)  # dates and the like: keep the text


def _constants(folder=None) -> dict[str, list[str]]:
    """constants.yaml of the definitions' folder (US_STATES and the like), or {}."""
    path = Path(folder or settings.CONTACT_FORMS_DIR) / "constants.yaml"
    try:
        raw = yaml.load(path.read_bytes(), Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)
    except (OSError, yaml.YAMLError):
        return {}
    return {
        str(name): [str(v) for v in (entry.get("value") or [])]
        for name, entry in (raw or {}).items()
        if isinstance(entry, dict)
    }


def parse_definition(data: bytes, *, name: str, constants: dict | None = None) -> dict:
    """The definition in `data`, checked and normalised: every step's items as a list of
    mappings, constants (US_STATES...) in option lists replaced by their values, mapping keys as
    strings. Raises DefinitionError("<name>: <reason>")."""
    try:
        raw = yaml.load(data, Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        reason = " ".join(str(exc).split())
        raise DefinitionError(f"{name}: not valid YAML: {reason}") from exc
    try:
        return _normalise(raw, constants if constants is not None else _constants())
    except DefinitionError as exc:
        raise DefinitionError(f"{name}: {exc}") from None


def _normalise(raw, constants) -> dict:
    if not isinstance(raw, dict) or not isinstance(raw.get("contact_form"), dict):
        raise DefinitionError("no contact_form mapping at the top level")
    form = raw["contact_form"]
    steps = form.get("steps")
    if not isinstance(steps, list) or not steps:
        raise DefinitionError("contact_form.steps is missing or empty")
    out_steps = []
    for number, step in enumerate(steps, start=1):
        if not isinstance(step, dict) or len(step) != 1:
            raise DefinitionError(f"step {number} is not a one-key mapping")
        ((kind, value),) = step.items()
        if kind not in STEP_KINDS:
            raise DefinitionError(f"step {number}: unknown step {kind!r}")
        if kind == "visit":
            if not isinstance(value, str) or not value.startswith(("http://", "https://")):
                raise DefinitionError(f"step {number}: visit needs an absolute URL")
            out_steps.append({"visit": value})
            continue
        items = value if isinstance(value, list) else [value]
        checked = []
        for item in items:
            if not isinstance(item, dict):
                raise DefinitionError(f"step {number} ({kind}): an item is not a mapping")
            item = _jsonable(item)
            if kind in FIELD_KINDS | {"click_on", "find"} and not item.get("selector"):
                if kind in FIELD_KINDS and item.get("name"):
                    item["selector"] = f"[name={json.dumps(str(item['name']))}]"
                else:
                    raise DefinitionError(f"step {number} ({kind}): an item has no selector")
            if kind == "javascript" and not isinstance(item.get("value"), str):
                raise DefinitionError(f"step {number}: javascript needs a value")
            if kind == "wait":
                try:
                    item["value"] = float(item.get("value", 0))
                except (TypeError, ValueError):
                    raise DefinitionError(f"step {number}: wait needs a number") from None
            if kind in FIELD_KINDS:
                options = item.get("options")
                if isinstance(options, str):
                    if options not in constants:
                        raise DefinitionError(f"step {number}: unknown constant {options!r}")
                    item["options"] = list(constants[options])
                if kind in {"select", "choose"} and item.get("value") is None:
                    raise DefinitionError(f"step {number} ({kind}): an item has no value")
            checked.append(item)
        out_steps.append({kind: checked})
    success = form.get("success") or {}
    if not isinstance(success, dict):
        raise DefinitionError("success is not a mapping")
    definition = {
        "bioguide": str(raw.get("bioguide") or "").strip(),
        "contact_form": {
            "method": str(form.get("method") or ""),
            "action": str(form.get("action") or ""),
            "steps": out_steps,
            "success": _jsonable(success),
        },
    }
    json.dumps(definition)  # JSON-ready, for the database
    return definition


def steps_of(definition) -> list[dict]:
    return definition["contact_form"]["steps"]


def iter_items(definition):
    """(step index, kind, item) for every item of every step but visit."""
    for index, step in enumerate(steps_of(definition)):
        ((kind, value),) = step.items()
        if kind != "visit":
            for item in value:
                yield index, kind, item


def captcha_reason(definition) -> str:
    """Why a form can never be filled automatically (a CAPTCHA), or "" when it can."""
    for index, kind, item in iter_items(definition):
        if kind == "recaptcha":
            return f"the office's web form has a reCAPTCHA (step {index + 1})"
        if item.get("value") == CAPTCHA_VALUE or "captcha_selector" in item:
            return f"the office's web form has a CAPTCHA (step {index + 1})"
    return ""


def options_of(item) -> list[tuple[str, str]]:
    """An item's options as (text shown, value sent) pairs: a mapping is text → value, a list
    is values shown as they are."""
    options = item.get("options")
    if isinstance(options, dict):
        # {"max_length": 40} and {"allows_plus": ...} are fill_in options, not choices
        if set(options) <= {"max_length", "allows_plus"}:
            return []
        return [(str(text), str(value)) for text, value in options.items()]
    if isinstance(options, list):
        return [(str(v), str(v)) for v in options]
    return []


def required_inputs(definition) -> dict[str, dict]:
    """The $VARIABLES this form uses, each `{"required": bool, "options": [texts]}` (options
    only for choices: a select or choose with a list). Step 3 asks the constituent for a
    required `$PHONE` they did not give, and for a choice such as `$NAME_PREFIX` from its
    options; `$TOPIC` comes from the campaign (`best_match`)."""
    found: dict[str, dict] = {}
    for _, kind, item in iter_items(definition):
        value = item.get("value")
        if kind not in FIELD_KINDS or not isinstance(value, str) or not value.startswith("$"):
            continue
        entry = found.setdefault(value, {"required": False, "options": []})
        entry["required"] = entry["required"] or truthy(item.get("required", False))
        if kind in {"select", "choose"}:
            for text, _value in options_of(item):
                if text not in entry["options"]:
                    entry["options"].append(text)
    return found


def topic_options(definition) -> list[str]:
    """The texts of the office's topic list ($TOPIC), in the form's order; [] when the form
    asks no topic or takes any text."""
    return required_inputs(definition).get("$TOPIC", {}).get("options", [])


_STOP = {"and", "or", "the", "of", "a", "an", "for", "to", "in", "on", "with", "issues", "issue"}


def _tokens(text: str) -> set[str]:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return {w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words if w not in _STOP}


def best_match(wanted: str, options: list[str], *, cutoff: float = 0.5) -> str | None:
    """The option (as given) that best matches `wanted`, or None when none does reasonably.

    Exact (case-insensitive) text first; else the most shared words (lower-cased, without
    "and", "the", plural s), scored as overlap / the smaller word set, ties broken by
    difflib's ratio; else difflib's closest text above 0.75. "Foreign Relations" → "Foreign
    Affairs"; "Health Care" → "Healthcare" (difflib); "Budget" → "Budget and Economy".
    """
    wanted = (wanted or "").strip()
    if not wanted or not options:
        return None
    lowered = {option.strip().lower(): option for option in options}
    if wanted.lower() in lowered:
        return lowered[wanted.lower()]
    want = _tokens(wanted)
    scored = []
    for option in options:
        have = _tokens(option)
        if want and have:
            overlap = len(want & have) / min(len(want), len(have))
            ratio = difflib.SequenceMatcher(None, wanted.lower(), option.lower()).ratio()
            scored.append((overlap, ratio, option))
    scored.sort(key=lambda s: (s[0], s[1]), reverse=True)
    if scored and scored[0][0] >= cutoff:
        return scored[0][2]
    close = difflib.get_close_matches(wanted.lower(), list(lowered), n=1, cutoff=0.75)
    return lowered[close[0]] if close else None


_CLICKS = re.compile(r"\.click\(\s*\)|trigger\(\s*['\"]submit|\.submit\(\s*\)|requestSubmit")


_GUARDED = re.compile(r"&&|\bif\s*\(|\?\.")


def is_click(step: dict) -> bool:
    """A click_on, or a script that clicks or submits unconditionally (`x && x.click()` is
    a tidy-up that may find nothing, not the form's submit)."""
    ((kind, value),) = step.items()
    if kind == "click_on":
        return True
    return kind == "javascript" and any(
        _CLICKS.search(item["value"]) and not _GUARDED.search(item["value"]) for item in value
    )


def submit_index(steps: list[dict]) -> int | None:
    """The step that submits the form: the last click (a click_on, or a script that clicks or
    submits). A dry run stops before it; what follows it runs on the office's answer."""
    clicks = [index for index, step in enumerate(steps) if is_click(step)]
    return clicks[-1] if clicks else None


_URL = re.compile(r"https?://([A-Za-z0-9.-]+(?::\d+)?)(/[^\s'\"<>)]*)?")


def rewrite_url(url: str, origin: str) -> str:
    """`https://HOST/PATH?Q` → `<origin>/HOST/PATH?Q` (unchanged without an origin)."""
    if not origin:
        return url
    origin = origin.rstrip("/")
    return _URL.sub(lambda m: f"{origin}/{m.group(1)}{m.group(2) or '/'}", url)


def rewrite_origin(definition: dict, origin: str) -> dict:
    """A copy of the definition with every URL in it — visit steps, the form's action, URLs
    inside scripts — sent to `origin` (CONTACT_FORMS_ORIGIN), so a campaign runs against
    replicas and no office is contacted."""
    if not origin:
        return definition

    def walk(value):
        if isinstance(value, str):
            return rewrite_url(value, origin)
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        return value

    rewritten = copy.deepcopy(definition)
    form = rewritten["contact_form"]
    form["steps"] = walk(form["steps"])
    form["action"] = walk(form["action"])
    return rewritten


# ---------------------------------------------------------------------------- import


def office_key(path: Path) -> str:
    """senate/<bioguide>.yaml → the bioguide id; executive/<key>.yaml → the key."""
    return path.stem


def official_for(path: Path) -> Official | None:
    key = office_key(path)
    if path.parent.name == "senate":
        return Official.objects.filter(legislator__bioguide_id=key).first()
    return Official.objects.filter(key=key).first()


def definition_files(root: Path) -> list[Path]:
    root = Path(root)
    if root.is_file():
        return [root]
    return sorted(p for sub in ("senate", "executive") for p in (root / sub).glob("*.yaml"))


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    captcha: int = 0
    refused: list[str] = field(default_factory=list)  # "<file>: <reason>"
    no_official: list[str] = field(default_factory=list)  # file names

    def line(self) -> str:
        return (
            f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged "
            f"({self.captcha} with a CAPTCHA); {len(self.refused)} refused; "
            f"{len(self.no_official)} without an official"
        )


def contact_form_save(*, official: Official, source: str, data: bytes, definition: dict) -> str:
    """Create or update the official's ContactForm; "created", "updated" or "unchanged".
    New content raises the version and starts the form afresh (working, or captcha)."""
    digest = hashlib.sha256(data).hexdigest()
    status = (
        ContactForm.Status.CAPTCHA if captcha_reason(definition) else ContactForm.Status.WORKING
    )
    reason = captcha_reason(definition)
    now = timezone.now()
    form = ContactForm.objects.select_for_update().filter(official=official).first()
    if form is None:
        ContactForm.objects.create(
            official=official,
            source=source,
            definition=definition,
            content_hash=digest,
            status=status,
            status_reason=reason,
            status_changed_at=now,
        )
        return "created"
    if form.content_hash == digest:
        if form.source != source:
            form.source = source
            form.save(update_fields=["source", "imported_at"])
        return "unchanged"
    form.source = source
    form.definition = definition
    form.content_hash = digest
    form.version += 1
    form.consecutive_failures = 0
    if form.status != status or form.status == ContactForm.Status.BROKEN:
        form.status_changed_at = now
    form.status = status
    form.status_reason = reason
    form.save()
    return "updated"


def contact_forms_import(path, *, dry_run: bool = False) -> ImportSummary:
    """Import every definition under `path` (a folder with senate/ and executive/, or one
    file). Each file on its own, all or nothing: a file that does not parse is refused with
    its name and the reason, and the others load."""
    root = Path(path)
    constants = _constants(root if root.is_dir() else root.parent.parent)
    summary = ImportSummary()
    for file in definition_files(root):
        source = f"{file.parent.name}/{file.name}"
        data = file.read_bytes()
        try:
            definition = parse_definition(data, name=source, constants=constants)
        except DefinitionError as exc:
            summary.refused.append(str(exc))
            continue
        official = official_for(file)
        if official is None:
            summary.no_official.append(source)
            continue
        if captcha_reason(definition):
            summary.captcha += 1
        if dry_run:
            current = ContactForm.objects.filter(official=official).first()
            digest = hashlib.sha256(data).hexdigest()
            outcome = (
                "created"
                if current is None
                else "unchanged"
                if current.content_hash == digest
                else "updated"
            )
        else:
            with transaction.atomic():
                outcome = contact_form_save(
                    official=official, source=source, data=data, definition=definition
                )
        setattr(summary, outcome, getattr(summary, outcome) + 1)
    return summary
