"""Turn configuration and connection errors at start-up into one readable sentence.

A newcomer who mistypes DATABASE_URL should read what is wrong, not a traceback wall.
"""

import sys


def run_with_clear_errors(argv: list[str]) -> None:
    from django.core.exceptions import ImproperlyConfigured

    try:
        from django.core.management import execute_from_command_line

        execute_from_command_line(argv)
    except ImproperlyConfigured as exc:
        sys.stderr.write(f"Lapor cannot start: {exc}\n")
        sys.exit(2)
    except Exception as exc:
        from django.db.utils import OperationalError

        if isinstance(exc, OperationalError):
            sys.stderr.write(f"Lapor cannot start: {describe_database_error(exc)}\n")
            sys.exit(2)
        raise


def describe_database_error(exc: Exception) -> str:
    from django.conf import settings

    db = settings.DATABASES["default"]
    where = (
        db.get("NAME")
        if "sqlite" in db["ENGINE"]
        else (f"{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}/{db.get('NAME')}")
    )
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
    if "no such table" in reason:
        return (
            f"the database given by DATABASE_URL ({where}) is not set up yet ({reason}); "
            "run `python manage.py migrate` first."
        )
    return (
        f"the database given by DATABASE_URL ({where}) cannot be reached ({reason}); "
        "check that the server runs and the URL is right."
    )
