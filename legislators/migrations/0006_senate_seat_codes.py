"""Senate office codes name the seat, S + state + 0 + class, as the Senate's CWC does; the
importer used to write S + state + (class - 1), which named the wrong seat."""

from django.db import migrations


def seat_codes(apps, schema_editor):
    Legislator = apps.get_model("legislators", "Legislator")
    Official = apps.get_model("legislators", "Official")
    for legislator in Legislator.objects.filter(chamber="senate", senate_class__isnull=False):
        code = f"S{legislator.state}0{legislator.senate_class}"
        Legislator.objects.filter(pk=legislator.pk).update(cwc_office_code=code)
        Official.objects.filter(legislator=legislator).update(cwc_office=code)


class Migration(migrations.Migration):
    dependencies = [("legislators", "0005_broken_contact_form_queue")]

    operations = [migrations.RunPython(seat_codes, migrations.RunPython.noop)]
