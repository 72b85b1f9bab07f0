from django.db import migrations


def load(apps, schema_editor):
    from agencies.reference import POPULATION, POPULATION_SOURCE, POPULATION_YEAR

    Region = apps.get_model("agencies", "Region")
    RegionPopulation = apps.get_model("agencies", "RegionPopulation")
    for region in Region.objects.filter(code__in=list(POPULATION)):
        RegionPopulation.objects.get_or_create(
            region=region,
            year=POPULATION_YEAR,
            defaults={"population": POPULATION[region.code], "source": POPULATION_SOURCE},
        )


class Migration(migrations.Migration):
    dependencies = [("agencies", "0003_region_population")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
