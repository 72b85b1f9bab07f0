"""Celery tasks for the ranking: thin, safe to repeat (a draft is simply computed again)."""

from celery import shared_task
from django.db import OperationalError

from . import services


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=600,
    time_limit=660,
)
def compute_ranking(year: int, level: str) -> int:
    """Compute ``year``'s draft at ``level``; returns the result's id."""
    return services.ranking_compute(year=year, level=level).pk


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=600,
    time_limit=660,
)
def refresh_current_rankings() -> list[int]:
    """Nightly: the current year's drafts at both levels; published results are left alone."""
    return [result.pk for result in services.rankings_refresh_current()]
