# Exports of actions: who may take them (alerts.export_actions), a record of each, and the
# separate keep-me-informed consent with its wording.
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0012_history"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="action",
            options={
                "ordering": ["-created_at"],
                "permissions": [
                    ("export_actions", "Can export actions (names, emails, addresses)")
                ],
            },
        ),
        migrations.AddField(
            model_name="action",
            name="keep_informed",
            field=models.BooleanField(
                default=False,
                help_text="Ticked on the form: may be emailed later.",
                verbose_name="keep me informed",
            ),
        ),
        migrations.AddField(
            model_name="action",
            name="keep_informed_text",
            field=models.TextField(
                blank=True, help_text="The keep-me-informed line as the constituent ticked it."
            ),
        ),
        migrations.AddConstraint(
            model_name="action",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("keep_informed", False), ("keep_informed_text", "")),
                    models.Q(
                        ("keep_informed", True), models.Q(("keep_informed_text", ""), _negated=True)
                    ),
                    _connector="OR",
                ),
                name="action_keep_informed_has_its_text",
            ),
        ),
        migrations.CreateModel(
            name="ExportLog",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "username",
                    models.CharField(help_text="Kept if the account is deleted.", max_length=150),
                ),
                ("filters", models.JSONField(blank=True, default=dict)),
                ("started_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                (
                    "rows",
                    models.PositiveIntegerField(blank=True, help_text="Rows sent.", null=True),
                ),
                (
                    "complete",
                    models.BooleanField(
                        default=False,
                        help_text="Sent to its end (not cut off by the browser or an error).",
                    ),
                ),
                (
                    "campaign",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="alerts.campaign",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={"ordering": ["-started_at"]},
        ),
    ]
