from datetime import timedelta

from django.db import migrations
from django.utils import timezone


def seed(apps, schema_editor):
    """Start the reminder step a day ahead, so that upgrading from the marker-column sweep does
    not remind again what it had already reminded. The breach steps start from the beginning:
    a breach already on record is never written twice, so nothing repeats there."""
    if not apps.get_model("complaints", "Complaint").objects.exists():
        return  # a new database: nothing was reminded before
    SweepMark = apps.get_model("complaints", "SweepMark")
    SweepMark.objects.get_or_create(
        step="reminder", defaults={"until": timezone.now() + timedelta(hours=24), "last_id": 2**62}
    )


class Migration(migrations.Migration):
    dependencies = [("complaints", "0004_drop_covered_indexes")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
