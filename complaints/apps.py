from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_save
from django.utils.translation import gettext_lazy as _


def _tally_ensure(sender, using, **kwargs):
    from django.db import connections

    from .tally import tally_ensure

    tally_ensure(using=connections[using])


class ComplaintsConfig(AppConfig):
    name = "complaints"
    verbose_name = _("Complaints")

    def ready(self):
        # The figures' triggers survive any later migration (docs/figures.md).
        post_migrate.connect(_tally_ensure, sender=self, dispatch_uid="complaints-tally-ensure")
        # No stored text holds a character XML cannot carry (lapor/text.py), for any model.
        from lapor.text import strip_unsafe_text

        pre_save.connect(strip_unsafe_text, dispatch_uid="lapor-strip-unsafe-text")
