# The constituent hears once per action, when its last attempt has ended: what could not be
# delivered (manual deliveries after an attempt too, now in the sweep's net), and what an
# operator's retry delivered after all. Rows from before are not announced late: a manual
# delivery nobody told of then, and a retried delivery sent since its failure notice, are
# stamped as told.
from django.db import migrations, models


def stamp_rows_from_before(apps, schema_editor):
    Delivery = apps.get_model("alerts", "Delivery")
    Delivery.objects.filter(
        status="manual", attempts__gt=0, constituent_notified_at__isnull=True
    ).update(constituent_notified_at=models.F("updated_at"))
    Delivery.objects.filter(
        status="sent",
        delivered_notified_at__isnull=True,
        sent_at__gt=models.F("constituent_notified_at"),
    ).update(delivered_notified_at=models.F("sent_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0013_exports"),
        ("legislators", "0007_official_salutation"),
    ]

    operations = [
        migrations.AddField(
            model_name="delivery",
            name="delivered_notified_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(stamp_rows_from_before, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(
                condition=models.Q(
                    ("constituent_notified_at__isnull", True),
                    models.Q(
                        ("status", "failed"),
                        models.Q(("attempts__gt", 0), ("status", "manual")),
                        _connector="OR",
                    ),
                ),
                fields=["action"],
                name="delivery_unnotified",
            ),
        ),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(
                condition=models.Q(
                    ("delivered_notified_at__isnull", True),
                    ("sent_at__gt", models.F("constituent_notified_at")),
                    ("status", "sent"),
                ),
                fields=["action"],
                name="delivery_delivered_unnotified",
            ),
        ),
    ]
