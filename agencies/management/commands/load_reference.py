from django.core.management.base import BaseCommand

from agencies.services import reference_data_load, role_groups_sync


class Command(BaseCommand):
    help = "Load the regions, agencies, categories, routing rules and role groups. Idempotent."

    def handle(self, *args, **options):
        created = reference_data_load()
        role_groups_sync()
        if not any(created.values()):
            # The migrations load it on a fresh database, so this is the usual answer.
            self.stdout.write(
                self.style.SUCCESS("Reference data already in place: nothing to add.")
            )
            return
        summary = ", ".join(f"{count} {name}" for name, count in created.items())
        self.stdout.write(self.style.SUCCESS(f"Reference data loaded (added: {summary})."))
