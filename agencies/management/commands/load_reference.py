from django.core.management.base import BaseCommand

from agencies.services import reference_data_load, role_groups_sync


class Command(BaseCommand):
    help = "Load the regions, agencies, categories, routing rules and role groups. Idempotent."

    def handle(self, *args, **options):
        created = reference_data_load()
        role_groups_sync()
        summary = ", ".join(f"{count} {name}" for name, count in created.items())
        self.stdout.write(self.style.SUCCESS(f"Reference data up to date (created: {summary})."))
