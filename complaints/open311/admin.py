"""Open311 clients in the admin: each gets an api_key, shown once and stored hashed."""

from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework_api_key.admin import APIKeyModelAdmin

from .models import Open311Client


@admin.register(Open311Client)
class Open311ClientAdmin(APIKeyModelAdmin):
    list_display = ("prefix", "name", "contact_email", "created", "expiry_date", "revoked")
    list_filter = ("revoked", "created")
    search_fields = ("name", "prefix", "contact_email")
    actions = ["revoke"]

    def save_model(self, request, obj, form, change):
        if change:
            obj.save()
            return
        key = Open311Client.objects.assign_key(obj)
        obj.save()
        messages.warning(
            request,
            _(
                "The api_key for “%(name)s” is: %(key)s — copy it now: it is stored hashed and "
                "cannot be shown again."
            )
            % {"name": obj.name, "key": key},
        )

    @admin.action(description=gettext_lazy("Revoke the selected keys"))
    def revoke(self, request, queryset):
        count = queryset.filter(revoked=False).update(revoked=True)
        messages.success(request, _("Keys revoked: %(count)d.") % {"count": count})
