# The organizer's templates are validated by the model's fields alone: no greeting or sign-off
# of their own, no official in the subject, a subject that fits once filled in; call scripts'
# placeholders too. Also merges 0009 and 0010, both made from 0007's successors.
import alerts.messages
import alerts.models
import alerts.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0009_delivery_addressed"),
        ("alerts", "0010_time_ordered_ids"),
    ]

    operations = [
        migrations.AlterField(
            model_name='campaign',
            name='call_script_executive',
            field=models.TextField(blank=True, help_text='What a constituent says when they call an executive office.', validators=[alerts.messages.validate_message_template], verbose_name='call script for executive offices'),
        ),
        migrations.AlterField(
            model_name='campaign',
            name='call_script_thank',
            field=models.TextField(blank=True, help_text='What a constituent says when they call an official who signed.', validators=[alerts.messages.validate_message_template], verbose_name='call script for cosigners'),
        ),
        migrations.AlterField(
            model_name='campaign',
            name='call_script_urge',
            field=models.TextField(blank=True, help_text='What a constituent says when they call a legislator who did not sign.', validators=[alerts.messages.validate_message_template], verbose_name='call script for non-signers'),
        ),
        migrations.AlterField(
            model_name='campaign',
            name='executive_template',
            field=models.TextField(help_text="The organization's statement to the President, Secretaries and the like. Write the body only: every message opens with the office's own greeting (“Dear Senator Kim,”, “Dear Secretary Rubio,”) and ends with the constituent's name and address. Placeholders: {official_title}, {official_last_name}, {constituent_name}, {constituent_city}, {policy_asks}.", max_length=5000, validators=[alerts.messages.validate_message_template, alerts.messages.validate_no_greeting, alerts.messages.validate_no_sign_off], verbose_name='statement to executive officials'),
        ),
        migrations.AlterField(
            model_name='campaign',
            name='message_subject',
            field=models.CharField(help_text='The subject constituents start from, filled in for each, theirs to change. Placeholders: {constituent_name}, {constituent_city}.', max_length=200, validators=[alerts.validators.validate_single_line, alerts.messages.validate_message_template, alerts.messages.validate_subject_names_no_official, alerts.models.validate_subject_fits]),
        ),
        migrations.AlterField(
            model_name='campaign',
            name='suggested_message',
            field=models.TextField(blank=True, help_text="Suggested words for the constituent's own part; they may change them. Placeholders: {constituent_name}, {constituent_city}, {policy_asks}.", max_length=5000, validators=[alerts.messages.validate_suggested_message, alerts.messages.validate_no_greeting, alerts.messages.validate_no_sign_off]),
        ),
        migrations.AlterField(
            model_name='campaign',
            name='thank_template',
            field=models.TextField(help_text="The organization's statement to officials who signed a campaign letter. Write the body only: every message opens with the office's own greeting (“Dear Senator Kim,”, “Dear Secretary Rubio,”) and ends with the constituent's name and address. Placeholders: {official_title}, {official_last_name}, {constituent_name}, {constituent_city}, {policy_asks}.", max_length=5000, validators=[alerts.messages.validate_message_template, alerts.messages.validate_no_greeting, alerts.messages.validate_no_sign_off], verbose_name='statement to cosigners'),
        ),
        migrations.AlterField(
            model_name='campaign',
            name='urge_template',
            field=models.TextField(help_text="The organization's statement to legislators who did not sign. Write the body only: every message opens with the office's own greeting (“Dear Senator Kim,”, “Dear Secretary Rubio,”) and ends with the constituent's name and address. Placeholders: {official_title}, {official_last_name}, {constituent_name}, {constituent_city}, {policy_asks}.", max_length=5000, validators=[alerts.messages.validate_message_template, alerts.messages.validate_no_greeting, alerts.messages.validate_no_sign_off], verbose_name='statement to non-signers'),
        ),
    ]
