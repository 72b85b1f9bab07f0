from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from awards.models import Level
from awards.services import RankingError, ranking_compute


class Command(BaseCommand):
    help = "Compute a year's ranking as a draft (both levels unless --level is given)."

    def add_arguments(self, parser):
        parser.add_argument("year", type=int, nargs="?", help="default: the current year (WITA)")
        parser.add_argument("--level", choices=Level.values)

    def handle(self, *args, year=None, level=None, **options):
        year = year or timezone.localdate().year
        for each in [level] if level else Level.values:
            try:
                result = ranking_compute(year=year, level=each)
            except RankingError as exc:
                raise CommandError(str(exc.message)) from exc
            top = result.rows.order_by("rank", "name").first()
            self.stdout.write(
                f"{year} {each}: draft {result.pk}, {result.rows.count()} ranked"
                + (f", first {top.name} {top.score:.2f}" if top else "")
            )
