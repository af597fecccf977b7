"""Matching a pasted list of cosigners to legislators: paste, preview each entry's match, save
the choices as a letter's cosignatures."""

import hashlib

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from legislators.matching import AMBIGUOUS, MATCHED, CosignerMatch, match_cosigners

from ..models import Cosignature
from ..services import cosignatures_save

TEMPLATE = "admin/alerts/letter/match_cosigners.html"
SKIP = "skip"


def _pasted_digest(text: str, chamber: str) -> str:
    """Tells whether the list (or the chamber) changed between the preview and the save."""
    normalized = text.replace("\r\n", "\n").strip()
    return hashlib.sha256(f"{chamber}\n{normalized}".encode()).hexdigest()


class CosignerPasteForm(forms.Form):
    """A pasted list of cosigners and, once previewed, one choice per entry.

    Each entry's choices are only its match and its candidates (plus "skip"), computed again
    from the posted text on every request, so a posted legislator id that was not offered for
    that entry is rejected as an invalid choice.
    """

    CHAMBERS = (("house", "House"), ("senate", "Senate"), ("", "Either chamber"))

    text = forms.CharField(
        label="Cosigners",
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 8, "cols": 100}),
        help_text=(
            "Paste the names as the press release lists them, separated by commas, semicolons "
            "or new lines, e.g. \u201cJake Auchincloss (D-MA), Tony Cardenas (D-CA) and Bonnie "
            "Watson Coleman (D-NJ)\u201d. A (party-state) tag and a Rep./Sen. prefix help."
        ),
    )
    chamber = forms.ChoiceField(choices=CHAMBERS, initial="house", required=False)
    role = forms.ChoiceField(choices=Cosignature.Role.choices, initial=Cosignature.Role.COSIGNER)
    previewed = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, matches: list[CosignerMatch] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.matches = list(matches)
        for index, match in enumerate(self.matches):
            self.fields[self.row_name(index)] = self._row_field(index, match)

    @staticmethod
    def row_name(index: int) -> str:
        return f"row_{index}"

    @staticmethod
    def _row_field(index: int, match: CosignerMatch) -> forms.ChoiceField:
        offered = [(str(leg.pk), _choice_label(match, leg)) for leg in match.choices]
        skip = [(SKIP, "Skip this entry")]
        if match.status == MATCHED:
            choices, initial = offered + skip, str(match.legislator.pk)
        elif match.status == AMBIGUOUS:  # nobody is preselected: the organizer decides
            choices, initial = [("", "\u2014 choose \u2014"), *offered, *skip], ""
        else:
            choices, initial = offered + skip, SKIP
        return forms.ChoiceField(
            label=match.raw,
            choices=choices,
            initial=initial,
            error_messages={"required": "Choose a legislator or skip this entry."},
            widget=forms.Select(attrs={"aria-label": f"Entry {index + 1}: {match.raw}"}),
        )

    def row_values(self) -> list[str]:
        return [self.cleaned_data[self.row_name(i)] for i in range(len(self.matches))]


def _choice_label(match: CosignerMatch, legislator) -> str:
    seat = match.seat(legislator)
    return f"{legislator.display_name} ({seat}, {legislator.bioguide_id})"


def match_cosigners_view(model_admin: admin.ModelAdmin, request, object_id):
    """Paste a list of cosigners, preview how each entry matched, then save the choices.
    `model_admin` is the letters' admin, which routes here."""
    letter = model_admin.get_object(request, unquote(object_id))
    if letter is None:
        raise Http404(f"No letter with id {object_id!r}.")
    if not (
        model_admin.has_change_permission(request, letter)
        and request.user.has_perm("alerts.add_cosignature")
        and request.user.has_perm("alerts.change_cosignature")
    ):
        raise PermissionDenied

    notice = ""
    if request.method != "POST":
        form = CosignerPasteForm()
    else:
        form = CosignerPasteForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            chamber = data["chamber"] or None
            matches = match_cosigners(data["text"], on=letter.sent_on, chamber=chamber)
            digest = _pasted_digest(data["text"], data["chamber"])
            preview = CosignerPasteForm(initial={**data, "previewed": digest}, matches=matches)
            if not matches:
                form.add_error("text", "No names were found in the pasted text.")
            elif "_save" not in request.POST:
                form = preview
            elif data["previewed"] != digest:
                notice = "The list or the chamber changed after the preview: check the "
                notice += "table again, then save."
                form = preview
            else:
                form = CosignerPasteForm(request.POST, matches=matches)
                if form.is_valid():
                    return _save(model_admin, request, letter, form)
    return _render(model_admin, request, letter, form, notice)


def _save(model_admin, request, letter, form):
    values = form.row_values()
    chosen = [int(value) for value in values if value != SKIP]
    skipped = len(values) - len(chosen)
    role = form.cleaned_data["role"]
    saved = cosignatures_save(letter=letter, legislator_ids=chosen, role=role)
    noun = "cosignature" if saved == 1 else "cosignatures"
    summary = f"{saved} {noun} saved; {skipped} skipped"
    model_admin.log_change(request, letter, f"Matched cosigners: {summary}.")
    messages.success(request, f"{summary}.")
    opts = model_admin.opts
    change_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[letter.pk])
    return HttpResponseRedirect(change_url)


def _render(model_admin, request, letter, form, notice):
    existing = dict(letter.cosignatures.values_list("legislator_id", "role"))
    rows = []
    for index, match in enumerate(form.matches):
        legislator = match.legislator
        rows.append(
            {
                "match": match,
                "field": form[form.row_name(index)],
                "seat": match.seat(legislator) if legislator else "",
                "existing_role": existing.get(legislator.pk) if legislator else None,
            }
        )
    counts = {
        status: sum(1 for m in form.matches if m.status == status)
        for status in ("matched", "ambiguous", "unmatched")
    }
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Match cosigners of \u201c{letter.title}\u201d",
        "subtitle": None,
        "opts": model_admin.opts,
        "original": letter,
        "form": form,
        "rows": rows,
        "counts": counts,
        "notice": notice,
        "has_view_permission": model_admin.has_view_permission(request, letter),
    }
    return TemplateResponse(request, TEMPLATE, context)
