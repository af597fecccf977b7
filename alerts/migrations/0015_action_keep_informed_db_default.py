# The keep-me-informed columns get database defaults, so rows written by SQL need not name them.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('alerts', '0014_constituent_notices'),
    ]

    operations = [
        migrations.AlterField(
            model_name='action',
            name='keep_informed',
            field=models.BooleanField(db_default=False, default=False, help_text='Ticked on the form: may be emailed later.', verbose_name='keep me informed'),
        ),
        migrations.AlterField(
            model_name='action',
            name='keep_informed_text',
            field=models.TextField(blank=True, db_default='', default='', help_text='The keep-me-informed line as the constituent ticked it.'),
        ),
    ]
