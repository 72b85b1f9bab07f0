"""The admin site: every model admin filters only by what its sidebar offers.

Django's admin accepts a filter on any field of the model in the change list's query string
(``?reporter_email__gte=m``), and the number of rows it answers with gives the field's value
away letter by letter, for fields the admin never shows (an anonim reporter's address, an
unsent private-link key, a password hash, a TOTP secret). ``OfferedLookupsOnly`` allows the
lookups that the admin's own list filters and date hierarchy produce and refuses every other
(Django answers 400). ``LaporAdminSite`` mixes it into every model admin registered, the
project's and third-party apps' alike, so no admin can forget it.
"""

import re

from django.contrib import admin
from django.contrib.admin import widgets
from django.contrib.admin.apps import AdminConfig
from django.contrib.admin.filters import ListFilter
from django.core.exceptions import FieldDoesNotExist
from django.db.models.constants import LOOKUP_SEP

# What Django's list filters and date hierarchy append to a field's path.
_FILTER_SUFFIXES = re.compile(r"^(exact|isnull|in|gte|lt|year|month|day)$")


class OfferedLookupsOnly:
    """``lookup_allowed`` limited to the admin's list filters and date hierarchy."""

    def _offered_fields(self, request) -> tuple[set[str], set[str]]:
        """Field paths that a list filter offers, and parameter names of custom filters."""
        paths, parameters = set(), set()
        if self.date_hierarchy:
            paths.add(self.date_hierarchy)
        items = self.get_list_filter(request) if request is not None else self.list_filter
        for item in items:
            if isinstance(item, type) and issubclass(item, ListFilter):
                parameters.update(filter(None, [getattr(item, "parameter_name", None)]))
            elif isinstance(item, list | tuple):
                paths.add(item[0])
            else:
                paths.add(item)
        return paths, parameters

    def _related_pk(self, path: str) -> str | None:
        """The primary key's name of the model at the end of a relation path, or None."""
        model = self.model
        field = None
        for part in path.split(LOOKUP_SEP):
            try:
                field = model._meta.get_field(part)
            except FieldDoesNotExist:
                return None
            if not field.is_relation:
                return None
            model = field.related_model
        return field.target_field.attname if field is not None and field.is_relation else None

    def lookup_allowed(self, lookup, value, request=None):
        # Raw-id pop-ups filter by the relation's limit_choices_to: Django allows those.
        for fk_lookup in self.model._meta.related_fkey_lookups:
            if callable(fk_lookup):
                fk_lookup = fk_lookup()
            if (lookup, value) in widgets.url_params_from_lookup_dict(fk_lookup).items():
                return True
        paths, parameters = self._offered_fields(request)
        if lookup in parameters:
            return True
        for path in paths:
            if not lookup.startswith(path + LOOKUP_SEP):
                continue
            rest = lookup[len(path) + len(LOOKUP_SEP) :]
            pk = self._related_pk(path)
            if pk and rest in (f"{pk}__exact", f"{pk}__in"):
                return True
            if _FILTER_SUFFIXES.match(rest):
                return True
        return False


class LaporAdminSite(admin.AdminSite):
    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, OfferedLookupsOnly):
            admin_class = type(
                admin_class.__name__,
                (OfferedLookupsOnly, admin_class),
                {"__module__": admin_class.__module__},
            )
        return super().register(model_or_iterable, admin_class, **options)


class LaporAdminConfig(AdminConfig):
    default_site = "lapor.admin_site.LaporAdminSite"
