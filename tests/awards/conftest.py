"""The awards tests count small hand-made years; most of them test the ranking's mechanics, so
the default schemes' minimums (too little data is not a score) are zeroed unless a test is
marked ``scheme_minimums``."""

import pytest


@pytest.fixture(autouse=True)
def _no_minimums(request):
    if request.node.get_closest_marker("scheme_minimums") is not None:
        return
    if "db" not in request.fixturenames and not request.node.get_closest_marker("django_db"):
        return
    request.getfixturevalue("db")
    from awards.models import Scheme

    Scheme.objects.filter(year__isnull=True).update(min_received=0, min_rated=0)
