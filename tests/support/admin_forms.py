"""The campaign's admin change form, filled as the admin shows it, to post back changed."""

from django import forms
from django.urls import reverse
from django.utils import timezone


def change_form_post(client, campaign, **changes) -> dict:
    """The campaign's change form as the admin shows it, every field and inline row as it is,
    ready to post back; `changes` replace fields."""
    page = client.get(reverse("admin:alerts_campaign_change", args=[campaign.pk]))
    form = page.context["adminform"].form
    data = {}

    def put(name, field, value):
        if isinstance(field.widget, forms.SplitDateTimeWidget):
            local = timezone.localtime(value) if value else None
            data[f"{name}_0"] = f"{local:%Y-%m-%d}" if local else ""
            data[f"{name}_1"] = f"{local:%H:%M:%S}" if local else ""
        elif isinstance(field, forms.BooleanField):
            if value:
                data[name] = "on"
        elif isinstance(value, list | tuple):
            data[name] = [str(getattr(v, "pk", v)) for v in value]
        else:
            data[name] = "" if value is None else str(value)

    for name, field in form.fields.items():
        put(name, field, form[name].value())
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        rows = formset.initial_forms
        data.update(
            {
                f"{formset.prefix}-TOTAL_FORMS": str(len(rows)),
                f"{formset.prefix}-INITIAL_FORMS": str(len(rows)),
                f"{formset.prefix}-MIN_NUM_FORMS": "0",
                f"{formset.prefix}-MAX_NUM_FORMS": "1000",
            }
        )
        for row in rows:
            for name, field in row.fields.items():
                value = row[name].value()
                put(row.add_prefix(name), field, getattr(value, "pk", value))
    data.update(changes)
    return data
