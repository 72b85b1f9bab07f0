"""Computing a ranking takes a fixed number of SQL statements, whatever the number of groups."""

from datetime import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from awards.models import Level
from awards.services import ranking_compute
from tests.factories import complaint_new

from .dataset import WITA

NOW = datetime(2025, 12, 1, 9, 0, tzinfo=WITA)
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=WITA)


def statements(level):
    ranking_compute(year=2025, level=level, now=NOW)  # the year's scheme exists from here on
    with CaptureQueriesContext(connection) as queries:
        result = ranking_compute(year=2025, level=level, now=NOW)
    return len(queries), result.rows.count()


@pytest.mark.django_db
@pytest.mark.parametrize("level", Level.values)
def test_compute_statements_do_not_grow_with_the_groups(level):
    complaint_new(now=T0)
    few, few_groups = statements(level)
    for region_code in ("63.71", "63.03", "63.05", "63.10"):
        for category_code in ("jalan", "pju", "sampah"):
            complaint_new(now=T0, region_code=region_code, category_code=category_code)
    many, many_groups = statements(level)
    assert many_groups > few_groups or level == Level.REGENCY
    assert many == few
