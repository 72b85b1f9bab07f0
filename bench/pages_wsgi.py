"""The WSGI application ``bench/pages.py`` serves: the project's own, plus one bare view.

Gunicorn loads this module (``--pythonpath bench``) instead of ``lapor.wsgi``. It points the
``ROOT_URLCONF`` setting at this module, which serves the project's URLs unchanged plus
``/_bench/select-1``: a Django view that runs ``SELECT 1`` and returns a few bytes, the floor a
page is measured against (same workers, same middleware, same database connection). Production
(``lapor.wsgi``) never loads this module, so the URL does not exist there.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lapor.settings")
application = get_wsgi_application()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.urls import include, path  # noqa: E402


def select_one(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return HttpResponse(b"1", content_type="text/plain")


urlpatterns = [
    path("_bench/select-1", select_one, name="bench-select-1"),
    path("", include(settings.ROOT_URLCONF)),
]

settings.ROOT_URLCONF = __name__
