from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from accounts.demo import demo_accounts_seed, demo_allowed_check
from agencies.services import reference_data_load, role_groups_sync


class Command(BaseCommand):
    help = "Create demo accounts (and, later, demo complaints). Idempotent; only with DEBUG=1."

    def handle(self, *args, **options):
        try:
            demo_allowed_check()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        reference_data_load()
        role_groups_sync()
        accounts = demo_accounts_seed()
        from lapor.demo import (
            demo_complaints_seed,
            demo_rankings_seed,
            demo_response_templates_seed,
        )

        created = demo_complaints_seed()
        self.stdout.write(f"Demo complaints created: {created}.")
        templates = demo_response_templates_seed()
        self.stdout.write(f"Demo response templates created: {templates}.")
        results = demo_rankings_seed()
        self.stdout.write(
            "Demo rankings: " + ", ".join(f"{r.year} {r.level} ({r.status})" for r in results) + "."
        )
        self.stdout.write(self.style.SUCCESS("Demo data ready. Demo accounts:"))
        for account in accounts:
            self.stdout.write(
                f"  {account.username:<26} {account.password:<18} {account.description}"
            )
