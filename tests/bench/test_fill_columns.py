"""The benchmark fill follows the models: a NOT NULL column it does not supply stops it, by name.

Proven with models made for the test (``isolate_apps``): the complaint's own fields plus a
planted required column, as a migration adding one would leave the model.
"""

import pytest
from django.db import models
from django.test.utils import isolate_apps

from bench.fill import (
    BREACH_COLUMNS,
    COMPLAINT_COLUMNS,
    EVENT_COLUMNS,
    FillError,
    insert_select,
    missing_columns,
)
from complaints.models import Complaint, ComplaintEvent, DeadlineBreach


def test_the_deadline_fill_supplies_every_required_column_of_todays_models():
    for model, columns in (
        (Complaint, COMPLAINT_COLUMNS),
        (DeadlineBreach, BREACH_COLUMNS),
        (ComplaintEvent, EVENT_COLUMNS),
    ):
        rest = missing_columns(model, columns)
        assert not set(rest) & set(columns)
    # The columns that once broke the fill now come from the model: blank text, NULL dates.
    rest = missing_columns(Complaint, COMPLAINT_COLUMNS)
    assert rest["source_name"] == "" and rest["source_url"] == ""
    assert rest["source_date"] is None


@isolate_apps("tests.bench")
def test_a_planted_not_null_column_without_default_fails_the_fill_by_name():
    class Planted(models.Model):
        title = models.CharField(max_length=10)
        note = models.CharField(max_length=10, blank=True)  # '' from the model
        seen_at = models.DateTimeField(null=True)  # NULL
        weight = models.IntegerField(default=3)  # the field's default
        priority = models.IntegerField()  # planted: NOT NULL, no default
        ward_code = models.CharField(max_length=8)  # planted: NOT NULL, not blank

        class Meta:
            app_label = "bench"

        def __str__(self) -> str:
            return str(self.pk)

    with pytest.raises(FillError) as caught:
        missing_columns(Planted, ["title"])
    message = str(caught.value)
    assert "priority" in message and "ward_code" in message
    assert "note" not in message and "weight" not in message and "seen_at" not in message

    rest = missing_columns(Planted, ["title", "priority", "ward_code"])
    assert rest == {"note": "", "seen_at": None, "weight": 3}


@isolate_apps("tests.bench")
def test_a_column_the_model_lost_or_a_unique_one_left_out_fails_too():
    class Renamed(models.Model):
        code = models.CharField(max_length=10, unique=True, default="x")
        label = models.CharField(max_length=10)

        class Meta:
            app_label = "bench"

        def __str__(self) -> str:
            return str(self.pk)

    with pytest.raises(FillError) as caught:
        missing_columns(Renamed, ["label", "old_name"])
    assert "old_name" in str(caught.value)  # the fill names a column that is gone
    assert "code" in str(caught.value)  # one default for every row would break unique


@isolate_apps("tests.bench")
def test_insert_select_casts_computed_columns_and_binds_the_defaults():
    class Row(models.Model):
        title = models.CharField(max_length=10)
        note = models.TextField(blank=True)
        count = models.IntegerField(null=True)

        class Meta:
            app_label = "bench"

        def __str__(self) -> str:
            return str(self.pk)

    statement, params = insert_select(Row, ["id", "title"], "SELECT 1, 'a'")
    assert statement.startswith('INSERT INTO "bench_row" ("id", "title", "note", "count")')
    assert 'CAST(fill_source."title" AS varchar(10))' in statement
    assert list(params.values()) == ["", None]
