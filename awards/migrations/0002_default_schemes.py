from django.db import migrations


def load(apps, schema_editor):
    from awards.defaults import default_schemes_load

    default_schemes_load(apps=apps)


class Migration(migrations.Migration):
    dependencies = [("awards", "0001_scoring_schemes_and_results")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
